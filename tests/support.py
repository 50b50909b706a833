"""Test support: the MCP server in memory (`serve`) or as a real `pieces-mcp serve` over stdio (`serve_process`),
a real simulator process on loopback, and ports a test's discovery scans instead of the machine's."""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from unittest.mock import patch

import anyio
import httpx
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp_types import CallToolResult, ResourceUpdatedNotification, TextContent

from pieces_mcp.catalog import Generation
from pieces_mcp.cli_parser import build_parser
from pieces_mcp.config import load
from pieces_mcp.discovery import Machine
from pieces_mcp.logs import REQUEST_LINES_AT_DEBUG, masking_handler
from pieces_mcp.mcp_adapter import build_server
from pieces_mcp.simulator import RunningSimulator, start_in_thread

SERVER_COMMAND = [sys.executable, "-m", "pieces_mcp"]
# The first request of an MCP session over Streamable HTTP, and the headers it must carry.
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}},
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


@functools.cache
def control_http() -> httpx.Client:
    """The tests' one HTTP client for the simulator's control API and health checks.

    Building an httpx client costs ~20 ms (its TLS context), which `httpx.post` paid on every reset, fault and
    state change: most of a small test's time. `Connection: close` keeps no connection open between requests,
    so no test's descriptor count sees one, and no request goes out on a connection a restarted simulator
    dropped."""
    return httpx.Client(headers={"Connection": "close"}, verify=False)


@dataclass
class Simulator:
    """A simulated PiecesOS at `url`, driven through its `/_simulator/` control API."""

    url: str
    api: str = "current"

    def control(self, path: str, payload: Any = None) -> Any:
        if payload is None and path == "calls":
            response = control_http().get(f"{self.url}/_simulator/calls", timeout=5)
        else:
            response = control_http().post(f"{self.url}/_simulator/{path}", json=payload or {}, timeout=30)
        response.raise_for_status()
        return response.json() if response.content else None

    def reset(self) -> None:
        try:
            self.control("reset")
        except httpx.ConnectError:  # a test left it quit (os_terminate): its port refuses connections
            self.launch()
            self.control("reset")

    def ensure_running(self) -> None:
        """Launch it again if a call quit it (os_terminate): its port then refuses connections."""
        try:
            control_http().get(f"{self.url}/.well-known/health", timeout=5)
        except httpx.ConnectError:
            self.launch()

    def launch(self) -> None:
        """Start a simulated PiecesOS that quit again, as pieces://launch would; returns once it answers."""
        raise NotImplementedError

    def state(self, **changes: Any) -> None:
        self.control("state", changes)

    def hold_clock(self) -> None:
        """Stop the simulator's time (pieces_mcp/simulator/clock.py): downloads, pickers and delays wait."""
        self.control("clock", {"hold": True})

    def advance(self, ms: int) -> None:
        """Move the simulator's time on by `ms` milliseconds."""
        self.control("clock", {"advance_ms": ms})

    def fault(self, path: str, **spec: Any) -> None:
        self.control("faults", {"path": path, **spec})

    def calls(self) -> list[dict[str, Any]]:
        calls: list[dict[str, Any]] = self.control("calls")
        return calls

    def os_calls(self, path: str) -> list[dict[str, Any]]:
        return [call for call in self.calls() if call["path"] == path]

    def sleeping(self) -> int:
        """How many simulated delays (a picker, a fault's delay, a download) wait on its clock now."""
        clock: dict[str, Any] = control_http().get(f"{self.url}/_simulator/clock", timeout=5).json()
        return int(clock["sleeping"])

    async def until_a_delay_begins(self) -> None:
        """Returns once a simulated delay has begun (a call reached the person, or a slow answer): the signal
        that a call is under way, instead of a guess at how long it takes to get there."""
        with anyio.fail_after(30):
            while not self.sleeping():  # noqa: ASYNC110 (the simulator is another loop: no event to wait on)
                await anyio.sleep(0.01)


@dataclass
class SimulatorProcess(Simulator):
    """`pieces-mcp simulator` in its own process."""

    process: subprocess.Popen[str] = field(kw_only=True)

    def launch(self) -> None:
        """Start a simulated PiecesOS that quit again, as pieces://launch would (SIGUSR1, see simulator/server.py);
        returns once it answers its health check."""
        os.kill(self.process.pid, signal.SIGUSR1)
        wait_until_healthy(self.url)


