"""PiecesOS's WebSockets, one kind of exchange: opening one, reading a file as a stream, following a download.

WebSocket client: `websockets` (python-websockets, BSD). It is the most used and best kept Python
WebSocket library (RFC 6455 with a test suite of its own, typed, releases every few months), its asyncio
client runs on the event loop the MCP server already uses, and uvicorn serves the simulator's streams
with it too, so one library covers both ends. `httpx-ws` would reuse our `httpx` pool, but it is one
person's project on top of httpx's private transport layer.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pieces_mcp import __version__, wire_text
from pieces_mcp.budget import Budget
from pieces_mcp.catalog.files import READ_LIMIT_BYTES
from pieces_mcp.errors import BadAnswerError, BadStatusError, PiecesError, quote_detail
from pieces_mcp.exchanges.connection import Connection
from pieces_mcp.exchanges.translate import MAX_BODY_BYTES, TRANSLATED, translated

if TYPE_CHECKING:  # `websockets` itself is imported when a WebSocket is opened (issue 22)
    from websockets.asyncio.client import ClientConnection
    from websockets.exceptions import ConnectionClosed

MAX_MESSAGE_BYTES = MAX_BODY_BYTES  # no OS message should come near it
FINISHED = frozenset({"COMPLETED", "FAILED", "CANCELED"})


def ws_url(base_url: str, path: str) -> str:
    return "ws" + base_url.removeprefix("http") + path


async def open_stream(
    connection: Connection, path: str, what: str, open_timeout: float, max_size: int = MAX_MESSAGE_BYTES
) -> ClientConnection:
    """A WebSocket to PiecesOS at `path`, found again once if PiecesOS moved; failures as an HTTP call's."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed, InvalidHandshake

    failures: tuple[type[Exception], ...] = (*TRANSLATED, InvalidHandshake, ConnectionClosed)

    async def attempt(base_url: str) -> ClientConnection:
        try:
            # proxy=None: as `trust_env=False` for HTTP, proxy variables must not route loopback traffic elsewhere.
            return await connect(
                ws_url(base_url, path),
                proxy=None,
                open_timeout=open_timeout,
                max_size=max_size,
                user_agent_header=f"pieces-mcp/{__version__}",
            )
        except failures as exc:
            raise translated(exc, what, base_url, connection.not_found_hint) from None

    return await connection.reach(attempt)


async def read_streamed(connection: Connection, path: str, what: str, body: Any, budget: Budget) -> dict[str, Any]:
    """`os_filesystem_file_read_streamed`: send the read attempt, gather `OSFileStreamingRead` messages.

    The vendor marks the operation "[WS]" and leaves the protocol undocumented; what is assumed here (and
    nobody outside Pieces can confirm without a PiecesOS to try): the attempt is the first message, then each
    message carries the next bytes in `bytes.raw` until `status` is COMPLETED, FAILED or CANCELED. Reading
    stops once more than the file answer's limit arrived: closing the socket is the only way to cancel.
    """
    from websockets.exceptions import ConnectionClosed

    raw: list[int] = []
    last: dict[str, Any] = {}
    websocket = await open_stream(connection, path, what, budget.remaining())
    try:
        await websocket.send(json.dumps(body))
        async for message in websocket:
            last = decoded(message, what)
            raw.extend(_file_bytes(last, what))
            if _status(last, what) in FINISHED or len(raw) > READ_LIMIT_BYTES:
                break
    except ConnectionClosed as closed:
        raise _broken_off(closed, what) from None
    finally:
        await websocket.close()
    if not last:
        raise BadStatusError(
            "PiecesOS closed the file stream without sending anything; check the path and try again.", 500
        )
    if _status(last, what) == "FAILED":
        raise BadStatusError(
            "PiecesOS could not read the file (it reported FAILED); check the path and try again.", 500
        )
    return {**last, "bytes": {"raw": raw}}


def malformed(what: str, why: str) -> str:
    """The sentence for a WebSocket message that is not what the API describes."""
    return (
        f"PiecesOS sent {what} a malformed message ({why}), not the JSON object its API describes; "
        "restart PiecesOS and try again, and update it if this keeps happening."
    )


_JSON_KINDS: dict[type, str] = {list: "a list", str: "a string", bool: "true or false", type(None): "null"}


def decoded(message: str | bytes, what: str) -> dict[str, Any]:
    """One message as a JSON object, every string cleaned and masked (`wire_text`); BadAnswerError names the flaw."""
    try:
        value = wire_text.frame_json(message)
    except wire_text.NotJSONError as problem:
        raise BadAnswerError(malformed(what, problem.why)) from None
    return json_object(value, what)


def json_object(value: Any, what: str) -> dict[str, Any]:
    """A decoded message that must be a JSON object; BadAnswerError names what it is instead."""
    if not isinstance(value, dict):
        kind = _JSON_KINDS.get(type(value), "a number")
        raise BadAnswerError(malformed(what, f"JSON {kind} where an object belongs"))
    return value


def _status(message: dict[str, Any], what: str) -> str | None:
    """A file-read message's `status`; BadAnswerError when it is there but no text (it could not say "done")."""
    status = message.get("status")
    if status is not None and not isinstance(status, str):
        raise BadAnswerError(malformed(what, "its status is not text"))
    return status


def _file_bytes(message: dict[str, Any], what: str) -> list[int]:
    """The bytes one file-read message carries (`bytes.raw`); BadAnswerError when they are not bytes."""
    block = message.get("bytes")
    raw = block.get("raw") if isinstance(block, dict) else block
    if raw is None:
        return []
    try:
        if not isinstance(raw, list):
            raise TypeError
        bytes(raw)  # checks every item is an integer 0-255, at C speed
    except (TypeError, ValueError):
        raise BadAnswerError(malformed(what, "its bytes.raw is not a list of byte values 0-255")) from None
    return raw


def _broken_off(closed: ConnectionClosed, what: str) -> PiecesError:
    """The file stream closed before the end: a message we refused (not UTF-8, too large), or PiecesOS gave up."""
    refused = refused_message(closed, what, MAX_MESSAGE_BYTES)
    if refused is not None:
        return refused
    reason = wire_text.clean(closed.rcvd.reason) if closed.rcvd is not None else ""
    return BadStatusError(
        f"PiecesOS could not read the file ({quote_detail(reason) or 'the stream broke off'}); "
        "check the path (absolute, a file, readable) and try again.",
        500,
    )


def refused_message(closed: ConnectionClosed, what: str, limit_bytes: int) -> BadAnswerError | None:
    """When websockets closed the stream over a message it refused (we sent the close): the sentence naming why."""
    from websockets.frames import CloseCode

    refused = closed.sent.code if closed.sent is not None and closed.rcvd is None else None
    if refused == CloseCode.INVALID_DATA:
        return BadAnswerError(malformed(what, "a text message that is not UTF-8"))
    if refused == CloseCode.MESSAGE_TOO_BIG:
        size = f"{limit_bytes // (1024 * 1024)} MB" if limit_bytes >= 1024 * 1024 else f"{limit_bytes // 1024} KB"
        return BadAnswerError(malformed(what, f"a message over {size}"))
    if refused is not None and refused != CloseCode.NORMAL_CLOSURE:
        return BadAnswerError(malformed(what, "a frame that breaks the WebSocket protocol"))
    return None
