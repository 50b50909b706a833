"""The `settings` toolset: PiecesOS's own settings."""

from __future__ import annotations

from pieces_mcp.catalog.entry import BASE_MODELS, CONFIRM_NOTE, ArgumentKind, Endpoint, Example, Models, Risk, Wait
from pieces_mcp.catalog.generations import FROM_V10

SETTINGS_MODELS = Models("pieces_mcp.models.settings")

TOOLSET = "settings"
ABOUT = "read and change PiecesOS's settings (today: start at login)"

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        name="os_settings_snapshot",
        title="PiecesOS settings",
        description=(
            "Read PiecesOS's settings: autoboot (whether PiecesOS starts when the person logs in). Read-only; "
            "the resource pieces-os://os_settings_stream follows changes live."
        ),
        method="GET",
        path="/os/settings",
        arguments=BASE_MODELS.NoArguments,
        answer=SETTINGS_MODELS.OSSettings,
        risk=Risk.READ,
        toolset=TOOLSET,
        since=FROM_V10,
        wait=Wait.ORDINARY,
        idempotent=True,
        examples=(Example(answer_has=("autoboot",)),),
    ),
    Endpoint(
        name="os_settings_update",
        title="Change PiecesOS settings",
        description=(
            "Change PiecesOS's settings: autoboot (start PiecesOS when the person logs in). Returns the settings "
            "afterwards. Only when the person asked for the change." + CONFIRM_NOTE
        ),
        method="POST",
        path="/os/settings/update",
        arguments=SETTINGS_MODELS.SettingsUpdateInput,
        targets={"autoboot": ArgumentKind.VALUE},
        answer=SETTINGS_MODELS.OSSettings,
        risk=Risk.GUARDED,
        toolset=TOOLSET,
        since=FROM_V10,
        wait=Wait.ORDINARY,
        idempotent=True,
        consequence="PiecesOS's settings will change as shown below (autoboot: start PiecesOS when you log in).",
        changes=("os_settings_snapshot",),
        examples=(Example({"autoboot": True}, answer_has=("autoboot",)),),
    ),
)