@dataclass
class SimulatorInThisProcess(Simulator):
    """A simulator on a thread of the test's own process (`start_in_thread`): no process to start, for tests
    that need one of their own (it moves, or stays down) and whose subject is not the simulator's process."""

    running: RunningSimulator = field(kw_only=True)

    def launch(self) -> None:
        self.running.launch()
        wait_until_healthy(self.url)


@contextmanager
def simulator_in_this_process(*, port: int = 0, api: Generation = "current") -> Iterator[SimulatorInThisProcess]:
    with start_in_thread(port=port, api=api) as running:
        yield SimulatorInThisProcess(running.url, api, running=running)


def wait_until_healthy(url: str, within_s: float = 30) -> None:
    """Returns once `url` answers its health check: the signal that a (re)started PiecesOS is up."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        with suppress(httpx.TransportError):
            if control_http().get(f"{url}/.well-known/health", timeout=2).status_code == 200:
                return
        time.sleep(0.02)
    raise AssertionError(f"{url} did not answer its health check within {within_s} s")


def start_simulator(*args: str) -> SimulatorProcess:
    process = subprocess.Popen(
        [*SERVER_COMMAND, "simulator", *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert process.stdout is not None
    url = process.stdout.readline().strip()  # printed once it accepts connections: the readiness signal
    if not url.startswith("http://"):
        process.kill()
        raise RuntimeError(f"simulator did not start: {url!r}")
    api = args[args.index("--api") + 1] if "--api" in args else "current"
    return SimulatorProcess(url, api, process=process)


def stop(simulator: SimulatorProcess) -> None:
    simulator.process.terminate()
    try:
        simulator.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        simulator.process.kill()


def server_env(base_url: str | None, **settings: str) -> dict[str, str]:
    """The child's environment: PATH and friends, none of this shell's PIECES_* settings, plus ours."""
    # No display either: a test that wants the desktop dialog gives its own (a virtual one), and no other test
    # may open a dialog on a developer's screen.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PIECES_", "COVERAGE")) and key not in ("DISPLAY", "WAYLAND_DISPLAY")
    }
    if base_url is not None:
        env["PIECES_OS_URL"] = base_url
    env.update(settings)
    return env


@dataclass
class Served:
    client: Client
    stderr_path: Path

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")


@functools.cache
def serve_parser() -> argparse.ArgumentParser:
    """The program's command line, built once: building it is ~5 ms, and `serve` below parses with it per test."""
    return build_parser("serve")


@asynccontextmanager
async def serve(
    base_url: str | None,
    *,
    mode: str = "legacy",
    args: tuple[str, ...] = (),
    machine: Machine | None = None,
    **kwargs: Any,
) -> AsyncIterator[Served]:
    """The MCP server in this process, through the SDK's in-memory `Client(server)`: what the MCP layer is tested
    through wherever the process itself is not the subject (`serve_process` is the real `pieces-mcp serve`).

    The settings come the way `serve` reads them: `args` as its flags, `kwargs`' PIECES_* as its environment;
    the other `kwargs` are `Client` options (elicitation_callback, ...). What the server logs, at its
    `--log-level`, through the program's own masking handler, is `Served.stderr()`. With no `base_url` the
    server discovers on `machine`: by default a home of its own and ports that refuse, never the real ones.
    """
    settings = {key: str(value) for key, value in kwargs.items() if key.startswith("PIECES_")}
    client_options = {key: value for key, value in kwargs.items() if not key.startswith("PIECES_")}
    loaded = load(serve_parser().parse_args(["serve", *args]), environ=server_env(base_url, **settings))
    with tempfile.TemporaryDirectory() as folder, ExitStack() as stack:
        # As for the child: no display (no test may open a dialog on a developer's screen), no PIECES_* of ours.
        stack.enter_context(patch.dict(os.environ, clear=True, values=server_env(None)))
        if base_url is None:
            if machine is None:
                ports = stack.enter_context(refused_ports(3))
                machine = Machine(Path(folder), {}, "linux", scan_ports=ports[:2], legacy_ports=ports[2:])
            stack.enter_context(patch.object(Machine, "this", staticmethod(lambda: machine)))
        stderr_path = Path(folder) / "stderr.log"
        errlog = stack.enter_context(stderr_path.open("w", encoding="utf-8"))
        stack.enter_context(server_logging(loaded.log_level, errlog))
        async with Client(build_server(loaded), mode=mode, **client_options) as client:
            yield Served(client, stderr_path)


