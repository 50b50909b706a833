"""The `files` toolset in the simulator: paths checked on this machine, opens recorded, reads under a folder."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from pieces_mcp.simulator.behaviours.base import Behaviour, json_object, json_string, no_content
from pieces_mcp.simulator.state import FILES_ENV, Simulator


def _verify(path: Path) -> dict[str, Any]:
    """`VerifiedOSFilesystemPath` for a path on this machine's real filesystem."""
    answer: dict[str, Any] = {"path": str(path), "verified": False}
    try:
        stat = path.stat()
    except PermissionError:
        answer["denied"] = True
        return answer
    except OSError:
        return answer
    answer.update(verified=True, file=path.is_file(), directory=path.is_dir())
    if path.is_file():
        answer["bytes"] = {"value": stat.st_size, "readable": f"{stat.st_size} B"}
    return answer


async def os_filesystem_path_verify(sim: Simulator, request: Request) -> Response:
    path = Path(await json_string(request, "path"))
    return JSONResponse(await asyncio.to_thread(_verify, path))


async def os_filesystem_file_open(sim: Simulator, request: Request) -> Response:
    await json_string(request, "path")  # recorded in /_simulator/calls: the "window" a test can see
    return no_content()


async def os_browser_url_open(sim: Simulator, request: Request) -> Response:
    await json_string(request, "URL")
    return no_content()


async def os_filesystem_file_read_streamed(sim: Simulator, request: Request) -> Response:
    """`OSFileStreamingRead` for a file under the simulator's files folder; PiecesOS's errors are 500 with text."""
    body = await json_object(request)
    path = body.get("path")
    if not isinstance(path, str) or not path:
        raise HTTPException(400, "'path' must be a string.")
    root = sim.state.files_root
    if root is None:
        return PlainTextResponse(
            f"This simulator serves no files: start it with {FILES_ENV}=<folder> or POST /_simulator/files.",
            status_code=500,
        )
    try:
        data = await asyncio.to_thread(read_under, Path(root), path)
    except Unreadable as problem:
        return PlainTextResponse(str(problem), status_code=500)
    size = {"value": len(data), "readable": f"{len(data)} B"}
    return JSONResponse(
        {
            "id": str(uuid.uuid4()),
            "path": path,
            "status": "COMPLETED",
            "percentage": 100,
            "bytes": {"raw": list(data)},
            "progress": {"total": size, "transferred": size},
        }
    )


class Unreadable(Exception):
    """A file read PiecesOS would refuse; the message says why."""


def read_under(root: Path, path: str) -> bytes:
    wanted = Path(path)
    if not wanted.is_absolute():
        raise Unreadable(f"Only absolute paths can be read, not {path}.")
    resolved = wanted.resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise Unreadable(f"{path} is outside the simulator's files folder.")
    if not resolved.is_file():
        raise Unreadable(f"No file at {path}.")
    return resolved.read_bytes()


BEHAVIOURS: Mapping[str, Behaviour] = {
    "os_filesystem_path_verify": os_filesystem_path_verify,
    "os_filesystem_file_open": os_filesystem_file_open,
    "os_browser_url_open": os_browser_url_open,
    "os_filesystem_file_read_streamed": os_filesystem_file_read_streamed,
}
