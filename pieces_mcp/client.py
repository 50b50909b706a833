"""The PiecesOS client: one pooled `httpx.AsyncClient`, discovery, both API generations, error mapping."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
from pydantic import ValidationError

from pieces_mcp import __version__, discovery, live
from pieces_mcp.catalog import GENERATIONS, Endpoint, Generation, Wait
from pieces_mcp.config import Settings
from pieces_mcp.errors import BadAnswer, BadStatus, ConnectionLost, NotRunning, TimedOut, quote_detail
from pieces_mcp.models import Answer, ToolInput

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 8 * 1024 * 1024
# After a restart's 204, how long PiecesOS gets to actually go away before we call it "never left".
RESTART_GRACE_S = 2.0
POLL_INTERVAL_S = 0.1
# httpx bounds only the connect phase; everything after it is bounded by the call's own limit (`limit_for`),
# so a person who takes minutes at a picker is not cut off by the ordinary --timeout.
CONNECT_TIMEOUT_S = 2.0
# Few idle connections: httpcore 1.0's pool walks every idle connection once per idle connection on each
# request (encode/httpcore#1035), so 50 warm ones made a burst of 100 calls 4x slower.
POOL_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=10)
NOT_FOUND_HINT = (
    "start the Pieces desktop app or PiecesOS, then try again "
    "(or set PIECES_OS_URL if it listens somewhere else; `pieces-mcp doctor` checks the connection)"
)


@asynccontextmanager
async def http_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The one `httpx.AsyncClient` of a server's life: pooled, keep-alive, bounded, no redirects."""
    async with httpx.AsyncClient(
        timeout=httpx.Timeout(None, connect=CONNECT_TIMEOUT_S),
        limits=POOL_LIMITS,
        # A redirect could lead a loopback-only client off the machine; PiecesOS never sends one.
        follow_redirects=False,
        # Proxy variables must not route loopback traffic anywhere else.
        trust_env=False,
        # TLS only when the configured URL asks for it: loading the CA bundle costs ~45 ms of start-up, and
        # discovery and every local PiecesOS speak plain HTTP (redirects, the only other way to https, are off).
        verify=(settings.base_url or "").startswith("https://"),
        headers={"User-Agent": f"pieces-mcp/{__version__}"},
    ) as http:
        yield http


