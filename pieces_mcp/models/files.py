"""Arguments and answers of the operations PiecesOS added after the seed page (read off `pieces-os-client` 5.0.1).

Same rules as `models.py`: strict flat arguments, lenient answers that keep PiecesOS's JSON names and
read only the fields listed here, so a field PiecesOS adds tomorrow (or a credential) has nowhere to land.
"""

from __future__ import annotations

from pathlib import PurePosixPath, PureWindowsPath
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from pieces_mcp.models.os_tools import Answer, EmptyBodyInput, Number, ToolInput, lenient

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
# `ModelDownloadProgressStatusEnum`: how far a file read (or a download) got.
TransferStatusValue = Literal["UNKNOWN", "INITIALIZED", "IN-PROGRESS", "COMPLETED", "FAILED", "CANCELED", "RESET"]
TransferStatus = Annotated[TransferStatusValue, lenient(TransferStatusValue)]
MigrationStatusValue = Literal["UNKNOWN", "IDLE", "MIGRATING", "COMPLETED", "FAILED"]
MigrationStatus = Annotated[MigrationStatusValue, lenient(MigrationStatusValue)]

MAX_PATH = 4096
MAX_URL = 2048


def _absolute(path: str) -> str:
    """PiecesOS reads only absolute paths (the vendor's note on file read); say so before asking it."""
    if not (PurePosixPath(path).is_absolute() or PureWindowsPath(path).is_absolute()):
        raise ValueError("must be an absolute path, like /home/ana/notes.md or C:\\Users\\ana\\notes.md")
    return path


# ---------------------------------------------------------------------------------------------
# Arguments.


class UpdateCheckInput(EmptyBodyInput):
    """`UncheckedOSServerUpdate` (a placeholder body), and whether to follow a download under way."""

    follow_download: bool = Field(
        default=False,
        description=(
            "When an update is AVAILABLE or DOWNLOADING, follow it and report its percentage as progress until it "
            "is READY_TO_RESTART, for at most the call's time limit; the answer is the latest status."
        ),
    )


class PathInput(ToolInput):
    """Operations whose body is the path itself, as a JSON string."""

    path: Annotated[str, Field(min_length=1, max_length=MAX_PATH)] = Field(
        description="An absolute path on the computer PiecesOS runs on."
    )

    _check_path = field_validator("path")(_absolute)

    def body(self) -> Any:
        return self.path


class FileReadInput(ToolInput):
    """`OSFileStreamingReadAttempt`."""

    path: Annotated[str, Field(min_length=1, max_length=MAX_PATH)] = Field(
        description="The absolute path of the file to read (not a folder)."
    )

    _check_path = field_validator("path")(_absolute)

    def body(self) -> Any:
        return {"path": self.path}


class UrlInput(ToolInput):
    """`os_browser_url_open`: the URL, as a JSON string."""

    url: Annotated[str, Field(min_length=1, max_length=MAX_URL)] = Field(
        description="The http or https address to open in the person's default browser."
    )

    @field_validator("url")
    @classmethod
    def _web_address(cls, url: str) -> str:
        # Only web pages: a file:, javascript: or custom-scheme URL would launch something else entirely.
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http:// or https:// address")
        return url

    def body(self) -> Any:
        return self.url


class SettingsUpdateInput(ToolInput):
    """`OSServerSettings`: every setting PiecesOS has today is one field here."""

    autoboot: bool = Field(description="Start PiecesOS when the person logs in to their computer.")

    def body(self) -> Any:
        return {"autoboot": self.autoboot}


class AppletInput(ToolInput):
    """`InactiveOSServerApplet` (launch, restart) and `TerminatingOSServerApplet` (terminate)."""

    type: AppletName = Field(description="Which Pieces applet (a small app PiecesOS serves) to act on.")

    def body(self) -> Any:
        return {"type": self.type}


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


# ---------------------------------------------------------------------------------------------
# Answers.


class Accepted(Answer):
    """An operation PiecesOS answers with 204 and no body."""

    accepted: bool = Field(description="PiecesOS accepted the request (it answers with no data).")

    @classmethod
    def from_wire(cls, payload: Any) -> Accepted:
        return cls(accepted=True)


class OSSettings(Answer):
    """`OSServerSettings` through an allow-list: only the settings listed here ever reach a tool result."""

    autoboot: bool | None = Field(default=None, description="PiecesOS starts when the person logs in.")


class ByteSize(Answer):
    """`ByteDescriptor`."""

    value: int
    readable: str | None = None


class VerifiedPath(Answer):
    """`VerifiedOSFilesystemPath`."""

    path: str
    verified: bool = Field(description="The path exists on this computer.")
    file: bool | None = None
    directory: bool | None = None
    denied: bool | None = Field(default=None, description="PiecesOS was not allowed to look at it.")
    bytes: ByteSize | None = None


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


class FileContents(Answer):
    """`OSFileStreamingRead` as text a model can read, cut at `LIMIT` bytes so one file cannot flood a context."""

    LIMIT: ClassVar[int] = 100_000

    path: str
    status: TransferStatus = Field(description="COMPLETED when PiecesOS read the whole file.")
    text: str = Field(description="The file's contents as UTF-8 (undecodable bytes shown as U+FFFD).")
    size: int = Field(description="How many bytes PiecesOS sent.")
    truncated: bool = Field(description=f"True when the file is larger than {LIMIT} bytes and only the start is here.")

    @classmethod
    def from_wire(cls, payload: Any) -> FileContents:
        if not isinstance(payload, dict):
            raise ValueError(f"expected a JSON object, got {type(payload).__name__}")
        raw = (payload.get("bytes") or {}).get("raw") or []
        if not isinstance(raw, list) or not all(isinstance(byte, int) and 0 <= byte < 256 for byte in raw):
            raise ValueError("bytes.raw: expected a list of byte values 0-255")
        data = bytes(raw)
        text = data[: cls.LIMIT].decode("utf-8", errors="replace")
        return cls(
            path=str(payload.get("path", "")),
            status=payload.get("status", "UNKNOWN"),
            text=text,
            size=len(data),
            truncated=len(data) > cls.LIMIT,
        )

    def notes(self) -> list[str]:
        if not self.truncated:
            return []
        return [f"Only the first {self.LIMIT} of the file's {self.size} bytes are shown: the rest was cut."]


class MigrationInformation(Answer):
    """`OSMigrationInformation`."""

    id: str
    name: str
    phase: str
    status: MigrationStatus
    progressPercentage: Number
    currentCollection: str | None = None
    processedDocuments: int | None = None
    totalDocuments: int | None = None
    errorCount: int | None = None
    estimatedTimeRemaining: int | None = None


class MigrationStatusAnswer(Answer):
    """`OSMigrationStatusResponse`: PiecesOS moving its data to a new format after an update."""

    status: MigrationStatus
    overallProgressPercentage: Number
    activeMigrations: list[MigrationInformation] = Field(default_factory=list)


__all__ = [
    "Accepted",
    "ActiveApplet",
    "AppletInput",
    "FileContents",
    "FileReadInput",
    "MigrationStatusAnswer",
    "NanoModelsInput",
    "OSSettings",
    "PathInput",
    "SettingsUpdateInput",
    "UpdateCheckInput",
    "UrlInput",
    "VerifiedPath",
]
