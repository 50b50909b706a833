"""The `settings` toolset's models: PiecesOS's settings, through an allow-list."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from pieces_mcp.models.base import Answer, ToolInput


class SettingsUpdateInput(ToolInput):
    """`OSServerSettings`: every setting PiecesOS has today is one field here."""

    autoboot: bool = Field(description="Start PiecesOS when the person logs in to their computer.")

    def body(self) -> Any:
        return {"autoboot": self.autoboot}


class OSSettings(Answer):
    """`OSServerSettings` through an allow-list: only the settings listed here ever reach a tool result."""

    autoboot: bool | None = Field(default=None, description="PiecesOS starts when the person logs in.")
