"""uvicorn's h11 protocol with a bound on the time a client has to send a request's headers.

uvicorn has no such setting: its `timeout_keep_alive` is armed only after a response and cancelled by the
first byte of the next request, and nothing is armed on a new connection (uvicorn 0.54,
`uvicorn/protocols/http/h11_impl.py`: `connection_made`, `data_received`, `on_response_complete`). So a
client that connects and sends nothing, or sends its headers a byte at a time, holds a connection for ever
(slowloris). This module is the one place that knows uvicorn's protocol class; the behaviour is pinned by
tests/e2e/test_http_transport.py.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.h11_impl import H11Protocol


def with_header_deadline(seconds: float) -> type[asyncio.Protocol]:
    """A protocol class for `uvicorn.Config(http=...)` that closes a connection whose request head is late.

    The clock starts when the connection opens, and again at the first byte of each later request on it.
    """

    class HeaderDeadlineProtocol(H11Protocol):
        deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._start_clock()

        def data_received(self, data: bytes) -> None:
            if self._between_requests():
                self._start_clock()
            request_before = self.cycle
            super().data_received(data)
            if self.cycle is not request_before:  # a request's head arrived whole
                self._stop_clock()

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_clock()
            super().connection_lost(exc)

        def _between_requests(self) -> bool:
            # uvicorn's per-request cycle: None before the first request, complete once its response went out.
            cycle = self.cycle
            return cycle is None or cycle.response_complete

        def _start_clock(self) -> None:
            if self.deadline is None:
                self.deadline = asyncio.get_running_loop().call_later(seconds, self._too_slow)

        def _stop_clock(self) -> None:
            if self.deadline is not None:
                self.deadline.cancel()
                self.deadline = None

        def _too_slow(self) -> None:
            self.deadline = None
            if self._between_requests() and not self.transport.is_closing():
                self.transport.close()

    return HeaderDeadlineProtocol
