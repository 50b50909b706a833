"""MCP over stdio: one JSON-RPC message per line, with parse errors answered and backpressure both ways.

The process's stdin and stdout are kept for MCP alone (`reserve_for_mcp`), and a terminal is put behind pipes
(`client_pipes`), here in one place.

Pipes and sockets (what every MCP client hands a server) are driven by the event loop through asyncio's
documented protocol callbacks: no worker-thread hop per line, which cost a quarter of a tool call (tools/bench.py).
Terminals, files and Windows are read and written in a worker thread instead.

Backpressure: while the client does not read stdout, the server stops reading stdin, so a client that
only writes cannot make the server's memory grow; reading resumes when the client reads again.

No single message ends the session: a line of any nesting depth gets its JSON-RPC answer, and a message that
cannot be written fails alone (its request gets an error naming the problem). The ids of requests the server
sends the client are random on the wire, and a reply to an id this server did not send is dropped.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import re
import secrets
import stat
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from typing import Any, BinaryIO, Protocol, TypeVar

import anyio
from mcp.shared.message import SessionMessage
from mcp_types import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    PARSE_ERROR,
    ErrorData,
    JSONRPCError,
    JSONRPCMessage,
    JSONRPCNotification,
    JSONRPCRequest,
    JSONRPCResponse,
    jsonrpc_message_adapter,
)
from pydantic import ValidationError

logger = logging.getLogger(__name__)

MAX_LINE = 16 * 1024 * 1024  # no MCP message comes near; a longer line is answered as a parse error
PAUSE_AT = 256 * 1024  # unread bytes from the client at which reading stdin pauses
RESUME_AT = 64 * 1024
# pydantic-core's JSON parser refuses nesting deeper than this (its recursion guard); json.loads, past ~1,000
# levels, raises RecursionError. A line nested deeper is answered with this bound in the sentence.
MAX_DEPTH = 200


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
        # One write at a time, so lines go out in the order they were written whichever task waits for them.
        self.writing = anyio.Lock()

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
        async with self.writing:
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
    except RecursionError:
        return _too_deep(line)
    except ValueError:
        return error_line(None, PARSE_ERROR, "Parse error: the line is not JSON")
    if nesting_depth(line) > MAX_DEPTH:
        return _too_deep(line)
    return error_line(_request_id(data), INVALID_REQUEST, "Invalid Request: not a JSON-RPC 2.0 request or notification")


def _request_id(data: object) -> str | int | None:
    given = data.get("id") if isinstance(data, dict) else None
    return given if isinstance(given, (str, int)) and not isinstance(given, bool) else None


_STRING_OR_BRACKET = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def nesting_depth(line: bytes) -> int:
    """How deeply the line's arrays and objects nest, counted without recursion (strings skipped)."""
    depth = deepest = 0
    for token in _STRING_OR_BRACKET.finditer(line):
        mark = token.group()
        if mark in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif mark in (b"]", b"}"):
            depth -= 1
    return deepest


def _top_level(line: bytes) -> bytes:
    """The line with each value nested inside the top-level object replaced by null: its `id` then reads at
    any depth of what it carries."""
    kept: list[bytes] = []
    depth = start = 0
    for token in _STRING_OR_BRACKET.finditer(line):
        mark = token.group()
        if mark in (b"[", b"{"):
            depth += 1
            if depth == 2:
                kept.append(line[start : token.start()] + b"null")
        elif mark in (b"]", b"}"):
            depth -= 1
            if depth == 1:
                start = token.end()
    kept.append(line[start:] if depth <= 1 else b"")
    return b"".join(kept)


def _too_deep(line: bytes) -> bytes:
    try:
        request_id = _request_id(json.loads(_top_level(line)))
    except (ValueError, RecursionError):
        request_id = None
    return error_line(request_id, INVALID_REQUEST, f"Invalid Request: nested deeper than {MAX_DEPTH} levels")


def error_line(request_id: str | int | None, code: int, message: str) -> bytes:
    error: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}
    return json.dumps(error).encode()


