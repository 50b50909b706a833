"""pieces-mcp against its baselines, side by side in one run, against one PiecesOS simulator.

    python tools/bench.py [--quick] [--json bench-results.json] [--startups 15] [--calls 1000]

Prints the machine and one Markdown table (figures, ratios, targets met or missed) and writes the same as
JSON. The numbers are only comparable within one run: the machine is shared and noisy, so every figure is
a median or a percentile over repeated runs, and the targets are interleaved (start-ups round-robin, calls
in alternating blocks, bursts in turns) so that a burst of noise lands on all of them rather than on one.

What is measured, and against what:
1. start-up: spawn to the answer to `tools/list` (after `initialize`) of `python -m pieces_mcp serve`, of
   `python -m mcp_server_time` (the MCP project's reference Python server) and of a generic OpenAPI-to-MCP
   bridge (`fastmcp`'s `FastMCP.from_openapi`) over the same ten endpoints, described by
   tools/pieces-os-openapi.json (made from tools/pieces-os-api's endpoints.json and models.json);
2. per call: p50/p99 of `os_device_information` through MCP (pieces-mcp, the bridge) and of a raw keep-alive
   httpx GET of the same endpoint; the difference is what MCP and the server add. The targets are judged
   against `httpx.AsyncClient`, the client pieces-mcp is built on (the same HTTP work, in the same kind of
   event loop); `httpx.Client`, about half a millisecond faster here, is shown beside it;
3. concurrency: pieces-mcp's throughput with 1, 10 and 100 requests pipelined on one stdio connection, with
   and without a 50 ms backend delay, and the wall time of 100 in flight at a 50 ms backend against 100
   concurrent raw httpx.AsyncClient GETs measured in the same run (the floor for any server built on httpx);
4. memory: peak RSS (VmHWM) of each server, read just before it is closed, after the per-call phase.

Every server is driven by the same raw JSON-RPC-over-pipes driver (tools/benchkit/driver.py, no MCP client
library), so no server is charged for a client library the others do not pay for. The modules: driver.py
(the stdio driver), targets.py (the simulator, the servers and baselines), openapi.py (the bridge's document),
measure.py (start-up, per call), concurrency.py (pipelining, bursts), report.py (the targets and the table).

Baselines come from the `bench` extra (`pip install -e ".[bench]"`) and are skipped, with the reason in the
output, when not installed. fastmcp 4.x (fastmcp-slim 4.2.3 requires `mcp>=2.3.0,<3`, checked with
`pip install --dry-run`) installs beside mcp 2.3 in the project's environment, so no separate virtualenv is
needed; `--bridge-python` runs the bridge under another interpreter should a later fastmcp need one. The
bridge gets an `httpx2.AsyncClient` (the httpx fork mcp 2.x and fastmcp 4 use; a legacy `httpx` client
would go through fastmcp's deprecation shim instead of its normal path).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python tools/bench.py`: the checkout's root, so `tools.benchkit` imports
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from tools.benchkit.concurrency import DELAY_MS, measure_concurrency
from tools.benchkit.driver import REQUEST_TIMEOUT_S, BenchError
from tools.benchkit.measure import Settings, measure_calls, measure_startups, raw_async_timer, timed, tool_timer
from tools.benchkit.openapi import API_DIR, OPENAPI_PATH, openapi_document
from tools.benchkit.report import judge, markdown
from tools.benchkit.targets import BRIDGE, DEVICE_PATH, PIECES, RAW, RAW_SYNC, TIME, simulator, startup_only, targets


def run(settings: Settings) -> dict[str, Any]:
    report: dict[str, Any] = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    report["machine"] = {
        "platform": platform.platform(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "versions": package_versions(),
    }
    report["settings"] = {
        "startups": settings.startups,
        "calls": settings.calls,
        "warmup": settings.warmup,
        "bursts": settings.bursts,
        "delay_ms": DELAY_MS,
    }
    with tempfile.TemporaryDirectory(prefix="pieces-bench-") as folder, contextlib.ExitStack() as stack:
        work = Path(folder)
        sim = stack.enter_context(simulator(work))
        servers, skipped = targets(sim.url, work, settings.bridge_python, settings.skip)
        report["skipped"] = skipped
        sim.control("reset")
        report["startup_ms"] = measure_startups({**servers, **startup_only(sim.url)}, settings.startups, work)

        sim.control("reset")
        running = {name: stack.enter_context(target.start(work)) for name, target in servers.items()}
        for server in running.values():
            server.initialize()
        raw = stack.enter_context(httpx.Client(base_url=sim.url, timeout=REQUEST_TIMEOUT_S, trust_env=False))
        timers = {
            RAW: stack.enter_context(raw_async_timer(sim.url)),
            RAW_SYNC: timed(lambda: raw.get(DEVICE_PATH).raise_for_status()),
        }
        timers.update({name: tool_timer(server, servers[name]) for name, server in running.items()})
        report["per_call_ms"] = measure_calls(timers, settings.calls, settings.warmup)
        report["memory"] = {
            "calls": settings.calls + settings.warmup,
            "peak_rss_mib": {name: server.peak_rss_kib() / 1024 for name, server in running.items()},
        }
        for server in running.values():
            server.close()

        sim.control("reset")
        report["concurrency"] = measure_concurrency(sim, servers[PIECES], settings, work)
    report["targets"] = judge(report)
    return report


def package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("pieces-mcp", "mcp", "httpx", "httpx2", "fastmcp", "mcp-server-time"):
        with contextlib.suppress(PackageNotFoundError):
            found[name] = version(name)
    return found


def parse_arguments(argv: list[str] | None) -> tuple[Settings, Path, bool]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 start-ups and 100 calls: a smoke run, not figures")
    parser.add_argument("--startups", type=int, help="timed start-ups per server (default 15, quick 3)")
    parser.add_argument("--calls", type=int, help="calls per target and per concurrency level (default 1000)")
    parser.add_argument("--json", type=Path, default=Path("bench-results.json"), help="where to write the JSON")
    parser.add_argument("--skip", action="append", choices=(TIME, BRIDGE), default=[], help="leave a baseline out")
    parser.add_argument("--bridge-python", default=sys.executable, help="interpreter that has fastmcp")
    parser.add_argument(
        "--write-openapi", action="store_true", help=f"remake {OPENAPI_PATH.name} from {API_DIR} and stop"
    )
    args = parser.parse_args(argv)
    calls = args.calls or (100 if args.quick else 1000)
    settings = Settings(
        startups=args.startups or (3 if args.quick else 15),
        calls=calls,
        warmup=min(100, max(10, calls // 10)),
        bursts=2 if args.quick else 9,
        skip=set(args.skip),
        bridge_python=args.bridge_python,
    )
    if settings.startups < 1 or settings.calls < 1:
        parser.error("--startups and --calls must be positive")
    return settings, args.json, args.write_openapi


def main(argv: list[str] | None = None) -> int:
    settings, json_path, write_openapi = parse_arguments(argv)
    if write_openapi:
        OPENAPI_PATH.write_text(json.dumps(openapi_document(), indent=2) + "\n", encoding="utf-8")
        return 0
    # A SIGTERM unwinds like Ctrl-C, so the context managers kill every child.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        report = run(settings)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    report["table"] = markdown(report)
    print(report["table"])
    json_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\n(JSON: {json_path})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
