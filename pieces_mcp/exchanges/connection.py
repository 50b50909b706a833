"""Reaching PiecesOS: the one pooled `httpx.AsyncClient`, discovery, the three API generations, one request.

Below every exchange: nothing here knows which tool it serves. Failures become `errors.py`'s errors through the
one translator (`translate.py`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
import httpx

from pieces_mcp import __version__, decoding, discovery, wire_text
from pieces_mcp.budget import Budget
from pieces_mcp.catalog import BY_NAME, GENERATIONS, Endpoint, Generation, Wait
from pieces_mcp.config import Settings
from pieces_mcp.errors import BadStatusError, NotRunningError, TimedOutError, quote_detail
from pieces_mcp.exchanges.translate import (
    MAX_BODY_BYTES,
    NOT_FOUND_HINT,
    TRANSLATED,
    not_running,
    status_error,
    translated,
)

logger = logging.getLogger(__name__)

# httpx bounds only the connect phase, and never longer than the call has left; everything after it is bounded by
# the call's `Budget`, so a person who takes minutes at a picker is not cut off by the ordinary --timeout.
CONNECT_TIMEOUT_S = 2.0
# Few idle connections: httpcore 1.0's pool walks every idle connection once per idle connection on each
# request (encode/httpcore#1035), so 50 warm ones made a burst of 100 calls 4x slower.
POOL_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=10)
DOCTOR_HINT = "; `pieces-mcp doctor` checks the connection"

T = TypeVar("T")


def new_http_client(settings: Settings) -> httpx.AsyncClient:
    """The one `httpx.AsyncClient` of a server's life: pooled, keep-alive, bounded, no redirects.

    Made without `async with` so a server can make it at its first call (`mcp_adapter.Runtime`), not at
    start-up; whoever makes it closes it with `aclose()`.
    """
    return httpx.AsyncClient(
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
    )


@asynccontextmanager
async def http_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """`new_http_client`, closed on the way out."""
    async with new_http_client(settings) as http:
        yield http


@dataclass(frozen=True)
class Reply:
    """A whole answer; its text and JSON are read through `wire_text`, the one decoder of PiecesOS's text."""

    status: int
    content: bytes
    content_type: str = ""

    @property
    def text(self) -> str:
        return wire_text.body_text(self.content, self.content_type)

    def json(self) -> Any:
        """The body as JSON, every string cleaned and masked; raises wire_text.NotJSONError."""
        return wire_text.body_json(self.content, self.content_type)


def _reason_phrase(response: httpx.Response) -> str:
    # httpx's `reason_phrase` drops every byte that is not ASCII; the bytes themselves are its documented
    # "reason_phrase" response extension.
    raw = response.extensions.get("reason_phrase")
    return wire_text.header_text(raw) if isinstance(raw, bytes) else wire_text.header_text(response.reason_phrase)


async def probe_generation(http: httpx.AsyncClient, base_url: str) -> Generation | None:
    """Which wire generation answers, without side effects (None when it cannot be told).

    The picker path tells seed from the others (HEAD, so no picker opens: 405 there, 404 not); the
    hardware shape of the read-only device information tells v10 (`cpu`) from current (`cpus`).
    """
    picker = BY_NAME["pick_files"]
    paths = {picker.path_for(generation): generation for generation in reversed(GENERATIONS)}
    found: Generation | None = None
    for path, generation in paths.items():
        try:
            response = await http.head(base_url + path)
        except httpx.HTTPError:
            return None
        if response.status_code != 404:
            found = generation
            break
    if found is None or found == "seed":
        return found
    try:
        hardware = (await http.get(base_url + BY_NAME["os_device_information"].path_for(found))).json()["hardware"]
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return found
    return "v10" if isinstance(hardware, dict) and "cpu" in hardware and "cpus" not in hardware else "current"


