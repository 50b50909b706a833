"""The `models` toolset's models: which task groups' small local models PiecesOS should prepare."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from pieces_mcp.models.base import ToolInput


class NanoModelsInput(ToolInput):
    """`NanoModelsPreparationInput`: task groups whose small local models PiecesOS should load."""

    conversation: bool = Field(default=True, description="Prepare the models Pieces uses for conversations.")

    @field_validator("conversation")
    @classmethod
    def _something_to_prepare(cls, conversation: bool) -> bool:
        if not conversation:
            raise ValueError("conversation is the only task group PiecesOS prepares today; leave it true")
        return conversation

    def body(self) -> Any:
        return {"tasks": {"conversation": self.conversation}}


# Answers.
