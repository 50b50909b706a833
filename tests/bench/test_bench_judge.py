"""The burst target: 100 in flight at a 50 ms backend, ≤ ×1.25 of 100 concurrent raw httpx GETs in the same run."""

from __future__ import annotations

from typing import Any

from tools.benchkit.report import judge


def report(burst_ms: float, raw_burst_ms: float) -> dict[str, Any]:
    """A run with only pieces-mcp and raw httpx; one call at the delayed backend takes 55 ms."""
    figures = {"p50": 1.0, "p99": 2.0, "mean": 1.2, "n": 100}
    return {
        "startup_ms": {"pieces-mcp": {"median": 800.0, "runs": [800.0]}},
        "per_call_ms": {"pieces-mcp": figures, "raw-httpx": figures, "raw-httpx-sync": figures},
        "memory": {"calls": 110, "peak_rss_mib": {"pieces-mcp": 70.0}},
        "concurrency": {
            "burst_100_delay_50ms": {
                "wall_ms": burst_ms,
                "raw_httpx_wall_ms": raw_burst_ms,
                "ratio": burst_ms / raw_burst_ms,
                "single_call_ms": 55.0,
            }
        },
    }


def burst_verdict(burst_ms: float, raw_burst_ms: float) -> dict[str, Any]:
    return next(target for target in judge(report(burst_ms, raw_burst_ms)) if target["key"] == "burst_100")


def test_a_burst_at_a_quarter_over_raw_httpx_meets_the_target_though_it_is_nine_single_calls() -> None:
    verdict = burst_verdict(500.0, 400.0)
    assert (verdict["value"], verdict["limit"], verdict["met"]) == (1.25, 1.25, True)


def test_a_burst_just_past_a_quarter_over_raw_httpx_misses_the_target() -> None:
    verdict = burst_verdict(501.0, 400.0)
    assert verdict["met"] is False
    assert "raw httpx.AsyncClient" in verdict["what"]
