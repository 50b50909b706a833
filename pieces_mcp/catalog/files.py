"""The `files` toolset: look at, open and read files, and open web links, on the person's computer."""

from __future__ import annotations

from pieces_mcp.catalog.entry import (
    BASE_MODELS,
    CONFIRM_NOTE,
    EXAMPLE_FILES,
    ArgumentKind,
    Endpoint,
    Example,
    Exchange,
    Models,
    Risk,
    Wait,
)
from pieces_mcp.catalog.generations import FROM_V10

FILES_MODELS = Models("pieces_mcp.models.files")
# Where a file read is cut, so one file cannot flood a model's context (`models.files.FileContents`).
READ_LIMIT_BYTES = 100_000

TOOLSET = "files"
ABOUT = "check a path, open a file or a web link on the desktop, read a file's contents"

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        name="os_filesystem_path_verify",
        title="Check a path",
        description=(
            "Check whether an absolute path exists on the computer PiecesOS runs on, and whether it is a file "
            "or a folder (with its size, and whether PiecesOS was denied access). Read-only."
        ),
        method="POST",
        path="/os/filesystem/path/verify",
        arguments=FILES_MODELS.PathInput,
        targets={"path": ArgumentKind.PATH},
        answer=FILES_MODELS.VerifiedPath,
        risk=Risk.READ,
        toolset=TOOLSET,
        since=FROM_V10,
        wait=Wait.ORDINARY,
        idempotent=True,
        examples=(Example({"path": f"{EXAMPLE_FILES}/note.md"}, answer_has=("path", "verified", "file")),),
    ),
    Endpoint(
        name="os_filesystem_file_open",
        title="Show a file on the desktop",
        description=(
            "Show a file or folder (absolute path) in the person's file manager (Finder, Explorer, ...) on their "
            "desktop. Nothing is returned but that PiecesOS accepted it." + CONFIRM_NOTE
        ),
        method="POST",
        path="/os/filesystem/file/open",
        arguments=FILES_MODELS.PathInput,
        targets={"path": ArgumentKind.PATH},
        answer=BASE_MODELS.Accepted,
        risk=Risk.GUARDED,
        toolset=TOOLSET,
        since=FROM_V10,
        wait=Wait.ORDINARY,
        consequence="A file manager window will open on your desktop at the path below.",
        examples=(Example({"path": f"{EXAMPLE_FILES}/note.md"}, answer_has=("accepted",)),),
    ),
    Endpoint(
        name="os_browser_url_open",
        title="Open a web page",
        description=(
            "Open an http(s) address in the person's default web browser on their desktop. Only when the person "
            "wants to see that page." + CONFIRM_NOTE
        ),
        method="POST",
        path="/os/browser/url/open",
        arguments=FILES_MODELS.UrlInput,
        targets={"url": ArgumentKind.URL},
        answer=BASE_MODELS.Accepted,
        risk=Risk.GUARDED,
        toolset=TOOLSET,
        since=FROM_V10,
        wait=Wait.ORDINARY,
        open_world=True,
        consequence="Your web browser will open the address below.",
        examples=(Example({"url": "https://docs.pieces.app/"}, answer_has=("accepted",)),),
    ),
    Endpoint(
        name="os_filesystem_file_read_streamed",
        title="Read a file",
        description=(
            "Read a file (absolute path, not a folder) through PiecesOS and return its text, cut after "
            f"{READ_LIMIT_BYTES} bytes (truncated says so). Use it when the person wants you to see "
            "a file's contents." + CONFIRM_NOTE
        ),
        method="GET",
        path="/os/filesystem/file/read/streamed",
        arguments=FILES_MODELS.FileReadInput,
        targets={"path": ArgumentKind.PATH},
        answer=FILES_MODELS.FileContents,
        risk=Risk.GUARDED,
        toolset=TOOLSET,
        since=FROM_V10,
        wait=Wait.ORDINARY,
        idempotent=True,
        # the vendor marks it "[WS]"; its generated client's plain GET cannot send the path
        exchange=Exchange.STREAMED_READ,
        consequence=(
            "The contents of the file named below (up to "
            f"{READ_LIMIT_BYTES // 1000} KB) will be handed to your AI assistant and its provider."
        ),
        examples=(Example({"path": f"{EXAMPLE_FILES}/note.md"}, answer_has=("path", "text", "truncated")),),
    ),
)
