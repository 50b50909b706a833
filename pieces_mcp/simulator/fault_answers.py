"""Answers on the wire: a fault's status, body and compression, and a connection closed without an answer.

A custom reason phrase is not among them: ASGI's `http.response.start` has no field for it, and uvicorn always
sends the standard phrase (uvicorn/protocols/http/h11_impl.py: `reason = STATUS_PHRASES[status]`). Tests that
need one use a raw socket server (tests/support.py `raw_http_answer`).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from pieces_mcp.simulator.state import FaultSpec

# Statuses whose answer must not carry a body (HTTP/1.1 framing).
_BODILESS = frozenset({204, 304})
_CHUNK = 1 << 20


class ConnectionDroppedError(Exception):
    """The simulator closed a connection without a complete answer (a `drop` fault, a restart)."""


async def drop_connection(send: Send, why: str) -> None:
    """Close the request's connection without a usable answer.

    ASGI has no message that closes an HTTP connection unanswered. Its closest is to start a response
    and then fail: the server must then close the connection (uvicorn's h11 protocol does), and the
    client sees a status line followed by a closed connection (httpx: RemoteProtocolError; urllib3:
    ProtocolError), never a body. Served in-process, the exception reaches the caller instead.
    """
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1")]})
    raise ConnectionDroppedError(why)


async def send_fault_answer(fault: FaultSpec, scope: Scope, receive: Receive, send: Send) -> None:
    status, body, content_type = fault.answer()
    headers = {"content-type": content_type}
    if status in _BODILESS:
        body = b""
    else:
        body = _encoded(body, fault)
        if fault.content_encoding:
            headers["content-encoding"] = fault.content_encoding
    await Response(body, status, headers=headers)(scope, receive, send)


def _encoded(body: bytes, fault: FaultSpec) -> bytes:
    codings = [coding.strip().lower() for coding in (fault.content_encoding or "").split(",") if coding.strip()]
    if fault.raw_body or not codings:
        return body * fault.repeat
    parts: Iterator[bytes] = _repeated(body, fault.repeat)
    for coding in codings:  # in the order listed: that is the order they were applied
        parts = iter([_compress(parts, coding)])
    return next(parts)


def _repeated(body: bytes, times: int) -> Iterator[bytes]:
    """`body` `times` over, in pieces of about 1 MB: a 1 GB answer is never held whole."""
    per_piece = max(1, _CHUNK // max(1, len(body)))
    whole, rest = divmod(times, per_piece)
    piece = body * per_piece
    for _ in range(whole):
        yield piece
    if rest:
        yield body * rest


def _compress(parts: Iterator[bytes], coding: str) -> bytes:
    if coding in ("gzip", "x-gzip"):
        compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    elif coding == "deflate":
        compressor = zlib.compressobj(9)
    else:  # FaultSpec refuses other codings unless raw_body
        raise ValueError(f"cannot compress with {coding!r}")
    return b"".join([*(compressor.compress(part) for part in parts), compressor.flush()])
