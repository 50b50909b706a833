"""The simulator's time, which a test can hold: every simulated duration (a download, a restart's downtime, a
person picking, a fault's delay) is measured on it.

Unheld it is the wall clock (`time.monotonic`), so a demo behaves in real time. Held (`POST /_simulator/clock
{"hold": true}`) it stands still: a download stays at its percentage and a picker stays open until the test
moves time on (`{"advance_ms": N}`), so a test says what happens when, instead of hoping a slow machine keeps
to a window of wall-clock time. One clock per simulator, on the simulator's event loop.

A restart's downtime is on this clock too, and while the simulator is down its control API cannot be reached to
move time on: a test that restarts it lets the clock run.
"""

from __future__ import annotations

import asyncio
import time


class Clock:
    """Monotonic time that a test can stop (`hold`), move (`advance`) and let run again (`release`).

    Counted in integer nanoseconds, so 300 ms advanced as three times 100 ms is exactly 300 ms.
    """

    def __init__(self) -> None:
        self._held_at: int | None = None
        # Time moved by `advance` while running, or left behind by a release: the clock never goes back.
        self._offset = 0
        self._changed: set[asyncio.Future[None]] = set()

    @property
    def held(self) -> bool:
        return self._held_at is not None

    @property
    def sleeping(self) -> int:
        """How many sleeps wait on this clock now: a test's signal that a delay has begun."""
        return len(self._changed)

    def now_ns(self) -> int:
        return self._held_at if self._held_at is not None else time.monotonic_ns() + self._offset

    def now(self) -> float:
        """Seconds, for durations: `now() - earlier`."""
        return self.now_ns() / 1e9

    def hold(self) -> None:
        if self._held_at is None:
            self._held_at = self.now_ns()

    def release(self) -> None:
        if self._held_at is not None:
            self._offset = self._held_at - time.monotonic_ns()
            self._held_at = None
            self._wake()

    def advance(self, seconds: float) -> None:
        step = round(seconds * 1e9)
        if self._held_at is not None:
            self._held_at += step
        else:
            self._offset += step
        self._wake()

    def _wake(self) -> None:
        for changed in self._changed:
            if not changed.done():
                changed.set_result(None)

    async def sleep(self, seconds: float) -> None:
        """Until `seconds` have passed on this clock: never, while it is held and not advanced."""
        deadline = self.now_ns() + round(seconds * 1e9)
        while (left := deadline - self.now_ns()) > 0:
            changed = asyncio.get_running_loop().create_future()
            self._changed.add(changed)
            try:
                await asyncio.wait({changed}, timeout=None if self.held else left / 1e9)
            finally:
                self._changed.discard(changed)
