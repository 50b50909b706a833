"""The stdio transport: line framing, parse-error answers, end of input, files, and backpressure."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any, BinaryIO

import anyio
from mcp.shared.message import SessionMessage
from mcp_types import PARSE_ERROR, jsonrpc_message_adapter

from pieces_mcp.stdio import MAX_LINE, drivable_by_loop, parse, stdio_streams

PING = b'{"jsonrpc":"2.0","id":1,"method":"ping"}'
ANSWER = b'{"jsonrpc":"2.0","id":1,"result":{}}'


def methods(received: list[SessionMessage | Exception]) -> list[Any]:
    return [getattr(item.message, "method", None) if isinstance(item, SessionMessage) else "error" for item in received]


def over_pipes(client_writes: bytes, answers: int = 0) -> tuple[list[SessionMessage | Exception], bytes]:
    """Feed `client_writes` to stdio_streams over real pipes, answer `answers` pings; what arrived, what went out."""
    in_read, in_write = os.pipe()
    out_read, out_write = os.pipe()
    received: list[SessionMessage | Exception] = []

    async def serve(stdin: BinaryIO, stdout: BinaryIO) -> None:
        async with stdio_streams(stdin, stdout) as (read_stream, write_stream):
            async for item in read_stream:
                received.append(item)
            for _ in range(answers):
                await write_stream.send(SessionMessage(jsonrpc_message_adapter.validate_json(ANSWER)))

    with (
        open(in_read, "rb", buffering=0) as stdin,
        open(out_write, "wb", buffering=0) as stdout,
        open(in_write, "wb", buffering=0) as client_out,
        open(out_read, "rb", buffering=0) as client_in,
    ):

        def client() -> None:  # a thread: a large write blocks until the server reads
            client_out.write(client_writes)
            client_out.close()

        writer = threading.Thread(target=client)
        writer.start()
        anyio.run(serve, stdin, stdout)
        writer.join()
        stdout.close()
        return received, client_in.read()


def test_lines_split_across_writes_several_per_write_and_the_last_without_newline() -> None:
    received, _ = over_pipes(PING + b"\n" + PING + b"\n\n\n" + PING)
    assert methods(received) == ["ping", "ping", "ping"]


def test_a_line_that_is_not_json_is_answered_with_a_parse_error_and_reading_goes_on() -> None:
    received, written = over_pipes(b"{not json\n" + PING + b"\n")
    assert methods(received) == ["ping"]
    [error] = [json.loads(line) for line in written.splitlines()]
    assert error == {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": -32700, "message": "Parse error: the line is not JSON"},
    }


def test_json_that_is_not_json_rpc_is_an_invalid_request_with_its_id() -> None:
    assert json.loads(parse(b'{"jsonrpc":"2.0","id":7}')) == {  # type: ignore[arg-type]
        "jsonrpc": "2.0",
        "id": 7,
        "error": {"code": -32600, "message": "Invalid Request: not a JSON-RPC 2.0 request or notification"},
    }
    assert json.loads(parse(b"[1, 2]"))["id"] is None  # type: ignore[arg-type]


def test_a_one_megabyte_line_arrives_whole() -> None:
    arguments = {"s": "é" * 500_000}
    big = {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "x", "arguments": arguments}}
    received, _ = over_pipes(json.dumps(big, ensure_ascii=False).encode() + b"\n")
    [item] = received
    assert isinstance(item, SessionMessage)
    assert item.message.model_dump(mode="json", exclude_unset=True)["params"]["arguments"]["s"] == "é" * 500_000


def test_a_line_past_the_limit_is_a_parse_error_and_the_next_line_is_read() -> None:
    received, written = over_pipes(b"x" * (MAX_LINE + 10) + b"\n" + PING + b"\n")
    assert methods(received) == ["ping"]
    assert json.loads(written)["error"]["code"] == PARSE_ERROR


def test_answers_are_written_one_per_line() -> None:
    _, written = over_pipes(PING + b"\n", answers=3)
    assert written == (ANSWER + b"\n") * 3


def test_pipes_are_driven_by_the_loop_and_files_are_not(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    with open(read_end, "rb", buffering=0) as pipe, open(write_end, "wb", buffering=0):
        assert drivable_by_loop(pipe)
    with open(tmp_path / "file", "wb+") as file:
        assert not drivable_by_loop(file)


def test_files_go_through_worker_threads_with_the_same_framing(tmp_path: Path) -> None:
    (tmp_path / "in").write_bytes(b"{bad\n" + PING + b"\n")
    received: list[SessionMessage | Exception] = []

    async def serve(stdin: BinaryIO, stdout: BinaryIO) -> None:
        async with stdio_streams(stdin, stdout) as (read_stream, write_stream):
            async for item in read_stream:
                received.append(item)
            await write_stream.send(SessionMessage(jsonrpc_message_adapter.validate_json(ANSWER)))

    with open(tmp_path / "in", "rb", buffering=0) as stdin, open(tmp_path / "out", "wb") as stdout:
        anyio.run(serve, stdin, stdout)
    assert methods(received) == ["ping"]
    first, second = (tmp_path / "out").read_bytes().splitlines()
    assert json.loads(first)["error"]["code"] == PARSE_ERROR and second == ANSWER
