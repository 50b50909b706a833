"""`pieces-mcp install`: real files under tmp_path, every client, and the real CLI once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from pieces_mcp.install import (
    CLIENTS,
    SERVER_NAME,
    apply,
    config_path,
    configured_clients,
    default_command,
    plan_install,
    run_install,
    server_entry,
    strip_jsonc,
)

ALL = list(CLIENTS)


def key_of(client: str) -> str:
    return "servers" if client == "vscode" else "mcpServers"


def expected_entry(client: str) -> dict[str, Any]:
    command, args = default_command()
    return server_entry(client, command, args)


def read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def test_clients_in_documented_order() -> None:
    assert ALL == ["claude-desktop", "claude-code", "cursor", "vscode", "windsurf"]


@pytest.mark.parametrize("client", ALL)
def test_server_entry_shape(client: str) -> None:
    entry = server_entry(client, "pieces-mcp", ["serve"])
    if client == "vscode":
        assert entry == {"type": "stdio", "command": "pieces-mcp", "args": ["serve"]}
    else:
        assert entry == {"command": "pieces-mcp", "args": ["serve"]}


def test_default_command_prefers_the_script_on_path() -> None:
    assert default_command(lambda name: f"/usr/bin/{name}") == ("pieces-mcp", ["serve"])
    assert default_command(lambda name: None) == (sys.executable, ["-m", "pieces_mcp", "serve"])


@pytest.mark.parametrize("client", ALL)
def test_fresh_file_in_missing_directory(client: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "not" / "there" / "config.json"
    assert run_install(client, str(path), dry_run=False) == 0
    text = path.read_text(encoding="utf-8")
    assert text.endswith("}\n") and text.startswith('{\n  "')
    assert read(path) == {key_of(client): {SERVER_NAME: expected_entry(client)}}
    assert not path.with_name("config.json.bak").exists()  # nothing to back up
    err = capsys.readouterr().err
    assert f"Added {SERVER_NAME} to {path}" in err and f"Restart {CLIENTS[client].label}" in err


@pytest.mark.parametrize("client", ALL)
def test_other_entries_and_settings_are_kept(client: str, tmp_path: Path) -> None:
    key = key_of(client)
    other = {"command": "npx", "args": ["-y", "other-server"], "env": {"TOKEN": "x"}}
    original = {"theme": "dark", key: {"other": other}, "nested": {"a": [1, 2, {"b": None}]}, "zeta": "ünïcode"}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(original, indent=4, ensure_ascii=False), encoding="utf-8")

    assert run_install(client, str(path)) == 0
    data = read(path)
    assert list(data) == ["theme", key, "nested", "zeta"]  # order kept too
    assert data[key] == {"other": other, SERVER_NAME: expected_entry(client)}
    assert {k: v for k, v in data.items() if k != key} == {k: v for k, v in original.items() if k != key}
    assert "ünïcode" in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("client", ALL)
def test_second_run_changes_nothing(client: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"keep": true}', encoding="utf-8")
    assert run_install(client, str(path)) == 0
    backup = path.with_name("config.json.bak")
    backup.unlink()
    before, stamp = path.read_bytes(), path.stat().st_mtime_ns
    capsys.readouterr()

    time.sleep(0.01)
    assert run_install(client, str(path)) == 0
    assert path.read_bytes() == before and path.stat().st_mtime_ns == stamp
    assert not backup.exists()
    assert "already configured" in capsys.readouterr().err


@pytest.mark.parametrize("client", ALL)
def test_older_entry_is_replaced(client: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = key_of(client)
    path = tmp_path / "config.json"
    path.write_text(json.dumps({key: {SERVER_NAME: {"command": "old"}, "z": {"command": "z"}}}), encoding="utf-8")
    assert run_install(client, str(path)) == 0
    assert read(path)[key] == {SERVER_NAME: expected_entry(client), "z": {"command": "z"}}
    assert f"Updated {SERVER_NAME} in" in capsys.readouterr().err


@pytest.mark.parametrize(
    "broken",
    ['{\n  "a": 1,\n  "b" 2\n}\n', '{ /* one\n two */ "a": 1, // three\n  "b" 2\n}\n'],
    ids=["plain", "after-comments"],
)
@pytest.mark.parametrize("client", ALL)
def test_broken_json_is_refused(client: str, broken: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config.json"
    path.write_text(broken, encoding="utf-8")
    assert run_install(client, str(path)) == 1
    err = capsys.readouterr().err
    assert str(path) in err and "line 3, column 7" in err and "not changed" in err
    assert path.read_text(encoding="utf-8") == broken
    assert not path.with_name("config.json.bak").exists()


@pytest.mark.parametrize(
    ("content", "why"),
    [("[]\n", "top level"), ('{"mcpServers": [], "servers": []}', "is not a JSON object")],
)
@pytest.mark.parametrize("client", ALL)
def test_wrong_shape_is_refused(
    client: str, content: str, why: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.json"
    path.write_text(content, encoding="utf-8")
    assert run_install(client, str(path)) == 1
    err = capsys.readouterr().err
    assert why in err and str(path) in err and "not changed" in err
    assert path.read_text(encoding="utf-8") == content


JSONC = """// user MCP servers
{
  /* a "block" comment, with a comma, */
  "%s": {
    "other": {"command": "x", "args": ["// not a comment", "/* nor this */"],}, // trailing comma
  },
  "url": "http://example.com/a", // a URL keeps its slashes
}
"""


@pytest.mark.parametrize("client", ALL)
def test_jsonc_is_accepted(client: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = key_of(client)
    path = tmp_path / "config.json"
    path.write_text(JSONC % key, encoding="utf-8")
    assert run_install(client, str(path)) == 0
    data = read(path)
    assert data["url"] == "http://example.com/a"
    assert data[key]["other"] == {"command": "x", "args": ["// not a comment", "/* nor this */"]}
    assert data[key][SERVER_NAME] == expected_entry(client)
    assert path.with_name("config.json.bak").read_text(encoding="utf-8") == JSONC % key
    assert "comments could not be kept" in capsys.readouterr().err


def test_strip_jsonc_keeps_positions() -> None:
    text = '{"a": "\\"//", // c\n /* x\n y */ "b": [1,],}'
    stripped = strip_jsonc(text)
    assert len(stripped) == len(text) and stripped.count("\n") == text.count("\n")
    assert json.loads(stripped) == {"a": '"//', "b": [1]}


@pytest.mark.parametrize("client", ALL)
def test_backup_holds_the_old_content(client: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config.json"
    backup = path.with_name("config.json.bak")
    old = '{"first": 1}'
    path.write_text(old, encoding="utf-8")
    assert run_install(client, str(path)) == 0
    assert backup.read_text(encoding="utf-8") == old
    assert f"(backup: {backup})" in capsys.readouterr().err

    # A later change overwrites the previous backup with the then-current file, and says so.
    path.write_text('{"second": 2}', encoding="utf-8")
    assert run_install(client, str(path)) == 0
    assert backup.read_text(encoding="utf-8") == '{"second": 2}'
    assert "replacing the previous backup" in capsys.readouterr().err


@pytest.mark.parametrize("client", ALL)
def test_dry_run_writes_nothing(client: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "sub" / "new.json"
    assert run_install(client, str(missing), dry_run=True) == 0
    out = capsys.readouterr().out
    assert json.loads(out) == {key_of(client): {SERVER_NAME: expected_entry(client)}}
    assert not missing.exists() and not missing.parent.exists()

    existing = tmp_path / "config.json"
    existing.write_text('{"keep": 1}', encoding="utf-8")
    assert run_install(client, str(existing), dry_run=True) == 0
    assert json.loads(capsys.readouterr().out) == {"keep": 1, key_of(client): {SERVER_NAME: expected_entry(client)}}
    assert existing.read_text(encoding="utf-8") == '{"keep": 1}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json"]


def test_empty_file_and_bom_start_cleanly(tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text("  \n", encoding="utf-8")
    plan = plan_install("cursor", empty, "pieces-mcp", ["serve"])
    assert plan.changed and plan.backup is None
    apply(plan)
    assert read(empty) == {"mcpServers": {SERVER_NAME: {"command": "pieces-mcp", "args": ["serve"]}}}

    bom = tmp_path / "bom.json"
    bom.write_bytes(b'\xef\xbb\xbf{"x": 1}')
    apply(plan_install("cursor", bom, "pieces-mcp", ["serve"]))
    assert read(bom)["x"] == 1


HOME = Path("/home/ana")
APPDATA = Path("C:/Users/ana/AppData/Roaming")
EXPECTED = {
    "claude-desktop": {
        "darwin": HOME / "Library/Application Support/Claude/claude_desktop_config.json",
        "linux": HOME / ".config/Claude/claude_desktop_config.json",
        "win32": APPDATA / "Claude/claude_desktop_config.json",
    },
    "claude-code": {"darwin": HOME / ".claude.json", "linux": HOME / ".claude.json", "win32": HOME / ".claude.json"},
    "cursor": {p: HOME / ".cursor/mcp.json" for p in ("darwin", "linux", "win32")},
    "vscode": {
        "darwin": HOME / "Library/Application Support/Code/User/mcp.json",
        "linux": HOME / ".config/Code/User/mcp.json",
        "win32": APPDATA / "Code/User/mcp.json",
    },
    "windsurf": {p: HOME / ".codeium/windsurf/mcp_config.json" for p in ("darwin", "linux", "win32")},
}


@pytest.mark.parametrize("platform", ["darwin", "linux", "win32"])
@pytest.mark.parametrize("client", ALL)
def test_default_paths(client: str, platform: str) -> None:
    environ = {"APPDATA": str(APPDATA)}
    assert config_path(client, home=HOME, platform=platform, environ=environ) == EXPECTED[client][platform]


def test_windows_without_appdata_falls_back_to_roaming() -> None:
    path = config_path("vscode", home=HOME, platform="win32", environ={})
    assert path == HOME / "AppData/Roaming/Code/User/mcp.json"


def test_configured_clients_finds_installed_and_skips_broken(tmp_path: Path) -> None:
    assert configured_clients(home=tmp_path) == []
    cursor = config_path("cursor", home=tmp_path)
    apply(plan_install("cursor", cursor, "pieces-mcp", ["serve"]))
    broken = config_path("vscode", home=tmp_path)
    broken.parent.mkdir(parents=True)
    broken.write_text('{"servers": {"pieces-os": ', encoding="utf-8")
    wrong = config_path("windsurf", home=tmp_path)
    wrong.parent.mkdir(parents=True)
    wrong.write_text('{"mcpServers": ["pieces-os"]}', encoding="utf-8")
    other = config_path("claude-code", home=tmp_path)
    other.write_text('{"mcpServers": {"someone-else": {}}}', encoding="utf-8")
    config_path("claude-desktop", home=tmp_path).mkdir(parents=True)  # a directory where a file should be

    assert configured_clients(home=tmp_path) == [("cursor", cursor)]


def test_real_cli_installs_into_cursor_config(tmp_path: Path) -> None:
    path = tmp_path / "cursor" / "mcp.json"
    env = {**os.environ, "PATH": str(tmp_path)}  # no pieces-mcp on PATH: the entry must use this interpreter
    command = [sys.executable, "-m", "pieces_mcp", "install", "--client", "cursor", "--config", str(path)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    entry = {"command": sys.executable, "args": ["-m", "pieces_mcp", "serve"]}
    assert read(path) == {"mcpServers": {SERVER_NAME: entry}}
    assert f"Added {SERVER_NAME} to {path}" in result.stderr

    again = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, check=False)
    assert again.returncode == 0 and "already configured" in again.stderr
