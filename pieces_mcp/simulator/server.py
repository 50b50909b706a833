"""Serving the simulator on loopback, restarts included, from an event loop or a background thread.

The runner owns the listening socket rather than letting uvicorn bind it: a simulated `os_restart`
closes that socket (new connections are refused, as with a real PiecesOS that went away), waits
`restart_downtime_ms`, binds a fresh socket on the same port and starts a new uvicorn server on it
with the same app, so the state survives.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Literal

import uvicorn
from starlette.applications import Starlette
from uvicorn.protocols.http.h11_impl import H11Protocol

from pieces_mcp.simulator.app import create_app, simulator_of
from pieces_mcp.simulator.state import Simulator

logger = logging.getLogger(__name__)

_BACKLOG = 128
_REBIND_ATTEMPTS = 100  # x 50 ms: the port can stay busy for a moment after the old socket closed
_STOP_TIMEOUT_S = 5.0
_READY_TIMEOUT_S = 30.0


class _OwnedSignalsServer(uvicorn.Server):
    """A uvicorn server that leaves signals to its owner: `serve` ends when its task is cancelled."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _tracking_protocol(sim: Simulator) -> type[H11Protocol]:
    """uvicorn's h11 protocol, registering each connection so a fault or a restart can drop it."""

    class TrackedH11Protocol(H11Protocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if self.client is not None:
                sim.connections[self.client] = transport

        def connection_lost(self, exc: Exception | None) -> None:
            if self.client is not None and sim.connections.get(self.client) is self.transport:
                del sim.connections[self.client]
            super().connection_lost(exc)

    return TrackedH11Protocol


def _cancel_requests(server: uvicorn.Server) -> None:
    """Cancel the requests still running (a picker waiting for its person): their connections are gone,
    and uvicorn would otherwise wait `timeout_graceful_shutdown` for them."""
    this = asyncio.current_task()
    for task in list(server.server_state.tasks):
        if task is not this:
            task.cancel()


def _bind(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        if os.name != "nt":  # on Windows SO_REUSEADDR would let two servers share the port
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(_BACKLOG)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class _Runner:
    """Serves one app; on a restart request swaps its uvicorn server for a new one on the same port."""

    def __init__(self, app: Starlette, host: str, port: int) -> None:
        self.sim = simulator_of(app)
        self.host = host
        self.port = port
        self.config = uvicorn.Config(
            app,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            proxy_headers=False,  # keep scope["client"] the socket's peer: dropping a connection looks it up
            http=_tracking_protocol(self.sim),
            timeout_graceful_shutdown=1,
        )
        self.current: _OwnedSignalsServer | None = None
        self.servers: dict[asyncio.Task[None], _OwnedSignalsServer] = {}
        self.restart_requested = asyncio.Event()

    @property
    def url(self) -> str:
        return _url(self.host, self.port)

    async def run(self, on_ready: Callable[[str], None]) -> None:
        sock = _bind(self.host, self.port)
        self.port = sock.getsockname()[1]
        unowned: socket.socket | None = sock  # closed here unless a uvicorn server took it over
        self.sim.restarter = self
        announced = False
        try:
            while True:
                task = await self._start(sock)
                unowned = None
                if not announced:
                    on_ready(self.url)
                    announced = True
                await self._until_restart(task)
                await asyncio.sleep(self.sim.state.restart_downtime_ms / 1000)
                sock = unowned = await self._rebind()
        finally:
            self.sim.restarter = None
            if unowned is not None:
                unowned.close()
            await self._stop_all()

    async def _start(self, sock: socket.socket) -> asyncio.Task[None]:
        server = _OwnedSignalsServer(self.config)
        task = asyncio.create_task(server.serve(sockets=[sock]))
        self.servers[task] = server
        self.current = server
        # uvicorn has no startup callback; `started` flips once it accepts on the socket.
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("the simulator's HTTP server stopped while starting")
            await asyncio.sleep(0.005)
        return task

    async def _until_restart(self, task: asyncio.Task[None]) -> None:
        restart = asyncio.create_task(self.restart_requested.wait())
        try:
            await asyncio.wait({task, restart}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            restart.cancel()
        if not self.restart_requested.is_set():
            task.result()
            raise RuntimeError("the simulator's HTTP server stopped unexpectedly")
        self.restart_requested.clear()

    def stop_accepting(self) -> None:
        """`Restarter`: close the listener now rather than at uvicorn's next 100 ms tick."""
        if self.current is not None:
            for listener in self.current.servers:
                listener.close()

    def go_away(self) -> None:
        """`Restarter`: in-flight calls die with the old server, as they would in PiecesOS."""
        server = self.current
        if server is None:
            return
        self.stop_accepting()
        self.sim.drop_all_connections()
        _cancel_requests(server)
        server.should_exit = True
        self.current = None
        self.restart_requested.set()

    async def _rebind(self) -> socket.socket:
        for _ in range(_REBIND_ATTEMPTS - 1):
            try:
                return _bind(self.host, self.port)
            except OSError:
                await asyncio.sleep(0.05)
        return _bind(self.host, self.port)

    async def _stop_all(self) -> None:
        self.sim.drop_all_connections()
        for server in self.servers.values():
            _cancel_requests(server)
            server.should_exit = True
        tasks = set(self.servers)
        if not tasks:
            return
        # Shielded so a second cancellation does not leave uvicorn servers half shut down.
        _, pending = await asyncio.shield(asyncio.wait(tasks, timeout=_STOP_TIMEOUT_S))
        for task in pending:
            self.servers[task].force_exit = True
            task.cancel()
        self.servers.clear()


async def serve(
    host: str,
    port: int,
    api: Literal["current", "seed"],
    on_ready: Callable[[str], None],
) -> None:
    """Serve a fresh simulator until cancelled; `on_ready(base_url)` once it accepts connections."""
    await _Runner(create_app(api), host, port).run(on_ready)


class RunningSimulator:
    """A simulator serving on a background thread with its own event loop; `stop()` ends it."""

    def __init__(
        self,
        url: str,
        port: int,
        loop: asyncio.AbstractEventLoop,
        task: asyncio.Task[None],
        thread: threading.Thread,
    ) -> None:
        self.url = url
        self.port = port
        self._loop = loop
        self._task = task
        self._thread = thread

    def stop(self) -> None:
        """Stop serving and wait for the thread to end; calling it again does nothing."""
        with contextlib.suppress(RuntimeError):  # the loop already closed: it stopped on its own
            self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(timeout=_STOP_TIMEOUT_S * 2)

    def __enter__(self) -> RunningSimulator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"RunningSimulator(url={self.url!r})"


def start_in_thread(
    host: str = "127.0.0.1",
    port: int = 0,
    api: Literal["current", "seed"] = "current",
) -> RunningSimulator:
    """Start a simulator on a daemon thread; returns once it accepts connections."""
    ready: concurrent.futures.Future[tuple[str, asyncio.AbstractEventLoop, asyncio.Task[None]]]
    ready = concurrent.futures.Future()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        task: asyncio.Task[None] | None = None

        def on_ready(url: str) -> None:
            assert task is not None
            ready.set_result((url, loop, task))

        task = asyncio.create_task(serve(host, port, api, on_ready))
        try:
            await task
        except asyncio.CancelledError:
            pass  # stop()
        except Exception as error:
            if not ready.done():
                ready.set_exception(error)
            else:
                logger.exception("the PiecesOS simulator stopped")

    thread = threading.Thread(target=asyncio.run, args=(main(),), name="pieces-os-simulator", daemon=True)
    thread.start()
    url, loop, task = ready.result(timeout=_READY_TIMEOUT_S)
    return RunningSimulator(url, int(url.rsplit(":", 1)[1]), loop, task, thread)
