"""MCP over stdio on asyncio's own pipe transports.

The SDK's `stdio_server` reads and writes through `anyio.wrap_file`, which costs a worker-thread round
trip per line read, per line written and per flush: three per tool call, 0.3 to 0.5 ms of a 2 ms call
on a 2-core CI machine. Pipes and sockets, which is what every MCP client hands a server, can be driven by the
event loop directly; anything else (a terminal, a file, Windows) goes through the SDK's transport.
"""

from __future__ import annotations

import asyncio
import os
import stat
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from io import TextIOWrapper
from types import TracebackType
from typing import TYPE_CHECKING, BinaryIO

import anyio
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage
from mcp_types import jsonrpc_message_adapter

if TYPE_CHECKING:  # the protocols `Server.run` takes; a private module, so not imported at run time
    from mcp.shared._stream_protocols import ReadStream, WriteStream

READ_CHUNK = 1 << 16


def drivable_by_loop(file: BinaryIO) -> bool:
    """A pipe or a socket: setting O_NONBLOCK on it cannot disturb a terminal shared with other programs."""
    if sys.platform == "win32":
        return False
    mode = os.fstat(file.fileno()).st_mode
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


class LineReader:
    """One JSON-RPC message per line from the client; a line that does not parse is handed on as the error."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader
        self._buffer = bytearray()
        self._scanned = 0  # bytes of the buffer already known to hold no newline: a 1 MB line is scanned once

    async def receive(self) -> SessionMessage | Exception:
        while True:
            line = await self._next_line()
            if line.strip():
                try:
                    return SessionMessage(jsonrpc_message_adapter.validate_json(line, by_name=False))
                except Exception as exc:  # the SDK's transport reports a bad line the same way
                    return exc

    async def _next_line(self) -> bytes:
        while (newline := self._buffer.find(b"\n", self._scanned)) < 0:
            self._scanned = len(self._buffer)
            chunk = await self._reader.read(READ_CHUNK)
            if not chunk:
                if not self._buffer:
                    raise anyio.EndOfStream
                chunk = b"\n"  # the last message may come without its newline
            self._buffer += chunk
        line = bytes(self._buffer[:newline])
        del self._buffer[: newline + 1]
        self._scanned = 0
        return line

    async def aclose(self) -> None:
        self._buffer.clear()

    def __aiter__(self) -> LineReader:
        return self

    async def __anext__(self) -> SessionMessage | Exception:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def __aenter__(self) -> LineReader:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


class LineWriter:
    """One JSON-RPC message per line to the client; `write` queues the whole line at once, so lines never mix."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self._draining = asyncio.Lock()  # before python/cpython#74116 drain() took one waiter at a time

    async def send(self, item: SessionMessage, /) -> None:
        line = item.message.model_dump_json(by_alias=True, exclude_unset=True).encode() + b"\n"
        self._writer.write(line)
        async with self._draining:
            await self._writer.drain()

    async def aclose(self) -> None:
        self._writer.close()

    async def __aenter__(self) -> LineWriter:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


@asynccontextmanager
async def stdio_streams(
    stdin: BinaryIO, stdout: BinaryIO
) -> AsyncIterator[tuple[ReadStream[SessionMessage | Exception], WriteStream[SessionMessage]]]:
    """The MCP message streams over `stdin` and `stdout`: on the event loop when both are pipes or sockets."""
    if not (drivable_by_loop(stdin) and drivable_by_loop(stdout)):
        text_in = anyio.wrap_file(TextIOWrapper(stdin, encoding="utf-8", errors="replace"))
        text_out = anyio.wrap_file(TextIOWrapper(stdout, encoding="utf-8", write_through=True))
        async with stdio_server(stdin=text_in, stdout=text_out) as streams:
            yield streams
        return
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=READ_CHUNK)
    read_transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), stdin)
    write_transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, stdout)
    writer = asyncio.StreamWriter(write_transport, protocol, None, loop)
    try:
        yield LineReader(reader), LineWriter(writer)
    finally:
        read_transport.close()
        write_transport.close()
