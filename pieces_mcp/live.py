"""PiecesOS's WebSocket operations: reading a file as a stream, and following the live streams.

WebSocket client: `websockets` (python-websockets, BSD). It is the most used and best kept Python
WebSocket library (RFC 6455 with a test suite of its own, typed, releases every few months), its asyncio
client runs on the event loop the MCP server already uses, and uvicorn serves the simulator's streams
with it too, so one library covers both ends. `httpx-ws` would reuse our `httpx` pool, but it is one
person's project on top of httpx's private transport layer.

Nothing here knows MCP: the adapter turns `Feed` changes into resource notifications.

`websockets` is imported by the functions that open a WebSocket, not with this module: almost no session
uses one, and importing it cost every start-up (issue 22; `tests/unit/test_start_up_imports.py`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import anyio
from anyio.abc import TaskGroup
from pydantic import ValidationError

from pieces_mcp import __version__, wire_text
from pieces_mcp.catalog import BY_NAME, LIVE, Endpoint, LiveResource
from pieces_mcp.catalog.files import READ_LIMIT_BYTES
from pieces_mcp.errors import (
    BadAnswerError,
    BadStatusError,
    ConnectionLostError,
    NotRunningError,
    PiecesError,
    TimedOutError,
    quote_detail,
)
from pieces_mcp.heartbeat import Progress
from pieces_mcp.models.base import Answer

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection
    from websockets.exceptions import ConnectionClosed

    from pieces_mcp.client import PiecesOS

logger = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 8 * 1024 * 1024  # as client.MAX_BODY_BYTES: no OS message should come near it
FINISHED = frozenset({"COMPLETED", "FAILED", "CANCELED"})
RETRY_DELAYS_S = (0.5, 1.0, 2.0, 5.0)  # between reconnections of a followed stream; the last repeats


def ws_url(base_url: str, path: str) -> str:
    return "ws" + base_url.removeprefix("http") + path


async def open_stream(pieces: PiecesOS, path: str, what: str, max_size: int = MAX_MESSAGE_BYTES) -> ClientConnection:
    """A WebSocket to PiecesOS at `path`, its failures mapped to the same errors as an HTTP call's."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidHandshake, InvalidStatus

    base_url = await pieces.locate()
    try:
        # proxy=None: as `trust_env=False` for HTTP, proxy variables must not route loopback traffic elsewhere.
        return await connect(
            ws_url(base_url, path),
            proxy=None,
            open_timeout=pieces.settings.timeout,
            max_size=max_size,
            user_agent_header=f"pieces-mcp/{__version__}",
        )
    except InvalidStatus as exc:
        status = exc.response.status_code
        body = bytes(exc.response.body or b"")
        detail = quote_detail(wire_text.body_text(body, exc.response.headers.get("content-type", "")))
        advice = "update PiecesOS" if status == 404 else "try again, and restart PiecesOS if it persists"
        raise BadStatusError(
            f"PiecesOS refused {what} with HTTP {status} ({detail or 'no detail'}); {advice}.", status
        ) from None
    except ConnectionRefusedError:
        raise NotRunningError(f"PiecesOS is not running: nothing answered at {base_url}; start PiecesOS.") from None
    except (OSError, InvalidHandshake):
        raise ConnectionLostError(
            f"The connection to PiecesOS closed before it answered {what}; it may be restarting: try again."
        ) from None


async def read_streamed(pieces: PiecesOS, endpoint: Endpoint, body: Any) -> dict[str, Any]:
    """`os_filesystem_file_read_streamed`: send the read attempt, gather `OSFileStreamingRead` messages.

    The vendor marks the operation "[WS]" and leaves the protocol undocumented; what is assumed here (and
    nobody outside Pieces can confirm without a PiecesOS to try): the attempt is the first message, then each
    message carries the next bytes in `bytes.raw` until `status` is COMPLETED, FAILED or CANCELED. Reading
    stops once more than `FileContents.LIMIT` bytes arrived: closing the socket is the only way to cancel.
    """
    what = endpoint.name
    raw: list[int] = []
    last: dict[str, Any] = {}
    from websockets.exceptions import ConnectionClosed

    websocket = await open_stream(pieces, endpoint.path_for("current"), what)
    try:
        await websocket.send(json.dumps(body))
        async for message in websocket:
            last = _decoded(message, what)
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


