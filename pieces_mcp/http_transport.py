"""`serve --transport http`: the same server over Streamable HTTP, for clients that prefer it.

Loopback only, Host and Origin checked (a web page must not reach it through DNS rebinding), and a
bearer token that only the person who started the server has (printed to stderr).
"""

from __future__ import annotations

import errno
import hmac
import logging
import secrets
import socket
import sys
from collections import Counter

import uvicorn
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pieces_mcp import LOOPBACK
from pieces_mcp.config import HTTP_HEADER_TIMEOUT_S, ConfigError
from pieces_mcp.header_deadline import with_header_deadline
from pieces_mcp.mcp_adapter import SESSION_HEADER, PiecesServer

logger = logging.getLogger(__name__)

HOST = LOOPBACK
PATH = "/mcp"
# A session nobody used for this long no longer follows anything: the SDK's own idle timeout for the whole
# session in mcp 2.3 (`StreamableHTTPSessionManager`, DEFAULT_SESSION_IDLE_TIMEOUT), stated here.
SESSION_IDLE_S = 1800.0


class BearerToken:
    """Refuses every HTTP request that does not carry `Authorization: Bearer <token>`."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = dict(scope["headers"]).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [(b"content-type", b"text/plain"), (b"www-authenticate", b"Bearer")],
                    }
                )
                await send({"type": "http.response.body", "body": b"A bearer token is required: see the server's log."})
                return
        await self.app(scope, receive, send)


class SessionEnds:
    """Tells the adapter when an HTTP session ends, so the live resources it followed stop with it.

    The SDK's session manager ends a session on the client's DELETE, or once no request of it has been in flight
    (none served, no GET stream open) for its idle timeout (`StreamableHTTPSessionManager`'s
    `session_idle_timeout`), and offers no hook for either. Every request of a session passes here, so this
    keeps the same count and the same clock (`idle_s`).
    """

    def __init__(self, app: ASGIApp, server: PiecesServer, idle_s: float) -> None:
        self.app = app
        self.server = server
        self.idle_s = idle_s
        self.in_flight: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()  # a session's requests so far: a new one restarts its idle clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        session_id = dict(scope.get("headers", ())).get(SESSION_HEADER.encode(), b"").decode("latin-1")
        if scope["type"] != "http" or not session_id:
            await self.app(scope, receive, send)
            return
        status = 0

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self.in_flight[session_id] += 1
        self.requests[session_id] += 1
        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            self.in_flight[session_id] -= 1
            if scope["method"] == "DELETE" and 200 <= status < 300:
                self._end(session_id)
            elif not self.in_flight[session_id]:
                mark = self.requests[session_id]
                self.server.adapter.later(self.idle_s, lambda: self._expire(session_id, mark))

    def _expire(self, session_id: str, mark: int) -> None:
        if not self.in_flight[session_id] and self.requests[session_id] == mark:
            self._end(session_id)

    def _end(self, session_id: str) -> None:
        del self.in_flight[session_id], self.requests[session_id]
        self.server.adapter.end_session(session_id)


def build_app(server: PiecesServer, port: int, token: str, session_idle_s: float = SESSION_IDLE_S) -> ASGIApp:
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[f"{HOST}:{port}", f"localhost:{port}"],
        allowed_origins=[f"http://{HOST}:{port}", f"http://localhost:{port}"],
    )
    # `session_idle_timeout` is not passed: mcp 2.1 (the floor) has no such parameter (its sessions never expire);
    # in 2.3 its default is SESSION_IDLE_S, the same clock SessionEnds keeps.
    app = server.streamable_http_app(streamable_http_path=PATH, transport_security=security, host=HOST)
    return BearerToken(SessionEnds(app, server, session_idle_s), token)


def listen(port: int) -> socket.socket:
    """The listening socket on 127.0.0.1:`port` (0 picks a free one); a port that cannot be had is a ConfigError."""
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port must be between 0 and 65535 (0 picks a free port), not {port}")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((HOST, port))
    except OSError as exc:
        listener.close()
        why = "is in use by another program" if exc.errno == errno.EADDRINUSE else f"cannot be used ({exc.strerror})"
        raise ConfigError(f"port {port} on {HOST} {why}; choose another with --port, or 0 for any free port") from None
    listener.listen(128)  # connections wait in the backlog from now on, so the printed URL is ready to use
    return listener


async def serve_http(
    server: PiecesServer,
    listener: socket.socket,
    token: str | None = None,
    session_idle_s: float = SESSION_IDLE_S,
    *,
    header_timeout_s: float = HTTP_HEADER_TIMEOUT_S,
) -> None:
    """Serve on `listener` until cancelled; the URL, and the token unless the person chose it, go to stderr."""
    port = listener.getsockname()[1]  # the Host/Origin checks need the real port
    chosen_by_person = bool(token)
    token = token or secrets.token_urlsafe(32)
    config = uvicorn.Config(
        build_app(server, port, token, session_idle_s),
        log_level="warning",
        lifespan="on",
        http=with_header_deadline(header_timeout_s),
    )
    # stderr only: stdout is not ours to use. A token the person set is theirs already, and logs get shared.
    shown = "<the value of PIECES_MCP_HTTP_TOKEN>" if chosen_by_person else token
    print(f"pieces-mcp: Streamable HTTP on http://{HOST}:{port}{PATH}", file=sys.stderr)
    print(f"pieces-mcp: send the header  Authorization: Bearer {shown}", file=sys.stderr, flush=True)
    await uvicorn.Server(config).serve(sockets=[listener])
