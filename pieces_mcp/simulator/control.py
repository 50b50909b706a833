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

Control requests are never faulted nor logged. A 400 answers `{"error": "<what is wrong>"}`.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pieces_mcp.simulator.more_behaviours import reset_more
from pieces_mcp.simulator.state import ClockPatch, ControlError, FaultSpec, Simulator, StatePatch, parse_control

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
    async def reset(request: Request) -> Response:
        sim.reset()
        reset_more(sim)
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

    async def get_faults(request: Request) -> Response:
        return JSONResponse(sim.faults())

    async def add_fault(request: Request) -> Response:
        try:
            spec = parse_control(FaultSpec, await _payload(request))
        except ControlError as error:
            return _rejected(error)
        sim.add_fault(spec)
        return JSONResponse(sim.faults())

    async def clock(request: Request) -> Response:
        """The simulator's time (pieces_mcp/simulator/clock.py): held, moved on, or let run."""
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
        return get_clock_state()

    def get_clock_state() -> Response:
        return JSONResponse({"held": sim.clock.held, "sleeping": sim.clock.sleeping})

    async def get_clock(request: Request) -> Response:
        return get_clock_state()

    return [
        Route(f"{CONTROL_PREFIX}reset", reset, methods=["POST"]),
        Route(f"{CONTROL_PREFIX}clock", get_clock, methods=["GET"]),
        Route(f"{CONTROL_PREFIX}clock", clock, methods=["POST"]),
        Route(f"{CONTROL_PREFIX}calls", calls, methods=["GET"]),
        Route(f"{CONTROL_PREFIX}state", get_state, methods=["GET"]),
        Route(f"{CONTROL_PREFIX}state", merge_state, methods=["POST"]),
        Route(f"{CONTROL_PREFIX}faults", get_faults, methods=["GET"]),
        Route(f"{CONTROL_PREFIX}faults", add_fault, methods=["POST"]),
    ]
