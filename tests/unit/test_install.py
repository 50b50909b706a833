"""`pieces-mcp install`: real files under tmp_path for every client, real processes for the CLI and concurrency."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
import tomlkit
from ruamel.yaml import YAML

from pieces_mcp.install import CLIENT_LIST, CLIENTS, SERVER_NAME, Format, config_path, configured_clients, run_install
from pieces_mcp.install.entry import is_temporary, launch_command, person_arguments
from pieces_mcp.install.installer import apply, plan_install
from pieces_mcp.install.json_file import strip_jsonc
from pieces_mcp.install.manual import raycast_link, warp_json

FILE_CLIENTS = [client.name for client in CLIENT_LIST if client.format is not Format.MANUAL]
COMMAND, LAUNCHER = launch_command()


def parse(client: str, text: str) -> Any:
    """The file as the client would read it, through an independent parser for its format."""
    fmt = CLIENTS[client].format
    if fmt is Format.TOML:
        return tomlkit.parse(text).unwrap()
    if fmt is Format.YAML:
        return YAML(typ="safe").load(text)
    return json.loads(strip_jsonc(text))


def entry_in(client: str, path: Path) -> Any:
    data = parse(client, path.read_text(encoding="utf-8"))
    for key in CLIENTS[client].servers:
        data = data[key]
    return data[SERVER_NAME]


def backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob(path.name + ".*.bak"))


def test_clients_are_the_vendors_setup_plus_gemini_and_codex() -> None:
    # pieces-app/cli-agent src/pieces/mcp/handler.py: vscode goose cursor claude windsurf zed shortwave claude_code
    # raycast warp (and Kiro, which its newer releases add), then the two big terminal agents.
    assert [client.name for client in CLIENT_LIST] == [
        "vscode",
        "goose",
        "cursor",
        "claude-desktop",
        "windsurf",
        "zed",
        "shortwave",
        "claude-code",
        "kiro",
        "raycast",
        "warp",
        "gemini-cli",
        "codex-cli",
    ]
    assert all(client.source for client in CLIENT_LIST)


# One realistic existing file per format: comments, another server with its secrets, and an older pieces-os entry
# the person tuned (env, arguments after serve, keys of their own).
JSON_EXISTING = """{
    "theme": "dark",
    "%(key)s": {
        "github": {"command": "npx", "args": ["-y", "server-github"], "env": {"GITHUB_TOKEN": "t"}},
        "pieces-os": {
            "command": "pieces-mcp",
            "args": ["serve", "--confirm", "deny"],
            "env": {"PIECES_MCP_READ_ONLY": "1", "PIECES_MCP_DENY_TOOLS": "os_restart"},
            "disabled": false
        }
    },
    "zeta": "ünïcode"
}
"""

JSONC_EXISTING = """// my editor settings
{
  "editor.fontSize": 14, // big enough
  /* servers, "quoted" */
  "%(key)s": {
    "github": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github", "// not a comment"],},
    "pieces-os": {
      "command": "pieces-mcp", // from my PATH
      "args": ["serve", "--confirm", "deny"],
      "env": {"PIECES_MCP_READ_ONLY": "1", "PIECES_MCP_DENY_TOOLS": "os_restart"},
      "disabled": false,
    },
  },
  "url": "http://example.com/a", // a URL keeps its slashes
}
"""

# Gemini CLI strips comments but rejects trailing commas (JsonDialect.COMMENTS): the same file without them.
JSON_COMMENTS_EXISTING = """// my editor settings
{
  "editor.fontSize": 14, // big enough
  /* servers, "quoted" */
  "%(key)s": {
    "github": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github", "// not a comment"]},
    "pieces-os": {
      "command": "pieces-mcp", // from my PATH
      "args": ["serve", "--confirm", "deny"],
      "env": {"PIECES_MCP_READ_ONLY": "1", "PIECES_MCP_DENY_TOOLS": "os_restart"},
      "disabled": false
    }
  },
  "url": "http://example.com/a" // a URL keeps its slashes
}
"""

YAML_EXISTING = """# goose configuration
GOOSE_PROVIDER: anthropic
GOOSE_MODEL: claude-sonnet-4  # the fast one
extensions:
  developer:
    bundled: true
    enabled: true
    name: developer
    timeout: 300
    type: builtin
  github:
    cmd: npx
    args:
    - -y
    - '@modelcontextprotocol/server-github'
    enabled: true
    envs:
      GITHUB_TOKEN: t
    name: github
    type: stdio
  pieces-os:
    cmd: pieces-mcp  # from my PATH
    args:
    - serve
    - --confirm
    - deny
    disabled: false
    enabled: false
    envs:
      PIECES_MCP_READ_ONLY: '1'
      PIECES_MCP_DENY_TOOLS: os_restart
    name: pieces-os
    timeout: 600
    type: stdio