class Connection:
    """Where PiecesOS is, which API generation it speaks, and one request to it."""

    def __init__(
        self,
        settings: Settings,
        http: httpx.AsyncClient,
        *,
        mention_doctor: bool = True,
        machine: discovery.Machine | None = None,
    ) -> None:
        self.settings = settings
        # Where discovery looks; tests give their own home directory and ports.
        self.machine = machine or discovery.Machine.this()
        # What to do when PiecesOS is not found; `doctor` itself must not send the person to `doctor`.
        self.not_found_hint = NOT_FOUND_HINT.format(DOCTOR_HINT if mention_doctor else "")
        self.http = http
        self.base_url: str | None = settings.base_url
        self.found_by = "--base-url / PIECES_OS_URL" if settings.base_url else "not yet looked for"
        self.generation: Generation | None = None

    async def locate(self, *, again: bool = False) -> str:
        """The base URL, discovering it (again) unless it was configured."""
        if self.settings.base_url:
            return self.settings.base_url
        if self.base_url is None or again:
            found = await discovery.find(self.http, self.machine)
            if found is None:
                self.base_url = None
                raise NotRunningError(
                    f"PiecesOS is not running: nothing answered {self.machine.where_looked()}; "
                    + self.not_found_hint
                    + "."
                )
            if found.url != self.base_url:
                logger.info("PiecesOS found at %s (%s)", found.url, found.how)
            self.base_url, self.found_by = found.url, found.how
        return self.base_url

    async def reach(self, attempt: Callable[[str], Awaitable[T]]) -> T:
        """`attempt(base_url)`; PiecesOS not answering means one fresh discovery and one retry (nothing was sent)."""
        base_url = await self.locate()
        try:
            return await attempt(base_url)
        except NotRunningError:
            if self.settings.base_url:
                raise
        return await attempt(await self.locate(again=True))

    async def version(self) -> str:
        try:
            with anyio.fail_after(self.settings.timeout):
                response = await self.send("GET", "/.well-known/version", None, "the version check")
        except TimeoutError:
            raise TimedOutError(f"PiecesOS did not tell its version within {self.settings.timeout:g} s.") from None
        return quote_detail(response.text, 80)

    async def send_endpoint(self, endpoint: Endpoint, body: Any, budget: Budget | None = None) -> Reply:
        """Send to the generation that answers: a 404 on a path that moved means try the next generation's.

        The generation that answered is remembered and tried first from then on. Generations that share
        a path are one try (v10 and current differ in answers, not in where the pickers are).
        """
        if not endpoint.moved_between_generations:
            return await self.send(endpoint.method, endpoint.path_for("current"), body, endpoint.name, budget)
        order = sorted(GENERATIONS, key=lambda generation: generation != self.generation)
        tries: dict[str, Generation] = {}
        for generation in order:
            tries.setdefault(endpoint.path_for(generation), generation)
        last = list(tries)[-1]
        for path, generation in tries.items():
            wire_body = endpoint.input_model.body_for_generation(body, generation)
            try:
                response = await self.send(endpoint.method, path, wire_body, endpoint.name, budget)
            except BadStatusError as exc:
                if exc.status == 404 and path != last:
                    continue
                raise
            if self.generation != generation:
                logger.info("PiecesOS speaks the %s API generation", generation)
                self.generation = generation
            return response
        raise AssertionError("unreachable: the last generation's failure is raised")

    async def send(self, method: str, path: str, body: Any, what: str, budget: Budget | None = None) -> Reply:
        """One request and its whole answer, found again once if PiecesOS moved; failures are PiecesErrors."""
        connect = min(CONNECT_TIMEOUT_S, (budget or Budget.for_call(Wait.ORDINARY, self.settings)).remaining())
        # `reach`, written out: every tool call comes this way, and a closure and one more coroutine on its
        # path cost each resumption of the request.
        base_url = self.base_url or await self.locate()  # what `locate` answers once PiecesOS was found
        try:
            return await self._send_to(base_url, method, path, body, what, connect)
        except NotRunningError:
            if self.settings.base_url:
                raise
        return await self._send_to(await self.locate(again=True), method, path, body, what, connect)

    async def _send_to(self, base_url: str, method: str, path: str, body: Any, what: str, connect: float) -> Reply:
        request = self.http.build_request(
            method,
            base_url + path,
            json=body,
            headers={"Accept-Encoding": decoding.ACCEPT_ENCODING},
            timeout=httpx.Timeout(None, connect=connect),
        )
        try:
            response = await self.http.send(request, stream=True)
            try:
                content = await decoding.read_capped(response, MAX_BODY_BYTES)
            finally:
                with suppress(httpx.CloseError):  # the answer is read whole: a failed close loses nothing
                    await response.aclose()
        except TRANSLATED as exc:
            raise translated(exc, what, base_url, self.not_found_hint) from None
        reply = Reply(response.status_code, content, response.headers.get("content-type", ""))
        if reply.status >= 300:
            raise status_error(reply.status, reply.text, _reason_phrase(response), what)
        return reply

    async def listening(self, base_url: str) -> bool:
        """Whether anything accepts a connection at `base_url` (a quit PiecesOS's port refuses them)."""
        url = httpx.URL(base_url)
        with anyio.move_on_after(discovery.CONNECT_PROBE_S):
            try:
                stream = await anyio.connect_tcp(url.host, url.port or 80)
            except OSError:
                return False
            await stream.aclose()
            return True
        return True  # no answer either way within the probe: something may still be there

    async def is_healthy(self, base_url: str) -> bool:
        return await discovery.is_healthy(self.http, base_url)

    def not_running(self, base_url: str) -> NotRunningError:
        return not_running(base_url, self.not_found_hint)
