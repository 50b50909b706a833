"""Serving the simulator on loopback, restarts included, from an event loop or a background thread.

Only uvicorn's documented surface: `uvicorn.Config`, `uvicorn.Server`, `Server.serve(sockets=...)` and
`should_exit`. The runner owns the listening socket rather than letting uvicorn bind it, so the port is
known (and connections queue in the backlog) before uvicorn runs. A simulated `os_restart` stops
answering at once (the app drops every request from the 204 on), ends the requests in flight, lets
uvicorn shut down (it closes the socket: connections are refused, as with a real PiecesOS that went
away), waits `restart_downtime_ms`, binds a fresh socket on the same port and starts a new uvicorn
server on it with the same app, so the state survives.

A simulated `os_terminate` (a force quit: the vendor's plugin_neovim and plugin_sublime "close" commands) and a
restart told never to come back (pieces-app/support#449) close the socket the same way and stay down: connections
are refused, as with a quit process, until PiecesOS is launched again: `RunningSimulator.launch()` in a thread, or
SIGUSR1 to a `pieces-mcp simulator` process (what a fake `pieces://launch` opener sends in the tests; the control
API shares the closed port, so it cannot be the way back).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from types import TracebackType

import uvicorn
from starlette.applications import Starlette

from pieces_mcp.catalog import WIRE, Generation
from pieces_mcp.simulator.app import create_app, simulator_of
from pieces_mcp.simulator.state import REAL_PORTS

logger = logging.getLogger(__name__)

_BACKLOG = 128
_REBIND_ATTEMPTS = 100  # x 50 ms: the port can stay busy for a moment after the old socket closed
_STOP_TIMEOUT_S = 5.0
_READY_TIMEOUT_S = 30.0


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


def _bind_first_free(host: str, ports: tuple[int, ...]) -> socket.socket:
    """The first of `ports` that can be bound; OSError naming them all when none can."""
    for port in ports:
        try:
            return _bind(host, port)
        except OSError:
            continue
    raise OSError(f"none of the ports {ports[0]}-{ports[-1]} is free on {host}")


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
            # "critical": a dropped connection is an ASGI app that failed after starting its answer
            # (see `drop_connection`), which uvicorn would log as an error each time.
            log_level="critical",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self.current: uvicorn.Server | None = None
        self.servers: dict[asyncio.Task[None], uvicorn.Server] = {}
        self.restart_requested = asyncio.Event()
        # Set by `quit`: after going away, stay down until `launch`.
        self.stays_down = False
        self.launch_requested = asyncio.Event()

    @property
    def url(self) -> str:
        return _url(self.host, self.port)

    async def run(self, on_ready: Callable[[str], None]) -> None:
        if self.port == REAL_PORTS:
            sock = _bind_first_free(self.host, WIRE[self.sim.api].real_ports)
        else:
            sock = _bind(self.host, self.port)
        self.port = sock.getsockname()[1]
        self.sim.restarter = self
        announced = False
        try:
            while True:
                self.sim.accepting = True
                task = self._start(sock)
                if not announced:
                    # The socket listens: connections wait in its backlog until uvicorn accepts them.
                    on_ready(self.url)
                    announced = True
                if not await self._until_restart(task):
                    return  # uvicorn stopped on a signal (the CLI, in the main thread): so do we
                sock.close()  # uvicorn closed it already; closing twice is harmless
                await self._stay_away()
                sock = await self._rebind()
                self.port = sock.getsockname()[1]
        finally:
            self.sim.restarter = None
            await self._stop_all()
            sock.close()  # after the servers: one not yet started would find it closed

    def _start(self, sock: socket.socket) -> asyncio.Task[None]:
        server = uvicorn.Server(self.config)
        task = asyncio.create_task(server.serve(sockets=[sock]))
        self.servers[task] = server
        self.current = server
        return task

    async def _until_restart(self, task: asyncio.Task[None]) -> bool:
        """True once a restart has taken the server down; False when the server stopped by itself."""
        restart = asyncio.create_task(self.restart_requested.wait())
        try:
            await asyncio.wait({task, restart}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            restart.cancel()
        if not self.restart_requested.is_set():
            task.result()  # raises what stopped it, if anything did
            return False
        self.restart_requested.clear()
        await task  # uvicorn has closed the listener and the socket
        del self.servers[task]
        return True

    async def _stay_away(self) -> None:
        """The downtime of a restart, or, after a quit, until someone launches PiecesOS again."""
        if not self.stays_down:
            await self.sim.clock.sleep(self.sim.state.restart_downtime_ms / 1000)
            return
        await self.launch_requested.wait()
        self.stays_down = False
        self.sim.launched()

    def launch(self) -> None:
        """`Restarter`: PiecesOS was started again (pieces://launch): it comes back on its port."""
        self.launch_requested.set()

    def quit(self) -> None:
        """`Restarter`: the server shuts down, its socket closes, and it stays down until `launch`."""
        # Cleared here, not when the server is down: a launch may come before uvicorn has finished stopping.
        self.launch_requested.clear()
        self.stays_down = True
        self.go_away()

    def go_away(self) -> None:
        """`Restarter`: the server shuts down; `run` brings a new one up after the downtime."""
        server = self.current
        if server is None:
            return
        server.should_exit = True
        self.current = None
        self.restart_requested.set()

    async def _rebind(self) -> socket.socket:
        """The socket to come back on: the same port, or the one `restart_port` asked for (once)."""
        moved_to, self.sim.state.restart_port = self.sim.state.restart_port, None
        if moved_to == REAL_PORTS:
            return _bind_first_free(self.host, WIRE[self.sim.api].real_ports)
        if moved_to is not None:
            return _bind(self.host, moved_to)
        for _ in range(_REBIND_ATTEMPTS - 1):
            try:
                return _bind(self.host, self.port)
            except OSError:
                await asyncio.sleep(0.05)
        return _bind(self.host, self.port)

    async def _stop_all(self) -> None:
        self.sim.accepting = False
        self.sim.end_requests_in_flight()
        for server in self.servers.values():
            server.should_exit = True
        tasks = set(self.servers)
        if not tasks:
            return
        # Shielded so a second cancellation does not leave uvicorn servers half shut down.
        _, pending = await asyncio.shield(asyncio.wait(tasks, timeout=_STOP_TIMEOUT_S))
        for task in pending:
            task.cancel()
        self.servers.clear()


async def serve(
    host: str,
    port: int,
    api: Generation,
    on_ready: Callable[[str], None],
) -> None:
    """Serve a fresh simulator until cancelled; `on_ready(base_url)` once it accepts connections.

    `port`: 0 picks a free one; `REAL_PORTS` the first free of the generation's real PiecesOS ports
    (39300-39333 for current; 1000 on macOS and Windows or 5323 on Linux for seed and v10).
    In the main thread of a POSIX process, SIGUSR1 launches a PiecesOS that quit (see the module's docstring)."""
    runner = _Runner(create_app(api), host, port)
    launch_signal = getattr(signal, "SIGUSR1", None)
    if launch_signal is None or threading.current_thread() is not threading.main_thread():
        await runner.run(on_ready)
        return
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(launch_signal, runner.launch)
    try:
        await runner.run(on_ready)
    finally:
        loop.remove_signal_handler(launch_signal)


class RunningSimulator:
    """A simulator serving on a background thread with its own event loop; `stop()` ends it."""

    def __init__(
        self,
        url: str,
        port: int,
        loop: asyncio.AbstractEventLoop,
        task: asyncio.Task[None],
        thread: threading.Thread,
        runner: _Runner,
    ) -> None:
        self.url = url
        self.port = port
        self._loop = loop
        self._task = task
        self._thread = thread
        self._runner = runner

    def launch(self) -> None:
        """Start a PiecesOS that quit (`os_terminate`, a restart that did not come back) again, as
        pieces://launch does; returns at once: it answers again once its socket is bound."""
        self._loop.call_soon_threadsafe(self._runner.launch)

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
    api: Generation = "current",
) -> RunningSimulator:
    """Start a simulator on a daemon thread; returns once it accepts connections."""
    ready: concurrent.futures.Future[tuple[str, asyncio.AbstractEventLoop, asyncio.Task[None], _Runner]]
    ready = concurrent.futures.Future()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        task: asyncio.Task[None] | None = None
        runner = _Runner(create_app(api), host, port)

        def on_ready(url: str) -> None:
            assert task is not None
            ready.set_result((url, loop, task, runner))

        task = asyncio.create_task(runner.run(on_ready))
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
    url, loop, task, runner = ready.result(timeout=_READY_TIMEOUT_S)
    return RunningSimulator(url, int(url.rsplit(":", 1)[1]), loop, task, thread, runner)
