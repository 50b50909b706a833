"""Control routes and the "PiecesOS was quit" gate for the state in `more_behaviours.py`.

| request                        | effect                                                                  |
|--------------------------------|-------------------------------------------------------------------------|
| `GET  /_simulator/more`        | settings, terminated, files root, applets, migration                    |
| `POST /_simulator/launch`      | PiecesOS starts again after `os_terminate`                              |
| `POST /_simulator/files`       | `{"root": "/dir" or null}`: where file reads are served from            |
| `POST /_simulator/migration`   | merge `status`, `overallProgressPercentage`, `activeMigrations` (pushed) |
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from pieces_mcp.simulator.behaviours.files import MIGRATION_STATUSES, extras
from pieces_mcp.simulator.control import CONTROL_PREFIX
from pieces_mcp.simulator.fault_answers import drop_connection
from pieces_mcp.simulator.state import Simulator


def _rejected(message: str) -> Response:
    return JSONResponse({"error": message}, status_code=400)


async def _control_body(request: Request) -> Any:
    raw = await request.body()
    return json.loads(raw) if raw.strip() else {}


def more_control_routes(sim: Simulator) -> list[BaseRoute]:
    async def show(request: Request) -> Response:
        return JSONResponse(extras(sim).state.public())

    async def launch(request: Request) -> Response:
        extras(sim).state.terminated = False
        return JSONResponse(extras(sim).state.public())

    async def files(request: Request) -> Response:
        try:
            body = await _control_body(request)
        except ValueError:
            return _rejected("the body is not valid JSON")
        root = body.get("root") if isinstance(body, dict) else None
        if not isinstance(body, dict) or set(body) != {"root"} or not (root is None or isinstance(root, str)):
            return _rejected('the body must be {"root": "/a/folder"} or {"root": null}')
        if root is not None and not await asyncio.to_thread(Path(root).is_dir):
            return _rejected(f"{root} is not a folder")
        extras(sim).state.files_root = root
        return JSONResponse(extras(sim).state.public())

    async def migration(request: Request) -> Response:
        try:
            body = await _control_body(request)
        except ValueError:
            return _rejected("the body is not valid JSON")
        allowed = {"status", "overallProgressPercentage", "activeMigrations"}
        if not isinstance(body, dict) or not set(body) <= allowed:
            return _rejected(f"the body must be an object with only {', '.join(sorted(allowed))}")
        if "status" in body and body["status"] not in MIGRATION_STATUSES:
            return _rejected(f"status must be one of {', '.join(sorted(MIGRATION_STATUSES))}")
        more = extras(sim)
        more.state.migration = {**more.state.migration, **body}
        more.hub.publish("migration", more.state.migration)
        return JSONResponse(more.state.public())

    return [
        Route(f"{CONTROL_PREFIX}more", show, methods=["GET"]),
        Route(f"{CONTROL_PREFIX}launch", launch, methods=["POST"]),
        Route(f"{CONTROL_PREFIX}files", files, methods=["POST"]),
        Route(f"{CONTROL_PREFIX}migration", migration, methods=["POST"]),
    ]


class Terminated:
    """After `os_terminate`, PiecesOS is gone until `/_simulator/launch`: every other request goes unanswered.

    The listening socket stays open (the control API shares it), so a terminated PiecesOS shows as connections
    closed without an answer rather than refused: health checks fail and discovery finds nothing.
    """

    def __init__(self, app: ASGIApp, sim: Simulator) -> None:
        self.app = app
        self.sim = sim

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "lifespan" or path.startswith(CONTROL_PREFIX) or not extras(self.sim).state.terminated:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1001})
            return
        await drop_connection(send, f"PiecesOS was terminated: {path}")
