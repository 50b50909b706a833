"""PiecesOS's WebSocket streams, served as MCP resources a client can subscribe to.

Each stream pushes a JSON message when something changes; the resource's content is the latest state,
read through `snapshot` (an ordinary endpoint) when PiecesOS has one, else from the stream's first message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pieces_mcp.catalog.entry import ModelRef, Models

if TYPE_CHECKING:
    from pieces_mcp.models.base import Answer


OS_MODELS = Models("pieces_mcp.models.os_tools")
SETTINGS_MODELS = Models("pieces_mcp.models.settings")


@dataclass(frozen=True)
class LiveResource:
    name: str  # the vendor's operation name, also the resource's URI: pieces-os://<name>
    title: str
    description: str
    path: str  # the WebSocket path
    answer: ModelRef  # the message's model, in the stream's toolset's models module
    toolset: str  # offered with this toolset's tools
    snapshot: str | None = None  # the catalog endpoint that reads the same state once
    not_a_change: tuple[str, ...] = ()  # fields that differ between messages without the state changing

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
)
