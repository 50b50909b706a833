"""One message never ends the server: a line nested to any depth, bare, in params or in a tool's arguments,
gets its JSON-RPC answer, and the next call is answered, over stdio and over Streamable HTTP alike."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.test_http_transport import HttpServer, http_server
from tests.support import INITIALIZE, MCP_HEADERS, RawServer, SimulatorProcess

DEPTH = 100_000  # far past every parser's recursion limit
MODERATE = 150  # inside pydantic's limit: parsed, and then the server has to cope with it

pytestmark = pytest.mark.timeout(120)


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def hostile_lines() -> dict[str, tuple[bytes, int | None]]:
    """Each hostile line, and the id its answer must carry."""
    deep, moderate = _nested(DEPTH), _nested(MODERATE)
    call = '{"jsonrpc": "2.0", "id": ID, "method": "tools/call", "params": {"name": "os_device_information", '
    lines = {
        "bare": ("[" * DEPTH, None),
        "bare, balanced": (deep, None),
        "in params": ('{"jsonrpc": "2.0", "id": 501, "method": "ping", "params": {"a": ' + deep + "}}", 501),
        "in arguments": (call.replace("ID", "502") + '"arguments": {"a": ' + deep + "}}}", 502),
        "in arguments, parsed": (call.replace("ID", "503") + '"arguments": {"a": ' + moderate + "}}}", 503),
        "id after the nesting": ('{"jsonrpc": "2.0", "method": "ping", "params": ' + deep + ', "id": 504}', 504),
    }
    return {case: (line.encode(), request_id) for case, (line, request_id) in lines.items()}


@pytest.fixture(scope="module")
def stdio_server(_simulator_current: SimulatorProcess) -> Iterator[RawServer]:
    """One `pieces-mcp serve` for every hostile line: each must leave it serving the next, and at the end it
    still exits cleanly, with no traceback for any of them."""
    server = RawServer(_simulator_current.url)
    try:
        server.initialize()
        yield server
        code, stderr = server.close()
    finally:
        if server.process.poll() is None:
            server.process.kill()
    assert code == 0
    assert "Traceback" not in stderr


@pytest.mark.parametrize("case", list(hostile_lines()))
def test_a_deeply_nested_line_on_stdin_is_answered_and_the_server_goes_on(
    stdio_server: RawServer, simulator: SimulatorProcess, case: str
) -> None:
    line, request_id = hostile_lines()[case]
    assert stdio_server.process.poll() is None, "an earlier line ended the server"
    stdio_server.send_line(line)
    answer = stdio_server.read(timeout=60)
    assert answer["id"] == request_id
    assert "error" in answer or answer["result"].get("isError"), answer
    follow_up = stdio_server.call("os_device_information", {})
    assert follow_up["result"]["isError"] is False, follow_up


def _post(url: str, headers: dict[str, str], body: bytes) -> httpx.Response:
    return httpx.post(url, content=body, headers=headers, timeout=60)


def _answer(response: httpx.Response) -> dict[str, object]:
    """The JSON-RPC message of a JSON or single-event SSE response."""
    text = response.text
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        text = next(line[5:] for line in text.splitlines() if line.startswith("data:"))
    answer: dict[str, object] = json.loads(text)
    return answer


TOKEN = "a-test-token-that-is-long-enough-0123456789"


@pytest.fixture(scope="module")
def served_over_http(_simulator_current: SimulatorProcess) -> Iterator[HttpServer]:
    """One `pieces-mcp serve --transport http` for every hostile body, each sent in a session of its own."""
    with http_server(_simulator_current, PIECES_MCP_HTTP_TOKEN=TOKEN) as server:
        yield server


@pytest.mark.parametrize("case", list(hostile_lines()))
def test_a_deeply_nested_body_over_http_is_answered_and_the_server_goes_on(
    served_over_http: HttpServer, simulator: SimulatorProcess, case: str
) -> None:
    body, _ = hostile_lines()[case]
    server = served_over_http
    assert server.process.poll() is None, "an earlier body ended the server"
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {TOKEN}"}
    opened = httpx.post(server.url, json=INITIALIZE, headers=headers, timeout=30)
    session = {**headers, "Mcp-Session-Id": opened.headers["mcp-session-id"], "Mcp-Protocol-Version": "2025-11-25"}
    _post(server.url, session, b'{"jsonrpc": "2.0", "method": "notifications/initialized"}')
    hostile = _post(server.url, session, body)
    assert hostile.status_code in (200, 202, 400), hostile.text
    follow_up = _post(
        server.url,
        session,
        b'{"jsonrpc": "2.0", "id": 9, "method": "tools/call",'
        b' "params": {"name": "os_device_information", "arguments": {}}}',
    )
    assert follow_up.status_code == 200, follow_up.text
    assert _answer(follow_up)["id"] == 9 and "result" in _answer(follow_up)
    assert server.process.poll() is None  # still serving
