"""The `process` toolset's models: the Pieces applets PiecesOS serves (quitting and freeing memory answer nothing)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field

from pieces_mcp.models.base import Answer, ToolInput, lenient
from pieces_mcp.redact import display_url

# `OSAppletEnum` without UNKNOWN_APPLET_MODULE and the unused placeholders: what a person can launch. Placeholder A
# is kept: the vendor CLI opens PiecesOS's settings with it (pieces-app/cli-agent src/pieces/core/open_command.py,
# `pieces open --settings`: `os_applet_launch(InactiveOSServerApplet(type=FUTURE_APPLET_MODULE_PLACEHOLDER_A))`);
# B and C no vendor client sends.
AppletName = Literal[
    "COPILOT",
    "PIECES_OS_TOOLBAR",
    "WORKSTREAM_SUGGESTIONS",
    "SAVED_MATERIALS",
    "WORKFLOW_ACTIVITY",
    "WORKSTREAM_ACTIVITY",
    "GLOBAL_SEARCH",
    "PIECES_SUITE_SETTINGS_AND_INTEGRATIONS_MANAGER",
    "CAPTURED_CONTEXT",
    "UPDATES_AND_UPCOMING",
    "NOTIFICATIONS_MANAGER",
    "SHAREBLE_LINK_VIEWER",
    "FUTURE_APPLET_MODULE_PLACEHOLDER_A",
]

AppletValue = Literal["UNKNOWN_APPLET_MODULE", AppletName]

Applet = Annotated[AppletValue, lenient(AppletValue)]


class AppletInput(ToolInput):
    """`InactiveOSServerApplet` (launch, restart) and `TerminatingOSServerApplet` (terminate)."""

    type: AppletName = Field(
        description=(
            "Which Pieces applet (a small app PiecesOS serves) to act on; FUTURE_APPLET_MODULE_PLACEHOLDER_A is "
            "PiecesOS's settings (what the Pieces CLI's `pieces open --settings` launches)."
        )
    )

    def body(self) -> Any:
        return {"type": self.type}


class AppletHandler(Answer):
    """`AppletServingHandlerType`."""

    type: str
    version: str | None = None
    isAsset: bool | None = None
    isFolder: bool | None = None


class ActiveApplet(Answer):
    """`ActiveOSServerApplet`: where the applet now serves."""

    type: Applet
    port: int = Field(description="The loopback port the applet serves on.")
    handler: AppletHandler | None = None


class LaunchOutcome(Answer):
    """`open_pieces_os`: whether PiecesOS answers after `pieces://launch` was opened, and which version came up."""

    already_running: bool = Field(description="PiecesOS was answering already, so nothing was opened.")
    running: bool = Field(description="PiecesOS answers its health check (within the launch's bound, 60 s).")
    version: str | None = Field(default=None, description="The version PiecesOS reports; null when it is not up.")
    base_url: Annotated[str | None, AfterValidator(lambda url: url and display_url(url))] = Field(
        default=None, description="Where PiecesOS answers."
    )
    waited_ms: int = Field(description="How long PiecesOS took to answer after pieces://launch was opened.")

    def notes(self) -> list[str]:
        if self.running:
            return []
        return [
            "PiecesOS did not answer in time after pieces://launch was opened: it may still be starting (try "
            "os_device_information in a moment), or it is not installed (https://pieces.app)."
        ]
