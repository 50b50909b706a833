"""MCP over stdio: one JSON-RPC message per line, with parse errors answered and backpressure both ways.

Pipes and sockets (what every MCP client hands a server) are driven by the event loop through asyncio's
documented protocol callbacks: no worker-thread hop per line, which cost a quarter of a tool call (tools/bench.py).
Terminals, files and Windows are read and written in a worker thread instead.

Backpressure: while the client does not read stdout, the server stops reading stdin, so a client that
only writes cannot make the server's memory grow; reading resumes when the client reads again.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import stat
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, BinaryIO, Protocol

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.shared.message import SessionMessage
from mcp_types import INVALID_REQUEST, PARSE_ERROR, jsonrpc_message_adapter
from pydantic import ValidationError

MAX_LINE = 16 * 1024 * 1024  # no MCP message comes near; a longer line is answered as a parse error
PAUSE_AT = 256 * 1024  # unread bytes from the client at which reading stdin pauses
RESUME_AT = 64 * 1024
QUEUE = 16  # messages waiting between the pipes and the server, each way


class Lines(Protocol):
    """A line-oriented duplex pipe to the client."""

    async def read_line(self) -> bytes | None:
        """The next line without its newline (None at the end); `LineTooLong` for an overlong one."""
        ...

    def write_line(self, line: bytes) -> None: ...

    async def drained(self) -> None:
        """Returns once the client has read enough of what was written (or is gone)."""
        ...

    async def aclose(self) -> None: ...


class LineTooLongError(ValueError):
    pass


def drivable_by_loop(file: BinaryIO) -> bool:
    """A pipe or a socket: setting O_NONBLOCK on it cannot disturb a terminal shared with other programs."""
    if sys.platform == "win32":
        return False
    mode = os.fstat(file.fileno()).st_mode
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


class _Incoming(asyncio.Protocol):
    """The read side of a pipe driven by the loop: bytes are buffered, and reading pauses when too many wait."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.scanned = 0  # bytes known to hold no newline: a 1 MB line is scanned once
        self.ended = False
        self.arrived = asyncio.Event()
        self.transport: asyncio.ReadTransport | None = None
        self.paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.ReadTransport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self.arrived.set()
        if len(self.buffer) > PAUSE_AT:
            self._pause(True)  # read_line resumes when it needs more for an incomplete line

    def eof_received(self) -> bool:
        self.ended = True
        self.arrived.set()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.ended = True
        self.arrived.set()

    def _pause(self, pause: bool) -> None:
        if self.transport is None or pause == self.paused:
            return
        self.paused = pause
        if pause:
            self.transport.pause_reading()
        else:
            self.transport.resume_reading()

    async def read_line(self) -> bytes | None:
        while (newline := self.buffer.find(b"\n", self.scanned)) < 0:
            self.scanned = len(self.buffer)
            if self.scanned > MAX_LINE:
                await self._skip_line()
                raise LineTooLongError
            if self.ended:
                if not self.buffer:
                    return None
                self.buffer += b"\n"  # the last message may come without its newline
                continue
            self._pause(False)  # no whole line is buffered: more must be read, however much waits
            self.arrived.clear()
            await self.arrived.wait()
        line = bytes(self.buffer[:newline])
        del self.buffer[: newline + 1]
        self.scanned = 0
        if len(self.buffer) < RESUME_AT:
            self._pause(False)
        return line

    async def _skip_line(self) -> None:
        while (newline := self.buffer.find(b"\n")) < 0 and not self.ended:
            self.buffer.clear()
            self._pause(False)
            self.arrived.clear()
            await self.arrived.wait()
        del self.buffer[: newline + 1 if newline >= 0 else len(self.buffer)]
        self.scanned = 0


class _Outgoing(asyncio.BaseProtocol):
    """The write side's flow control, from asyncio's documented pause_writing/resume_writing callbacks."""

    def __init__(self) -> None:
        self.writable = asyncio.Event()
        self.writable.set()

    def pause_writing(self) -> None:
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writable.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self.writable.set()  # nobody reads any more: waiting would hang; the read side ends too


class LoopLines:
    """Pipes or sockets driven by the event loop."""

    def __init__(self, incoming: _Incoming, outgoing: _Outgoing, writer: asyncio.WriteTransport) -> None:
        self.incoming = incoming
        self.outgoing = outgoing
        self.writer = writer
        self.pending: list[bytes] = []

    @classmethod
    async def open(cls, stdin: BinaryIO, stdout: BinaryIO) -> LoopLines:
        loop = asyncio.get_running_loop()
        incoming, outgoing = _Incoming(), _Outgoing()
        await loop.connect_read_pipe(lambda: incoming, stdin)
        writer, _ = await loop.connect_write_pipe(lambda: outgoing, stdout)
        return cls(incoming, outgoing, writer)

    async def read_line(self) -> bytes | None:
        return await self.incoming.read_line()

    def write_line(self, line: bytes) -> None:
        # Lines written in one turn of the event loop go out in one write: a burst of answers costs the
        # client one wake-up, not one each. Whole lines only, in order, so lines never mix.
        if not self.pending:
            asyncio.get_running_loop().call_soon(self._flush)
        self.pending.append(line + b"\n")

    def _flush(self) -> None:
        data, self.pending = b"".join(self.pending), []
        if data and not self.writer.is_closing():
            self.writer.write(data)

    async def drained(self) -> None:
        await self.outgoing.writable.wait()

    async def aclose(self) -> None:
        self._flush()
        if self.incoming.transport is not None:
            self.incoming.transport.close()
        self.writer.close()


