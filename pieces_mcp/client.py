"""The PiecesOS client: one pooled `httpx.AsyncClient`, discovery, the three API generations, error mapping."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
from pydantic import ValidationError

from pieces_mcp import __version__, decoding, discovery, live, wire_text
from pieces_mcp.catalog import BY_NAME, GENERATIONS, Endpoint, Generation, Wait
from pieces_mcp.catalog.generations import FROM_SEED, Since, absent_sentence
from pieces_mcp.config import Settings
from pieces_mcp.errors import (
    AbsentOperationError,
    BadAnswerError,
    BadStatusError,
    ConnectionLostError,
    NotRunningError,
    TimedOutError,
    quote_detail,
)
from pieces_mcp.models.base import Answer, ToolInput
from pieces_mcp.redact import display_url

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
# "Nothing is listening there": the only failures after which looking for PiecesOS again makes sense.
NOT_ANSWERING = (httpx.ConnectError, httpx.ConnectTimeout)
NOT_FOUND_HINT = (
    "start the Pieces desktop app or PiecesOS, then try again (or set PIECES_OS_URL if it listens somewhere else{})"
)
DOCTOR_HINT = "; `pieces-mcp doctor` checks the connection"


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

    # -- where PiecesOS is ---------------------------------------------------------------------

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

    async def version(self) -> str:
        try:
            with anyio.fail_after(self.settings.timeout):
                response = await self._send("GET", "/.well-known/version", None, "the version check")
        except TimeoutError:
            raise TimedOutError(f"PiecesOS did not tell its version within {self.settings.timeout:g} s.") from None
        return quote_detail(response.text, 80)

    # -- calling an endpoint --------------------------------------------------------------------

    def limit_for(self, endpoint: Endpoint) -> tuple[float, str]:
        """The one place that decides how long a call may take: its seconds and the option that sets them."""
        if endpoint.wait is Wait.INTERACTIVE:
            return self.settings.interactive_timeout, "--interactive-timeout"
        if endpoint.restarts:
            # The request, then the wait for PiecesOS to come back under its own bound (`_wait_for_comeback`).
            return self.settings.timeout + self.settings.restart_timeout, "--timeout plus --restart-timeout"
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
        except BadStatusError as exc:
            # Every path of every generation answered 404 (`_send_endpoint` tried them): an operation newer than
            # this PiecesOS is absent, and the person is told which PiecesOS has it rather than "HTTP 404".
            if exc.status != 404 or endpoint.since == FROM_SEED:
                raise
            raise await self.absent(endpoint.name, endpoint.since) from None
        except TimeoutError:
            waiting = " (the person may still be at the window on their desktop)" if which != "--timeout" else ""
            raise TimedOutError(
                f"PiecesOS did not finish {endpoint.name} within {limit:g} s, the {which} limit{waiting}; "
                f"try again, or raise {which} if it needs longer."
            ) from None
        try:
            return endpoint.output_model.from_wire(payload)
        except (ValidationError, ValueError) as exc:
            raise BadAnswerError(
                f"PiecesOS answered {endpoint.name} with data of an unexpected shape ({_first_error(exc)}); "
                "PiecesOS may be newer or older than this pieces-mcp: update both, and report it if it persists."
            ) from None

    async def absent(self, name: str, since: Since) -> AbsentOperationError:
        """The error for an operation this PiecesOS answered 404, naming its generation when a probe tells it."""
        generation = await probe_generation(self.http, self.base_url) if self.base_url else None
        return AbsentOperationError(absent_sentence(name, since, generation))

    async def _call(self, endpoint: Endpoint, body: dict[str, Any] | None) -> Any:
        if endpoint.restarts:
            return await self._restart(endpoint, body)
        response = await self._send_endpoint(endpoint, body)
        if not response.content:
            return None
        try:
            return response.json()
        except wire_text.NotJSONError as problem:
            raise BadAnswerError(
                f"PiecesOS answered {endpoint.name} with {problem.why}, which no OS endpoint sends; "
                "restart PiecesOS and try again."
            ) from None

    async def _send_endpoint(self, endpoint: Endpoint, body: dict[str, Any] | None) -> Reply:
        """Send to the generation that answers: a 404 on a path that moved means try the next generation's.

        The generation that answered is remembered and tried first from then on. Generations that share
        a path are one try (v10 and current differ in answers, not in where the pickers are).
        """
        if not endpoint.moved_between_generations:
            return await self._send(endpoint.method, endpoint.path_for("current"), body, endpoint.name)
        order = sorted(GENERATIONS, key=lambda generation: generation != self.generation)
        tries: dict[str, Generation] = {}
        for generation in order:
            tries.setdefault(endpoint.path_for(generation), generation)
        last = list(tries)[-1]
        for path, generation in tries.items():
            wire_body = endpoint.input_model.body_for_generation(body, generation)
            try:
                response = await self._send(endpoint.method, path, wire_body, endpoint.name)
            except BadStatusError as exc:
                if exc.status == 404 and path != last:
                    continue
                raise
            if self.generation != generation:
                logger.info("PiecesOS speaks the %s API generation", generation)
                self.generation = generation
            return response
        raise AssertionError("unreachable: the last generation's failure is raised")

    async def _send(self, method: str, path: str, body: dict[str, Any] | None, what: str) -> Reply:
        """One request; PiecesOS not answering triggers one fresh discovery and one retry (nothing was sent)."""
        base_url = await self.locate()
        try:
            return await self._send_to(base_url, method, path, body, what)
        except NOT_ANSWERING:
            if self.settings.base_url:
                raise NotRunningError(
                    f"PiecesOS is not running: nothing answered at {display_url(base_url)}; {self.not_found_hint}."
                ) from None
        moved_to = await self.locate(again=True)
        try:
            return await self._send_to(moved_to, method, path, body, what)
        except NOT_ANSWERING:
            raise NotRunningError(
                f"PiecesOS is not running: nothing answered at {display_url(moved_to)}; {self.not_found_hint}."
            ) from None

    async def _send_to(self, base_url: str, method: str, path: str, body: dict[str, Any] | None, what: str) -> Reply:
        """One request and its whole answer; every failure below "not answering" becomes a PiecesError.

        httpx's failures are caught by family, as httpx documents them (httpx/_exceptions.py): a new leaf in
        a family gets that family's sentence, and anything else httpx raises still gets one.
        """
        request = self.http.build_request(
            method, base_url + path, json=body, headers={"Accept-Encoding": decoding.ACCEPT_ENCODING}
        )
        try:
            response = await self.http.send(request, stream=True)
            try:
                content = await decoding.read_capped(response, MAX_BODY_BYTES)
            finally:
                with suppress(httpx.CloseError):  # the answer is read whole: a failed close loses nothing
                    await response.aclose()
        except NOT_ANSWERING:
            raise
        except httpx.TimeoutException:
            # httpx bounds only connecting here (`http_client`), handled above; any other timeout it raises is one
            # sentence all the same, with no limit to name: the call's own limit is `call`'s.
            raise TimedOutError(
                f"PiecesOS at {display_url(base_url)} stopped answering {what}; it may be busy or stuck: try again, "
                "and restart PiecesOS if it keeps happening."
            ) from None
        except (httpx.NetworkError, httpx.RemoteProtocolError):
            raise ConnectionLostError(
                f"The connection to PiecesOS closed before it answered {what}; "
                "it may be restarting: try again in a few seconds."
            ) from None
        except httpx.LocalProtocolError:
            raise ConnectionLostError(
                f"The connection to PiecesOS broke while {what} was being sent; try again in a few seconds."
            ) from None
        except (decoding.UndecodableError, httpx.DecodingError):
            raise BadAnswerError(
                f"PiecesOS's answer to {what} could not be decoded (it is not what its Content-Encoding says); "
                "restart PiecesOS and try again."
            ) from None
        except decoding.TooLargeError:
            raise BadAnswerError(
                f"PiecesOS's answer to {what} was larger than {MAX_BODY_BYTES // (1024 * 1024)} MB, "
                "which no OS endpoint should send; restart PiecesOS and try again."
            ) from None
        except httpx.TooManyRedirects:
            raise BadAnswerError(_redirect_sentence(what, None)) from None
        except httpx.RequestError:  # ProxyError, UnsupportedProtocol, and whatever httpx adds to the family
            raise ConnectionLostError(
                f"pieces-mcp could not exchange {what} with PiecesOS at {display_url(base_url)}; "
                "check PIECES_OS_URL (or leave it unset to find PiecesOS), then try again."
            ) from None
        reply = Reply(response.status_code, content, response.headers.get("content-type", ""))
        if 300 <= reply.status < 400:
            raise BadAnswerError(_redirect_sentence(what, reply.status))
        if reply.status >= 400:
            raise _status_error(reply, _reason_phrase(response), what)
        return reply

    async def _restart(self, endpoint: Endpoint, body: dict[str, Any] | None) -> dict[str, Any]:
        """Ask PiecesOS to restart, then wait for it to answer again.

        A connection dropped or reset before the 204 arrives means PiecesOS went down as asked, not a
        failure: the vendor CLI's `pieces restart` ignores exactly that error (urllib3's MaxRetryError
        around `os_restart()`) and then polls health (pieces-app/cli-agent, the `restart` command).
        """
        try:
            await self._send_endpoint(endpoint, body)
        except ConnectionLostError:
            logger.info("the connection closed during the restart request: PiecesOS is going down")
            return await self._wait_for_comeback(already_down=True)
        return await self._wait_for_comeback(already_down=False)

    async def _wait_for_comeback(self, *, already_down: bool) -> dict[str, Any]:
        """Wait for PiecesOS to go away (unless it already has), then to answer health again.

        Bounded by --restart-timeout, not by --timeout: a real restart (an update install above all) takes
        longer than an ordinary call. The vendor CLI waits up to 5 minutes after an update restart
        (pieces-app/cli-agent src/pieces/core/update_pieces_os.py, RECONNECT_TIMEOUT); the default 60 s stays
        inside the ~60 s after which some MCP clients cancel a call. Past the bound, "it did not come back" is
        the answer, not an error; the call's own limit (`limit_for`) leaves room for it.
        """
        started = time.monotonic()
        base_url = self.base_url or ""
        with anyio.move_on_after(self.settings.restart_timeout):
            went_down = already_down
            while not went_down and time.monotonic() - started < RESTART_GRACE_S:
                went_down = not await discovery.is_healthy(self.http, base_url)
                if not went_down:
                    await anyio.sleep(POLL_INTERVAL_S)
            while went_down:
                try:
                    base_url = await self.locate(again=True)
                    if await discovery.is_healthy(self.http, base_url):
                        break
                except NotRunningError:
                    pass
                await anyio.sleep(POLL_INTERVAL_S)
            downtime_ms = round((time.monotonic() - started) * 1000) if went_down else 0
            return {"restarted": True, "back_online": True, "downtime_ms": downtime_ms, "base_url": base_url}
        return {"restarted": True, "back_online": False, "downtime_ms": None, "base_url": None}


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


def _status_error(reply: Reply, reason: str, what: str) -> BadStatusError:
    status = reply.status
    detail = quote_detail(reply.text) or quote_detail(reason)
    if status == 401:
        advice = "nobody is signed in to Pieces: sign in (sign_into_os) and try again"
    elif status == 404:
        advice = "this PiecesOS does not have that endpoint: update PiecesOS"
    elif status >= 500:
        advice = "PiecesOS failed internally: try again in a moment, and restart PiecesOS if it persists"
    else:
        advice = "check the arguments and try again"
    return BadStatusError(f"PiecesOS answered {what} with HTTP {status} ({detail}); {advice}.", status)


def _redirect_sentence(what: str, status: int | None) -> str:
    # PiecesOS never redirects, and following one could lead off the machine: whatever answered is not it.
    shown = f" (HTTP {status})" if status is not None else ""
    return (
        f"PiecesOS answered {what} with a redirect{shown}, which PiecesOS never sends: something else may be "
        "listening at its address; check PIECES_OS_URL, or restart PiecesOS and try again."
    )


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "the answer"
        return quote_detail(f"{where}: {error['msg']}", 120)
    return quote_detail(str(exc), 120)
