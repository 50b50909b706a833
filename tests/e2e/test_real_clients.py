"""Real clients read what `install` wrote and connect: Claude Code, Gemini CLI and Codex, with their own commands.

Each test makes a throwaway HOME holding a configuration with unrelated entries (another server, settings,
projects with history), runs `pieces-mcp install --client NAME -- --simulate` into the client's usual place
there, then asks the client itself: `claude mcp list`, `gemini mcp list` (before and after the folder is trusted),
and Codex's `app-server` JSON-RPC method `mcpServerStatus/list`. None of these needs a model or a login.

The clients are pinned in .tools/package.json with Node 22 (npm's `node` package: Claude Code's `engines` asks for
node >= 22, this machine kind ships 20); the README's test command installs them. Elsewhere the tests skip; on CI
(`CI` set) a missing client is a failure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

import pytest

from pieces_mcp import SERVER_NAME
from pieces_mcp.catalog import CATALOG, DEFAULT_TOOLSETS

pytestmark = pytest.mark.timeout(180)

TOOLS_BIN = Path(__file__).resolve().parents[2] / ".tools" / "node_modules" / ".bin"
OFFERED = sorted(endpoint.name for endpoint in CATALOG if endpoint.toolset in DEFAULT_TOOLSETS)

# Each client's documented switches for "do not call home": no auto-update, no telemetry, no error reports.
QUIET = {
    "DISABLE_AUTOUPDATER": "1",  # Claude Code (docs.claude.com/en/docs/claude-code/settings, environment variables)
    "DISABLE_TELEMETRY": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "GEMINI_TELEMETRY_ENABLED": "false",  # Gemini CLI (docs/cli/telemetry.md)
    "GEMINI_CLI_NO_RELAUNCH": "1",  # no second Node process with a bigger heap
    "NO_UPDATE_NOTIFIER": "1",
    "NO_COLOR": "1",
}


def client_binary(name: str) -> Path:
    found = TOOLS_BIN / name
    if found.exists():
        return found
    if os.environ.get("CI"):
        pytest.fail(f"CI must install {name} into .tools/ (the README's test command runs npm install --prefix .tools)")
    pytest.skip(f"{name} is not installed here (npm install --prefix .tools --no-save installs it)")


def home_env(tmp_path: Path) -> dict[str, str]:
    """A throwaway HOME and nothing of the real environment but what finding programs needs; Node 22 first."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {
        "HOME": str(home),
        "USERPROFILE": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "PATH": os.pathsep.join([str(TOOLS_BIN), str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        "LANG": "C.UTF-8",
        "TMPDIR": str(tmp_path),
        **QUIET,
    }


def install(client: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pieces_mcp", "install", "--client", client, "--", "--simulate"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stderr


def run(command: list[str], env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def line_of(listing: str, name: str) -> str:
    lines = [line for line in listing.splitlines() if line.lstrip("✓✗○✔✘ ").startswith(f"{name}:")]
    assert len(lines) == 1, listing
    return lines[0]


def other_server() -> dict[str, Any]:
    """An unrelated server of the person's, which must survive the install (it needs never start)."""
    return {"command": sys.executable, "args": ["-c", "pass"], "env": {"OTHER_TOKEN": "kept"}}


def test_claude_code_lists_the_installed_server_as_connected(tmp_path: Path) -> None:
    claude = client_binary("claude")
    env = home_env(tmp_path)
    project = tmp_path / "project"
    project.mkdir()
    existing = {
        "numStartups": 12,
        "hasCompletedOnboarding": True,
        "projects": {
            str(project): {"allowedTools": [], "history": [{"display": "fix the build", "pastedContents": {}}]}
        },
        "mcpServers": {"other": {"type": "stdio", **other_server()}},
    }
    config = Path(env["HOME"]) / ".claude.json"
    config.write_text(json.dumps(existing), encoding="utf-8")

    install("claude-code", env)
    data = json.loads(config.read_text(encoding="utf-8"))  # before Claude Code rewrites the file its own way
    assert {key: value for key, value in data.items() if key != "mcpServers"} == {
        key: value for key, value in existing.items() if key != "mcpServers"
    }

    listing = run([str(claude), "mcp", "list"], env, project)
    assert "Connected" in line_of(listing, SERVER_NAME) and "--simulate" in line_of(listing, SERVER_NAME)
    line_of(listing, "other")  # still configured (it exits at once, so it does not connect)


def test_gemini_cli_connects_once_the_folder_is_trusted(tmp_path: Path) -> None:
    gemini = client_binary("gemini")
    env = home_env(tmp_path)
    project = tmp_path / "project"
    project.mkdir()
    settings = Path(env["HOME"]) / ".gemini" / "settings.json"
    settings.parent.mkdir()
    unrelated = {
        "privacy": {"usageStatisticsEnabled": False},
        "general": {"disableAutoUpdate": True},
        "mcpServers": {"other": other_server()},
    }
    settings.write_text("// the person's own settings\n" + json.dumps(unrelated, indent=2), encoding="utf-8")

    install("gemini-cli", env)

    untrusted = run([str(gemini), "mcp", "list"], env, project)
    assert "Disabled" in line_of(untrusted, SERVER_NAME)  # Gemini holds every server back in an untrusted folder
    (settings.parent / "trustedFolders.json").write_text(json.dumps({str(project): "TRUST_FOLDER"}), encoding="utf-8")
    trusted = run([str(gemini), "mcp", "list"], env, project)
    assert "Connected" in line_of(trusted, SERVER_NAME)
    line_of(trusted, "other")
    assert settings.read_text(encoding="utf-8").startswith("// the person's own settings\n")


def rpc_answer(stdout: IO[str], request_id: int) -> dict[str, Any]:
    """Read Codex's lines until the answer to `request_id` (notifications come in between)."""
    for line in stdout:
        message = json.loads(line)
        if message.get("id") == request_id and "method" not in message:
            assert "error" not in message, message
            result: dict[str, Any] = message["result"]
            return result
    raise AssertionError(f"codex app-server closed stdout before answering request {request_id}")


def test_codex_app_server_reports_the_installed_server_with_its_tools(tmp_path: Path) -> None:
    codex = client_binary("codex")
    env = home_env(tmp_path)
    project = tmp_path / "project"
    project.mkdir()
    config = Path(env["HOME"]) / ".codex" / "config.toml"
    config.parent.mkdir()
    config.write_text(
        '# the person\'s settings\nmodel = "o3"\n\n[mcp_servers.other]\n'
        f'command = {json.dumps(sys.executable)}\nargs = ["-c", "pass"]\nenabled = false\n',
        encoding="utf-8",
    )

    install("codex-cli", env)

    server = subprocess.Popen(
        [str(codex), "app-server"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=project,
    )
    assert server.stdin is not None and server.stdout is not None
    try:
        requests = [
            {"id": 1, "method": "initialize", "params": {"clientInfo": {"name": "pieces-mcp-tests", "version": "1"}}},
            {"method": "initialized"},
            {"id": 2, "method": "mcpServerStatus/list", "params": {}},
        ]
        server.stdin.write(json.dumps(requests[0]) + "\n")
        server.stdin.flush()
        rpc_answer(server.stdout, 1)
        server.stdin.write("".join(json.dumps(request) + "\n" for request in requests[1:]))
        server.stdin.flush()
        statuses = {status["name"]: status for status in rpc_answer(server.stdout, 2)["data"]}
    finally:
        server.stdin.close()
        server.wait(timeout=30)
    ours = statuses[SERVER_NAME]
    assert ours["serverInfo"]["name"] == SERVER_NAME
    assert sorted(ours["tools"]) == OFFERED  # connected: it listed exactly the default offered tools
    assert 'model = "o3"' in config.read_text(encoding="utf-8")
