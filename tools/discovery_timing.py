"""How long discovery takes: PiecesOS on the last port of the range, and nothing running at all.

    python tools/discovery_timing.py [--runs 20]

Prints the median and the slowest of the runs for each case (the README quotes them).
"""

from __future__ import annotations

import argparse
import statistics
import time

import anyio
import httpx

from pieces_mcp.discovery import PORT_RANGE, discover
from pieces_mcp.simulator import start_in_thread


async def time_discovery(runs: int) -> list[float]:
    timings = []
    async with httpx.AsyncClient() as http:
        for _ in range(runs):
            started = time.perf_counter()
            await discover(http)
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def report(label: str, timings: list[float]) -> None:
    print(
        f"{label:<38} median {statistics.median(timings):6.1f} ms   max {max(timings):6.1f} ms   ({len(timings)} runs)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    report("nothing running", anyio.run(time_discovery, runs))
    simulator = start_in_thread(port=PORT_RANGE[-1])
    try:
        report(f"PiecesOS on the last port ({PORT_RANGE[-1]})", anyio.run(time_discovery, runs))
    finally:
        simulator.stop()


if __name__ == "__main__":
    main()
