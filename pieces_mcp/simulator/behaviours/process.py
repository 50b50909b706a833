"""The `process` toolset in the simulator: quitting PiecesOS, freeing memory, the applets and their ports."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, get_args

from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from pieces_mcp.models.process import AppletName
from pieces_mcp.simulator import profiles
from pieces_mcp.simulator.behaviours.base import Behaviour, json_object, no_content
from pieces_mcp.simulator.state import Simulator

FIRST_APPLET_PORT = 39400
_APPLETS = frozenset(get_args(AppletName))


def _applet(body: Mapping[str, Any]) -> str:
    kind = body.get("type")
    if kind not in _APPLETS:
        raise HTTPException(400, f"'type' must be one of: {', '.join(sorted(_APPLETS))}.")
    return str(kind)


async def os_terminate(sim: Simulator, request: Request) -> Response:
    """A force quit (the vendor's plugin_neovim, plugin_sublime): after the 204 the process is gone."""
    sim.state.terminated = True

    async def quit_now() -> None:
        # async, so Starlette runs it on the event loop right after the 204 is sent.
        sim.quit()

    # Connection: close: the client must not reuse this connection; PiecesOS is gone after the 204.
    return Response(status_code=204, headers={"Connection": "close"}, background=BackgroundTask(quit_now))


async def os_memory_optimize(sim: Simulator, request: Request) -> Response:
    sim.state.memory_optimizations += 1
    return no_content()


def _active_applet(kind: str, port: int) -> dict[str, Any]:
    """`ActiveOSServerApplet`."""
    return {"type": kind, "port": port, "handler": {"type": "simulated", "version": profiles.SIMULATOR_VERSION}}


async def os_applet_launch(sim: Simulator, request: Request) -> Response:
    kind = _applet(await json_object(request))
    applets = sim.state.applets
    # "If one is already spun up we will just return the port number" (the vendor's os_applet_launch).
    port = applets.setdefault(kind, FIRST_APPLET_PORT + sorted(_APPLETS).index(kind))
    return JSONResponse(_active_applet(kind, port))


async def os_applet_restart(sim: Simulator, request: Request) -> Response:
    kind = _applet(await json_object(request))
    applets = sim.state.applets
    port = applets.setdefault(kind, FIRST_APPLET_PORT + sorted(_APPLETS).index(kind))
    return JSONResponse(_active_applet(kind, port))


async def os_applet_terminate(sim: Simulator, request: Request) -> Response:
    kind = _applet(await json_object(request))
    sim.state.applets.pop(kind, None)
    return no_content()


BEHAVIOURS: Mapping[str, Behaviour] = {
    "os_terminate": os_terminate,
    "os_memory_optimize": os_memory_optimize,
    "os_applet_launch": os_applet_launch,
    "os_applet_restart": os_applet_restart,
    "os_applet_terminate": os_applet_terminate,
}
