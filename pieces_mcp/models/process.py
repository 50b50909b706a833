"""The `process` toolset's models: the Pieces applets PiecesOS serves (quitting and freeing memory answer nothing)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from pieces_mcp.models.base import Answer, ToolInput, lenient

# `OSAppletEnum` without its UNKNOWN and placeholder members: what a person can launch.
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
]

AppletValue = Literal["UNKNOWN_APPLET_MODULE", AppletName]

Applet = Annotated[AppletValue, lenient(AppletValue)]


class AppletInput(ToolInput):
    """`InactiveOSServerApplet` (launch, restart) and `TerminatingOSServerApplet` (terminate)."""

    type: AppletName = Field(description="Which Pieces applet (a small app PiecesOS serves) to act on.")

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
