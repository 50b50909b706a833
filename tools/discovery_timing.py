"""How long discovery takes: nothing running, PiecesOS on the last port of the range, PiecesOS announced
by its port file.

    python tools/discovery_timing.py [--runs 20]

Prints the median and the slowest of the runs for each case (the README quotes them). HOME points at a
temporary directory throughout (an injected `Machine`), so a real PiecesOS port file on this machine does not
count; the ports are the real ones, since their cost is what is measured.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import anyio
import httpx

from pieces_mcp.discovery import SCAN_PORTS, Machine, discover
from pieces_mcp.simulator import start_in_thread


async def time_discovery(runs: int, machine: Machine) -> list[float]:
    timings = []
    async with httpx.AsyncClient() as http:
        for _ in range(runs):
            started = time.perf_counter()
            await discover(http, machine)
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
    with tempfile.TemporaryDirectory() as home:
        machine = Machine(Path(home))
        report("nothing running", anyio.run(time_discovery, runs, machine))
        with start_in_thread(port=SCAN_PORTS[-1]):
            report(f"PiecesOS on the last port ({SCAN_PORTS[-1]})", anyio.run(time_discovery, runs, machine))
        with start_in_thread(port=0) as announced:
            port_file = machine.port_files()[0]
            port_file.parent.mkdir(parents=True)
            port_file.write_text(str(announced.port))
            report("PiecesOS announced by its port file", anyio.run(time_discovery, runs, machine))


if __name__ == "__main__":
    main()
