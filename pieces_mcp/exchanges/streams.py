"""PiecesOS's WebSockets, one kind of exchange: opening one, reading a file as a stream, following a download.

WebSocket client: `websockets` (python-websockets, BSD). It is the most used and best kept Python
WebSocket library (RFC 6455 with a test suite of its own, typed, releases every few months), its asyncio
client runs on the event loop the MCP server already uses, and uvicorn serves the simulator's streams
with it too, so one library covers both ends. `httpx-ws` would reuse our `httpx` pool, but it is one
person's project on top of httpx's private transport layer.
"""

from __future__ import annotations

import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from pieces_mcp import __version__
from pieces_mcp.budget import Budget
from pieces_mcp.catalog.files import READ_LIMIT_BYTES
from pieces_mcp.errors import BadAnswerError, BadStatusError, quote_detail
from pieces_mcp.exchanges.connection import Connection
from pieces_mcp.exchanges.translate import MAX_BODY_BYTES, TRANSLATED, translated

MAX_MESSAGE_BYTES = MAX_BODY_BYTES  # no OS message should come near it
FINISHED = frozenset({"COMPLETED", "FAILED", "CANCELED"})


def ws_url(base_url: str, path: str) -> str:
    return "ws" + base_url.removeprefix("http") + path


async def open_stream(connection: Connection, path: str, what: str, open_timeout: float) -> ClientConnection:
    """A WebSocket to PiecesOS at `path`, found again once if PiecesOS moved; failures as an HTTP call's."""

    async def attempt(base_url: str) -> ClientConnection:
        try:
            # proxy=None: as `trust_env=False` for HTTP, proxy variables must not route loopback traffic elsewhere.
            return await connect(
                ws_url(base_url, path),
                proxy=None,
                open_timeout=open_timeout,
                max_size=MAX_MESSAGE_BYTES,
                user_agent_header=f"pieces-mcp/{__version__}",
            )
        except TRANSLATED as exc:
            raise translated(exc, what, base_url, connection.not_found_hint) from None

    return await connection.reach(attempt)


def decoded(message: str | bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(message)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise BadAnswerError(
            f"PiecesOS sent {what} a message that is not a JSON object; restart PiecesOS and try again."
        )
    return value


async def read_streamed(connection: Connection, path: str, what: str, body: Any, budget: Budget) -> dict[str, Any]:
    """`os_filesystem_file_read_streamed`: send the read attempt, gather `OSFileStreamingRead` messages.

    The vendor marks the operation "[WS]" and leaves the protocol undocumented; what is assumed here (and
    nobody outside Pieces can confirm without a PiecesOS to try): the attempt is the first message, then each
    message carries the next bytes in `bytes.raw` until `status` is COMPLETED, FAILED or CANCELED. Reading
    stops once more than the file answer's limit arrived: closing the socket is the only way to cancel.
    """
    raw: list[int] = []
    last: dict[str, Any] = {}
    websocket = await open_stream(connection, path, what, budget.remaining())
    try:
        await websocket.send(json.dumps(body))
        async for message in websocket:
            last = decoded(message, what)
            raw.extend((last.get("bytes") or {}).get("raw") or [])
            if last.get("status") in FINISHED or len(raw) > READ_LIMIT_BYTES:
                break
    except ConnectionClosed as closed:
        reason = closed.rcvd.reason if closed.rcvd is not None else ""
        raise BadStatusError(
            f"PiecesOS could not read the file ({quote_detail(reason) or 'the stream broke off'}); "
            "check the path (absolute, a file, readable) and try again.",
            500,
        ) from None
    finally:
        await websocket.close()
    if not last:
        raise BadStatusError(
            "PiecesOS closed the file stream without sending anything; check the path and try again.", 500
        )
    if last.get("status") == "FAILED":
        raise BadStatusError(
            "PiecesOS could not read the file (it reported FAILED); check the path and try again.", 500
        )
    return {**last, "bytes": {"raw": raw}}