def _malformed(what: str, why: str) -> str:
    """The sentence for a WebSocket message that is not what the API describes."""
    return (
        f"PiecesOS sent {what} a malformed message ({why}), not the JSON object its API describes; "
        "restart PiecesOS and try again, and update it if this keeps happening."
    )


_JSON_KINDS: dict[type, str] = {list: "a list", str: "a string", bool: "true or false", type(None): "null"}


def _decoded(message: str | bytes, what: str) -> dict[str, Any]:
    """One message as a JSON object, every string cleaned and masked (`wire_text`); BadAnswerError names the flaw."""
    try:
        decoded = wire_text.frame_json(message)
    except wire_text.NotJSONError as problem:
        raise BadAnswerError(_malformed(what, problem.why)) from None
    if not isinstance(decoded, dict):
        kind = _JSON_KINDS.get(type(decoded), "a number")
        raise BadAnswerError(_malformed(what, f"JSON {kind} where an object belongs"))
    return decoded


def _status(message: dict[str, Any], what: str) -> str | None:
    """A file-read message's `status`; BadAnswerError when it is there but no text (it could not say "done")."""
    status = message.get("status")
    if status is not None and not isinstance(status, str):
        raise BadAnswerError(_malformed(what, "its status is not text"))
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
        raise BadAnswerError(_malformed(what, "its bytes.raw is not a list of byte values 0-255")) from None
    return raw


def _broken_off(closed: ConnectionClosed, what: str) -> PiecesError:
    """The file stream closed before the end: a message we refused (not UTF-8, too large), or PiecesOS gave up."""
    refused = _refused_message(closed, what, MAX_MESSAGE_BYTES)
    if refused is not None:
        return refused
    reason = wire_text.clean(closed.rcvd.reason) if closed.rcvd is not None else ""
    return BadStatusError(
        f"PiecesOS could not read the file ({quote_detail(reason) or 'the stream broke off'}); "
        "check the path (absolute, a file, readable) and try again.",
        500,
    )


def _refused_message(closed: ConnectionClosed, what: str, limit_bytes: int) -> BadAnswerError | None:
    """When websockets closed the stream over a message it refused (we sent the close): the sentence naming why."""
    from websockets.frames import CloseCode

    refused = closed.sent.code if closed.sent is not None and closed.rcvd is None else None
    if refused == CloseCode.INVALID_DATA:
        return BadAnswerError(_malformed(what, "a text message that is not UTF-8"))
    if refused == CloseCode.MESSAGE_TOO_BIG:
        size = f"{limit_bytes // (1024 * 1024)} MB" if limit_bytes >= 1024 * 1024 else f"{limit_bytes // 1024} KB"
        return BadAnswerError(_malformed(what, f"a message over {size}"))
    if refused is not None and refused != CloseCode.NORMAL_CLOSURE:
        return BadAnswerError(_malformed(what, "a frame that breaks the WebSocket protocol"))
    return None


DOWNLOAD_UNDER_WAY = frozenset({"AVAILABLE", "DOWNLOADING"})
# Ends a followed download a little before the call's own deadline, so the latest status is an answer.
DEADLINE_MARGIN_S = 0.25


