"""What the operations PiecesOS added after the seed page do in the simulator, and the state they keep.

Kept apart from `behaviours.py` and `state.py` so the API generations can evolve there: `app.py` merges
`MORE_BEHAVIOURS` into its routes, `control.py`'s reset calls `reset_more()`, and `more_control.py` drives
this state. It lives beside the `Simulator` (one `Extras` per simulator), not inside it.
"""

from __future__ import annotations

import asyncio
import os
import uuid
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from pieces_mcp.models.files import AppletName, MigrationStatusValue
from pieces_mcp.simulator import profiles
from pieces_mcp.simulator.behaviours.os_tools import Behaviour, decode_body
from pieces_mcp.simulator.state import Simulator

# The folder file reads are served from, when the simulator is started with it; none by default.
FILES_ENV = "PIECES_SIMULATOR_FILES"
FIRST_APPLET_PORT = 39400
_APPLETS = frozenset(get_args(AppletName))
MIGRATION_STATUSES = frozenset(get_args(MigrationStatusValue))


def _idle_migration() -> dict[str, Any]:
    """`OSMigrationStatusResponse` when nothing migrates."""
    return {"status": "IDLE", "overallProgressPercentage": 100, "activeMigrations": []}


@dataclass
class MoreState:
    """What `/_simulator/reset` puts back: settings, whether PiecesOS was quit, applets, migration, files."""

    autoboot: bool = False
    terminated: bool = False
    files_root: str | None = field(default_factory=lambda: os.environ.get(FILES_ENV) or None)
    applets: dict[str, int] = field(default_factory=dict)
    migration: dict[str, Any] = field(default_factory=_idle_migration)
    nano_models_prepared: bool = False
    memory_optimizations: int = 0

    def settings(self) -> dict[str, Any]:
        """`OSServerSettings`."""
        return {"autoboot": self.autoboot}

    def public(self) -> dict[str, Any]:
        return {
            "settings": self.settings(),
            "terminated": self.terminated,
            "files_root": self.files_root,
            "applets": dict(self.applets),
            "migration": self.migration,
            "nano_models_prepared": self.nano_models_prepared,
            "memory_optimizations": self.memory_optimizations,
        }


class Hub:
    """Open WebSocket streams by kind; outlives a reset, as open connections do."""

    def __init__(self) -> None:
        self.listeners: dict[str, set[asyncio.Queue[dict[str, Any] | None]]] = {}

    def join(self, kind: str) -> asyncio.Queue[dict[str, Any] | None]:
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self.listeners.setdefault(kind, set()).add(queue)
        return queue

    def leave(self, kind: str, queue: asyncio.Queue[dict[str, Any] | None]) -> None:
        self.listeners.get(kind, set()).discard(queue)

    def publish(self, kind: str, payload: dict[str, Any]) -> None:
        for queue in self.listeners.get(kind, set()):
            queue.put_nowait(payload)

    def close_all(self) -> None:
        """PiecesOS went away: every stream ends."""
        for queues in self.listeners.values():
            for queue in queues:
                queue.put_nowait(None)


@dataclass
class Extras:
    state: MoreState = field(default_factory=MoreState)
    hub: Hub = field(default_factory=Hub)


_EXTRAS: weakref.WeakKeyDictionary[Simulator, Extras] = weakref.WeakKeyDictionary()


def extras(sim: Simulator) -> Extras:
    found = _EXTRAS.get(sim)
    if found is None:
        found = _EXTRAS[sim] = Extras()
    return found


def reset_more(sim: Simulator) -> None:
    extras(sim).state = MoreState()


# -- request bodies ---------------------------------------------------------------------------------


async def _json(request: Request) -> Any:
    try:
        return decode_body(await request.body())
    except ValueError:
        raise HTTPException(400, "The request body is not valid JSON.") from None


async def _json_string(request: Request, what: str) -> str:
    """Bodies the vendor's client sends as a bare JSON string (a path, a URL)."""
    body = await _json(request)
    if not isinstance(body, str) or not body:
        raise HTTPException(400, f"The request body must be the {what} as a JSON string.")
    return body


async def _json_object(request: Request) -> dict[str, Any]:
    body = await _json(request)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise HTTPException(400, "The request body must be a JSON object.")
    return body


def _applet(body: Mapping[str, Any]) -> str:
    kind = body.get("type")
    if kind not in _APPLETS:
        raise HTTPException(400, f"'type' must be one of: {', '.join(sorted(_APPLETS))}.")
    return str(kind)


def _no_content() -> Response:
    return Response(status_code=204)


# -- behaviours ---------------------------------------------------------------------------------------


