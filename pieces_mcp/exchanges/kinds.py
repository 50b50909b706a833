"""The exchanges a catalog entry names (`Endpoint.exchange`): how one call goes over the wire, start to end.

Each takes the same `Call` and answers the entry's output model; the generic path (client, dispatcher) runs
`EXCHANGES[endpoint.exchange]` and never asks which tool it is running.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import anyio
from pydantic import ValidationError

from pieces_mcp import wire_text
from pieces_mcp.budget import Budget
from pieces_mcp.catalog import BY_NAME, Endpoint, Exchange
from pieces_mcp.errors import BadAnswerError, ConnectionLostError, NotRunningError, PiecesError, quote_detail
from pieces_mcp.exchanges.connection import Connection, Reply
from pieces_mcp.exchanges.download import follow_download
from pieces_mcp.exchanges.launch import open_launch_url
from pieces_mcp.exchanges.streams import read_streamed
from pieces_mcp.heartbeat import Progress
from pieces_mcp.models.base import Answer, ToolInput

logger = logging.getLogger(__name__)

# After a restart's 204, how long PiecesOS gets to actually go away before we call it "never left".
RESTART_GRACE_S = 2.0
POLL_INTERVAL_S = 0.1


@dataclass(frozen=True)
class Call:
    """One tool call as an exchange sees it."""

    connection: Connection
    endpoint: Endpoint
    arguments: ToolInput
    budget: Budget
    progress: Progress | None = None


class Exchanging(Protocol):
    async def run(self, call: Call) -> Answer: ...


class Request:
    """One HTTP request, its JSON answer read into the entry's output model."""

    async def run(self, call: Call) -> Answer:
        reply = await call.connection.send_endpoint(call.endpoint, call.arguments.body(), call.budget)
        return parsed(call.endpoint, json_payload(reply, call.endpoint.name))


class FollowedDownload:
    """The request, then, when the caller asked for it, PiecesOS's update stream while a download runs."""

    async def run(self, call: Call) -> Answer:
        first = await REQUEST.run(call)
        # Read off the arguments (`UpdateCheckInput.follow_download`): the os toolset's models are imported only
        # by a session that offers it (issue 22).
        if getattr(call.arguments, "follow_download", False) is not True:
            return first
        return await follow_download(call.connection, first, call.budget, call.progress)


class StreamedRead:
    """A WebSocket: the body is the first message, the answer gathered from PiecesOS's messages."""

    async def run(self, call: Call) -> Answer:
        endpoint = call.endpoint
        payload = await read_streamed(
            call.connection, endpoint.path_for("current"), endpoint.name, call.arguments.body(), call.budget
        )
        return parsed(endpoint, payload)


class Restart:
    """Ask PiecesOS to restart, wait for it to come back, and say whether the person is still signed in.

    A connection dropped or reset before the 204 arrives means PiecesOS went down as asked, not a failure: the
    vendor CLI's `pieces restart` ignores exactly that error (urllib3's MaxRetryError around `os_restart()`) and
    then polls health (pieces-app/cli-agent, the `restart` command). The signed-in user is read before and after
    (`GET /user`, which changes nothing): updates have signed people out (pieces-app/support#1001, #685).
    """

    async def run(self, call: Call) -> Answer:
        before = await signed_in(call.connection, call.budget)
        try:
            await call.connection.send_endpoint(call.endpoint, call.arguments.body(), call.budget)
            already_down = False
        except ConnectionLostError:
            logger.info("the connection closed during the restart request: PiecesOS is going down")
            already_down = True
        outcome = await wait_for_comeback(call.connection, call.budget, already_down=already_down)
        after = await signed_in(call.connection, call.budget) if outcome["back_online"] else None
        return parsed(call.endpoint, {**outcome, "signed_in_before": before, "signed_in_after": after})


class Quit:
    """The request, then the wait until PiecesOS's port refuses connections: `/os/terminate` is a force quit
    (the vendor's plugin_neovim and plugin_sublime "close" commands), and the answer comes once the process is
    gone, so the next call says "not running" rather than meeting a PiecesOS half way down."""

    async def run(self, call: Call) -> Answer:
        connection = call.connection
        reply = await connection.send_endpoint(call.endpoint, call.arguments.body(), call.budget)
        base_url = connection.base_url or ""
        with anyio.move_on_after(min(RESTART_GRACE_S, call.budget.remaining())):
            # Polled: nothing tells a client that a process ended but its port refusing connections.
            while True:
                if not await connection.listening(base_url):
                    break
                await anyio.sleep(POLL_INTERVAL_S)
        return parsed(call.endpoint, json_payload(reply, call.endpoint.name))


