"""The PiecesOS simulator and the servers under test: pieces-mcp and the baselines that can run here."""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tools.benchkit.driver import REQUEST_TIMEOUT_S, BenchError, StdioServer, kill_group
from tools.benchkit.openapi import OPENAPI_PATH

DEVICE_PATH = "/os/device/information"
DEVICE_TOOL = "os_device_information"
PIECES, TIME, BRIDGE = "pieces-mcp", "mcp-server-time", "fastmcp-bridge"
# Start-up only: every toolset offered, and the SDK alone (what any MCP server pays before its own code).
PIECES_ALL, FLOOR = "pieces-mcp --toolsets all", "import mcp.server"
# The raw baselines: httpx.AsyncClient, as pieces-mcp itself uses (the one the targets judge), and httpx.Client.
RAW, RAW_SYNC = "raw-httpx", "raw-httpx-sync"
PYCACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pieces-mcp-bench" / "pycache"

BRIDGE_SCRIPT = '''\
"""A generic OpenAPI-to-MCP bridge over PiecesOS's OS endpoints, written by tools/bench.py."""
import json
import math
import os
import sys

try:
    import httpx2 as http
except ImportError:  # an older fastmcp in another environment takes classic httpx
    import httpx as http
from fastmcp import FastMCP

with open(sys.argv[1], encoding="utf-8") as spec_file:
    spec = json.load(spec_file)
client = http.AsyncClient(base_url=os.environ["PIECES_OS_URL"], timeout=10.0, trust_env=False)
FastMCP.from_openapi(spec, client=client, name="pieces-os-openapi").run(transport="stdio", show_banner=False)
'''


@dataclass
class Simulator:
    url: str
    process: subprocess.Popen[bytes]
    http: httpx.Client

    def control(self, path: str, payload: dict[str, Any] | None = None) -> None:
        self.http.post(f"/_simulator/{path}", json=payload or {}).raise_for_status()


@contextlib.contextmanager
def simulator(cwd: Path) -> Iterator[Simulator]:
    process = subprocess.Popen(
        [sys.executable, "-m", "pieces_mcp", "simulator"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=cwd,
        env=clean_env(),
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        ready = select.select([process.stdout], [], [], REQUEST_TIMEOUT_S)[0]
        url = process.stdout.readline().decode().strip() if ready else ""
        if not url.startswith("http://"):
            raise BenchError(f"the simulator did not print its URL within {REQUEST_TIMEOUT_S:g} s: {url!r}")
        with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT_S, trust_env=False) as http:
            yield Simulator(url, process, http)
    finally:
        kill_group(process)


def clean_env(**extra: str) -> dict[str, str]:
    """This shell's environment without its PIECES_* settings, so every server runs its defaults.

    Bytecode is cached for every server alike in one folder of ours: with PYTHONDONTWRITEBYTECODE set (as
    here), a source tree edited since its last compile would be compiled again at every start-up, which an
    installed package never is.
    """
    dropped = ("PIECES_", "FASTMCP_", "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")
    env = {key: value for key, value in os.environ.items() if not key.startswith(dropped)}
    return {**env, "PYTHONPYCACHEPREFIX": str(PYCACHE), **extra}


@dataclass(frozen=True)
class Target:
    name: str
    argv: list[str]
    env: dict[str, str]
    tool: str
    arguments: dict[str, Any]

    def start(self, cwd: Path) -> StdioServer:
        return StdioServer(self.name, self.argv, self.env, cwd)


def targets(url: str, work: Path, bridge_python: str, skip: set[str]) -> tuple[dict[str, Target], dict[str, str]]:
    """The servers that can run here, and why each other one is skipped."""
    found = {
        PIECES: Target(
            PIECES, [sys.executable, "-m", "pieces_mcp", "serve"], clean_env(PIECES_OS_URL=url), DEVICE_TOOL, {}
        ),
        TIME: Target(
            TIME, [sys.executable, "-m", "mcp_server_time"], clean_env(), "get_current_time", {"timezone": "UTC"}
        ),
    }
    spec_path, script_path = work / "pieces-os-openapi.json", work / "openapi_bridge.py"
    spec = {**json.loads(OPENAPI_PATH.read_text(encoding="utf-8")), "servers": [{"url": url}]}
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    script_path.write_text(BRIDGE_SCRIPT, encoding="utf-8")
    bridge_env = clean_env(PIECES_OS_URL=url, FASTMCP_CHECK_FOR_UPDATES="off", FASTMCP_LOG_LEVEL="WARNING")
    found[BRIDGE] = Target(BRIDGE, [bridge_python, str(script_path), str(spec_path)], bridge_env, DEVICE_TOOL, {})
    missing = {TIME: (sys.executable, "mcp_server_time"), BRIDGE: (bridge_python, "fastmcp")}
    skipped: dict[str, str] = {name: "skipped with --skip" for name in skip}
    for name, (python, module) in missing.items():
        if name not in skipped and not importable(python, module):
            skipped[name] = f"{module} is not importable by {python}: pip install -e '.[bench]'"
    return {name: target for name, target in found.items() if name not in skipped}, skipped


def startup_only(url: str) -> dict[str, Target]:
    """pieces-mcp with every toolset, timed like the servers, but not in the per-call and burst phases."""
    argv = [sys.executable, "-m", "pieces_mcp", "serve", "--toolsets", "all"]
    return {PIECES_ALL: Target(PIECES_ALL, argv, clean_env(PIECES_OS_URL=url), DEVICE_TOOL, {})}


def importable(python: str, module: str) -> bool:
    try:
        check = subprocess.run(
            [python, "-c", f"import {module}"], capture_output=True, env=clean_env(), timeout=120, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return check.returncode == 0
