"""Each generation's own vendor client accepts everything the simulator says in that generation.

The seed's client (pieces-os-client 2.2.0) and PiecesOS 10's (4.0.4) need pydantic 1, today's (5.0.1)
pydantic 2: each lives in its own venv under ~/.cache/pieces-mcp-tests (or $XDG_CACHE_HOME), made once
and reused by later runs, so the test extra keeps its one pinned client. The probe runs in that venv
against a simulator of the generation and calls all ten OS endpoints; failing to build a venv is an
error, never a skip.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pieces_mcp.catalog import CATALOG, DEFAULT_TOOLSETS, GENERATIONS, Generation
from pieces_mcp.simulator import RunningSimulator, start_in_thread
from tests.support import control_http

pytestmark = pytest.mark.timeout(900)

VENDOR_CLIENTS: dict[Generation, str] = {"seed": "2.2.0", "v10": "4.0.4", "current": "5.0.1"}
PROBE = Path(__file__).with_name("vendor_probe.py")
FILES = ["/home/ada/notes/plan.md", "/home/ada/notes/ideas.md"]
FOLDERS = ["/home/ada/notes"]


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pieces-mcp-tests"


def vendor_python(version: str) -> Path:
    """The Python of a venv holding pieces-os-client==`version`, made on first use (one maker at a time)."""
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    venv = cache / f"vendor-{version}"
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    ready = venv / ".ready"  # written last: a venv whose install was interrupted is made again
    with open(cache / f"vendor-{version}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not ready.exists():
            shutil.rmtree(venv, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
            pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
            subprocess.run([*pip, f"pieces-os-client=={version}"], check=True, timeout=600)
            ready.write_text(version)
    return python


@pytest.fixture(scope="session", params=GENERATIONS)
def generation(request: pytest.FixtureRequest) -> Generation:
    chosen: Generation = request.param
    return chosen


@pytest.fixture(scope="session")
def probe_python(generation: Generation) -> Path:
    return vendor_python(VENDOR_CLIENTS[generation])


@pytest.fixture
def simulator(generation: Generation) -> Iterator[RunningSimulator]:
    with start_in_thread(api=generation) as running:
        state = {"picked_files": FILES, "picked_folders": FOLDERS, "restart_downtime_ms": 100}
        control_http().post(f"{running.url}/_simulator/state", json=state, timeout=10).raise_for_status()
        yield running


def probe(python: Path, url: str) -> dict[str, Any]:
    done = subprocess.run([str(python), str(PROBE), url], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    summary: dict[str, Any] = json.loads(done.stdout)
    return summary


def test_the_generations_vendor_client_parses_all_ten_endpoints(
    generation: Generation, probe_python: Path, simulator: RunningSimulator
) -> None:
    summary = probe(probe_python, simulator.url)

    assert summary["client_version"] == VENDOR_CLIENTS[generation]
    assert summary["health"].startswith("OK:") and summary["health_after_restart"].startswith("OK:")
    assert summary["device"]["name"] == "ada-workstation" and summary["device"]["version"] == summary["version"]
    if generation == "current":
        assert summary["device"]["hardware"]["ram"] == 65536 and len(summary["device"]["hardware"]["cpus"]) == 2
    else:
        assert summary["device"]["hardware"]["cpu"][1] == 65536 and summary["device"]["hardware"]["gpu"][1] is True
    assert summary["permissions"] is False and summary["permissions_request"] is True
    assert summary["update"] == "UP_TO_DATE"
    assert summary["pick_files"] == FILES and summary["pick_folders"] == FOLDERS
    assert summary["sign_in"] and summary["sign_out"] == [summary["sign_in"]]
    assert "github" in summary["link_provider"]
    assert summary["link_signed_out"] == 401
    assert summary["restart"] is None
    calls = control_http().get(f"{simulator.url}/_simulator/calls", timeout=10).json()
    # Every endpoint of the seed's ten, on the generation's own paths.
    assert {call["path"] for call in calls} == {
        endpoint.path_for(generation) for endpoint in CATALOG if endpoint.toolset in DEFAULT_TOOLSETS
    }