async def follow_download(pieces: PiecesOS, first: Answer, limit: float, progress: Progress | None) -> Answer:
    """After `os_update_check`: while an update downloads, relay its percentage as progress; the latest status.

    Follows PiecesOS's update stream ("it is recommended to use the stream instead of pulling", the vendor's
    os_update_check_stream) until the update is no longer under way or the call's `limit` is nearly spent.
    """
    from websockets.exceptions import ConnectionClosed

    from pieces_mcp.models.os_tools import UpdateStatus

    if not isinstance(first, UpdateStatus) or first.status not in DOWNLOAD_UNDER_WAY:
        return first
    latest, reported = first, -1.0
    stream = next(live for live in LIVE if live.name == "os_update_check_stream")
    with anyio.move_on_after(max(0.0, limit - DEADLINE_MARGIN_S)):
        websocket = await open_stream(pieces, stream.path, f"the {stream.name} stream")
        try:
            async for message in websocket:
                try:
                    latest = UpdateStatus.model_validate(_decoded(message, stream.name))
                except (BadAnswerError, ValidationError):
                    continue
                # MCP progress must increase from one notification to the next: repeats are not reported.
                if progress is not None and latest.percentage is not None and latest.percentage > reported:
                    reported = float(latest.percentage)
                    await progress(reported, f"Downloading the PiecesOS update: {latest.percentage}%")
                if latest.status not in DOWNLOAD_UNDER_WAY:
                    break
        except ConnectionClosed:
            pass  # PiecesOS went away (to install the update?): the latest status seen is the answer
        finally:
            with anyio.CancelScope(shield=True):
                await websocket.close()
    return latest


Notify = Callable[[str], Awaitable[None]]

# A live stream's message is one state (an update status, the settings, a migration, a user profile): a few KiB
# at most (a user profile, the largest, is about 1.5 KiB). A larger frame is refused before it is read
# (websockets' `max_size`) and the stream is reopened; with the library's queue of 16 messages, one stream holds
# at most 1 MiB.
STREAM_MESSAGE_BYTES = 64 * 1024
# At most one change notification per resource and subscriber in this many seconds: later changes in the
# interval are told together at its end (a stream that changes on every message cannot flood the client).
NOTIFY_INTERVAL_S = 1.0
# Subscribers per server: the connections that subscribed plus the open `subscriptions/listen` streams.
# Subscribers share one feed per stream, so PiecesOS sees at most one WebSocket per stream whatever this is.
MAX_SUBSCRIBERS = 16


class TooManySubscribersError(Exception):
    def __init__(self) -> None:
        super().__init__(
            f"This server already follows {MAX_SUBSCRIBERS} subscribers (connections that subscribed and "
            "subscriptions/listen streams), its limit; end one of them and try again."
        )


def stream_state(resource: LiveResource, message: str | bytes) -> Answer:
    """One stream message as the resource's state; a BadAnswerError or ValidationError when it is none."""
    if resource.not_json is not None and not _is_json(message):
        return resource.model.model_validate(resource.not_json)
    data = _decoded(message, resource.name)
    return resource.model.model_validate({resource.message_key: data} if resource.message_key else data)


def _is_json(message: str | bytes) -> bool:
    try:
        wire_text.frame_json(message)
    except wire_text.NotJSONError:
        return False
    return True