"""

TOML_EXISTING = """# Codex settings
model = "o3"  # the default model

[mcp_servers.github]
command = "npx"
args = ["-y", "@modelcontextprotocol/server-github"]
env = { GITHUB_TOKEN = "t" }

[mcp_servers.pieces-os]
command = "pieces-mcp"  # from my PATH
args = ["serve", "--confirm", "deny"]
disabled = false

[mcp_servers.pieces-os.env]
PIECES_MCP_READ_ONLY = "1"
PIECES_MCP_DENY_TOOLS = "os_restart"
"""

COMMENTS = {
    Format.JSON: ["// my editor settings", "// big enough", '/* servers, "quoted" */', "// from my PATH"],
    Format.YAML: ["# goose configuration", "# the fast one", "# from my PATH"],
    Format.TOML: ["# Codex settings", "# the default model", "# from my PATH"],
}


def existing_file(client: str) -> str:
    spec = CLIENTS[client]
    if spec.format is Format.YAML:
        return YAML_EXISTING
    if spec.format is Format.TOML:
        return TOML_EXISTING
    template = {"vscode": JSONC_EXISTING, "zed": JSONC_EXISTING, "gemini-cli": JSON_COMMENTS_EXISTING}.get(
        client, JSON_EXISTING
    )
    return template % {"key": spec.servers[0]}


@pytest.mark.parametrize("client", FILE_CLIENTS)
def test_merge_keeps_every_setting_and_comment(client: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = CLIENTS[client]
    path = tmp_path / "config"
    original = existing_file(client)
    path.write_text(original, encoding="utf-8")
    before = parse(client, original)

    assert run_install(client, str(path)) == 0

    text = path.read_text(encoding="utf-8")
    after = parse(client, text)
    entry = entry_in(client, path)
    assert entry[spec.command_key] == COMMAND  # only what pieces-mcp owns changed
    assert entry[spec.args_key] == [*LAUNCHER, "--confirm", "deny"]  # the person's arguments after serve stay
    env_key = "envs" if client == "goose" else "env"
    assert entry[env_key] == {"PIECES_MCP_READ_ONLY": "1", "PIECES_MCP_DENY_TOOLS": "os_restart"}
    assert entry["disabled"] is False
    for key, value in spec.fixed.items():
        assert entry[key] == value
    servers = spec.servers[0]
    assert after[servers]["github"] == before[servers]["github"]
    assert {k: v for k, v in after.items() if k != servers} == {k: v for k, v in before.items() if k != servers}
    assert list(after) == list(before)  # order kept
    if spec.format is not Format.JSON or client in ("vscode", "zed", "gemini-cli"):
        for comment in COMMENTS[spec.format]:
            assert comment in text
    if spec.format is Format.YAML:
        assert entry["timeout"] == 600 and entry["enabled"] is False  # the person's, not our new-entry defaults
    assert [p.read_text(encoding="utf-8") for p in backups(path)] == [original]
    err = capsys.readouterr().err
    assert f"Updated {SERVER_NAME} in {path}" in err
    assert f"-> {json.dumps(COMMAND)}" in err and "kept your arguments after serve" in err
    assert "kept as you had them:" in err and env_key in err


@pytest.mark.parametrize("client", FILE_CLIENTS)
def test_reset_replaces_the_entry_whole(client: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config"
    path.write_text(existing_file(client), encoding="utf-8")
    assert run_install(client, str(path), reset=True) == 0
    assert entry_in(client, path) == CLIENTS[client].new_entry(COMMAND, LAUNCHER)
    assert parse(client, path.read_text(encoding="utf-8"))[CLIENTS[client].servers[0]]["github"]
    assert "replaced whole (--reset)" in capsys.readouterr().err


@pytest.mark.parametrize("client", FILE_CLIENTS)
def test_fresh_file_in_missing_directory(
    client: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The client's usual place is made when its folder is missing (the client makes it too); --config is not
    (tests/unit/test_install_refusals.py)."""
    for variable in ("XDG_CONFIG_HOME", "APPDATA", "CODEX_HOME"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("USERPROFILE", str(tmp_path / "home"))
    path = config_path(client)
    assert not path.parent.exists()
    assert run_install(client, None) == 0
    data = parse(client, path.read_text(encoding="utf-8"))
    for key in CLIENTS[client].servers:
        data = data[key]
    assert data == {SERVER_NAME: CLIENTS[client].new_entry(COMMAND, LAUNCHER)}
    assert backups(path) == []  # nothing to back up
    err = capsys.readouterr().err
    assert f"Added {SERVER_NAME} to {path}" in err and f"Restart {CLIENTS[client].label}" in err


@pytest.mark.parametrize("client", FILE_CLIENTS)
def test_second_run_changes_nothing(client: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config"
    path.write_text(existing_file(client), encoding="utf-8")
    assert run_install(client, str(path)) == 0
    before, stamp, saved = path.read_bytes(), path.stat().st_mtime_ns, backups(path)
    capsys.readouterr()
    assert run_install(client, str(path)) == 0
    assert path.read_bytes() == before and path.stat().st_mtime_ns == stamp
    assert backups(path) == saved
    assert "already configured" in capsys.readouterr().err


@pytest.mark.parametrize("client", ["cursor", "codex-cli", "goose"])
def test_the_first_backup_is_never_overwritten(client: str, tmp_path: Path) -> None:
    path = tmp_path / "config"
    original = existing_file(client)
    path.write_text(original, encoding="utf-8")
    assert run_install(client, str(path)) == 0
    assert run_install(client, str(path), reset=True) == 0  # a second change in the same second
    assert run_install(client, str(path)) == 0  # nothing to change: no third backup
    saved = backups(path)
    assert len(saved) == 2
    assert saved[0].read_text(encoding="utf-8") == original
    assert saved[1].read_text(encoding="utf-8") != original


@pytest.mark.parametrize("client", ["cursor", "codex-cli", "goose"])
def test_read_only_file_is_refused(client: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config"
    original = existing_file(client)
    path.write_text(original, encoding="utf-8")
    path.chmod(stat.S_IRUSR | stat.S_IRGRP)
    assert run_install(client, str(path)) == 1
    err = capsys.readouterr().err
    assert f"{path} is read-only, so it was not changed" in err and "chmod u+w" in err
    assert path.read_text(encoding="utf-8") == original
    assert backups(path) == []
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IRUSR | stat.S_IRGRP


def test_private_file_stays_private_and_its_backup_too(tmp_path: Path) -> None:
    path = tmp_path / ".claude.json"
    path.write_text('{"numStartups": 3}', encoding="utf-8")
    path.chmod(0o600)
    assert run_install("claude-code", str(path)) == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [stat.S_IMODE(p.stat().st_mode) for p in backups(path)] == [0o600]


def test_symlinked_config_is_written_through(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "mcp.json"
    real.parent.mkdir()
    real.write_text('{"mcpServers": {}}', encoding="utf-8")
    link = tmp_path / "mcp.json"
    link.symlink_to(real)
    assert run_install("cursor", str(link)) == 0
    assert link.is_symlink()
    assert json.loads(real.read_text(encoding="utf-8"))["mcpServers"][SERVER_NAME]["command"] == COMMAND


@pytest.mark.parametrize(
    ("client", "broken", "where"),
    [
        ("cursor", '{\n  "a": 1,\n  "b" 2\n}\n', "line 3, column 7"),
        ("vscode", '{ /* one\n two */ "a": 1, // three\n  "b" 2\n}\n', "line 3, column 7"),
        ("codex-cli", "model = \n[mcp_servers\n", "not valid TOML"),
        ("goose", "extensions:\n  a: [1, 2\n", "not valid YAML"),
    ],
)
def test_broken_file_is_refused(
    client: str, broken: str, where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config"
    path.write_text(broken, encoding="utf-8")
    assert run_install(client, str(path)) == 1
    err = capsys.readouterr().err
    assert str(path) in err and where in err and "not changed" in err
    assert path.read_text(encoding="utf-8") == broken
    assert backups(path) == []


@pytest.mark.parametrize(
    ("client", "content"),
    [
        ("cursor", "[]\n"),
        ("cursor", '{"mcpServers": []}'),
        ("zed", '{"context_servers": "none"}'),
        ("codex-cli", 'mcp_servers = "none"\n'),
        ("goose", "- a list\n"),
        ("goose", "extensions: [a]\n"),
    ],
)
def test_wrong_shape_is_refused(client: str, content: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config"
    path.write_text(content, encoding="utf-8")
    assert run_install(client, str(path)) == 1
    err = capsys.readouterr().err
    assert str(path) in err and "not changed" in err
    assert path.read_text(encoding="utf-8") == content


@pytest.mark.parametrize("client", FILE_CLIENTS)
def test_dry_run_writes_nothing(client: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config"
    original = existing_file(client)
    path.write_text(original, encoding="utf-8")
    assert run_install(client, str(path), dry_run=True) == 0
    captured = capsys.readouterr()
    shown = parse(client, captured.out)
    for key in CLIENTS[client].servers:
        shown = shown[key]
    assert shown[SERVER_NAME][CLIENTS[client].command_key] == COMMAND
    assert "Dry run: nothing was written" in captured.err
    assert path.read_text(encoding="utf-8") == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config"]


def test_json_layout_outside_the_entry_is_byte_for_byte_the_same(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    original = JSONC_EXISTING % {"key": "context_servers"}
    path.write_text(original, encoding="utf-8")
    assert run_install("zed", str(path)) == 0
    launcher = ", ".join(json.dumps(arg) for arg in LAUNCHER)
    expected = original.replace('"command": "pieces-mcp"', f'"command": {json.dumps(COMMAND)}').replace(
        '"args": ["serve", "--confirm"', f'"args": [{launcher}, "--confirm"'
    )
    assert path.read_text(encoding="utf-8") == expected


@pytest.mark.parametrize(
    "layout",
    [
        "extensions:\n    dev:\n        args:\n            - a\n        cmd: x   # mine\n",
        "extensions:\n  dev:\n    args:\n      - a\n    cmd: x   # mine\n",
        "extensions:\n  dev:\n    args:\n    - a\n    cmd: x   # mine\n",
    ],
    ids=["four-spaces", "two-spaces-indented-dashes", "two-spaces-flush-dashes"],
)
def test_yaml_keeps_the_files_own_indentation(layout: str, tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(layout, encoding="utf-8")
    assert run_install("goose", str(path)) == 0
    text = path.read_text(encoding="utf-8")
    assert text.startswith(layout)  # the person's part, byte for byte; ours follows in the same style
    assert entry_in("goose", path)["cmd"] == COMMAND


def test_crlf_file_stays_crlf(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_bytes(b'{\r\n  "mcpServers": {\r\n    "x": {"command": "y"}\r\n  }\r\n}\r\n')
    assert run_install("cursor", str(path)) == 0
    raw = path.read_bytes()
    assert raw.count(b"\n") == raw.count(b"\r\n")
    assert json.loads(raw)["mcpServers"][SERVER_NAME]["command"] == COMMAND


def test_one_line_and_empty_files_and_bom(tmp_path: Path) -> None:
    for content in ("", "  \n", "{}", '{"keep": true}', '{"mcpServers": {}}', '\ufeff{"keep": 1}'):
        path = tmp_path / "mcp.json"
        path.write_text(content, encoding="utf-8")
        plan = plan_install("cursor", path, COMMAND, LAUNCHER)
        assert plan.changed
        apply(plan)
        data = json.loads(path.read_text(encoding="utf-8"))
        assert data["mcpServers"][SERVER_NAME] == {"command": COMMAND, "args": LAUNCHER}
        path.unlink()
        for saved in backups(path):
            saved.unlink()


@pytest.mark.parametrize(
    ("args", "mine"),
    [
        (["serve"], []),
        (["serve", "--read-only"], ["--read-only"]),
        (["-m", "pieces_mcp", "serve", "--confirm", "deny"], ["--confirm", "deny"]),
        (["-m", "pieces_mcp", "--read-only"], ["--read-only"]),
        (["--read-only"], ["--read-only"]),
        ("serve", []),
        ([1, 2], []),
    ],
)
def test_person_arguments_are_what_follows_serve(args: Any, mine: list[str]) -> None:
    assert person_arguments(args) == mine


def test_launch_command_is_absolute_and_prefers_this_environments_script(tmp_path: Path) -> None:
    command, _ = launch_command()
    assert Path(command).is_absolute() and Path(command).exists()
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    python = bin_dir / "python"
    python.touch()
    assert launch_command(str(python)) == (str(python), ["-m", "pieces_mcp", "serve"])
    script = bin_dir / ("pieces-mcp.exe" if os.name == "nt" else "pieces-mcp")
    script.touch()
    assert launch_command(str(python)) == (str(script), ["serve"])


def test_a_uvx_cache_command_is_recognised_as_temporary() -> None:
    assert is_temporary("/home/ana/.cache/uv/archive-v0/Xy12/bin/pieces-mcp")
    assert not is_temporary("/home/ana/.venv/bin/pieces-mcp")
    assert not is_temporary(COMMAND)


def test_raycast_gets_its_install_link(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_install("raycast", None, dry_run=True) == 0
    out = capsys.readouterr().out
    link = next(line for line in out.splitlines() if line.startswith("raycast://mcp/install?"))
    assert link == raycast_link(COMMAND, LAUNCHER)
    config = json.loads(urllib.parse.unquote(link.split("?", 1)[1]))
    assert config == {"name": SERVER_NAME, "type": "stdio", "command": COMMAND, "args": LAUNCHER}


def test_warp_gets_steps_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_install("warp", None) == 0
    out = capsys.readouterr().out
    assert "Settings > AI > Manage MCP servers" in out
    pasted = json.loads(out[out.index("{") :])
    assert pasted == json.loads(warp_json(COMMAND, LAUNCHER))
    assert pasted[SERVER_NAME]["command"] == COMMAND and pasted[SERVER_NAME]["start_on_launch"] is True


HOME = Path("/home/ana")
ENV = {"APPDATA": "C:/Users/ana/AppData/Roaming"}
APPDATA = Path(ENV["APPDATA"])
MAC = HOME / "Library/Application Support"
EXPECTED = {
    "vscode": (MAC / "Code/User/mcp.json", HOME / ".config/Code/User/mcp.json", APPDATA / "Code/User/mcp.json"),
    "goose": (
        HOME / ".config/goose/config.yaml",
        HOME / ".config/goose/config.yaml",
        APPDATA / "Block/goose/config/config.yaml",
    ),
    "cursor": (HOME / ".cursor/mcp.json",) * 3,
    "claude-desktop": (
        MAC / "Claude/claude_desktop_config.json",
        HOME / ".config/Claude/claude_desktop_config.json",
        APPDATA / "Claude/claude_desktop_config.json",
    ),
    "windsurf": (HOME / ".codeium/windsurf/mcp_config.json",) * 3,
    "zed": (HOME / ".config/zed/settings.json", HOME / ".config/zed/settings.json", APPDATA / "Zed/settings.json"),
    "shortwave": (MAC / "Shortwave/mcp.json", HOME / ".config/Shortwave/mcp.json", APPDATA / "Shortwave/mcp.json"),
    "claude-code": (HOME / ".claude.json",) * 3,
    "kiro": (HOME / ".kiro/settings/mcp.json",) * 3,
    "gemini-cli": (HOME / ".gemini/settings.json",) * 3,
    "codex-cli": (HOME / ".codex/config.toml",) * 3,
}


@pytest.mark.parametrize("client", FILE_CLIENTS)
def test_default_paths(client: str) -> None:
    for platform, expected in zip(("darwin", "linux", "win32"), EXPECTED[client], strict=True):
        assert config_path(client, home=HOME, platform=platform, environ=ENV) == expected


def test_paths_follow_the_clients_own_environment_variables() -> None:
    assert config_path("codex-cli", home=HOME, platform="linux", environ={"CODEX_HOME": "/x/codex"}) == Path(
        "/x/codex/config.toml"
    )
    xdg = {"XDG_CONFIG_HOME": "/x/config"}
    assert config_path("zed", home=HOME, platform="linux", environ=xdg) == Path("/x/config/zed/settings.json")
    assert config_path("goose", home=HOME, platform="linux", environ=xdg) == Path("/x/config/goose/config.yaml")
    assert config_path("vscode", home=HOME, platform="win32", environ={}) == HOME / "AppData/Roaming/Code/User/mcp.json"


def test_configured_clients_finds_installed_and_skips_broken(tmp_path: Path) -> None:
    assert configured_clients(home=tmp_path) == []
    for client in ("cursor", "codex-cli", "goose"):
        apply(plan_install(client, config_path(client, home=tmp_path), COMMAND, LAUNCHER))
    broken = config_path("vscode", home=tmp_path)
    broken.parent.mkdir(parents=True)
    broken.write_text('{"servers": {"pieces-os": ', encoding="utf-8")
    other = config_path("claude-code", home=tmp_path)
    other.write_text('{"mcpServers": {"someone-else": {}}}', encoding="utf-8")
    config_path("claude-desktop", home=tmp_path).mkdir(parents=True)  # a directory where a file should be
    assert [name for name, _ in configured_clients(home=tmp_path)] == ["goose", "cursor", "codex-cli"]


RACER = """
import sys
from pieces_mcp.install import run_install
print("ready", flush=True)
sys.stdin.readline()  # every racer is released at once
raise SystemExit(run_install(sys.argv[1], sys.argv[2]))
"""


def test_concurrent_installs_into_one_file_all_land(tmp_path: Path) -> None:
    """Nine installs (three clients whose tables share one file, three times each) released together: all land."""
    path = tmp_path / "shared.json"
    original = '{\n  "mcpServers": {\n    "github": {"command": "npx"}\n  }\n}\n'
    path.write_text(original, encoding="utf-8")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}  # the lock directory, inside the test
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, client, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for client in ("cursor", "vscode", "zed") * 3
    ]
    for racer in racers:
        assert racer.stdout is not None and racer.stdout.readline() == "ready\n"
    for racer in racers:
        assert racer.stdin is not None
        racer.stdin.write("go\n")
        racer.stdin.flush()
    results = [racer.communicate(timeout=60) for racer in racers]
    assert [racer.returncode for racer in racers] == [0] * 9, results
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["mcpServers"]["github"] == {"command": "npx"}
    assert data["mcpServers"][SERVER_NAME]["command"] == COMMAND
    assert data["servers"][SERVER_NAME]["command"] == COMMAND
    assert data["context_servers"][SERVER_NAME]["command"] == COMMAND
    assert len(backups(path)) == 3  # three changes; the six repeats found nothing to do
    assert sum("already configured" in err for _, err in results) == 6


def test_real_cli_installs_with_the_absolute_command(tmp_path: Path) -> None:
    path = tmp_path / "cursor" / "mcp.json"
    path.parent.mkdir()
    env = {**os.environ, "PATH": str(tmp_path)}  # nothing on PATH: the entry must not depend on it
    command = [sys.executable, "-m", "pieces_mcp", "install", "--client", "cursor", "--config", str(path)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    entry = json.loads(path.read_text(encoding="utf-8"))["mcpServers"][SERVER_NAME]
    assert Path(entry["command"]).is_absolute() and Path(entry["command"]).exists()
    assert f"Added {SERVER_NAME} to {path}" in result.stderr

    again = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, check=False)
    assert again.returncode == 0 and "already configured" in again.stderr


def test_install_help_lists_every_client_with_its_format() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pieces_mcp", "install", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    for client in CLIENT_LIST:
        line = next(line for line in result.stdout.splitlines() if line.strip().startswith(client.name + " "))
        assert client.label in line
        if client.format is not Format.MANUAL:
            assert client.format.value in line
    assert "--reset" in result.stdout