@contextmanager
def server_logging(level: str, stream: IO[str]) -> Iterator[None]:
    """The server's logging (pieces_mcp.logs) into `stream` while the block runs, as its stderr would show it."""
    root, httpx_logger = logging.getLogger(), logging.getLogger("httpx")
    saved = root.level, httpx_logger.level
    handler = masking_handler(stream)
    root.addHandler(handler)
    root.setLevel(level)
    httpx_logger.addFilter(REQUEST_LINES_AT_DEBUG)
    httpx_logger.setLevel(logging.NOTSET if root.getEffectiveLevel() <= logging.DEBUG else logging.WARNING)
    try:
        yield
    finally:
        handler.flush()
        root.removeHandler(handler)
        httpx_logger.removeFilter(REQUEST_LINES_AT_DEBUG)
        root.setLevel(saved[0])
        httpx_logger.setLevel(saved[1])


@asynccontextmanager
async def serve_process(
    base_url: str | None,
    *,
    mode: str = "legacy",
    args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    **kwargs: Any,
) -> AsyncIterator[Served]:
    """The real `pieces-mcp serve` process over stdio, with its stderr kept for inspection: for tests whose
    subject is the process (stdio, signals, the desktop dialog's child, the environment it starts with).

    `kwargs`: PIECES_* settings (as environment variables) and `Client` options (elicitation_callback, ...);
    `env`: other environment variables for the server (DISPLAY, HOME, ...).
    """
    settings = {key: str(value) for key, value in kwargs.items() if key.startswith("PIECES_")} | (env or {})
    client_options = {key: value for key, value in kwargs.items() if not key.startswith("PIECES_")}
    params = StdioServerParameters(
        command=SERVER_COMMAND[0], args=[*SERVER_COMMAND[1:], "serve", *args], env=server_env(base_url, **settings)
    )
    with tempfile.TemporaryDirectory() as folder:
        stderr_path = Path(folder) / "stderr.log"
        with stderr_path.open("w", encoding="utf-8") as errlog:
            async with Client(stdio_client(params, errlog=errlog), mode=mode, **client_options) as client:
                yield Served(client, stderr_path)


def text_of(result: CallToolResult) -> str:
    return " ".join(block.text for block in result.content if isinstance(block, TextContent))


