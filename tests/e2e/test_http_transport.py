"""`serve --transport http` against clients that misbehave, and what it prints about its token."""

from __future__ import annotations

import queue
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
import pytest

from pieces_mcp.http_transport import HEADER_TIMEOUT_S
from tests.support import INITIALIZE, MCP_HEADERS, SERVER_COMMAND, SimulatorProcess, server_env

pytestmark = pytest.mark.timeout(90)


@dataclass
class HttpServer:
    url: str
    process: subprocess.Popen[str]
    lines: queue.Queue[str] = field(default_factory=queue.Queue)
    seen: list[str] = field(default_factory=list)

    @property
    def address(self) -> tuple[str, int]:
        parts = urlsplit(self.url)
        assert parts.hostname is not None and parts.port is not None
        return parts.hostname, parts.port

    def stderr(self) -> str:
        """Everything the server wrote to stderr; call after it stopped."""
        self.process.wait(timeout=10)
        time.sleep(0.1)  # let the pump thread take the last lines
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return "".join(self.seen)


@contextmanager
def http_server(simulator: SimulatorProcess, **settings: str) -> Iterator[HttpServer]:
    process = subprocess.Popen(
        [*SERVER_COMMAND, "serve", "--transport", "http", "--port", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=server_env(simulator.url, **settings),
    )
    server = HttpServer("", process)
    assert process.stderr is not None
    threading.Thread(target=lambda: [server.lines.put(line) for line in process.stderr], daemon=True).start()  # type: ignore[union-attr]
    told_the_header = False
    while not (server.url and told_the_header):  # both lines printed: it is serving
        line = server.lines.get(timeout=20)
        server.seen.append(line)
        told_the_header = told_the_header or "Authorization: Bearer " in line
        if "Streamable HTTP on " in line:
            server.url = line.split("Streamable HTTP on ", 1)[1].strip()
    try:
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)


def seconds_until_closed(sock: socket.socket, drip: bytes, bound: float) -> float:
    """Send `drip` one byte every 0.2 s (a slowloris client) until the server closes; the seconds it took."""
    started = time.monotonic()
    sock.settimeout(0.2)
    for index in range(10_000):
        if time.monotonic() - started > bound:
            break
        try:
            if sock.recv(4096) == b"":
                return time.monotonic() - started
        except TimeoutError:
            pass
        except OSError:
            return time.monotonic() - started
        try:
            sock.sendall(drip[index % len(drip) : index % len(drip) + 1])
        except OSError:
            return time.monotonic() - started
    return time.monotonic() - started


@pytest.mark.parametrize("drip", [b"", b"X-Slow: header-sent-one-byte-at-a-time\r\n"], ids=["silent", "dripping"])
def test_a_client_that_sends_its_headers_too_slowly_is_cut_off(simulator: SimulatorProcess, drip: bytes) -> None:
    bound = HEADER_TIMEOUT_S + 5
    with http_server(simulator) as server, socket.create_connection(server.address, timeout=5) as sock:
        host, port = server.address
        if drip:
            sock.sendall(f"POST /mcp HTTP/1.1\r\nHost: {host}:{port}\r\n".encode())
        took = seconds_until_closed(sock, drip, bound) if drip else _wait_closed(sock, bound)
    assert took < bound, f"still open after {took:.1f} s"
    assert took >= HEADER_TIMEOUT_S - 0.5  # the bound is the header timeout, not something else


def test_slow_headers_of_a_second_request_on_a_kept_alive_connection_are_cut_off(
    simulator: SimulatorProcess,
) -> None:
    bound = HEADER_TIMEOUT_S + 5
    with http_server(simulator) as server, socket.create_connection(server.address, timeout=5) as sock:
        host, port = server.address
        sock.sendall(f"GET /mcp HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
        answer = b""
        while b"bearer token is required" not in answer:  # the 401 arrived whole: the first request is done
            answer += sock.recv(4096)
        sock.sendall(f"POST /mcp HTTP/1.1\r\nHost: {host}:{port}\r\n".encode())
        took = seconds_until_closed(sock, b"X-Slow: still-coming\r\n", bound)
    assert took < bound, f"still open after {took:.1f} s"


def _wait_closed(sock: socket.socket, bound: float) -> float:
    started = time.monotonic()
    sock.settimeout(bound)
    with suppress(OSError):
        sock.recv(4096)
    return time.monotonic() - started


def test_a_token_the_person_set_is_never_printed(simulator: SimulatorProcess) -> None:
    token = "person-chosen-token-6c1f0e9d-4b2a8e"  # 36 characters: at least 32 are required
    with http_server(simulator, PIECES_MCP_HTTP_TOKEN=token) as server:
        authorised = httpx.post(
            server.url, json=INITIALIZE, headers={**MCP_HEADERS, "Authorization": f"Bearer {token}"}, timeout=10
        )
        refused = httpx.post(server.url, json=INITIALIZE, headers=MCP_HEADERS, timeout=10)
        server.process.terminate()
        stderr = server.stderr()
    assert authorised.status_code == 200 and refused.status_code == 401  # the token really is the one in use
    assert token not in stderr
    assert "PIECES_MCP_HTTP_TOKEN" in stderr  # and the person is told which token to send


def test_a_generated_token_is_printed(simulator: SimulatorProcess) -> None:
    with http_server(simulator) as server:
        server.process.terminate()
        stderr = server.stderr()
    printed = stderr.split("Authorization: Bearer ", 1)[1].split()[0]
    assert len(printed) >= 32
