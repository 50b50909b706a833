"""The `settings` toolset in the simulator: autoboot, and its change pushed on the settings stream."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from pieces_mcp.simulator.behaviours.base import Behaviour, json_object
from pieces_mcp.simulator.state import Simulator


async def os_settings_snapshot(sim: Simulator, request: Request) -> Response:
    return JSONResponse(sim.state.settings())


async def os_settings_update(sim: Simulator, request: Request) -> Response:
    body = await json_object(request)
    autoboot = body.get("autoboot")
    if autoboot is not None and not isinstance(autoboot, bool):
        raise HTTPException(400, "'autoboot' must be a bool.")
    if autoboot is not None:
        sim.state.autoboot = autoboot
    # "This will emit a change via the setting stream as well" (the vendor's os_settings_update).
    sim.hub.publish("settings", sim.state.settings())
    return JSONResponse(sim.state.settings())


BEHAVIOURS: Mapping[str, Behaviour] = {
    "os_settings_snapshot": os_settings_snapshot,
    "os_settings_update": os_settings_update,
}