def structured(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, text_of(result)
    assert result.structured_content is not None
    first = result.content[0]
    assert isinstance(first, TextContent) and json.loads(first.text) == result.structured_content
    return result.structured_content


class RawServer:
    """`pieces-mcp serve` driven line by line, to send what no well-behaved client would.

    Every line it prints on stdout must be one JSON-RPC 2.0 message: `read()` fails the test otherwise.
    """

    def __init__(self, base_url: str | None, *, env: dict[str, str] | None = None, **settings: str) -> None:
        self.process = subprocess.Popen(
            [*SERVER_COMMAND, "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**server_env(base_url, **settings), **(env or {})},
        )
        self.lines: queue.Queue[bytes] = queue.Queue()
        self.stderr_chunks: list[bytes] = []
        self.pumps = [
            threading.Thread(target=self._pump, args=(self.process.stdout, self.lines.put), daemon=True),
            threading.Thread(target=self._pump, args=(self.process.stderr, self.stderr_chunks.append), daemon=True),
        ]
        for pump in self.pumps:
            pump.start()
        self.next_id = 0
        self.initialize_result: dict[str, Any] = {}

    @staticmethod
    def _pump(stream: IO[bytes] | None, sink: Callable[[bytes], None]) -> None:
        assert stream is not None
        for line in iter(stream.readline, b""):
            sink(line)

    def send_line(self, line: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line.rstrip(b"\n") + b"\n")
        self.process.stdin.flush()

    def send(self, message: dict[str, Any]) -> None:
        self.send_line(json.dumps(message).encode())

    def read(self, timeout: float = 15) -> dict[str, Any]:
        line = self.lines.get(timeout=timeout)
        message = json.loads(line)  # anything but JSON on stdout fails here
        assert isinstance(message, dict) and message.get("jsonrpc") == "2.0", line
        return message

    def request(self, method: str, params: dict[str, Any] | None = None, timeout: float = 15) -> dict[str, Any]:
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, **({"params": params} if params else {})})
        while True:
            message = self.read(timeout)
            if message.get("id") == self.next_id:
                return message

    def initialize(self) -> dict[str, Any]:
        answer = self.request(
            "initialize",
            {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}},
        )
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        self.initialize_result = answer["result"]
        return answer

    def call(self, tool: str, arguments: Any, timeout: float = 15) -> dict[str, Any]:
        return self.request("tools/call", {"name": tool, "arguments": arguments}, timeout)

    def close(self) -> tuple[int, str]:
        """Close stdin, wait for the exit, check what is left on stdout; returns (exit code, stderr)."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        code = self.process.wait(timeout=15)
        for pump in self.pumps:  # each ends at its pipe's end of file: everything written has been read
            pump.join(timeout=15)
        while not self.lines.empty():
            self.read(timeout=1)
        return code, b"".join(self.stderr_chunks).decode("utf-8", "replace")


@contextmanager
def refused_ports(count: int) -> Iterator[list[int]]:
    """`count` loopback ports, bound and never listening while the block runs: a connection is refused, and no
    other process on the machine can take them (what a test's discovery scans instead of the real range)."""
    held = [socket.socket() for _ in range(count)]
    try:
        for sock in held:
            sock.bind(("127.0.0.1", 0))
        yield [sock.getsockname()[1] for sock in held]
    finally:
        for sock in held:
            sock.close()


def free_ports(count: int) -> list[int]:
    """`count` loopback ports that were free a moment ago, for a simulator a test starts on one later.

    Each comes from binding port 0: on Linux an odd port (since 4.6 connect() takes even ones), so no outgoing
    connection takes it in the meantime."""
    held = [socket.socket() for _ in range(count)]
    for sock in held:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in held]
    for sock in held:
        sock.close()
    return ports


@contextmanager
def raw_http_answer(status: int, reason: str, body: bytes = b"") -> Iterator[str]:
    """A loopback HTTP server answering every request with `status` and its own `reason` phrase.

    The simulator cannot send a custom reason phrase (ASGI has no field for it: pieces_mcp/simulator/
    fault_answers.py), so tests that plant text in one use this; yields the base URL.
    """
    head = f"HTTP/1.1 {status} {reason}\r\ncontent-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
    with raw_http(head + body) as url:
        yield url


@contextmanager
def raw_http(first: bytes, then: bytes | None = None) -> Iterator[str]:
    """A loopback server answering its first request with the raw bytes `first`, every later one with `then`
    (by default `first` again): for what the simulator cannot send. Yields the base URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    answers = [first]

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:  # closed: the test is over
                return
            with connection, suppress(OSError):
                connection.settimeout(5)
                received = b""
                while b"\r\n\r\n" not in received and (chunk := connection.recv(65536)):
                    received += chunk
                connection.sendall(answers.pop() if answers else first if then is None else then)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        # close() alone does not wake a thread blocked in accept(), which then waited out join's 5 s;
        # shutdown() does (on Linux: EINVAL there).
        with suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        thread.join(timeout=5)
        assert not thread.is_alive(), "the scripted server did not stop"


class Updates:
    """The `notifications/resources/updated` a client received (a `message_handler`), with a signal per URI;
    `record` takes one from elsewhere (a 2026-07-28 `subscriptions/listen` stream)."""

    def __init__(self) -> None:
        self.uris: list[str] = []
        self.seen: dict[str, anyio.Event] = {}

    async def __call__(self, message: Any) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            self.record(str(message.params.uri))

    def record(self, uri: str) -> None:
        self.uris.append(uri)
        self.event(uri).set()

    def event(self, uri: str) -> anyio.Event:
        return self.seen.setdefault(uri, anyio.Event())

    async def wait_for(self, *uris: str) -> None:
        with anyio.fail_after(30):
            for each in uris:
                await self.event(each).wait()
