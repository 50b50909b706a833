"""PiecesOS's live streams as resources: reading one once, and following one for its subscribers.

Opening and reading the WebSockets is `exchanges.streams`'s; here is what a resource shows and when it changed.
Nothing here knows MCP: the adapter turns `Feed` changes into resource notifications.

Whether the settings and migration streams send a snapshot on connect the vendor never says (the update stream
does); both must work. A read waits `FIRST_MESSAGE_WAIT_S` for the first message and answers "no status reported
yet" (or the latest state a feed saw) when none comes. A feed compares each message with what a read showed when
it began, so a stream that is silent on connect has its first real change reported, not taken as a baseline.

`websockets` is imported by the functions that open a WebSocket, not with this module: almost no session
uses one, and importing it cost every start-up (issue 22; `tests/unit/test_start_up_imports.py`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import anyio
from anyio.abc import TaskGroup
from pydantic import ValidationError

from pieces_mcp import wire_text
from pieces_mcp.budget import Budget
from pieces_mcp.catalog import BY_NAME, LiveResource, Wait
from pieces_mcp.client import PiecesOS
from pieces_mcp.errors import BadAnswerError, BadStatusError, ConnectionLostError, PiecesError, quote_detail
from pieces_mcp.exchanges.streams import json_object, malformed, open_stream, refused_message
from pieces_mcp.models.base import Answer

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

logger = logging.getLogger(__name__)

RETRY_DELAYS_S = (0.5, 1.0, 2.0, 5.0)  # between reconnections of a followed stream; the last repeats
# How long a stream gets to send its state on connect before it counts as one that says nothing until a change.
# A stream that sends it does so at once (the update stream's first message follows the connection; the
# simulator's within milliseconds): one second is far beyond that, yet short enough that subscribing over
# Streamable HTTP, whose clients give up on a silent answer after a few seconds, still answers.
FIRST_MESSAGE_WAIT_S = 1.0


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
    """One stream message as the resource's state; a BadAnswerError or ValidationError when it is none.

    The message is decoded (and masked) once: a stream whose not-JSON message means something (the user
    stream: signed out) gets that state, any other gets the sentence naming the flaw.
    """
    try:
        value = wire_text.frame_json(message)
    except wire_text.NotJSONError as problem:
        if resource.not_json is not None:
            return resource.model.model_validate(resource.not_json)
        raise BadAnswerError(malformed(resource.name, problem.why)) from None
    data = json_object(value, resource.name)
    return resource.model.model_validate({resource.message_key: data} if resource.message_key else data)


class Feed:
    """Follows one live stream for every subscriber and calls `changed(resource)` when its state changes.

    Each message is compared with the baseline, what a read showed when the feed began (a stream's snapshot on
    connect then equals it; a stream silent on connect has its first change reported); repeated identical
    messages are not changes. A dropped stream is reopened (PiecesOS restarting comes back).
    """

    def __init__(self, pieces: PiecesOS, resource: LiveResource, changed: Callable[[LiveResource], None]) -> None:
        self.pieces = pieces
        self.resource = resource
        self.changed = changed
        self.known: dict[str, Any] | None = None
        self.scope = anyio.CancelScope()

    async def start(self, task_group: TaskGroup) -> None:
        """Open the stream now (so no change after the subscription is missed), then follow it in `task_group`.

        The baseline is what a read shows now: the snapshot endpoint's answer, else the stream's first message
        within `FIRST_MESSAGE_WAIT_S`, else nothing reported (a stream silent on connect has its first change
        reported).
        """
        if self.resource.snapshot is not None:
            baseline = await read_once(self.pieces, self.resource)
            self.known = self._fingerprint(baseline.model_dump(mode="json", exclude_unset=True))
        budget = Budget.for_call(Wait.ORDINARY, self.pieces.settings)
        websocket = await open_stream(
            self.pieces, self.resource.path, self.what, budget.remaining(), STREAM_MESSAGE_BYTES
        )
        if self.resource.snapshot is None:
            try:
                message = await first_message(websocket, budget, self.what)
            except (ConnectionLostError, BadAnswerError):  # closed at once, or a message refused: following reopens it
                message = None
            self.known = self._baseline(message)
        task_group.start_soon(self._follow, websocket)

    def _baseline(self, message: str | bytes | None) -> dict[str, Any]:
        """The fingerprint of a stream's first message; one no message matches when there was none."""
        try:
            if message is None:
                raise BadAnswerError("nothing reported")
            state = stream_state(self.resource, message)
        except (BadAnswerError, ValidationError):
            return NotReportedYet().model_dump(mode="json")
        self.pieces.reported[self.resource.name] = state
        return self._fingerprint(state.model_dump(mode="json", exclude_unset=True))

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
                        websocket = await open_stream(
                            self.pieces,
                            self.resource.path,
                            self.what,
                            self.pieces.settings.timeout,
                            STREAM_MESSAGE_BYTES,
                        )
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
            self.pieces.reported[self.resource.name] = state
            data = self._fingerprint(state.model_dump(mode="json", exclude_unset=True))
            if data == self.known:
                continue
            first, self.known = self.known is None, data
            if not first:
                self.changed(self.resource)


class NotReportedYet(Answer):
    """What a read of a stream shows when PiecesOS has said nothing on it (it may send changes only)."""

    reported: Literal[False] = False
    note: str = "no status reported yet: PiecesOS has sent nothing on this stream since it was opened"


async def first_message(websocket: ClientConnection, budget: Budget, what: str) -> str | bytes | None:
    """The stream's first message, or None when it said nothing within `FIRST_MESSAGE_WAIT_S` (and the budget)."""
    from websockets.exceptions import ConnectionClosed

    with anyio.move_on_after(min(FIRST_MESSAGE_WAIT_S, budget.remaining())):
        try:
            return await websocket.recv()
        except ConnectionClosed as closed:
            refused = refused_message(closed, what, STREAM_MESSAGE_BYTES)
            if refused is not None:
                raise refused from None
            raise ConnectionLostError(f"PiecesOS closed {what} before saying anything; try again.") from None
    return None


async def read_once(pieces: PiecesOS, resource: LiveResource) -> Answer:
    """A live resource's state now: its snapshot endpoint's answer, else the stream's first message.

    A stream may say nothing until something changes: then, after `FIRST_MESSAGE_WAIT_S`, the latest state a feed
    saw on it, else `NotReportedYet`. Either way the read answers within --timeout.
    """
    if resource.snapshot is not None:
        endpoint = BY_NAME[resource.snapshot]
        return await pieces.call(endpoint, endpoint.input_model())
    what = f"the {resource.name} stream"
    budget = Budget.for_call(Wait.ORDINARY, pieces.settings)
    try:
        with budget.bound(what):
            websocket = await open_stream(pieces, resource.path, what, budget.remaining(), STREAM_MESSAGE_BYTES)
            try:
                message = await first_message(websocket, budget, what)
            finally:
                await websocket.close()
    except BadStatusError as exc:
        # A stream newer than this PiecesOS (the migration stream came with client 5.0.0): say which PiecesOS has it.
        if exc.status != 404:
            raise
        raise await pieces.absent(resource.name, resource.since) from None
    if message is None:
        return pieces.reported.get(resource.name) or NotReportedYet(reported=False, note=NotReportedYet().note)
    try:
        return stream_state(resource, message)
    except ValidationError as exc:
        raise BadAnswerError(malformed(what, f"the wrong shape: {_shape_problem(exc)}")) from None


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
