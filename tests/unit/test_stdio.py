"""The event-loop stdio transport: line framing, bad lines, end of input, and stepping aside for files."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any, BinaryIO

import anyio
from mcp.shared.message import SessionMessage
from mcp_types import jsonrpc_message_adapter

from pieces_mcp.stdio import LineReader, drivable_by_loop, stdio_streams

PING = b'{"jsonrpc":"2.0","id":1,"method":"ping"}'
ANSWER = b'{"jsonrpc":"2.0","id":1,"result":{}}'


async def read_all(*chunks: bytes) -> list[SessionMessage | Exception]:
    stream = asyncio.StreamReader()
    for chunk in chunks:
        stream.feed_data(chunk)
    stream.feed_eof()
    return [item async for item in LineReader(stream)]


def methods(items: list[SessionMessage | Exception]) -> list[Any]:
    return [getattr(item.message, "method", None) if isinstance(item, SessionMessage) else "error" for item in items]


def test_lines_split_across_reads_several_per_read_and_the_last_without_newline() -> None:
    items = anyio.run(read_all, PING[:7], PING[7:] + b"\n" + PING + b"\n\n\n" + PING)
    assert methods(items) == ["ping", "ping", "ping"]


def test_a_line_that_is_not_json_rpc_is_handed_on_as_an_error_and_reading_goes_on() -> None:
    items = anyio.run(read_all, b"{not json\n" + b'{"jsonrpc":"2.0","id":2}\n' + PING + b"\n")
    assert methods(items) == ["error", "error", "ping"]
    assert all(isinstance(item, Exception) for item in items[:2])


def test_a_one_megabyte_line_arrives_whole() -> None:
    arguments = {"s": "é" * 500_000}
    big = {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "x", "arguments": arguments}}
    line = json.dumps(big, ensure_ascii=False).encode()
    items = anyio.run(read_all, *(line[i : i + 4096] for i in range(0, len(line), 4096)), b"\n")
    [item] = items
    assert isinstance(item, SessionMessage)
    assert item.message.model_dump(mode="json", exclude_unset=True)["params"]["arguments"]["s"] == "é" * 500_000


def test_pipes_are_driven_by_the_loop_and_files_are_not(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    with open(read_end, "rb", buffering=0) as pipe, open(write_end, "wb", buffering=0):
        assert drivable_by_loop(pipe)
    with open(tmp_path / "file", "wb+") as file:
        assert not drivable_by_loop(file)


def test_a_round_trip_over_real_pipes() -> None:
    in_read, in_write = os.pipe()
    out_read, out_write = os.pipe()
    with (
        open(in_read, "rb", buffering=0) as stdin,
        open(out_write, "wb", buffering=0) as stdout,
        open(in_write, "wb", buffering=0) as client_out,
        open(out_read, "rb", buffering=0) as client_in,
    ):
        client_out.write(PING + b"\n")
        anyio.run(answer_one_ping, stdin, stdout)
        assert client_in.read(4096) == ANSWER + b"\n"


def test_files_go_through_the_sdk_transport(tmp_path: Path) -> None:
    (tmp_path / "in").write_bytes(PING + b"\n")
    with open(tmp_path / "in", "rb") as stdin, open(tmp_path / "out", "wb") as stdout:
        anyio.run(answer_one_ping, stdin, stdout)
    assert (tmp_path / "out").read_bytes() == ANSWER + b"\n"


async def answer_one_ping(stdin: BinaryIO, stdout: BinaryIO) -> None:
    async with stdio_streams(stdin, stdout) as (read_stream, write_stream):
        received = await read_stream.receive()
        assert isinstance(received, SessionMessage) and getattr(received.message, "method", None) == "ping"
        await write_stream.send(SessionMessage(jsonrpc_message_adapter.validate_json(ANSWER)))
        await write_stream.aclose()  # as `Server.run` does when it is done: the SDK's writer then finishes
