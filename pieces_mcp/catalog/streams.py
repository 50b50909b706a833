"""PiecesOS's WebSocket streams, served as MCP resources a client can subscribe to.

Each stream pushes a JSON message when something changes; the resource's content is the latest state,
read through `snapshot` (an ordinary endpoint) when PiecesOS has one, else from the stream's first message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from pieces_mcp.catalog.entry import BASE_MODELS, ModelRef, Models
from pieces_mcp.catalog.generations import FROM_SEED, FROM_V10, Since

if TYPE_CHECKING:
    from pieces_mcp.models.base import Answer


OS_MODELS = Models("pieces_mcp.models.os_tools")
SETTINGS_MODELS = Models("pieces_mcp.models.settings")


class LiveResource(NamedTuple):  # a NamedTuple, as every catalog record (`catalog.generations` says why)
    name: str  # the vendor's operation name, also the resource's URI: pieces-os://<name>
    title: str
    description: str
    path: str  # the WebSocket path
    answer: ModelRef  # the message's model, in the stream's toolset's models module
    toolset: str  # offered with this toolset's tools
    snapshot: str | None = None  # the catalog endpoint that reads the same state once
    not_a_change: tuple[str, ...] = ()  # fields that differ between messages without the state changing
    since: Since = FROM_V10  # the streams came with client 2.3.0 (the update and settings streams)
    # The key a message sits under in `model` when the stream sends a part of the snapshot's answer.
    message_key: str | None = None
    # The state a message that is not JSON stands for; None: such a message is a fault.
    not_json: Mapping[str, Any] | None = None

    @property
    def model(self) -> type[Answer]:
        from pieces_mcp.models.base import Answer

        return self.answer.resolve(Answer)


LIVE: tuple[LiveResource, ...] = (
    LiveResource(
        name="os_update_check_stream",
        title="PiecesOS update status (live)",
        description=(
            "Whether a PiecesOS update is available, downloading (with percentage) or ready to restart; "
            "subscribe to be told when it changes."
        ),
        path="/os/update/check/stream",
        answer=OS_MODELS.UpdateStatus,
        toolset="os",
        snapshot="os_update_check",
        not_a_change=("updated",),  # when PiecesOS last checked: every check moves it
    ),
    LiveResource(
        name="stream_os_migration_status",
        title="PiecesOS data migration (live)",
        description=(
            "Whether PiecesOS is migrating its data after an update, with overall and per-migration progress; "
            "subscribe to be told when it changes."
        ),
        path="/os/status/stream",
        since=Since("current", "5.0.0"),  # pieces-os-client 5.0.0 is the first with `stream_os_migration_status`
        answer=OS_MODELS.MigrationStatusAnswer,
        toolset="os",
    ),
    LiveResource(
        name="os_settings_stream",
        title="PiecesOS settings (live)",
        description="PiecesOS's settings (autoboot); subscribe to be told when they change.",
        path="/os/settings/stream",
        answer=SETTINGS_MODELS.OSSettings,
        toolset="settings",
        snapshot="os_settings_snapshot",
    ),
    LiveResource(
        # UserApi.stream_user, "/user/stream [WS]" in the vendor's generated client from 2.2.0 on
        # (pieces-os-client-sdk-for-python, tag v2.2.0, src/pieces_os_client/api/user_api.py). Its messages are
        # a UserProfile, and one that is not JSON means signed out: the vendor wrapper's AuthWS.on_message
        # calls back with `UserProfile.from_json(message)`, and with None on a JSONDecodeError ("User logged
        # out!", src/pieces_os_client/wrapper/websockets/auth_ws.py).
        name="stream_user",
        title="Who is signed in (live)",
        description="Who is signed in to Pieces (identity fields only); subscribe to be told when it changes.",
        path="/user/stream",
        answer=BASE_MODELS.SignedInUser,
        toolset="user",
        snapshot="user_snapshot",
        message_key="user",
        not_json={},
        since=FROM_SEED,  # already in client 2.2.0's user_api.py (and as a GET stream since 1.2.7)
    ),
)
