"""The one translator: every HTTP (httpx) and WebSocket (websockets) failure becomes an error of `errors.py`.

httpx's failures are caught by family, as httpx documents them (httpx/_exceptions.py): a new leaf in a family gets
that family's sentence, and anything else httpx raises still gets one. The WebSocket library's failures map onto the
same sentences: a refused connection is "not running" whichever protocol met it, an answer with a status is the
same status sentence, a connection that closed is the same "closed before it answered".
"""

from __future__ import annotations

import httpx

from pieces_mcp import decoding, wire_text
from pieces_mcp.errors import (
    BadAnswerError,
    BadStatusError,
    ConnectionLostError,
    NotRunningError,
    PiecesError,
    TimedOutError,
    quote_detail,
)
from pieces_mcp.redact import display_url

MAX_BODY_BYTES = 8 * 1024 * 1024
# "Nothing is listening there": the only failures after which looking for PiecesOS again makes sense.
NOT_ANSWERING: tuple[type[Exception], ...] = (httpx.ConnectError, httpx.ConnectTimeout, ConnectionRefusedError)
# Everything `translated` has a sentence for; callers catch exactly this.
# (`websockets`'s own, InvalidHandshake and ConnectionClosed, are added where a WebSocket is opened: the library is
# imported only by a session that uses one, issue 22.)
TRANSLATED: tuple[type[Exception], ...] = (
    httpx.HTTPError,
    decoding.UndecodableError,
    decoding.TooLargeError,
    OSError,
)
NOT_FOUND_HINT = (
    "start the Pieces desktop app or PiecesOS, or call open_pieces_os, then try again "
    "(or set PIECES_OS_URL if it listens somewhere else{})"
)


def not_running(base_url: str, hint: str) -> NotRunningError:
    return NotRunningError(f"PiecesOS is not running: nothing answered at {display_url(base_url)}; {hint}.")


def translated(exc: Exception, what: str, base_url: str, hint: str) -> PiecesError:
    """The sentence for `exc`, met while exchanging `what` with PiecesOS at `base_url`."""
    if isinstance(exc, NOT_ANSWERING):
        return not_running(base_url, hint)
    if type(exc).__module__.startswith("websockets."):
        return _websocket_failure(exc, what)
    if isinstance(exc, httpx.TimeoutException):
        # httpx bounds only connecting (handled above); any other timeout it raises is one sentence all the same,
        # with no limit to name: the call's own limit is its `Budget`'s.
        return TimedOutError(
            f"PiecesOS at {display_url(base_url)} stopped answering {what}; it may be busy or stuck: try again, "
            "and restart PiecesOS if it keeps happening."
        )
    if isinstance(exc, (httpx.NetworkError, httpx.RemoteProtocolError, OSError)):
        return ConnectionLostError(
            f"The connection to PiecesOS closed before it answered {what}; "
            "it may be restarting: try again in a few seconds."
        )
    if isinstance(exc, httpx.LocalProtocolError):
        return ConnectionLostError(
            f"The connection to PiecesOS broke while {what} was being sent; try again in a few seconds."
        )
    if isinstance(exc, (decoding.UndecodableError, httpx.DecodingError)):
        return BadAnswerError(
            f"PiecesOS's answer to {what} could not be decoded (it is not what its Content-Encoding says); "
            "restart PiecesOS and try again."
        )
    if isinstance(exc, decoding.TooLargeError):
        return BadAnswerError(
            f"PiecesOS's answer to {what} was larger than {MAX_BODY_BYTES // (1024 * 1024)} MB, "
            "which no OS endpoint should send; restart PiecesOS and try again."
        )
    if isinstance(exc, httpx.TooManyRedirects):
        return BadAnswerError(redirect_sentence(what, None))
    # ProxyError, UnsupportedProtocol, and whatever httpx adds to its families
    return ConnectionLostError(
        f"pieces-mcp could not exchange {what} with PiecesOS at {display_url(base_url)}; "
        "check PIECES_OS_URL (or leave it unset to find PiecesOS), then try again."
    )


def _websocket_failure(exc: Exception, what: str) -> PiecesError:
    """A WebSocket refused with a status is that status's sentence; any other failure of the handshake or the
    connection, the same "closed before it answered" as over HTTP."""
    from websockets.exceptions import InvalidStatus

    if isinstance(exc, InvalidStatus):
        body = wire_text.body_text(bytes(exc.response.body or b""), exc.response.headers.get("content-type", ""))
        return status_error(exc.response.status_code, body, wire_text.header_text(exc.response.reason_phrase), what)
    return ConnectionLostError(
        f"The connection to PiecesOS closed before it answered {what}; "
        "it may be restarting: try again in a few seconds."
    )


def status_error(status: int, text: str, reason: str, what: str) -> PiecesError:
    """An answer with a status PiecesOS sends only when something failed (a redirect is not PiecesOS at all)."""
    if 300 <= status < 400:
        return BadAnswerError(redirect_sentence(what, status))
    detail = quote_detail(text) or quote_detail(reason) or "no detail"
    if status == 401:
        advice = "nobody is signed in to Pieces: sign in (sign_into_os) and try again"
    elif status == 404:
        advice = "this PiecesOS does not have that endpoint: update PiecesOS"
    elif status >= 500:
        advice = "PiecesOS failed internally: try again in a moment, and restart PiecesOS if it persists"
    else:
        advice = "check the arguments and try again"
    return BadStatusError(f"PiecesOS answered {what} with HTTP {status} ({detail}); {advice}.", status)


def redirect_sentence(what: str, status: int | None) -> str:
    # PiecesOS never redirects, and following one could lead off the machine: whatever answered is not it.
    shown = f" (HTTP {status})" if status is not None else ""
    return (
        f"PiecesOS answered {what} with a redirect{shown}, which PiecesOS never sends: something else may be "
        "listening at its address; check PIECES_OS_URL, or restart PiecesOS and try again."
    )
