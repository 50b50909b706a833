"""`tools/bench.py --quick` runs end to end and writes every section with real figures.

The run asks for the fewest start-ups and calls that still fill every section (the counts are checked against
what was asked); what `--quick` itself means, 3 start-ups and 100 calls, is checked on its arguments.

No timing is asserted: this machine is shared, so only the full run's same-run ratios mean anything.
pieces-mcp and raw httpx always run; a baseline whose package is not installed (the `bench` extra) is
skipped with the reason.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tools.bench import parse_arguments
from tools.benchkit import openapi

ROOT = Path(__file__).resolve().parents[2]
BASELINES = {"mcp-server-time": "mcp_server_time", "fastmcp-bridge": "fastmcp"}
MISSING = {name for name, module in BASELINES.items() if importlib.util.find_spec(module) is None}

pytestmark = [pytest.mark.timeout(300), pytest.mark.xdist_group("bench")]  # one quick run, on one worker
STARTUPS, CALLS = 1, 10


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    json_path = tmp_path_factory.mktemp("bench") / "bench.json"
    skips = [argument for name in sorted(MISSING) for argument in ("--skip", name)]
    command = [sys.executable, str(ROOT / "tools" / "bench.py"), "--quick", "--json", str(json_path), *skips]
    command += ["--startups", str(STARTUPS), "--calls", str(CALLS)]
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240, check=False)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert "| measure | pieces-mcp |" in finished.stdout
    loaded: dict[str, Any] = json.loads(json_path.read_text(encoding="utf-8"))
    return loaded


def positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def require(baseline: str) -> None:
    if baseline in MISSING:
        pytest.skip(f"{BASELINES[baseline]} is not installed: pip install -e '.[bench]' to compare with {baseline}")


def test_records_the_date_and_the_machine(report: dict[str, Any]) -> None:
    assert report["date"]
    assert report["machine"]["platform"] and report["machine"]["python"]
    assert positive(report["machine"]["cores"])
    assert report["machine"]["platform"] in report["table"]


def test_pieces_mcp_and_raw_httpx_have_every_section(report: dict[str, Any]) -> None:
    assert positive(report["startup_ms"]["pieces-mcp"]["median"])
    assert len(report["startup_ms"]["pieces-mcp"]["runs"]) == report["settings"]["startups"] == STARTUPS
    for name in ("pieces-mcp", "raw-httpx", "raw-httpx-sync"):
        figures = report["per_call_ms"][name]
        assert figures["n"] == report["settings"]["calls"] == CALLS
        assert all(positive(figures[key]) for key in ("p50", "p99", "mean"))
    assert positive(report["memory"]["peak_rss_mib"]["pieces-mcp"])
    concurrency = report["concurrency"]
    for section in ("no_delay", "delay_50ms"):
        assert sorted(concurrency[section], key=int) == ["1", "10", "100"]
        assert all(positive(value) for value in concurrency[section].values())
    assert all(positive(value) for value in concurrency["burst_100_delay_50ms"].values())


def test_quick_means_3_start_ups_and_100_calls() -> None:
    settings, _, _ = parse_arguments(["--quick"])
    assert (settings.startups, settings.calls) == (3, 100)
    settings, _, _ = parse_arguments(["--quick", "--startups", str(STARTUPS), "--calls", str(CALLS)])
    assert (settings.startups, settings.calls) == (STARTUPS, CALLS)


def test_judges_the_targets_that_need_no_baseline(report: dict[str, Any]) -> None:
    judged = {target["key"]: target for target in report["targets"]}
    for key in ("p50_overhead", "p99_overhead", "burst_100"):
        assert isinstance(judged[key]["met"], bool)
        assert f"{judged[key]['limit']:g}" in report["table"]


@pytest.mark.parametrize("baseline", sorted(BASELINES))
def test_baseline_has_every_section(report: dict[str, Any], baseline: str) -> None:
    require(baseline)
    assert baseline not in report["skipped"]
    assert positive(report["startup_ms"][baseline]["median"])
    assert positive(report["per_call_ms"][baseline]["p50"]) and positive(report["per_call_ms"][baseline]["p99"])
    assert positive(report["memory"]["peak_rss_mib"][baseline])
    keys = {target["key"] for target in report["targets"]}
    assert (
        {"startup_vs_time", "memory_vs_time"}
        if baseline == "mcp-server-time"
        else {"startup_vs_bridge", "overhead_vs_bridge"}
    ) <= keys


def test_the_bridges_openapi_document_is_the_one_made_from_the_reference() -> None:
    if not openapi.API_DIR.is_dir():
        pytest.skip(f"the reference API description is not at {openapi.API_DIR}")
    committed = json.loads(openapi.OPENAPI_PATH.read_text(encoding="utf-8"))
    assert committed == openapi.openapi_document(), "remake it: python tools/bench.py --write-openapi"
    assert len(committed["paths"]) == 10
