"""The simulator's ASGI app: the catalog's OS routes, `/.well-known/*`, the control API, faults."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket

from pieces_mcp.catalog import CATALOG, GENERATIONS, Generation
from pieces_mcp.simulator import profiles
from pieces_mcp.simulator.behaviours import BEHAVIOURS
from pieces_mcp.simulator.behaviours.base import Behaviour, decode_body
from pieces_mcp.simulator.control import CONTROL_PREFIX, control_routes
from pieces_mcp.simulator.fault_answers import drop_connection, send_fault_answer
from pieces_mcp.simulator.state import Simulator
from pieces_mcp.simulator.streams import stream_routes

OS_PREFIX = "/os/"


def simulator_of(app: Starlette) -> Simulator:
    """The state behind an app made by `create_app`."""
    sim = app.state.simulator
    assert isinstance(sim, Simulator)
    return sim


def create_app(api: Generation = "current") -> Starlette:
    """A simulated PiecesOS of generation `api`, with fresh state."""
    if api not in GENERATIONS:
        raise ValueError(f"api must be one of {GENERATIONS}, not {api!r}")
    # `open_pieces_os` is the OS opening pieces://launch, not a PiecesOS route: tests give it a fake URL opener.
    served = [endpoint for endpoint in CATALOG if endpoint.served_over_http]
    missing = sorted(endpoint.name for endpoint in served if endpoint.name not in BEHAVIOURS)
    if missing:
        raise RuntimeError(f"the simulator has no behaviour for catalog endpoints: {', '.join(missing)}")
    sim = Simulator(api)
    # Each generation serves what it had (catalog.generations): the rest is "Route not found", as PiecesOS says.
    routes: list[BaseRoute] = [
        Route(endpoint.path_for(api), _bound(BEHAVIOURS[endpoint.name], sim), methods=[endpoint.method])
        for endpoint in served
        if endpoint.since.exists_in(api)
    ]
    routes += _well_known_routes(sim)
    routes += control_routes(sim) + stream_routes(sim)
    routes.append(WebSocketRoute("/{path:path}", _websocket_not_found))
    middleware = [Middleware(Terminated, sim=sim), Middleware(_FaultsAndCallLog, sim=sim)]
    app = Starlette(routes=routes, middleware=middleware, exception_handlers={404: _route_not_found})
    app.state.simulator = sim
    return app


# PiecesOS's own answer to a path it does not have: 404 with this text (pieces-app/support#597, #474).
ROUTE_NOT_FOUND = "Route not found"


async def _route_not_found(request: Request, exc: Exception) -> Response:
    return PlainTextResponse(ROUTE_NOT_FOUND, status_code=404)


async def _websocket_not_found(websocket: WebSocket) -> None:
    # PiecesOS refuses the upgrade of a path it has no stream at with HTTP 404 (support#774: "was not upgraded
    # to websocket, HTTP status code: 404"); closing before accepting would make it a 403.
    await websocket.send_denial_response(PlainTextResponse(ROUTE_NOT_FOUND, status_code=404))


def _bound(behaviour: Behaviour, sim: Simulator) -> Any:
    async def endpoint(request: Request) -> Response:
        return await behaviour(sim, request)

    return endpoint


def _well_known_routes(sim: Simulator) -> list[Route]:
    async def health(request: Request) -> Response:
        # "OK and a GUID" (pieces-app/pieces-os-client-sdk-for-csharp, src/Client/PiecesClient.cs); the
        # separator is not documented anywhere public.
        return PlainTextResponse(f"OK:{sim.instance_id}")

    async def version(request: Request) -> Response:
        return PlainTextResponse(sim.state.version)

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


class Terminated:
    """After `os_terminate`, PiecesOS is gone until it is launched: every other request goes unanswered.

    Served on a socket, a terminated PiecesOS closes it (`server.py`): connections are refused. The app alone
    (in-process tests) has no socket to close, so there it answers nothing but the control API, whose
    `/_simulator/launch` brings it back.
    """

    def __init__(self, app: ASGIApp, sim: Simulator) -> None:
        self.app = app
        self.sim = sim

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "lifespan" or path.startswith(CONTROL_PREFIX) or not self.sim.state.terminated:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1001})
            return
        await drop_connection(send, f"PiecesOS was terminated: {path}")


class _FaultsAndCallLog:
    """Records OS requests, then applies the path's injected fault before routing."""

    def __init__(self, app: ASGIApp, sim: Simulator) -> None:
        self.app = app
        self.sim = sim

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not self.sim.accepting:  # restarting: PiecesOS is going away
            await drop_connection(send, f"restarting: {scope['path']} is not answered")
        task = asyncio.current_task()
        assert task is not None
        self.sim.in_flight.add(task)
        try:
            await self._serve(scope, receive, send)
        except asyncio.CancelledError:
            # A restart ended this request: its connection goes with it, unanswered.
            await drop_connection(send, f"restarted while answering {scope['path']}")
        finally:
            self.sim.in_flight.discard(task)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if path.startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        # Read the whole body up front: for the log, and so a dropped connection has no unread data.
        raw = await _read_body(receive)
        if path.startswith(OS_PREFIX):
            self.sim.record(scope["method"], path, _loggable(raw))
        fault = self.sim.take_fault(path)
        if fault is not None:
            if fault.delay_ms:
                await self.sim.clock.sleep(fault.delay_ms / 1000)
            if fault.drop:
                await drop_connection(send, f"simulated dropped connection on {path}")
            if fault.answers:
                await send_fault_answer(fault, scope, receive, send)
                return
        await self.app(scope, _replay(raw, receive), send)


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
