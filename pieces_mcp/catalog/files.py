"""The `files` toolset: look at, open and read files, and open web links, on the person's computer."""

from __future__ import annotations

from pieces_mcp import models_os
from pieces_mcp.catalog.entry import CONFIRM_NOTE, ArgumentKind, Endpoint, Risk, Wait

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
        input_model=models_os.PathInput,
        arguments={"path": ArgumentKind.PATH},
        output_model=models_os.VerifiedPath,
        risk=Risk.READ,
        toolset=TOOLSET,
        wait=Wait.ORDINARY,
        idempotent=True,
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
        input_model=models_os.PathInput,
        arguments={"path": ArgumentKind.PATH},
        output_model=models_os.Accepted,
        risk=Risk.GUARDED,
        toolset=TOOLSET,
        wait=Wait.ORDINARY,
        consequence="A file manager window will open on your desktop at the path below.",
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
        input_model=models_os.UrlInput,
        arguments={"url": ArgumentKind.URL},
        output_model=models_os.Accepted,
        risk=Risk.GUARDED,
        toolset=TOOLSET,
        wait=Wait.ORDINARY,
        open_world=True,
        consequence="Your web browser will open the address below.",
    ),
    Endpoint(
        name="os_filesystem_file_read_streamed",
        title="Read a file",
        description=(
            "Read a file (absolute path, not a folder) through PiecesOS and return its text, cut after "
            f"{models_os.FileContents.LIMIT} bytes (truncated says so). Use it when the person wants you to see "
            "a file's contents." + CONFIRM_NOTE
        ),
        method="GET",
        path="/os/filesystem/file/read/streamed",
        input_model=models_os.FileReadInput,
        arguments={"path": ArgumentKind.PATH},
        output_model=models_os.FileContents,
        risk=Risk.GUARDED,
        toolset=TOOLSET,
        wait=Wait.ORDINARY,
        idempotent=True,
        websocket=True,  # the vendor marks it "[WS]"; its generated client's plain GET cannot send the path
        consequence=(
            "The contents of the file named below (up to "
            f"{models_os.FileContents.LIMIT // 1000} KB) will be handed to your AI assistant and its provider."
        ),
    ),
)