async def os_terminate(sim: Simulator, request: Request) -> Response:
    more = extras(sim)
    more.state.terminated = True
    more.hub.close_all()
    # Connection: close: the client must not reuse this connection; PiecesOS is gone after the 204.
    return Response(status_code=204, headers={"Connection": "close"})


async def os_settings_snapshot(sim: Simulator, request: Request) -> Response:
    return JSONResponse(extras(sim).state.settings())


async def os_settings_update(sim: Simulator, request: Request) -> Response:
    body = await _json_object(request)
    autoboot = body.get("autoboot")
    if autoboot is not None and not isinstance(autoboot, bool):
        raise HTTPException(400, "'autoboot' must be a bool.")
    more = extras(sim)
    if autoboot is not None:
        more.state.autoboot = autoboot
    # "This will emit a change via the setting stream as well" (the vendor's os_settings_update).
    more.hub.publish("settings", more.state.settings())
    return JSONResponse(more.state.settings())


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
    path = Path(await _json_string(request, "path"))
    return JSONResponse(await asyncio.to_thread(_verify, path))


async def os_filesystem_file_open(sim: Simulator, request: Request) -> Response:
    await _json_string(request, "path")  # recorded in /_simulator/calls: the "window" a test can see
    return _no_content()


async def os_browser_url_open(sim: Simulator, request: Request) -> Response:
    await _json_string(request, "URL")
    return _no_content()


async def os_filesystem_file_read_streamed(sim: Simulator, request: Request) -> Response:
    """`OSFileStreamingRead` for a file under the simulator's files folder; PiecesOS's errors are 500 with text."""
    body = await _json_object(request)
    path = body.get("path")
    if not isinstance(path, str) or not path:
        raise HTTPException(400, "'path' must be a string.")
    root = extras(sim).state.files_root
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


async def os_memory_optimize(sim: Simulator, request: Request) -> Response:
    extras(sim).state.memory_optimizations += 1
    return _no_content()


async def os_nano_models_prepare(sim: Simulator, request: Request) -> Response:
    tasks = (await _json_object(request)).get("tasks") or {}
    if not isinstance(tasks, dict) or not isinstance(tasks.get("conversation", False), bool):
        raise HTTPException(400, "'tasks.conversation' must be a bool.")
    if tasks.get("conversation"):
        extras(sim).state.nano_models_prepared = True
    return _no_content()


def _active_applet(kind: str, port: int) -> dict[str, Any]:
    """`ActiveOSServerApplet`."""
    return {"type": kind, "port": port, "handler": {"type": "simulated", "version": profiles.SIMULATOR_VERSION}}


async def os_applet_launch(sim: Simulator, request: Request) -> Response:
    kind = _applet(await _json_object(request))
    applets = extras(sim).state.applets
    # "If one is already spun up we will just return the port number" (the vendor's os_applet_launch).
    port = applets.setdefault(kind, FIRST_APPLET_PORT + sorted(_APPLETS).index(kind))
    return JSONResponse(_active_applet(kind, port))


async def os_applet_restart(sim: Simulator, request: Request) -> Response:
    kind = _applet(await _json_object(request))
    applets = extras(sim).state.applets
    port = applets.setdefault(kind, FIRST_APPLET_PORT + sorted(_APPLETS).index(kind))
    return JSONResponse(_active_applet(kind, port))


async def os_applet_terminate(sim: Simulator, request: Request) -> Response:
    kind = _applet(await _json_object(request))
    extras(sim).state.applets.pop(kind, None)
    return _no_content()


async def user_snapshot(sim: Simulator, request: Request) -> Response:
    """`ReturnedUserProfile`: the whole profile, credentials included, as PiecesOS hands it out."""
    return JSONResponse({"user": sim.state.profile()} if sim.state.signed_in else {})


MORE_BEHAVIOURS: Mapping[str, Behaviour] = {
    "os_terminate": os_terminate,
    "os_settings_snapshot": os_settings_snapshot,
    "os_settings_update": os_settings_update,
    "os_filesystem_path_verify": os_filesystem_path_verify,
    "os_filesystem_file_open": os_filesystem_file_open,
    "os_browser_url_open": os_browser_url_open,
    "os_filesystem_file_read_streamed": os_filesystem_file_read_streamed,
    "os_memory_optimize": os_memory_optimize,
    "os_nano_models_prepare": os_nano_models_prepare,
    "os_applet_launch": os_applet_launch,
    "os_applet_restart": os_applet_restart,
    "os_applet_terminate": os_applet_terminate,
    "user_snapshot": user_snapshot,
}