class Feed:
    """Follows one live stream for every subscriber and calls `changed(resource)` when its state changes.

    The first message only sets the baseline when the resource has no snapshot to compare with; repeated
    identical messages are not changes. A dropped stream is reopened (PiecesOS restarting comes back).
    """

    def __init__(self, pieces: PiecesOS, resource: LiveResource, changed: Callable[[LiveResource], None]) -> None:
        self.pieces = pieces
        self.resource = resource
        self.changed = changed
        self.known: dict[str, Any] | None = None
        self.scope = anyio.CancelScope()

    async def start(self, task_group: TaskGroup) -> None:
        """Open the stream now (so no change after the subscription is missed), then follow it in `task_group`."""
        if self.resource.snapshot is not None:
            baseline = await read_once(self.pieces, self.resource)
            self.known = self._fingerprint(baseline.model_dump(mode="json", exclude_unset=True))
        websocket = await open_stream(self.pieces, self.resource.path, self.what, STREAM_MESSAGE_BYTES)
        task_group.start_soon(self._follow, websocket)

    @property
    def what(self) -> str:
        return f"the {self.resource.name} stream"

    def stop(self) -> None:
        self.scope.cancel()

    def _fingerprint(self, data: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in data.items() if key not in self.resource.not_a_change}

    async def _follow(self, websocket: ClientConnection) -> None:
        """Relay until stopped. It runs in the server's task group: nothing it meets may end the server."""
        try:
            await self._follow_until_stopped(websocket)
        except Exception as exc:
            logger.warning("Stopped following %s: %s", self.resource.name, type(exc).__name__)

    async def _follow_until_stopped(self, websocket: ClientConnection) -> None:
        from websockets.exceptions import ConnectionClosed

        with self.scope:
            failures = 0
            while True:
                try:
                    await self._relay(websocket)
                    failures = 0
                except ConnectionClosed as exc:
                    logger.info("The %s stream ended (%s); reopening it", self.resource.name, exc)
                finally:
                    with anyio.CancelScope(shield=True):
                        await websocket.close()
                while True:
                    await anyio.sleep(RETRY_DELAYS_S[min(failures, len(RETRY_DELAYS_S) - 1)])
                    failures += 1
                    try:
                        websocket = await open_stream(self.pieces, self.resource.path, self.what, STREAM_MESSAGE_BYTES)
                        break
                    except PiecesError:
                        continue

    async def _relay(self, websocket: ClientConnection) -> None:
        async for message in websocket:
            try:
                state = stream_state(self.resource, message)
            except (BadAnswerError, ValidationError):
                logger.warning("The %s stream sent a message of an unexpected shape; ignored", self.resource.name)
                continue
            data = self._fingerprint(state.model_dump(mode="json", exclude_unset=True))
            if data == self.known:
                continue
            first, self.known = self.known is None, data
            if not first:
                self.changed(self.resource)


async def read_once(pieces: PiecesOS, resource: LiveResource) -> Answer:
    """A live resource's state now: its snapshot endpoint's answer, else the stream's first message."""
    if resource.snapshot is not None:
        endpoint = BY_NAME[resource.snapshot]
        return await pieces.call(endpoint, endpoint.input_model())
    from websockets.exceptions import ConnectionClosed

    what = f"the {resource.name} stream"
    try:
        with anyio.fail_after(pieces.settings.timeout):
            websocket = await open_stream(pieces, resource.path, what, STREAM_MESSAGE_BYTES)
            try:
                message = await websocket.recv()
            finally:
                await websocket.close()
    except TimeoutError:
        raise TimedOutError(
            f"PiecesOS said nothing on {what} within {pieces.settings.timeout:g} s; try again."
        ) from None
    except ConnectionClosed as closed:
        refused = _refused_message(closed, what, STREAM_MESSAGE_BYTES)
        if refused is not None:
            raise refused from None
        raise ConnectionLostError(f"PiecesOS closed {what} before saying anything; try again.") from None
    except BadStatusError as exc:
        # A stream newer than this PiecesOS (the migration stream came with client 5.0.0): say which PiecesOS has it.
        if exc.status != 404:
            raise
        raise await pieces.absent(resource.name, resource.since) from None
    try:
        return stream_state(resource, message)
    except ValidationError as exc:
        raise BadAnswerError(_malformed(what, f"the wrong shape: {_shape_problem(exc)}")) from None


def _shape_problem(exc: ValidationError) -> str:
    error = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(part) for part in error["loc"]) or "the message"
    return quote_detail(f"{where}: {error['msg']}", 120)


class Subscriber:
    """One connection's subscriptions, or one listen stream's: the resources it follows, its changes to tell."""

    def __init__(self, notify: Notify) -> None:
        self.notify = notify
        self.uris: set[str] = set()
        self.pending: set[str] = set()
        self.wake = anyio.Event()
        self.scope = anyio.CancelScope()

    def changed(self, uri: str) -> None:
        if uri in self.uris:
            self.pending.add(uri)
            self.wake.set()

    async def tell(self) -> None:
        """Send each pending change, then wait out `NOTIFY_INTERVAL_S`: changes meanwhile make one notification."""
        with self.scope:
            while True:
                await self.wake.wait()
                self.wake = anyio.Event()
                told, self.pending = self.pending, set()
                for uri in sorted(told):
                    await self.notify(uri)
                await anyio.sleep(NOTIFY_INTERVAL_S)


