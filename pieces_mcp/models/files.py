"""The `files` toolset's models: checking a path, opening a file or a web page, reading a file."""

from __future__ import annotations

from pathlib import PurePosixPath, PureWindowsPath
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from pieces_mcp.catalog.files import READ_LIMIT_BYTES
from pieces_mcp.models.base import Answer, ToolInput, lenient

# `ModelDownloadProgressStatusEnum`: how far a file read (or a download) got.
TransferStatusValue = Literal["UNKNOWN", "INITIALIZED", "IN-PROGRESS", "COMPLETED", "FAILED", "CANCELED", "RESET"]

TransferStatus = Annotated[TransferStatusValue, lenient(TransferStatusValue)]

MAX_PATH = 4096

MAX_URL = 2048


def _absolute(path: str) -> str:
    """PiecesOS reads only absolute paths (the vendor's note on file read); say so before asking it."""
    if not (PurePosixPath(path).is_absolute() or PureWindowsPath(path).is_absolute()):
        raise ValueError("must be an absolute path, like /home/ana/notes.md or C:\\Users\\ana\\notes.md")
    return path


# Arguments.


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


class FileContents(Answer):
    """`OSFileStreamingRead` as text a model can read, cut at `LIMIT` bytes so one file cannot flood a context."""

    LIMIT: ClassVar[int] = READ_LIMIT_BYTES

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