class RequestIds:
    """Random wire ids for the requests this server sends the client (elicitation, sampling, roots).

    The SDK numbers them 1, 2, 3... (mcp/shared/jsonrpc_dispatcher.py, `_allocate_id`), so a client could
    answer a question before it was asked. On the wire each gets 128 random bits instead; a reply is passed
    on, under the SDK's own id, only for a request that was sent and not yet answered.
    """

    def __init__(self) -> None:
        self.wire_of: dict[str | int, str] = {}
        self.sent: dict[str, str | int] = {}

    def outgoing(self, message: JSONRPCMessage) -> JSONRPCMessage:
        if isinstance(message, JSONRPCRequest):
            wire = secrets.token_hex(16)
            self.wire_of[message.id], self.sent[wire] = wire, message.id
            return message.model_copy(update={"id": wire})
        if isinstance(message, JSONRPCNotification) and message.method == "notifications/cancelled":
            params = message.params or {}
            wire_id = self.wire_of.get(params.get("requestId"))  # type: ignore[arg-type]
            if wire_id is not None:  # the server gave up on its own request: name it as the client saw it
                return message.model_copy(update={"params": {**params, "requestId": wire_id}})
        return message

    def incoming(self, message: JSONRPCMessage) -> JSONRPCMessage | None:
        """The reply under the SDK's id; None for a reply to no request this server has open."""
        if not isinstance(message, (JSONRPCResponse, JSONRPCError)):
            return message
        own = self.sent.pop(message.id, None) if isinstance(message.id, str) else None
        if own is None:
            logger.debug("a reply to a request this server did not send (or already had answered) is ignored")
            return None
        del self.wire_of[own]
        return message.model_copy(update={"id": own})


_Direction = TypeVar("_Direction", bound="MessageDirection")


class MessageDirection:
    """One direction of the stdio transport, as `Server.run` uses a stream: the lines and the request ids it
    shares with the other direction, and closed once."""

    def __init__(self, lines: Lines, request_ids: RequestIds) -> None:
        self.lines = lines
        self.request_ids = request_ids
        self.closed = False

    async def aclose(self) -> None:
        self.closed = True

    async def __aenter__(self: _Direction) -> _Direction:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class MessagesIn(MessageDirection):
    """The client's messages, each read and parsed when the server asks for the next one.

    No task and no queue between the pipe and the server: the SDK's own read loop calls `receive`, so a
    message costs no hop from one task to another (each hop is a turn of the event loop per call). A line that
    is no message is answered here and the next one read. Backpressure: a line is read only once the client
    has read what was written.
    """

    async def receive(self) -> SessionMessage | Exception:
        while True:
            if self.closed:
                raise anyio.ClosedResourceError
            await self.lines.drained()
            try:
                line = await self.lines.read_line()
            except LineTooLongError:
                self.lines.write_line(error_line(None, PARSE_ERROR, f"Parse error: a line over {MAX_LINE} bytes"))
                continue
            if line is None:
                raise anyio.EndOfStream
            if not line.strip():
                continue
            item = parse(line)
            if isinstance(item, bytes):
                self.lines.write_line(item)
            elif (message := self.request_ids.incoming(item.message)) is not None:
                return item if message is item.message else SessionMessage(message, metadata=item.metadata)

    def __aiter__(self) -> MessagesIn:
        return self

    async def __anext__(self) -> SessionMessage | Exception:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None


class MessagesOut(MessageDirection):
    """The server's messages, each written as one line by the task that sends it (no writer task between).

    Lines are written whole and in the order they are sent; the sender waits while the client does not read.
    """

    async def send(self, item: SessionMessage, /) -> None:
        if self.closed:
            raise anyio.ClosedResourceError
        message = self.request_ids.outgoing(item.message)
        line: bytes | None
        try:
            line = serialised(message)
        except (ValueError, RecursionError) as exc:  # UnicodeEncodeError and pydantic's are ValueErrors
            line = unsendable(message, exc)
        if line is not None:
            self.lines.write_line(line)
            await self.lines.drained()


def serialised(message: JSONRPCMessage) -> bytes:
    return message.model_dump_json(by_alias=True, exclude_unset=True).encode()


def unsendable(message: JSONRPCMessage, exc: Exception) -> bytes | None:
    """In place of a message that cannot be written: its request's error, so that only this one fails."""
    problem = (
        "it is nested too deeply to write as JSON"
        if isinstance(exc, RecursionError)
        else "it holds text that is not valid Unicode"
        if "surrogate" in str(exc)
        else f"it cannot be written as JSON ({type(exc).__name__})"
    )
    sentence = f"The answer could not be sent: {problem}."
    if not isinstance(message, (JSONRPCResponse, JSONRPCError)) or message.id is None:
        logger.warning("A message to the client was dropped: %s.", problem)
        return None
    if isinstance(message, JSONRPCResponse) and "content" in message.result:  # a tool's result: fail the call
        result = {"content": [{"type": "text", "text": sentence}], "isError": True}
        return serialised(JSONRPCResponse(jsonrpc="2.0", id=message.id, result=result))
    error = ErrorData(code=INTERNAL_ERROR, message=sentence)
    return serialised(JSONRPCError(jsonrpc="2.0", id=message.id, error=error))


