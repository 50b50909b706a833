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
    """Monotonic seconds that a test can stop (`hold`), move (`advance`) and let run again (`release`)."""

    def __init__(self) -> None:
        self._held_at: float | None = None
        # Time moved by `advance` while running, or left behind by a release: the clock never goes back.
        self._offset = 0.0
        self._changed: set[asyncio.Future[None]] = set()

    @property
    def held(self) -> bool:
        return self._held_at is not None

    @property
    def sleeping(self) -> int:
        """How many sleeps wait on this clock now: a test's signal that a delay has begun."""
        return len(self._changed)

    def now(self) -> float:
        return self._held_at if self._held_at is not None else time.monotonic() + self._offset

    def hold(self) -> None:
        if self._held_at is None:
            self._held_at = self.now()

    def release(self) -> None:
        if self._held_at is not None:
            self._offset = self._held_at - time.monotonic()
            self._held_at = None
            self._wake()

    def advance(self, seconds: float) -> None:
        if self._held_at is not None:
            self._held_at += seconds
        else:
            self._offset += seconds
        self._wake()

    def _wake(self) -> None:
        for changed in self._changed:
            if not changed.done():
                changed.set_result(None)

    async def sleep(self, seconds: float) -> None:
        """Until `seconds` have passed on this clock: never, while it is held and not advanced."""
        deadline = self.now() + seconds
        while (left := deadline - self.now()) > 1e-9:  # advance(0.299) + advance(0.001) is 0.3
            changed = asyncio.get_running_loop().create_future()
            self._changed.add(changed)
            try:
                await asyncio.wait({changed}, timeout=None if self.held else left)
            finally:
                self._changed.discard(changed)