class Launch:
    """Start PiecesOS as every vendor client does: open `pieces://launch` through the OS, then wait for health.

    The vendor wrapper's `PiecesClient.open_pieces_os` (pieces-os-client-sdk-for-python
    src/pieces_os_client/wrapper/client.py): nothing to do when PiecesOS already answers; else `open` (macOS),
    `start` (Windows) or `xdg-open` (Linux) `pieces://launch`, then `is_pieces_running` with retries. It needs
    nothing from PiecesOS before it runs: it is the tool for when nothing answers.
    """

    async def run(self, call: Call) -> Answer:
        connection = call.connection
        running = await running_at(connection)
        if running is not None:
            return parsed(call.endpoint, await launched(connection, running, already_running=True, waited_ms=0))
        started = time.monotonic()
        await open_launch_url(call.budget)
        found = await wait_until_up(connection, call.budget)
        waited_ms = round((time.monotonic() - started) * 1000)
        if found is None:
            return parsed(call.endpoint, {"already_running": False, "running": False, "waited_ms": waited_ms})
        return parsed(call.endpoint, await launched(connection, found, already_running=False, waited_ms=waited_ms))


async def launched(connection: Connection, base_url: str, *, already_running: bool, waited_ms: int) -> dict[str, Any]:
    version = await connection.version()
    return {
        "already_running": already_running,
        "running": True,
        "version": version,
        "base_url": base_url,
        "waited_ms": waited_ms,
    }


async def running_at(connection: Connection) -> str | None:
    """Where PiecesOS answers health now, or None (found again: it may have come up on another port)."""
    try:
        base_url = await connection.locate(again=True)
    except NotRunningError:
        return None
    return base_url if await connection.is_healthy(base_url) else None


async def wait_until_up(connection: Connection, budget: Budget) -> str | None:
    """Poll until PiecesOS answers health, within --restart-timeout and what is left of the call; None past it."""
    with anyio.move_on_after(min(connection.settings.restart_timeout, budget.remaining())):
        while True:
            found = await running_at(connection)
            if found is not None:
                return found
            await anyio.sleep(POLL_INTERVAL_S)
    return None


async def wait_for_comeback(connection: Connection, budget: Budget, *, already_down: bool) -> dict[str, Any]:
    """Wait for PiecesOS to go away (unless it already has), then to answer health again.

    Bounded by --restart-timeout (and what is left of the call), not by --timeout: a real restart (an update
    install above all) takes longer than an ordinary call. The vendor CLI waits up to 5 minutes after an update
    restart (pieces-app/cli-agent src/pieces/core/update_pieces_os.py, RECONNECT_TIMEOUT); the default 60 s stays
    inside the ~60 s after which some MCP clients cancel a call. Past the bound, "it did not come back" is the
    answer, not an error: PiecesOS may never come back by itself (pieces-app/support#449), and the answer then
    says how to start it.
    """
    started = time.monotonic()
    base_url = connection.base_url or ""
    with anyio.move_on_after(min(connection.settings.restart_timeout, budget.remaining())):
        went_down = already_down
        while not went_down and time.monotonic() - started < RESTART_GRACE_S:
            went_down = not await connection.is_healthy(base_url)
            if not went_down:
                await anyio.sleep(POLL_INTERVAL_S)
        if went_down:
            found = await wait_until_up(connection, budget)
            if found is None:
                return {"restarted": True, "back_online": False, "downtime_ms": None, "base_url": None}
            base_url = found
        downtime_ms = round((time.monotonic() - started) * 1000) if went_down else 0
        return {"restarted": True, "back_online": True, "downtime_ms": downtime_ms, "base_url": base_url}
    return {"restarted": True, "back_online": False, "downtime_ms": None, "base_url": None}


async def signed_in(connection: Connection, budget: Budget) -> bool | None:
    """Whether someone is signed in, read as `user_snapshot` reads it; None when PiecesOS cannot say."""
    user = BY_NAME["user_snapshot"]
    try:
        reply = await connection.send_endpoint(user, None, budget)
        answer = user.output_model.from_wire(json_payload(reply, user.name))
    except (PiecesError, ValidationError, ValueError):
        return None
    return getattr(answer, "user", None) is not None


def json_payload(reply: Reply, what: str) -> Any:
    if not reply.content:
        return None
    try:
        return reply.json()
    except wire_text.NotJSONError as problem:
        raise BadAnswerError(
            f"PiecesOS answered {what} with {problem.why}, which no OS endpoint sends; restart PiecesOS and try again."
        ) from None


def parsed(endpoint: Endpoint, payload: Any) -> Answer:
    try:
        return endpoint.output_model.from_wire(payload)
    except (ValidationError, ValueError) as exc:
        raise BadAnswerError(
            f"PiecesOS answered {endpoint.name} with data of an unexpected shape ({_first_error(exc)}); "
            "PiecesOS may be newer or older than this pieces-mcp: update both, and report it if it persists."
        ) from None


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "the answer"
        return quote_detail(f"{where}: {error['msg']}", 120)
    return quote_detail(str(exc), 120)


REQUEST = Request()
# Every exchange an entry can name; `tests` check each kind has one.
EXCHANGES: Mapping[Exchange, Exchanging] = {
    Exchange.REQUEST: REQUEST,
    Exchange.FOLLOWED_DOWNLOAD: FollowedDownload(),
    Exchange.STREAMED_READ: StreamedRead(),
    Exchange.RESTART: Restart(),
    Exchange.QUIT: Quit(),
    Exchange.LAUNCH: Launch(),
}
