"""Stopping on SIGINT and SIGTERM the same way on every Python: the work is cancelled, then the process exits.

Left to `asyncio.run`, Ctrl-C differs by version. From 3.11 the Runner cancels the main task and raises
KeyboardInterrupt; on 3.10 (anyio's backport of the Runner, without `Task.uncancel`) the CancelledError itself
comes out of `anyio.run`, which printed three chained tracebacks and exited 1. And SIGTERM, the way MCP
clients stop a server, ended the process at once: a guarded call in flight never got its `cancelled` audit
line. Here both signals go to anyio's documented signal receiver, which cancels the work; each call in flight
ends through its own cancellation path (the audit line is written there), and the process exits once they
have, or after `STOP_GRACE_S`, or at a second signal.

Whatever tells a person "Ctrl-C stops it" is printed from `ready`, once the receiver is in place: printed
earlier, a Ctrl-C typed at once landed while anyio's event loop was still being imported and set up, where
Python's default handling raised KeyboardInterrupt in the middle of an import (the process then died of the
signal, or hung).
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import NamedTuple, TypeVar

import anyio

T = TypeVar("T")

STOP_GRACE_S = 5.0  # how long cancelled work may take to end (audit lines, closing PiecesOS connections)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stopped(NamedTuple):  # not a dataclass: it would compile its methods at every start (issue 22)
    """The work was stopped by a signal."""

    signal_number: int

    @property
    def exit_code(self) -> int:
        return 128 + self.signal_number  # the shell's convention: 130 for Ctrl-C, 143 for SIGTERM


def run_until_stopped(work: Callable[[], Awaitable[T]], ready: Callable[[], None] = lambda: None) -> T | Stopped:
    """`anyio.run(work)`, or `Stopped` when SIGINT or SIGTERM cancelled it (never a traceback).

    `ready` runs once either signal would stop the work, just before the work starts.
    """
    if sys.platform == "win32":  # no loop signal handlers there: Ctrl-C arrives as KeyboardInterrupt
        try:
            ready()
            return anyio.run(work)
        except KeyboardInterrupt:
            return Stopped(signal.SIGINT)
    try:
        return anyio.run(_until_stopped, work, ready)
    except KeyboardInterrupt:  # a Ctrl-C before the receiver was set up or after it was closed
        return Stopped(signal.SIGINT)


async def _until_stopped(work: Callable[[], Awaitable[T]], ready: Callable[[], None]) -> T | Stopped:
    received: list[int] = []
    outcome: list[T] = []
    async with anyio.create_task_group() as group:
        with anyio.open_signal_receiver(*STOP_SIGNALS) as signals:
            work_scope = anyio.CancelScope()

            async def watch() -> None:
                async for number in signals:
                    received.append(number)
                    work_scope.cancel()
                    break
                with anyio.move_on_after(STOP_GRACE_S):
                    async for _ in signals:  # a second signal: the person does not want to wait
                        break
                # The cancelled work did not end in time (or the person insisted): the signal's own default
                # action ends the process now, as if nobody had handled it.
                sys.stderr.flush()
                signal.signal(received[0], signal.SIG_DFL)
                os.kill(os.getpid(), received[0])

            group.start_soon(watch)
            with work_scope:
                ready()
                outcome.append(await work())
            group.cancel_scope.cancel()  # the work ended (done or cancelled): stop watching
    return Stopped(received[0]) if received else outcome[0]
