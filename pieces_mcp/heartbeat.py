"""Progress notifications while a person is awaited, so a client that gives up on silence keeps waiting."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio

INTERVAL_S = 4.0  # under the 5 s some clients allow between progress notifications
Progress = Callable[[float, str], Awaitable[None]]
T = TypeVar("T")


async def with_heartbeat(work: Callable[[], Awaitable[T]], report: Progress | None, waiting_for: str) -> T:
    """`await work()`, reporting every INTERVAL_S seconds "Waiting for {waiting_for} (N s)" when a client listens."""
    if report is None:
        return await work()
    listener = report

    async def beat() -> None:
        started = time.monotonic()
        while True:
            await anyio.sleep(INTERVAL_S)
            waited = time.monotonic() - started
            await listener(waited, f"Waiting for {waiting_for} ({waited:.0f} s)")

    outcome: list[T] = []
    failure: list[Exception] = []
    async with anyio.create_task_group() as group:
        group.start_soon(beat)
        try:
            outcome.append(await work())
        except Exception as exc:  # raised below, outside the task group, which would wrap it in an ExceptionGroup
            failure.append(exc)
        group.cancel_scope.cancel()
    if failure:
        raise failure[0]
    return outcome[0]