class FileLines:
    """Terminals, files and Windows: blocking reads and writes in a worker thread."""

    def __init__(self, stdin: BinaryIO, stdout: BinaryIO) -> None:
        self.stdin = io.BufferedReader(stdin) if isinstance(stdin, io.RawIOBase) else stdin
        self.stdout = stdout
        self.pending: list[bytes] = []

    async def read_line(self) -> bytes | None:
        line = await anyio.to_thread.run_sync(self.stdin.readline, MAX_LINE + 1)
        if not line:
            return None
        if len(line) > MAX_LINE and not line.endswith(b"\n"):
            while (rest := await anyio.to_thread.run_sync(self.stdin.readline, MAX_LINE)) and not rest.endswith(b"\n"):
                pass
            raise LineTooLongError
        return line.rstrip(b"\r\n")

    def write_line(self, line: bytes) -> None:
        self.pending.append(line + b"\n")

    async def drained(self) -> None:
        if self.pending:
            data, self.pending = b"".join(self.pending), []
            await anyio.to_thread.run_sync(self._write, data)

    def _write(self, data: bytes) -> None:
        self.stdout.write(data)
        self.stdout.flush()

    async def aclose(self) -> None:
        await self.drained()


def parse(line: bytes) -> SessionMessage | bytes:
    """A client line as a message, or the JSON-RPC error line to answer it with (JSON-RPC 2.0, section 5.1)."""
    try:
        return SessionMessage(jsonrpc_message_adapter.validate_json(line, by_name=False))
    except ValidationError:
        pass
    try:
        data = json.loads(line)
    except ValueError:
        return error_line(None, PARSE_ERROR, "Parse error: the line is not JSON")
    given = data.get("id") if isinstance(data, dict) else None
    request_id = given if isinstance(given, (str, int)) and not isinstance(given, bool) else None
    return error_line(request_id, INVALID_REQUEST, "Invalid Request: not a JSON-RPC 2.0 request or notification")


def error_line(request_id: str | int | None, code: int, message: str) -> bytes:
    error: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}
    return json.dumps(error).encode()


async def _pump_in(lines: Lines, sink: MemoryObjectSendStream[SessionMessage | Exception]) -> None:
    async with sink:
        while True:
            try:
                line = await lines.read_line()
            except LineTooLongError:
                lines.write_line(error_line(None, PARSE_ERROR, f"Parse error: a line over {MAX_LINE} bytes"))
                continue
            if line is None:
                return
            if not line.strip():
                continue
            item = parse(line)
            if isinstance(item, bytes):
                lines.write_line(item)
            else:
                await sink.send(item)
            await lines.drained()  # backpressure: read on only once the client reads what we wrote


async def _pump_out(lines: Lines, source: MemoryObjectReceiveStream[SessionMessage]) -> None:
    async with source:
        async for item in source:
            lines.write_line(item.message.model_dump_json(by_alias=True, exclude_unset=True).encode())
            await lines.drained()


@asynccontextmanager
async def stdio_streams(
    stdin: BinaryIO, stdout: BinaryIO
) -> AsyncIterator[
    tuple[MemoryObjectReceiveStream[SessionMessage | Exception], MemoryObjectSendStream[SessionMessage]]
]:
    """The MCP message streams over `stdin` and `stdout`, for `Server.run`."""
    lines: Lines
    if drivable_by_loop(stdin) and drivable_by_loop(stdout):
        lines = await LoopLines.open(stdin, stdout)
    else:
        lines = FileLines(stdin, stdout)
    incoming_send, incoming = anyio.create_memory_object_stream[SessionMessage | Exception](QUEUE)
    outgoing, outgoing_receive = anyio.create_memory_object_stream[SessionMessage](QUEUE)
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(_pump_in, lines, incoming_send)
            async with anyio.create_task_group() as writers:
                writers.start_soon(_pump_out, lines, outgoing_receive)
                try:
                    yield incoming, outgoing
                finally:
                    await outgoing.aclose()  # the writer sends what is queued, then ends
            group.cancel_scope.cancel()  # stop reading: the server is done
    finally:
        with anyio.CancelScope(shield=True):
            await lines.aclose()
