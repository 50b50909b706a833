"""One call's time: the deadline every wait of a tool call draws on, and the setting that sets it.

The dispatcher makes one `Budget` per call from the entry's wait class and the settings, and passes it down;
connecting, confirming, the person picking, a restart coming back, a launch and a download all ask it how much
time is left, and the one error on expiry names the limit that was hit.

How the person's confirmation shares a call's time (one rule): the person's time is one --interactive-timeout
per call, and PiecesOS's time is the entry's own limit.
- An entry that itself waits for the person (a picker, sign-in: `Wait.INTERACTIVE`) spends the same person's
  time as its confirmation: confirming and picking share one --interactive-timeout, counted from the call's
  start. A guarded picker gets 300 s in all, not 300 s to confirm and then 300 s more to pick.
- Any other entry (`os_restart`, `os_terminate`, ...) gives the person --interactive-timeout to confirm, and its
  own limit (--timeout, or --timeout plus --restart-timeout) starts when the person has answered: a slow "yes"
  does not leave PiecesOS with no time to do what was allowed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import anyio

from pieces_mcp.catalog import Wait
from pieces_mcp.config import Settings
from pieces_mcp.errors import TimedOutError


class Budget:
    """The deadline of one call, and the option that sets it (for the sentence on expiry)."""

    def __init__(self, seconds: float, which: str, *, person: bool, confirm_seconds: float) -> None:
        self.seconds = seconds
        self.which = which
        # Whether this limit is the person's time (the error then says they may still be at the window).
        self.person = person
        self.confirm_seconds = confirm_seconds
        self.deadline = time.monotonic() + seconds

    @classmethod
    def for_call(cls, wait: Wait, settings: Settings) -> Budget:
        """The budget an entry of this wait class gets under these settings."""
        interactive = settings.interactive_timeout
        if wait is Wait.INTERACTIVE:
            return cls(interactive, "--interactive-timeout", person=True, confirm_seconds=interactive)
        if wait is Wait.COMEBACK:
            # The request, then the wait for PiecesOS to (come back) up under --restart-timeout.
            seconds = settings.timeout + settings.restart_timeout
            return cls(seconds, "--timeout plus --restart-timeout", person=False, confirm_seconds=interactive)
        return cls(settings.timeout, "--timeout", person=False, confirm_seconds=interactive)

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def for_confirmation(self) -> float:
        """How long the person may take to confirm: what is left of their time (see the module's rule)."""
        return self.remaining() if self.person else self.confirm_seconds

    def confirmed(self) -> None:
        """The person answered: an entry that does not wait for the person starts its own limit now."""
        if not self.person:
            self.deadline = time.monotonic() + self.seconds

    def expired(self, what: str) -> TimedOutError:
        waiting = " (the person may still be at the window on their desktop)" if self.person else ""
        return TimedOutError(
            f"PiecesOS did not finish {what} within {self.seconds:g} s, the {self.which} limit{waiting}; "
            f"try again, or raise {self.which} if it needs longer."
        )

    @contextmanager
    def bound(self, what: str) -> Iterator[None]:
        """Run the block within what is left; past the deadline, the sentence that names the limit."""
        # `anyio.fail_after`'s own rule on a cancel scope, written out: every tool call passes here, and
        # fail_after is two more context managers around the same scope.
        try:
            with anyio.CancelScope(deadline=anyio.current_time() + self.remaining()) as scope:
                yield
        except TimeoutError:
            raise self.expired(what) from None
        if scope.cancelled_caught and anyio.current_time() >= scope.deadline:
            raise self.expired(what)
