"""The `/_simulator/` control API that tests, demos and agent developers drive the simulator with.

| request                      | effect                                                            |
|------------------------------|-------------------------------------------------------------------|
| `POST /_simulator/reset`     | default state; faults and call log cleared                        |
| `GET  /_simulator/calls`     | the OS requests received, in order: `{"method", "path", "body"}`  |
| `GET  /_simulator/state`     | the controllable state                                            |
| `POST /_simulator/state`     | merge a partial state (see `StatePatch`); 400 on an unknown key   |
| `GET  /_simulator/faults`    | the faults still waiting, with how many uses remain               |
| `POST /_simulator/faults`    | queue a fault for a path (see `FaultSpec`)                        |
| `GET  /_simulator/clock`     | `{"held": bool, "sleeping": N}`: N delays now waiting on it       |
| `POST /_simulator/clock`     | `{"hold": bool, "advance_ms": N}`: hold, move or release its time |
| `POST /_simulator/launch`    | the app alone: PiecesOS starts again after `os_terminate` (served |
|                              | on a socket, a quit PiecesOS refuses connections: see server.py)  |
| `POST /_simulator/files`     | `{"root": "/dir" or null}`: where file reads are served from      |
| `POST /_simulator/migration` | merge `status`, `overallProgressPercentage`, `activeMigrations`   |
|                              | into the migration status (pushed on its stream)                  |

Control requests are never faulted nor logged. A 400 answers `{"error": "<what is wrong>"}`.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pieces_mcp.simulator.state import (
    MIGRATION_STATUSES,
    ClockPatch,
    ControlError,
    FaultSpec,
    Simulator,
    StatePatch,
    parse_control,
)

CONTROL_PREFIX = "/_simulator/"


async def _payload(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise ControlError("the body is not valid JSON") from None


def _rejected(error: ControlError) -> Response:
    return JSONResponse({"error": str(error)}, status_code=400)


def control_routes(sim: Simulator) -> list[Route]:
    """Every `/_simulator/` route: one state, one API."""
    return [*_state_routes(sim), *_fault_routes(sim), *_clock_routes(sim), *_lifecycle_routes(sim)]


def _state_routes(sim: Simulator) -> list[Route]:
    async def reset(request: Request) -> Response:
        await sim.reset()
        return JSONResponse({"ok": True})

    async def calls(request: Request) -> Response:
        return JSONResponse(sim.calls)

    async def get_state(request: Request) -> Response:
        return JSONResponse(sim.state.public())

    async def merge_state(request: Request) -> Response:
        try:
            sim.apply(parse_control(StatePatch, await _payload(request)))
        except ControlError as error:
            return _rejected(error)
        return JSONResponse(sim.state.public())

    return [
        Route(f"{CONTROL_PREFIX}reset", reset, methods=["POST"]),
        Route(f"{CONTROL_PREFIX}calls", calls, methods=["GET"]),
        Route(f"{CONTROL_PREFIX}state", get_state, methods=["GET"]),
        Route(f"{CONTROL_PREFIX}state", merge_state, methods=["POST"]),
    ]


class _AsciiJSONResponse(JSONResponse):
    """JSON with every non-ASCII character escaped: a fault may plant a lone surrogate, which UTF-8 cannot carry."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content).encode("ascii")


def _fault_routes(sim: Simulator) -> list[Route]:
    async def get_faults(request: Request) -> Response:
        return _AsciiJSONResponse(sim.faults())

    async def add_fault(request: Request) -> Response:
        try:
            spec = parse_control(FaultSpec, await _payload(request))
        except ControlError as error:
            return _rejected(error)
        sim.add_fault(spec)
        return _AsciiJSONResponse(sim.faults())

    return [
        Route(f"{CONTROL_PREFIX}faults", get_faults, methods=["GET"]),
        Route(f"{CONTROL_PREFIX}faults", add_fault, methods=["POST"]),
    ]


def _clock_routes(sim: Simulator) -> list[Route]:
    """The simulator's time (pieces_mcp/simulator/clock.py): held, moved on, or let run."""

    def clock_state() -> Response:
        return JSONResponse({"held": sim.clock.held, "sleeping": sim.clock.sleeping})

    async def get_clock(request: Request) -> Response:
        return clock_state()

    async def set_clock(request: Request) -> Response:
        try:
            patch = parse_control(ClockPatch, await _payload(request))
        except ControlError as error:
            return _rejected(error)
        if patch.hold is True:
            sim.clock.hold()
        if patch.advance_ms:
            sim.clock.advance(patch.advance_ms / 1000)
        if patch.hold is False:
            sim.clock.release()
        return clock_state()

    return [
        Route(f"{CONTROL_PREFIX}clock", get_clock, methods=["GET"]),
        Route(f"{CONTROL_PREFIX}clock", set_clock, methods=["POST"]),
    ]


def _lifecycle_routes(sim: Simulator) -> list[Route]:
    async def launch(request: Request) -> Response:
        sim.state.terminated = False
        return JSONResponse(sim.state.public())

    async def files(request: Request) -> Response:
        try:
            body = await _payload(request)
        except ControlError as error:
            return _rejected(error)
        root = body.get("root") if isinstance(body, dict) else None
        if not isinstance(body, dict) or set(body) != {"root"} or not (root is None or isinstance(root, str)):
            return _rejected(ControlError('the body must be {"root": "/a/folder"} or {"root": null}'))
        if root is not None and not await asyncio.to_thread(Path(root).is_dir):
            return _rejected(ControlError(f"{root} is not a folder"))
        sim.state.files_root = root
        return JSONResponse(sim.state.public())

    async def migration(request: Request) -> Response:
        try:
            body = await _payload(request)
        except ControlError as error:
            return _rejected(error)
        allowed = {"status", "overallProgressPercentage", "activeMigrations"}
        if not isinstance(body, dict) or not set(body) <= allowed:
            return _rejected(ControlError(f"the body must be an object with only {', '.join(sorted(allowed))}"))
        if "status" in body and body["status"] not in MIGRATION_STATUSES:
            return _rejected(ControlError(f"status must be one of {', '.join(sorted(MIGRATION_STATUSES))}"))
        sim.state.migration = {**sim.state.migration, **body}
        sim.hub.publish("migration", sim.state.migration)
        return JSONResponse(sim.state.public())

    return [
        Route(f"{CONTROL_PREFIX}launch", launch, methods=["POST"]),
        Route(f"{CONTROL_PREFIX}files", files, methods=["POST"]),
        Route(f"{CONTROL_PREFIX}migration", migration, methods=["POST"]),
    ]
