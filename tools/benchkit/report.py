"""The issue's targets judged from a report, and the report as the Markdown table the README shows."""

from __future__ import annotations

import math
from typing import Any

from tools.benchkit.concurrency import BURST, DELAY_MS, LEVELS
from tools.benchkit.targets import BRIDGE, DEVICE_TOOL, FLOOR, PIECES, PIECES_ALL, RAW, RAW_SYNC, TIME


def judge(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, each as measured value vs limit; a target whose baseline was skipped is left out."""
    startup = {name: figures["median"] for name, figures in report["startup_ms"].items()}
    calls = report["per_call_ms"]
    rss = report["memory"]["peak_rss_mib"]
    found: list[dict[str, Any]] = []

    def add(key: str, what: str, value: float, limit: float, unit: str) -> None:
        found.append({"key": key, "what": what, "value": value, "limit": limit, "unit": unit, "met": value <= limit})

    if TIME in startup:
        add("startup_vs_time", "start-up vs mcp-server-time", startup[PIECES] / startup[TIME], 1.00, "x")
        if PIECES_ALL in startup:
            all_sets = startup[PIECES_ALL] / startup[TIME]
            add("startup_all_vs_time", "start-up, --toolsets all, vs mcp-server-time", all_sets, 1.05, "x")
    if BRIDGE in startup:
        add("startup_vs_bridge", "start-up vs fastmcp bridge", startup[PIECES] / startup[BRIDGE], 0.70, "x")
    add("p50_overhead", "per-call p50 over raw httpx.AsyncClient", calls[PIECES]["p50"] - calls[RAW]["p50"], 0.5, "ms")
    add("p99_overhead", "per-call p99 over raw httpx.AsyncClient", calls[PIECES]["p99"] - calls[RAW]["p99"], 2.0, "ms")
    if BRIDGE in calls:
        ours, theirs = (calls[name]["p50"] - calls[RAW]["p50"] for name in (PIECES, BRIDGE))
        # A bridge no slower than raw HTTP would make any overhead of ours infinitely worse.
        add("overhead_vs_bridge", "p50 overhead vs the bridge's", ours / theirs if theirs > 0 else math.inf, 0.70, "x")
    burst = report["concurrency"]["burst_100_delay_50ms"]
    raw_burst = f"{BURST} concurrent raw httpx.AsyncClient GETs"
    add("burst_100", f"{BURST} in flight, {DELAY_MS} ms backend, vs {raw_burst}", burst["ratio"], 1.25, "x")
    if TIME in rss:
        add("memory_vs_time", "peak memory vs mcp-server-time", rss[PIECES] / rss[TIME], 1.00, "x")
    return found


def markdown(report: dict[str, Any]) -> str:
    """The machine, then one table: pieces-mcp's figure, the baseline's, their ratio or difference, the target."""
    machine, settings, concurrency = report["machine"], report["settings"], report["concurrency"]
    startup = {name: figures["median"] for name, figures in report["startup_ms"].items()}
    p50 = {name: figures["p50"] for name, figures in report["per_call_ms"].items()}
    p99 = {name: figures["p99"] for name, figures in report["per_call_ms"].items()}
    rss, burst = report["memory"]["peak_rss_mib"], concurrency["burst_100_delay_50ms"]
    verdicts = {target["key"]: target for target in report["targets"]}

    def judged(key: str) -> list[str]:
        if key not in verdicts:
            return ["—", "—", "skipped"]
        target = verdicts[key]
        ratio = target["unit"] == "x"
        shown = f"×{target['value']:.2f}" if ratio else f"{target['value']:+.2f} ms"
        limit = f"≤ ×{target['limit']:.2f}" if ratio else f"≤ +{target['limit']:g} ms"
        return [shown, limit, "**met**" if target["met"] else "**missed**"]

    def of(figures: dict[str, float], name: str, digits: int = 2) -> str:
        return f"{figures[name]:.{digits}f}" if name in figures else "skipped"

    def levels(section: str) -> str:
        return " / ".join(f"{concurrency[section][str(level)]:.0f}" for level in LEVELS)

    info = ["", "", "info"]

    def above(name: str) -> str:
        return f"+{startup[name] - startup[FLOOR]:.0f}" if name in startup and FLOOR in startup else "skipped"

    n = settings["calls"]
    rows = [
        [f"start-up to `tools/list`, median of {settings['startups']} (ms)", of(startup, PIECES, 0),
         f"mcp-server-time {of(startup, TIME, 0)}", *judged("startup_vs_time")],
        ["start-up, `--toolsets all` (ms)", of(startup, PIECES_ALL, 0), f"mcp-server-time {of(startup, TIME, 0)}",
         *judged("startup_all_vs_time")],
        ["the SDK's floor, `python -c \"import mcp.server\"` (ms)", of(startup, FLOOR, 0),
         f"above it: pieces-mcp {above(PIECES)}, mcp-server-time {above(TIME)}", *info],
        ["start-up (ms)", of(startup, PIECES, 0), f"fastmcp bridge {of(startup, BRIDGE, 0)}",
         *judged("startup_vs_bridge")],
        [f"`{DEVICE_TOOL}` p50, {n} sequential calls (ms)", of(p50, PIECES),
         f"raw httpx.AsyncClient GET {of(p50, RAW)} (httpx.Client {of(p50, RAW_SYNC)})", *judged("p50_overhead")],
        [f"`{DEVICE_TOOL}` p99, {n} sequential calls (ms)", of(p99, PIECES),
         f"raw httpx.AsyncClient GET {of(p99, RAW)} (httpx.Client {of(p99, RAW_SYNC)})", *judged("p99_overhead")],
        ["p50 overhead over raw httpx.AsyncClient (ms)", f"{p50[PIECES] - p50[RAW]:.2f}",
         f"fastmcp bridge {of(p50, BRIDGE)} − {of(p50, RAW)}", *judged("overhead_vs_bridge")],
        ["p50 overhead over raw httpx.Client, sync (ms)", f"{p50[PIECES] - p50[RAW_SYNC]:.2f}",
         "not judged: pieces-mcp runs on httpx.AsyncClient", *info],
        ["baselines' tools, p50 / p99 (ms)", "",
         f"bridge {of(p50, BRIDGE)} / {of(p99, BRIDGE)}; mcp-server-time {of(p50, TIME)} / {of(p99, TIME)}", *info],
        ["throughput, 1 / 10 / 100 in flight (calls/s)", levels("no_delay"), "", *info],
        [f"throughput, {DELAY_MS} ms backend, 1 / 10 / 100 in flight (calls/s)", levels("delay_50ms"), "", *info],
        [f"{BURST} in flight, {DELAY_MS} ms backend: wall, median of {settings['bursts']} (ms)",
         f"{burst['wall_ms']:.0f}", f"{BURST} concurrent raw httpx.AsyncClient GETs {burst['raw_httpx_wall_ms']:.0f}",
         *judged("burst_100")],
        [f"one call, {DELAY_MS} ms backend, median (ms)", f"{burst['single_call_ms']:.1f}", "", *info],
        [f"peak RSS (VmHWM) after {report['memory']['calls']} calls (MiB)", of(rss, PIECES, 1),
         f"mcp-server-time {of(rss, TIME, 1)}; bridge {of(rss, BRIDGE, 1)}", *judged("memory_vs_time")],
    ]  # fmt: skip
    versions = ", ".join(f"{name} {version}" for name, version in machine["versions"].items())
    return "\n".join(
        [
            f"pieces-mcp benchmark, {report['date']}",
            f"machine: {machine['platform']}, {machine['cores']} cores, Python {machine['python']}; {versions}",
            *(f"skipped {name}: {why}" for name, why in report["skipped"].items()),
            "",
            "| measure | pieces-mcp | compared with | ratio / difference | target | result |",
            "|---|---|---|---|---|---|",
            *("| " + " | ".join(row) + " |" for row in rows),
        ]
    )
