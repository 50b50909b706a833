"""The Claude Desktop extension: `mcpb validate`, `mcpb pack`, `mcpb unpack`, then the server started exactly as the
unpacked manifest says (command, args, env with the person's user_config substituted by the mcpb package itself),
and a tool call through it.

.ci/run installs mcpb into .tools/; elsewhere these tests skip (CI fails instead).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import tomlkit
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from tests.support import SimulatorProcess, structured, text_of

pytestmark = pytest.mark.timeout(300)

ROOT = Path(__file__).resolve().parents[2]
MCPB_PACKAGE = ROOT / ".tools" / "node_modules" / "@anthropic-ai" / "mcpb"
MCPB = ROOT / ".tools" / "node_modules" / ".bin" / "mcpb"
MANIFEST = json.loads((ROOT / "bundle" / "manifest.json").read_text(encoding="utf-8"))


def mcpb(*args: str) -> subprocess.CompletedProcess[str]:
    if not MCPB.exists():
        if os.environ.get("CI"):
            pytest.fail("CI must install mcpb (see .ci/run)")
        pytest.skip("mcpb is not installed here (.ci/run installs it into .tools/)")
    done = subprocess.run([str(MCPB), *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sys.path.insert(0, str(ROOT / "tools"))
    from build_bundle import assemble

    work = tmp_path_factory.mktemp("bundle")
    folder = assemble(work / "pieces-mcp")
    mcpb("validate", str(folder / "manifest.json"))
    packed = work / "pieces-mcp.mcpb"
    mcpb("pack", str(folder), str(packed))
    target = work / "unpacked"
    mcpb("unpack", str(packed), str(target))
    return target


def desktop_config(unpacked: Path, user_config: dict[str, Any]) -> dict[str, Any]:
    """What Claude Desktop would run: the mcpb package's own substitution of ${__dirname} and ${user_config.*}."""
    node = shutil.which("node")
    assert node, "Node is needed for mcpb"
    done = subprocess.run(
        [
            node,
            str(Path(__file__).with_name("mcp_config.mjs")),
            str(MCPB_PACKAGE / "dist" / "shared" / "config.js"),
            str(unpacked),
            json.dumps(user_config),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    config: dict[str, Any] = json.loads(done.stdout)
    return config


def test_manifest_version_is_the_packages() -> None:
    project = tomlkit.parse((ROOT / "pyproject.toml").read_text(encoding="utf-8")).unwrap()["project"]
    assert MANIFEST["version"] == project["version"]
    assert MANIFEST["license"] == project["license"]


def test_user_config_maps_to_the_settings_environment() -> None:
    env = MANIFEST["server"]["mcp_config"]["env"]
    assert env == {
        "PIECES_MCP_CONFIRM": "${user_config.confirm_mode}",
        "PIECES_MCP_ALLOW_TOOLS": "${user_config.allow_tools}",
        "PIECES_MCP_DENY_TOOLS": "${user_config.deny_tools}",
        "PIECES_MCP_READ_ONLY": "${user_config.read_only}",
    }
    assert set(MANIFEST["user_config"]) == {"confirm_mode", "allow_tools", "deny_tools", "read_only"}
    for mode in ("elicit", "client", "desktop", "deny", "allow"):
        assert mode in MANIFEST["user_config"]["confirm_mode"]["description"]


def test_unpacked_bundle_holds_the_manifest_and_the_project(unpacked: Path) -> None:
    assert json.loads((unpacked / "manifest.json").read_text(encoding="utf-8")) == MANIFEST
    assert (unpacked / "pyproject.toml").read_bytes() == (ROOT / "pyproject.toml").read_bytes()
    assert (unpacked / MANIFEST["server"]["entry_point"]).is_file()
    assert not list(unpacked.rglob("__pycache__"))


def test_defaults_substitute_to_the_servers_defaults(unpacked: Path) -> None:
    config = desktop_config(unpacked, {})
    assert config["env"] == {
        "PIECES_MCP_CONFIRM": "elicit",
        "PIECES_MCP_ALLOW_TOOLS": "",
        "PIECES_MCP_DENY_TOOLS": "",
        "PIECES_MCP_READ_ONLY": "false",
    }
    assert str(unpacked) in config["args"]


@pytest.mark.anyio
async def test_server_runs_as_the_manifest_says_and_answers_a_tool_call(
    unpacked: Path, simulator: SimulatorProcess
) -> None:
    """Started as Claude Desktop would start it, with a person's settings: read-only and a denied tool."""
    config = desktop_config(unpacked, {"confirm_mode": "deny", "deny_tools": "os_update_check", "read_only": True})
    assert config["env"]["PIECES_MCP_READ_ONLY"] == "true"
    # uv comes with the test extra (PyPI); the host would use its own. Nothing of this shell's PIECES_* settings.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    base = {key: value for key, value in os.environ.items() if not key.startswith("PIECES_")}
    env = {**base, "PATH": path, "PIECES_OS_URL": simulator.url, **config["env"]}
    params = StdioServerParameters(command=config["command"], args=config["args"], env=env)
    async with Client(stdio_client(params), mode="legacy") as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert names == {"os_device_information", "os_permissions"}  # read-only, minus the denied one
        result = await client.call_tool("os_device_information", {})
        assert structured(result)["version"] == "12.3.4-simulator", text_of(result)
    assert simulator.os_calls("/os/device/information")
