"""A malformed WebSocket message from PiecesOS gets a sentence naming what is wrong, and the server goes on.

Each class is planted with the simulator's `frames` fault (on the file read, and on a live stream read as a
resource), except a text frame that is not UTF-8, which no ASGI server can send: a websockets server sends it.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp.shared.exceptions import MCPError
from websockets.asyncio.server import ServerConnection
from websockets.asyncio.server import serve as serve_websockets

from pieces_mcp.catalog import BY_NAME, LIVE
from tests.support import SimulatorProcess, serve, structured, text_of

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]

FILE_READ = BY_NAME["os_filesystem_file_read_streamed"].path_for("current")
MIGRATION = next(live.path for live in LIVE if live.name == "stream_os_migration_status")
DONE = {"path": "/home/ada/notes.md", "status": "COMPLETED", "bytes": {"raw": list(b"hello")}}
SETTINGS = {"PIECES_MCP_CONFIRM": "allow", "PIECES_MCP_TOOLSETS": "all"}

# name: (frame, sent as a binary message, what the sentence must say)
MALFORMED: dict[str, tuple[Any, bool, str]] = {
    "text-not-json": ("file chunk follows", False, "text that is not JSON ('file chunk follows')"),
    "binary-garbage": ("\x80\x81\x00garbage\x9f", True, "binary data that is not JSON text"),
    "json-list": ("[1, 2, 3]", False, "JSON a list where an object belongs"),
    "json-string": ('"COMPLETED"', False, "JSON a string where an object belongs"),
    "json-null": ("null", False, "JSON null where an object belongs"),
    "json-number": ("42", False, "JSON a number where an object belongs"),
    "nested-too-deeply": ("[" * 100_000 + "]" * 100_000, False, "JSON nested too deeply to read"),
    "bytes-not-an-object": ({"status": "COMPLETED", "bytes": "aGVsbG8="}, False, "bytes.raw is not a list"),
    "raw-not-a-list": ({"status": "COMPLETED", "bytes": {"raw": 104}}, False, "bytes.raw is not a list"),
    "raw-out-of-range": ({"status": "COMPLETED", "bytes": {"raw": [104, 300]}}, False, "byte values 0-255"),
    "raw-not-integers": ({"status": "COMPLETED", "bytes": {"raw": ["h", 1.5]}}, False, "byte values 0-255"),
    "status-not-text": ({"status": ["COMPLETED"], "bytes": {"raw": [104]}}, False, "its status is not text"),
}


def assert_one_specific_sentence(text: str, why: str) -> None:
    assert "malformed message" in text and why in text, text
    assert "Error executing tool" not in text and "Traceback" not in text and "\n" not in text


async def read_file(served: Any, tmp_path: Path) -> Any:
    return await served.client.call_tool("os_filesystem_file_read_streamed", {"path": str(tmp_path / "notes.md")})


@pytest.mark.parametrize("case", list(MALFORMED))
async def test_a_malformed_file_read_message_is_named_and_the_next_read_works(
    simulator: SimulatorProcess, tmp_path: Path, case: str
) -> None:
    frame, binary, why = MALFORMED[case]
    simulator.fault(FILE_READ, frames=[frame], binary_frames=binary, charset="latin-1" if binary else None)
    simulator.fault(FILE_READ, frames=[DONE])
    async with serve(simulator.url, **SETTINGS) as served:
        result = await read_file(served, tmp_path)
        following = await read_file(served, tmp_path)
    assert result.is_error
    assert_one_specific_sentence(text_of(result), why)
    assert structured(following)["text"] == "hello"


async def test_a_message_over_the_size_limit_is_named(simulator: SimulatorProcess, tmp_path: Path) -> None:
    simulator.fault(FILE_READ, frames=[{"status": "COMPLETED", "padding": "x" * (9 * 1024 * 1024)}])
    simulator.fault(FILE_READ, frames=[DONE])
    async with serve(simulator.url, **SETTINGS) as served:
        result = await read_file(served, tmp_path)
        following = await read_file(served, tmp_path)
    assert_one_specific_sentence(text_of(result), "a message over 8 MB")
    assert structured(following)["text"] == "hello"


@pytest.mark.parametrize(
    ("frame", "why"),
    [
        ("not json at all", "text that is not JSON"),
        ("[]", "JSON a list where an object belongs"),
        ({"status": "MIGRATING", "overallProgressPercentage": "half"}, "the wrong shape: overallProgressPercentage"),
    ],
    ids=["not-json", "not-an-object", "wrong-shape"],
)
async def test_a_malformed_live_stream_message_is_named_and_the_server_goes_on(
    simulator: SimulatorProcess, frame: Any, why: str
) -> None:
    simulator.fault(MIGRATION, frames=[frame])
    async with serve(simulator.url) as served:
        with pytest.raises(MCPError) as refused:
            await served.client.read_resource("pieces-os://stream_os_migration_status")
        following = await served.client.read_resource("pieces-os://stream_os_migration_status")
    assert_one_specific_sentence(str(refused.value), why)
    assert json.loads(following.contents[0].text)["status"] == "IDLE"  # type: ignore[union-attr]


@contextmanager
def websocket_piecesos(first: bytes) -> Iterator[str]:
    """A WebSocket server whose first connection gets `first` as a *text* frame, unchecked; later ones a file."""
    connections: list[ServerConnection] = []
    ready = threading.Event()
    stop: asyncio.Future[None] | None = None
    url = ""

    async def handler(connection: ServerConnection) -> None:
        connections.append(connection)
        await connection.recv()  # the read attempt
        if len(connections) == 1:
            await connection.send(first, text=True)  # websockets sends bytes as a text frame as they are
        else:
            await connection.send(json.dumps(DONE))
        await connection.wait_closed()

    async def main() -> None:
        nonlocal stop, url
        stop = asyncio.get_running_loop().create_future()
        async with serve_websockets(handler, "127.0.0.1", 0) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            url = f"http://127.0.0.1:{port}"
            ready.set()
            await stop

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(timeout=20)
    try:
        yield url
    finally:
        assert stop is not None
        loop.call_soon_threadsafe(stop.set_result, None)
        thread.join(timeout=10)


async def test_a_text_frame_that_is_not_utf_8_is_named(tmp_path: Path) -> None:
    with websocket_piecesos(b'{"path": "\xff\xfe", "status": "COMPLETED"}') as url:
        async with serve(url, **SETTINGS) as served:
            result = await read_file(served, tmp_path)
            following = await read_file(served, tmp_path)
    assert_one_specific_sentence(text_of(result), "a text message that is not UTF-8")
    assert structured(following)["text"] == "hello"


async def test_a_live_stream_message_over_its_limit_is_named(simulator: SimulatorProcess) -> None:
    simulator.fault(MIGRATION, frames=[{"status": "MIGRATING", "padding": "x" * (100 * 1024)}])
    async with serve(simulator.url) as served:
        with pytest.raises(MCPError) as refused:
            await served.client.read_resource("pieces-os://stream_os_migration_status")
        following = await served.client.read_resource("pieces-os://stream_os_migration_status")
    assert_one_specific_sentence(str(refused.value), "a message over 64 KB")
    assert json.loads(following.contents[0].text)["status"] == "IDLE"  # type: ignore[union-attr]