@asynccontextmanager
async def stdio_streams(stdin: BinaryIO, stdout: BinaryIO) -> AsyncIterator[tuple[MessagesIn, MessagesOut]]:
    """The MCP message streams over `stdin` and `stdout`, for `Server.run`."""
    lines: Lines
    if drivable_by_loop(stdin) and drivable_by_loop(stdout):
        lines = await LoopLines.open(stdin, stdout)
    else:
        lines = FileLines(stdin, stdout)
    request_ids = RequestIds()
    try:
        yield MessagesIn(lines, request_ids), MessagesOut(lines, request_ids)
    finally:
        with anyio.CancelScope(shield=True):
            await lines.aclose()  # what was written goes out


def reserve_for_mcp() -> tuple[BinaryIO, BinaryIO]:
    """Keep the real stdin and stdout for MCP messages alone, before anything heavy is imported.

    fd 0 then reads nothing and fd 1 points at stderr, so a stray print (ours, a dependency's, a child
    process's) cannot corrupt the wire, nor a child read from it; the returned files are the only way to
    the client.
    """
    sys.stdout.flush()
    stdin = os.fdopen(os.dup(sys.stdin.fileno()), "rb", buffering=0)
    stdout = os.fdopen(os.dup(sys.stdout.fileno()), "wb", buffering=0)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, sys.stdin.fileno())
    os.close(null)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    return stdin, stdout


@contextmanager
def client_pipes(stdin: BinaryIO, stdout: BinaryIO) -> Iterator[tuple[BinaryIO, BinaryIO]]:
    """`stdin` and `stdout` for `stdio_streams`, a terminal among them replaced by a pipe copied by a thread.

    Why pipes: a terminal is read in a worker thread that no cancellation can stop (after Ctrl-C the
    program waited for one more line), and driving the terminal itself from the event loop would set
    O_NONBLOCK on a file the shell shares. A pipe is read by the event loop, which Ctrl-C cancels, and
    nothing waits for a daemon thread at exit. (Windows keeps the terminal: its pipes cannot be driven by the
    event loop.) Each copying thread holds the file it copies, so the descriptor stays open as long as it
    reads: once the terminal's file was dropped and closed, the thread read whatever took its number next,
    and the server saw the end of input after the first line (issue 19).
    On leaving, `stdout` is closed and the last answers are let through to the terminal.
    """
    if sys.platform == "win32" or not (stdin.isatty() or stdout.isatty()):
        try:
            yield stdin, stdout
        finally:
            stdout.close()
        return
    if stdin.isatty():
        read_end, write_end = os.pipe()
        pipe = os.fdopen(write_end, "wb", buffering=0)
        _copying(stdin, pipe, pipe)
        stdin = os.fdopen(read_end, "rb", buffering=0)
    output: list[threading.Thread] = []
    if stdout.isatty():
        read_end, write_end = os.pipe()
        pipe = os.fdopen(read_end, "rb", buffering=0)
        output.append(_copying(pipe, stdout, pipe))
        stdout = os.fdopen(write_end, "wb", buffering=0)
    try:
        yield stdin, stdout
    finally:
        stdout.close()
        for pump in output:
            pump.join(timeout=1)  # the last answers on their way to the terminal


def _copying(source: BinaryIO, target: BinaryIO, pipe_end: BinaryIO) -> threading.Thread:
    thread = threading.Thread(target=_copy, args=(source, target, pipe_end), name="pieces-mcp terminal", daemon=True)
    thread.start()
    return thread


def _copy(source: BinaryIO, target: BinaryIO, pipe_end: BinaryIO) -> None:
    """Bytes from one file to the other until the end of input; then the pipe's end is closed."""
    try:
        while chunk := os.read(source.fileno(), 1 << 16):
            view = memoryview(chunk)
            while view:
                view = view[os.write(target.fileno(), view) :]
    except OSError:
        pass
    finally:
        with suppress(OSError):
            pipe_end.close()
