"""`serve --transport http` against clients that misbehave, and what it prints about its token."""

from __future__ import annotations

import queue
import select
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from pieces_mcp.config import HTTP_HEADER_TIMEOUT_ENV, HTTP_HEADER_TIMEOUT_S, ConfigError, http_header_timeout
from tests.support import INITIALIZE, MCP_HEADERS, SERVER_COMMAND, SimulatorProcess, server_env

pytestmark = pytest.mark.timeout(90)

README = Path(__file__).resolve().parents[2] / "README.md"


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


# The two servers of the slow-header tests, alike but for the header timeout (PIECES_MCP_HTTP_HEADER_TIMEOUT).
QUICK_S = 0.3
PATIENT_S = 600.0


@pytest.fixture(scope="module")
def quick(_simulator_current: SimulatorProcess) -> Iterator[HttpServer]:
    with http_server(_simulator_current, PIECES_MCP_HTTP_HEADER_TIMEOUT=str(QUICK_S)) as server:
        yield server


@pytest.fixture(scope="module")
def patient(_simulator_current: SimulatorProcess) -> Iterator[HttpServer]:
    with http_server(_simulator_current, PIECES_MCP_HTTP_HEADER_TIMEOUT=str(PATIENT_S)) as server:
        yield server


def closed(sock: socket.socket) -> bool:
    """Whether the server has closed this connection (it sends nothing else while a request's head is awaited)."""
    ready, _, _ = select.select([sock], [], [], 0)
    if not ready:
        return False
    try:
        return sock.recv(4096) == b""
    except OSError:  # reset
        return True


def cut_off_in_turn(quick: socket.socket, patient: socket.socket, drip: bytes) -> None:
    """Treat both connections alike, `drip` a byte at a time (a slowloris client), until the quick server closes
    its one; the patient server, whose connection is older, must keep its open all along.

    So the cut comes from the configured header timeout: the same client is still served where the bound is
    longer, though its clock started first. (A hang is caught by the test's timeout.)"""
    index = 0
    while not closed(quick):
        assert not closed(patient), "the server with the longer header timeout cut the connection first"
        if drip:
            for sock in (patient, quick):
                with suppress(OSError):  # closed meanwhile: seen at the next turn
                    sock.sendall(drip[index % len(drip) : index % len(drip) + 1])
            index += 1
        select.select([quick], [], [], 0.02)
    assert not closed(patient), "the server with the longer header timeout cut the connection too"


@contextmanager
def connected(
    *servers: HttpServer, opening: Callable[[HttpServer], bytes] | None = None
) -> Iterator[list[socket.socket]]:
    """A connection to each server, in turn, each one accepted by its server before the next is made; on each,
    `opening`'s bytes are sent at once (before the quick server's bound can pass)."""
    with ExitStack() as stack:
        connections = []
        for server in servers:
            connections.append(stack.enter_context(socket.create_connection(server.address, timeout=5)))
            if opening is not None:
                connections[-1].sendall(opening(server))
            answered(server)  # so it has accepted this connection (and started its clock)
        yield connections


def answered(server: HttpServer) -> None:
    """A request answered on a connection of its own: the server has taken in what was sent it before."""
    assert httpx.get(server.url, timeout=10).status_code == 401


def request_head(server: HttpServer, method: str) -> bytes:
    host, port = server.address
    return f"{method} /mcp HTTP/1.1\r\nHost: {host}:{port}\r\n".encode()


@pytest.mark.parametrize("drip", [b"", b"X-Slow: header-sent-one-byte-at-a-time\r\n"], ids=["silent", "dripping"])
def test_a_client_that_sends_its_headers_too_slowly_is_cut_off(
    quick: HttpServer, patient: HttpServer, drip: bytes
) -> None:
    opening = (lambda server: request_head(server, "POST")) if drip else None
    with connected(patient, quick, opening=opening) as (to_patient, to_quick):
        cut_off_in_turn(to_quick, to_patient, drip)


def test_slow_headers_of_a_second_request_on_a_kept_alive_connection_are_cut_off(
    quick: HttpServer, patient: HttpServer
) -> None:
    with connected(patient, quick, opening=lambda server: request_head(server, "GET") + b"\r\n") as sockets:
        to_patient, to_quick = sockets
        for server, sock in ((patient, to_patient), (quick, to_quick)):
            answer = b""
            # The whole 401, to its last (empty) chunk: the first request is done, and nothing of it is left unread.
            while not (b"bearer token is required" in answer and answer.endswith(b"\r\n0\r\n\r\n")):
                chunk = sock.recv(4096)
                assert chunk, f"closed before the first request was answered: {answer!r}"
                answer += chunk
            sock.sendall(request_head(server, "POST"))
            answered(server)  # it has read those first bytes: the clock of the patient server's runs first
        cut_off_in_turn(to_quick, to_patient, b"X-Slow: still-coming\r\n")


def test_the_header_timeout_is_5_s_unless_the_person_sets_another() -> None:
    assert http_header_timeout({}) == HTTP_HEADER_TIMEOUT_S
    assert f"A client has {HTTP_HEADER_TIMEOUT_S:g} s to" in " ".join(README.read_text(encoding="utf-8").split())
    assert http_header_timeout({HTTP_HEADER_TIMEOUT_ENV: "0.3"}) == 0.3
    for bad in ("0", "-1", "soon", "86401"):
        with pytest.raises(ConfigError, match=HTTP_HEADER_TIMEOUT_ENV):
            http_header_timeout({HTTP_HEADER_TIMEOUT_ENV: bad})


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


def test_a_generated_token_is_printed(quick: HttpServer) -> None:
    printed = "".join(quick.seen).split("Authorization: Bearer ", 1)[1].split()[0]
    assert len(printed) >= 32