class PiecesOS:
    """Calls PiecesOS's OS endpoints; remembers where PiecesOS is and which API generation it speaks."""

    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.http = http
        self.base_url: str | None = settings.base_url
        self.found_by = "--base-url / PIECES_OS_URL" if settings.base_url else "not yet looked for"
        self.generation: Generation | None = None

    # -- where PiecesOS is ---------------------------------------------------------------------

    async def locate(self, *, again: bool = False) -> str:
        """The base URL, discovering it (again) unless it was configured."""
        if self.settings.base_url:
            return self.settings.base_url
        if self.base_url is None or again:
            found = await discovery.discover(self.http)
            if found is None:
                self.base_url = None
                raise NotRunning(
                    "PiecesOS is not running: nothing answered on ports 39300-39333, 1000 or 5323; "
                    + NOT_FOUND_HINT
                    + "."
                )
            if found != self.base_url:
                logger.info("PiecesOS found at %s", found)
            self.base_url, self.found_by = found, "discovered"
        return self.base_url

    async def version(self) -> str:
        try:
            with anyio.fail_after(self.settings.timeout):
                response = await self._send("GET", "/.well-known/version", None, "the version check")
        except TimeoutError:
            raise TimedOut(f"PiecesOS did not tell its version within {self.settings.timeout:g} s.") from None
        return quote_detail(response.text, 80)

    # -- calling an endpoint --------------------------------------------------------------------

    def limit_for(self, endpoint: Endpoint) -> tuple[float, str]:
        """The one place that decides how long a call may take: its seconds and the option that sets them."""
        if endpoint.wait is Wait.INTERACTIVE:
            return self.settings.interactive_timeout, "--interactive-timeout"
        return self.settings.timeout, "--timeout"

    async def call(self, endpoint: Endpoint, arguments: ToolInput) -> Answer:
        """Call one endpoint within its limit and parse the answer; raises a PiecesError on failure."""
        limit, which = self.limit_for(endpoint)
        try:
            with anyio.fail_after(limit):
                if endpoint.websocket:
                    payload: Any = await live.read_streamed(self, endpoint, arguments.body())
                else:
                    payload = await self._call(endpoint, arguments.body())
        except TimeoutError:
            waiting = " (the person may still be at the window on their desktop)" if which != "--timeout" else ""
            raise TimedOut(
                f"PiecesOS did not finish {endpoint.name} within {limit:g} s, the {which} limit{waiting}; "
                f"try again, or raise {which} if it needs longer."
            ) from None
        try:
            return endpoint.output_model.from_wire(payload)
        except (ValidationError, ValueError) as exc:
            raise BadAnswer(
                f"PiecesOS answered {endpoint.name} with data of an unexpected shape ({_first_error(exc)}); "
                "PiecesOS may be newer or older than this pieces-mcp: update both, and report it if it persists."
            ) from None

    async def _call(self, endpoint: Endpoint, body: dict[str, Any] | None) -> Any:
        response = await self._send_endpoint(endpoint, body)
        if endpoint.restarts:
            return await self._wait_for_comeback()
        if not response.content:
            return None
        try:
            return json.loads(response.content)
        except ValueError:
            raise BadAnswer(
                f"PiecesOS answered {endpoint.name} with something that is not JSON "
                f"({quote_detail(response.text, 80)!r}); restart PiecesOS and try again."
            ) from None

    async def _send_endpoint(self, endpoint: Endpoint, body: dict[str, Any] | None) -> Reply:
        """Send to the generation that answers: a 404 on a path that moved means try the other one."""
        if not endpoint.moved_between_generations:
            return await self._send(endpoint.method, endpoint.path_for("current"), body, endpoint.name)
        order = sorted(GENERATIONS, key=lambda generation: generation != self.generation)
        for generation in order:
            try:
                response = await self._send(endpoint.method, endpoint.path_for(generation), body, endpoint.name)
            except BadStatus as exc:
                if exc.status == 404 and generation != order[-1]:
                    continue
                raise
            if self.generation != generation:
                logger.info("PiecesOS speaks the %s API generation", generation)
                self.generation = generation
            return response
        raise AssertionError("unreachable: the last generation's failure is raised")

    async def _send(self, method: str, path: str, body: dict[str, Any] | None, what: str) -> Reply:
        """One request; a refused connection triggers one fresh discovery and one retry (nothing was sent)."""
        base_url = await self.locate()
        try:
            return await self._send_to(base_url, method, path, body, what)
        except httpx.ConnectError:
            if self.settings.base_url:
                raise NotRunning(
                    f"PiecesOS is not running: nothing answered at {base_url}; {NOT_FOUND_HINT}."
                ) from None
        moved_to = await self.locate(again=True)
        try:
            return await self._send_to(moved_to, method, path, body, what)
        except httpx.ConnectError:
            raise NotRunning(f"PiecesOS is not running: nothing answered at {moved_to}; {NOT_FOUND_HINT}.") from None

    async def _send_to(self, base_url: str, method: str, path: str, body: dict[str, Any] | None, what: str) -> Reply:
        request = self.http.build_request(method, base_url + path, json=body)
        try:
            response = await self.http.send(request, stream=True)
            try:
                content = await _read_capped(response)
            finally:
                await response.aclose()
        except httpx.ConnectError:
            raise
        except httpx.TimeoutException:
            raise TimedOut(
                f"PiecesOS at {base_url} stopped answering {what} (no data for {self.settings.timeout:g} s); "
                "it may be busy or stuck: try again, and restart PiecesOS if it keeps happening."
            ) from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
            raise ConnectionLost(
                f"The connection to PiecesOS closed before it answered {what}; "
                "it may be restarting: try again in a few seconds."
            ) from None
        except _TooLarge:
            raise BadAnswer(
                f"PiecesOS's answer to {what} was larger than {MAX_BODY_BYTES // (1024 * 1024)} MB, "
                "which no OS endpoint should send; restart PiecesOS and try again."
            ) from None
        reply = Reply(response.status_code, content)
        if reply.status >= 400:
            raise _status_error(reply, response.reason_phrase, what)
        return reply

    async def _wait_for_comeback(self) -> dict[str, Any]:
        """After a restart's 204: wait for PiecesOS to go away, then to answer health again.

        Gives up a little before the call's own deadline, so "it did not come back" is an answer, not a timeout.
        """
        started = time.monotonic()
        base_url = self.base_url or ""
        margin = anyio.current_effective_deadline() - anyio.current_time() - 0.25
        with anyio.move_on_after(max(0.0, margin)):
            went_down = False
            while not went_down and time.monotonic() - started < RESTART_GRACE_S:
                went_down = not await discovery.is_healthy(self.http, base_url)
                if not went_down:
                    await anyio.sleep(POLL_INTERVAL_S)
            while went_down:
                try:
                    base_url = await self.locate(again=True)
                    if await discovery.is_healthy(self.http, base_url):
                        break
                except NotRunning:
                    pass
                await anyio.sleep(POLL_INTERVAL_S)
            downtime_ms = round((time.monotonic() - started) * 1000) if went_down else 0
            return {"restarted": True, "back_online": True, "downtime_ms": downtime_ms, "base_url": base_url}
        return {"restarted": True, "back_online": False, "downtime_ms": None, "base_url": None}


@dataclass(frozen=True)
class Reply:
    status: int
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


class _TooLarge(Exception):
    pass


async def _read_capped(response: httpx.Response) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _status_error(reply: Reply, reason: str, what: str) -> BadStatus:
    status = reply.status
    detail = quote_detail(reply.text) or reason
    if status == 401:
        advice = "nobody is signed in to Pieces: sign in (sign_into_os) and try again"
    elif status == 404:
        advice = "this PiecesOS does not have that endpoint: update PiecesOS"
    elif status >= 500:
        advice = "PiecesOS failed internally: try again in a moment, and restart PiecesOS if it persists"
    else:
        advice = "check the arguments and try again"
    return BadStatus(f"PiecesOS answered {what} with HTTP {status} ({detail}); {advice}.", status)


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "the answer"
        return f"{where}: {error['msg']}"
    return str(exc)
