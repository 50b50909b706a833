"""Start-up and per-call measurements, and the statistics every figure is given as.

The machine is shared and noisy, so every figure is a median or a percentile over repeated runs, and the targets
are interleaved (start-ups round-robin, calls in alternating blocks) so that a burst of noise lands on all of them
rather than on one.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tools.benchkit.driver import REQUEST_TIMEOUT_S, BenchError, StdioServer
from tools.benchkit.targets import DEVICE_PATH, FLOOR, Target, clean_env

FLOOR_SCRIPT = "import mcp.server, os; os._exit(0)"
BLOCK = 50  # calls per target before switching to the next one in the per-call phase


@dataclass
class Settings:
    startups: int
    calls: int
    warmup: int
    bursts: int
    skip: set[str] = field(default_factory=set)
    bridge_python: str = sys.executable


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), without numpy."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def spread(samples_ms: list[float]) -> dict[str, float]:
    return {
        "p50": statistics.median(samples_ms),
        "p99": percentile(samples_ms, 0.99),
        "mean": statistics.fmean(samples_ms),
        "n": len(samples_ms),
    }


@contextlib.contextmanager
def quiet_gc() -> Iterator[None]:
    """No collector pause of the driver inside a timed stretch (it would land on one target at random)."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def measure_startups(servers: dict[str, Target], runs: int, cwd: Path) -> dict[str, dict[str, Any]]:
    """Spawn to `tools/list` answered; round-robin over the servers and the SDK's floor, after one warm-up each.

    The floor is `python -c "import mcp.server"` in the same interpreter: the import every MCP server built
    on the SDK pays, so what a server adds above the SDK is its figure minus this one. It ends with `os._exit`:
    a server is timed up to its answer, not its exit, so the floor must not pay the interpreter's shutdown
    either (about 20 ms of finalising the SDK's 580 modules, which put the floor above the servers).
    """
    samples: dict[str, list[float]] = {name: [] for name in [*servers, FLOOR]}
    for run in range(runs + 1):
        for name, target in servers.items():
            started = time.perf_counter()
            with target.start(cwd) as server:
                server.initialize()
                tools = server.request("tools/list")["tools"]
                elapsed_ms = (time.perf_counter() - started) * 1000
            if not any(tool["name"] == target.tool for tool in tools):
                raise BenchError(f"{name} does not list {target.tool}")
            if run:
                samples[name].append(elapsed_ms)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", FLOOR_SCRIPT], cwd=cwd, env=clean_env(), check=True)
        if run:
            samples[FLOOR].append((time.perf_counter() - started) * 1000)
    return {name: {"median": statistics.median(runs_ms), "runs": runs_ms} for name, runs_ms in samples.items()}


Timer = Callable[[int], list[float]]  # runs n calls in a row, returns each one's latency in ms


def measure_calls(timers: dict[str, Timer], calls: int, warmup: int) -> dict[str, dict[str, float]]:
    """Sequential calls in alternating blocks of BLOCK per target, so noise spreads over all of them."""
    for timer in timers.values():
        timer(warmup)
    samples: dict[str, list[float]] = {name: [] for name in timers}
    with quiet_gc():
        for start in range(0, calls, BLOCK):
            for name, timer in timers.items():
                samples[name] += timer(min(BLOCK, calls - start))
    return {name: spread(values) for name, values in samples.items()}


def timed(call: Callable[[], object]) -> Timer:
    def timer(n: int) -> list[float]:
        latencies = []
        for _ in range(n):
            started = time.perf_counter_ns()
            call()
            latencies.append((time.perf_counter_ns() - started) / 1e6)
        return latencies

    return timer


def tool_timer(server: StdioServer, target: Target) -> Timer:
    return timed(lambda: server.call(target.tool, target.arguments))


@contextlib.contextmanager
def raw_async_timer(url: str) -> Iterator[Timer]:
    """An httpx.AsyncClient GET, each timed inside one event loop (a loop start per call would be charged)."""
    loop = asyncio.new_event_loop()
    client = httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT_S, trust_env=False)

    async def block(n: int) -> list[float]:
        latencies = []
        for _ in range(n):
            started = time.perf_counter_ns()
            (await client.get(DEVICE_PATH)).raise_for_status()
            latencies.append((time.perf_counter_ns() - started) / 1e6)
        return latencies

    try:
        yield lambda n: loop.run_until_complete(block(n))
    finally:
        loop.run_until_complete(client.aclose())
        loop.close()
