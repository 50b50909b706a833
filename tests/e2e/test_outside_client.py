"""An outside client: the MCP Inspector's CLI (TypeScript SDK) checks schemas and validates results.

.ci/run installs it into .tools/; elsewhere the tests skip unless MCP_INSPECTOR names the binary.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pieces_mcp.catalog import CATALOG, DEFAULT_TOOLSETS
from tests.support import SERVER_COMMAND, SimulatorProcess, server_env

pytestmark = pytest.mark.timeout(120)

LOCAL = Path(__file__).resolve().parents[2] / ".tools" / "node_modules" / ".bin" / "mcp-inspector"


def inspector() -> str:
    found = os.environ.get("MCP_INSPECTOR") or (str(LOCAL) if LOCAL.exists() else shutil.which("mcp-inspector"))
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("CI must install the MCP Inspector (see .ci/run)")
    pytest.skip("the MCP Inspector is not installed here (.ci/run installs it into .tools/)")


def inspect(simulator: SimulatorProcess, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    env_flags = [flag for key, value in settings.items() for flag in ("-e", f"{key}={value}")]
    return subprocess.run(
        [inspector(), "--cli", *args, *env_flags, *SERVER_COMMAND, "serve"],
        capture_output=True,
        text=True,
        timeout=90,
        env=server_env(simulator.url),
    )


def test_tool_schemas_pass_the_inspectors_strict_portability_check(simulator: SimulatorProcess) -> None:
    done = inspect(simulator, "--strict", "--method", "tools/list", PIECES_OS_URL=simulator.url)
    assert done.returncode == 0, done.stderr
    listed = [tool["name"] for tool in json.loads(done.stdout)["tools"]]
    assert listed == [endpoint.name for endpoint in CATALOG if endpoint.toolset in DEFAULT_TOOLSETS]


@pytest.mark.parametrize("tool", ["os_device_information", "os_permissions", "os_update_check", "pick_files"])
def test_results_validate_against_their_output_schema_in_another_sdk(simulator: SimulatorProcess, tool: str) -> None:
    done = inspect(
        simulator,
        "--method",
        "tools/call",
        "--tool-name",
        tool,
        PIECES_OS_URL=simulator.url,
        PIECES_MCP_CONFIRM="allow",
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["isError"] is False and result["structuredContent"]


def test_a_load_of_concurrent_calls_has_no_errors(simulator: SimulatorProcess) -> None:
    done = inspect(
        simulator,
        "--method",
        "tools/call",
        "--tool-name",
        "os_permissions",
        "--load",
        "--load-requests",
        "200",
        "--load-concurrency",
        "20",
        PIECES_OS_URL=simulator.url,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["ok"] == 200 and summary["errors"] == 0 and summary["toolErrors"] == 0
