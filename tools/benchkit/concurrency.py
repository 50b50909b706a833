"""Concurrency: calls pipelined on one stdio connection, and 100 in flight against raw httpx's floor.

The burst is judged against 100 concurrent raw `httpx.AsyncClient` GETs measured in the same run, in turns with
pieces-mcp's bursts: on two cores the client and the simulator already share the machine, so even without MCP
100 concurrent calls take several times one call, and "×2 of one call" would measure the machine, not the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from pieces_mcp.client import POOL_LIMITS
from tools.benchkit.driver import REQUEST_TIMEOUT_S, StdioServer
from tools.benchkit.measure import Settings, quiet_gc
from tools.benchkit.targets import DEVICE_PATH, Simulator, Target

DELAY_MS = 50
LEVELS = (1, 10, 100)
BURST = 100  # calls in flight in the judged burst


def pipelined(server: StdioServer, target: Target, in_flight: int, total: int) -> tuple[float, list[float]]:
    """`total` calls keeping `in_flight` outstanding: (wall seconds, each call's latency in ms)."""
    sent_at: dict[int, float] = {}
    latencies: list[float] = []
    sent = 0

    def send_next() -> None:
        nonlocal sent
        message = server.call_message(target.tool, target.arguments)
        sent_at[message["id"]] = time.perf_counter()
        server.send(message)
        sent += 1

    started = time.perf_counter()
    deadline = time.monotonic() + REQUEST_TIMEOUT_S + total  # generous: even one call per second ends
    with quiet_gc():
        for _ in range(min(in_flight, total)):
            send_next()
        while len(latencies) < total:
            message = server.read(deadline)
            began = sent_at.pop(message.get("id", -1), None)
            if began is None:
                continue
            server.checked(message)
            latencies.append((time.perf_counter() - began) * 1000)
            if sent < total:
                send_next()
    return time.perf_counter() - started, latencies


def measure_concurrency(sim: Simulator, target: Target, settings: Settings, cwd: Path) -> dict[str, Any]:
    """pieces-mcp with 1, 10 and 100 calls in flight on one connection, with and without a 50 ms backend."""
    normal_body = sim.http.get(DEVICE_PATH).raise_for_status().text
    result: dict[str, Any] = {"no_delay": {}, "delay_50ms": {}}
    with target.start(cwd) as server, raw_async_burster(sim.url) as raw_burst:
        server.initialize()
        pipelined(server, target, 10, settings.warmup)
        for level in LEVELS:
            wall, _ = pipelined(server, target, level, settings.calls)
            result["no_delay"][str(level)] = settings.calls / wall
        delay = {"status": 200, "body": normal_body, "content_type": "application/json", "times": 0}
        sim.control("faults", {"path": DEVICE_PATH, **delay, "delay_ms": DELAY_MS})
        try:
            single_ms: float | None = None
            for level in LEVELS:
                # Fewer calls at low levels: at 50 ms each, a thousand in a row would take a minute.
                total = min(settings.calls, max(40, 20 * level))
                wall, latencies = pipelined(server, target, level, total)
                result["delay_50ms"][str(level)] = total / wall
                single_ms = statistics.median(latencies) if level == 1 else single_ms
            raw_burst()  # warm-up: the raw client opens its connections, as pieces-mcp's did above
            bursts: list[float] = []
            raw_bursts: list[float] = []
            for _ in range(settings.bursts):  # in turns, so noise lands on both
                bursts.append(pipelined(server, target, BURST, BURST)[0] * 1000)
                raw_bursts.append(raw_burst())
        finally:
            sim.control("reset")
    assert single_ms is not None
    wall_ms, raw_ms = statistics.median(bursts), statistics.median(raw_bursts)
    result["burst_100_delay_50ms"] = {
        "wall_ms": wall_ms,
        "raw_httpx_wall_ms": raw_ms,
        "ratio": wall_ms / raw_ms,  # the judged figure: pieces-mcp's burst over raw httpx's, same run
        "single_call_ms": single_ms,
    }
    return result


@contextlib.contextmanager
def raw_async_burster(url: str) -> Iterator[Callable[[], float]]:
    """The floor under pieces-mcp's burst: 100 concurrent httpx.AsyncClient GETs, no MCP, pieces-mcp's pool limits.

    Each burst's wall time in ms; one event loop and one client for all of them (a loop start would be charged).
    """
    loop = asyncio.new_event_loop()
    client = httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT_S, trust_env=False, limits=POOL_LIMITS)

    async def burst() -> float:
        started = time.perf_counter()
        responses = await asyncio.gather(*(client.get(DEVICE_PATH) for _ in range(BURST)))
        for response in responses:
            response.raise_for_status()
        return (time.perf_counter() - started) * 1000

    def timed_burst() -> float:
        with quiet_gc():  # as pipelined() does for pieces-mcp's burst
            return loop.run_until_complete(burst())

    try:
        yield timed_burst
    finally:
        loop.run_until_complete(client.aclose())
        loop.close()
