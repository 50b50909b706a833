"""The simulator's ASGI app: the catalog's OS routes, `/.well-known/*`, the control API, faults."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pieces_mcp.catalog import CATALOG, GENERATIONS
from pieces_mcp.simulator import profiles
from pieces_mcp.simulator.behaviours import BEHAVIOURS as SEED_BEHAVIOURS
from pieces_mcp.simulator.behaviours import Behaviour, decode_body
from pieces_mcp.simulator.control import CONTROL_PREFIX, control_routes
from pieces_mcp.simulator.more_behaviours import MORE_BEHAVIOURS
from pieces_mcp.simulator.more_control import Terminated, more_control_routes
from pieces_mcp.simulator.state import Simulator
from pieces_mcp.simulator.streams import stream_routes

OS_PREFIX = "/os/"
BEHAVIOURS = {**SEED_BEHAVIOURS, **MORE_BEHAVIOURS}
# Statuses whose answer must not carry a body (HTTP/1.1 framing).
_BODILESS = frozenset({204, 304})


class ConnectionDropped(Exception):
    """A `drop` fault fired on an app that is not served over a socket (an in-process test)."""


def simulator_of(app: Starlette) -> Simulator:
    """The state behind an app made by `create_app`."""
    sim = app.state.simulator
    assert isinstance(sim, Simulator)
    return sim


def create_app(api: Literal["current", "seed"] = "current") -> Starlette:
    """A simulated PiecesOS of generation `api`, with fresh state."""
    if api not in GENERATIONS:
        raise ValueError(f"api must be one of {GENERATIONS}, not {api!r}")
    missing = sorted(endpoint.name for endpoint in CATALOG if endpoint.name not in BEHAVIOURS)
    if missing:
        raise RuntimeError(f"the simulator has no behaviour for catalog endpoints: {', '.join(missing)}")
    sim = Simulator(api)
    routes: list[BaseRoute] = [
        Route(endpoint.path_for(api), _bound(BEHAVIOURS[endpoint.name], sim), methods=[endpoint.method])
        for endpoint in CATALOG
    ]
    routes += _well_known_routes()
    routes += control_routes(sim) + more_control_routes(sim) + stream_routes(sim)
    app = Starlette(routes=routes, middleware=[Middleware(Terminated, sim=sim), Middleware(_FaultsAndCallLog, sim=sim)])
    app.state.simulator = sim
    return app


def _bound(behaviour: Behaviour, sim: Simulator) -> Any:
    async def endpoint(request: Request) -> Response:
        return await behaviour(sim, request)

    return endpoint


def _well_known_routes() -> list[Route]:
    async def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def version(request: Request) -> Response:
        return PlainTextResponse(profiles.SIMULATOR_VERSION)

    async def installation_path(request: Request) -> Response:
        return PlainTextResponse(profiles.INSTALLATION_PATH)

    return [
        # Starlette answers HEAD wherever GET is allowed: the vendor's discovery probes with HEAD.
        Route("/.well-known/health", health, methods=["GET"]),
        Route("/.well-known/version", version, methods=["GET"]),
        Route("/.well-known/installation/path", installation_path, methods=["GET"]),
    ]


def _loggable(raw: bytes) -> Any:
    try:
        return decode_body(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")  # not JSON: still worth seeing in the log


class _FaultsAndCallLog:
    """Records OS requests, then applies the path's injected fault before routing."""

    def __init__(self, app: ASGIApp, sim: Simulator) -> None:
        self.app = app
        self.sim = sim

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        # Read the whole body up front: for the log, and so a dropped connection has no unread data.
        raw = await _read_body(receive)
        if path.startswith(OS_PREFIX):
            self.sim.record(scope["method"], path, _loggable(raw))
        fault = self.sim.take_fault(path)
        if fault is not None:
            if fault.delay_ms:
                await asyncio.sleep(fault.delay_ms / 1000)
            if fault.drop:
                await self._drop(scope, receive)
                return
            if fault.answers:
                status, body, content_type = fault.answer()
                response = Response(b"" if status in _BODILESS else body, status, media_type=content_type)
                await response(scope, receive, send)
                return
        await self.app(scope, _replay(raw, receive), send)

    async def _drop(self, scope: Scope, receive: Receive) -> None:
        if not self.sim.drop_connection(scope.get("client")):
            raise ConnectionDropped(f"simulated dropped connection on {scope['path']}")
        # Wait until the server has noticed, so it does not try to answer on our behalf.
        try:
            while (await asyncio.wait_for(receive(), timeout=1.0))["type"] != "http.disconnect":
                pass
        except asyncio.TimeoutError:
            pass


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(raw: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the already-read body to the app, then defers to the server's."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": raw, "more_body": False}
        return await receive()

    return replay