class Subscriptions:
    """Who follows which resource, and the one feed per PiecesOS stream that their resources need.

    `streams` maps each subscribable URI to the stream that reports its changes, or None when only this
    server's own calls do (`changed`). A subscriber is a connection or a listen stream, by the key its caller
    gives; subscribing is atomic (one lock), so two subscribes sent together make one subscription.
    """

    def __init__(
        self,
        pieces: PiecesOS,
        task_group: TaskGroup,
        streams: Mapping[str, LiveResource | None],
        snapshots: frozenset[str] = frozenset(),
    ) -> None:
        self.pieces = pieces
        self.task_group = task_group
        self.streams = streams
        # URIs that read a snapshot: their stream is a bonus (an older PiecesOS lacks some), not the resource.
        self.snapshots = snapshots
        self.subscribers: dict[object, Subscriber] = {}
        self.feeds: dict[str, Feed] = {}
        self.lock = anyio.Lock()

    def join(self, key: object, notify: Notify) -> None:
        """Make `key` a subscriber; a TooManySubscribersError past `MAX_SUBSCRIBERS`."""
        if key in self.subscribers:
            return
        if len(self.subscribers) >= MAX_SUBSCRIBERS:
            raise TooManySubscribersError
        subscriber = self.subscribers[key] = Subscriber(notify)
        self.task_group.start_soon(self._tell, key, subscriber)

    async def follow(self, key: object, uri: str) -> None:
        """Follow `uri` for the subscriber `key` (joined first); a PiecesError if its stream cannot be opened."""
        async with self.lock:
            subscriber = self.subscribers.get(key)
            if subscriber is None or uri in subscriber.uris:
                return
            stream = self.streams.get(uri)
            if stream is not None and stream.name not in self.feeds:
                try:
                    await self._open_feed(stream)
                except BadStatusError as exc:
                    if exc.status != 404 or uri not in self.snapshots:
                        raise
                    logger.info("This PiecesOS has no %s: %s is told of this server's own calls", stream.name, uri)
            subscriber.uris.add(uri)

    async def _open_feed(self, stream: LiveResource) -> None:
        feed = Feed(self.pieces, stream, self._stream_changed)
        await feed.start(self.task_group)
        self.feeds[stream.name] = feed

    def changed(self, uri: str) -> None:
        """This server knows `uri` changed (its own call succeeded): tell whoever follows it."""
        for subscriber in self.subscribers.values():
            subscriber.changed(uri)

    def remove(self, key: object, uri: str) -> None:
        subscriber = self.subscribers.get(key)
        if subscriber is None:
            return
        subscriber.uris.discard(uri)
        if subscriber.uris:
            self._stop_unfollowed_feeds()
        else:  # following nothing, it no longer holds one of the `MAX_SUBSCRIBERS` places
            self.remove_all(key)

    def remove_all(self, key: object) -> None:
        """The subscriber is gone (unsubscribed from all, its stream closed, its session ended)."""
        subscriber = self.subscribers.pop(key, None)
        if subscriber is not None:
            subscriber.scope.cancel()
            self._stop_unfollowed_feeds()

    def _stream_changed(self, stream: LiveResource) -> None:
        for uri, source in self.streams.items():
            if source is stream:
                self.changed(uri)

    def _stop_unfollowed_feeds(self) -> None:
        streams = (self.streams.get(uri) for subscriber in self.subscribers.values() for uri in subscriber.uris)
        names = {stream.name for stream in streams if stream is not None}
        for name in [name for name in self.feeds if name not in names]:
            self.feeds.pop(name).stop()

    async def _tell(self, key: object, subscriber: Subscriber) -> None:
        try:
            await subscriber.tell()
        except Exception as exc:  # e.g. its session closed under a notification: it is gone
            logger.info("Stopped telling a subscriber of changes: %s", type(exc).__name__)
            if self.subscribers.get(key) is subscriber:
                self.remove_all(key)
