"""PiecesOS's live streams as resources: reading one once, and following one for a subscriber.

Reading and opening the streams is `exchanges.streams`'s; here is what a resource shows and when it changed.
Nothing here knows MCP: the adapter turns `Feed` changes into resource notifications.

Whether the settings and migration streams send a snapshot on connect the vendor never says (the update stream
does); both must work. A read waits for the first message within the call's limit and answers "no status reported
yet" (or the latest state a feed saw) when none comes. A feed compares each message with what a read showed when
it subscribed, so a stream that is silent on connect has its first real change reported, not taken as a baseline.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import anyio
from anyio.abc import TaskGroup
from pydantic import ValidationError
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from pieces_mcp.budget import Budget
from pieces_mcp.catalog import BY_NAME, LiveResource, Wait
from pieces_mcp.client import PiecesOS
from pieces_mcp.errors import BadAnswerError, ConnectionLostError, PiecesError
from pieces_mcp.exchanges.streams import decoded, open_stream
from pieces_mcp.models.base import Answer

logger = logging.getLogger(__name__)

RETRY_DELAYS_S = (0.5, 1.0, 2.0, 5.0)  # between reconnections of a followed stream; the last repeats
# A read of a stream that says nothing on connect answers a little before the call's limit.
READ_MARGIN_S = 0.25


Notify = Callable[[str], Awaitable[None]]


class Feed:
    """Follows one live stream for one subscriber and calls `notify(uri)` when its state changes.

    Each message is compared with the baseline, what a read showed when the subscription began (a stream's
    snapshot on connect then equals it; a stream silent on connect has its first change reported); repeated
    identical messages are not changes. A dropped stream is reopened (PiecesOS restarting comes back).
    """

    def __init__(self, pieces: PiecesOS, resource: LiveResource, uri: str, notify: Notify) -> None:
        self.pieces = pieces
        self.resource = resource
        self.uri = uri
        self.notify = notify
        self.known: dict[str, Any] | None = None
        self.scope = anyio.CancelScope()

    async def start(self, baseline: dict[str, Any] | None, task_group: TaskGroup) -> None:
        """Open the stream now (so no change after the subscription is missed), then follow it in `task_group`."""
        self.known = self._fingerprint(baseline) if baseline is not None else None
        websocket = await open_stream(self.pieces, self.resource.path, self.what, self.pieces.settings.timeout)
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
        except Exception as exc:  # e.g. the subscriber's session closed under a notification
            logger.warning("Stopped following %s: %s", self.resource.name, type(exc).__name__)

    async def _follow_until_stopped(self, websocket: ClientConnection) -> None:
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
                            self.pieces, self.resource.path, self.what, self.pieces.settings.timeout
                        )
                        break
                    except PiecesError:
                        continue

    async def _relay(self, websocket: ClientConnection) -> None:
        async for message in websocket:
            try:
                state = self.resource.model.model_validate(decoded(message, self.resource.name))
            except (BadAnswerError, ValidationError):
                logger.warning("The %s stream sent a message of an unexpected shape; ignored", self.resource.name)
                continue
            self.pieces.reported[self.resource.name] = state
            data = self._fingerprint(state.model_dump(mode="json", exclude_unset=True))
            if data == self.known:
                continue
            first, self.known = self.known is None, data
            if not first:
                await self.notify(self.uri)


class NotReportedYet(Answer):
    """What a read of a stream shows when PiecesOS has said nothing on it (it may send changes only)."""

    reported: Literal[False] = False
    note: str = "no status reported yet: PiecesOS has sent nothing on this stream since it was opened"


async def read_once(pieces: PiecesOS, resource: LiveResource) -> Answer:
    """A live resource's state now: its snapshot endpoint's answer, else the stream's first message.

    A stream may say nothing until something changes: then, a little before the limit, the latest state a feed
    saw on it, else `NotReportedYet`. Either way the read answers within --timeout.
    """
    if resource.snapshot is not None:
        endpoint = BY_NAME[resource.snapshot]
        return await pieces.call(endpoint, endpoint.input_model())
    what = f"the {resource.name} stream"
    budget = Budget.for_call(Wait.ORDINARY, pieces.settings)
    message: str | bytes | None = None
    with budget.bound(what):
        websocket = await open_stream(pieces, resource.path, what, budget.remaining())
        try:
            with anyio.move_on_after(max(0.0, budget.remaining() - READ_MARGIN_S)):
                message = await websocket.recv()
        except ConnectionClosed:
            raise ConnectionLostError(f"PiecesOS closed {what} before saying anything; try again.") from None
        finally:
            await websocket.close()
    if message is None:
        return pieces.reported.get(resource.name) or NotReportedYet(reported=False, note=NotReportedYet().note)
    try:
        return resource.model.model_validate(decoded(message, what))
    except ValidationError:
        raise BadAnswerError(
            f"PiecesOS sent {what} data of an unexpected shape; update PiecesOS and pieces-mcp."
        ) from None


class Subscriptions:
    """The live feeds each subscriber (a session, or one 2026-07-28 listen stream) follows."""

    def __init__(self, pieces: PiecesOS, task_group: TaskGroup) -> None:
        self.pieces = pieces
        self.task_group = task_group
        self.feeds: dict[tuple[object, str], Feed] = {}

    async def add(self, subscriber: object, resource: LiveResource, uri: str, notify: Notify) -> None:
        """Follow `resource` for `subscriber`; returns once the stream is open. Raises a PiecesError if it cannot."""
        if (subscriber, uri) in self.feeds:
            return
        # What a read shows now is the baseline: a stream silent on connect then has its first change reported.
        baseline = (await read_once(self.pieces, resource)).model_dump(mode="json", exclude_unset=True)
        feed = Feed(self.pieces, resource, uri, notify)
        await feed.start(baseline, self.task_group)
        self.feeds[(subscriber, uri)] = feed

    def remove(self, subscriber: object, uri: str) -> None:
        feed = self.feeds.pop((subscriber, uri), None)
        if feed is not None:
            feed.stop()

    def remove_all(self, subscriber: object) -> None:
        for key in [key for key in self.feeds if key[0] == subscriber]:
            self.feeds.pop(key).stop()
