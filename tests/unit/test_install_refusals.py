"""`pieces-mcp install`: arguments for serve after `--`, and the files it refuses to edit, each in one sentence.

Through the real command line (`pieces_mcp.cli.main`, or a child process where a hang or a traceback is the
failure), on real files under tmp_path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import tomlkit
from ruamel.yaml import YAML

from pieces_mcp.cli import main
from pieces_mcp.install import CLIENTS, SERVER_NAME, Format
from pieces_mcp.install.entry import launch_command

COMMAND, LAUNCHER = launch_command()
SERVE_ARGS = ["--toolsets", "all", "--read-only"]


def entry_in(client: str, path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    spec = CLIENTS[client]
    data: Any
    if spec.format is Format.TOML:
        data = tomlkit.parse(text).unwrap()
    elif spec.format is Format.YAML:
        data = YAML(typ="safe").load(text)
    else:
        data = json.loads(text)
    for key in spec.servers:
        data = data[key]
    return data[SERVER_NAME]


def install(client: str, path: Path, *extra: str) -> int:
    return main(["install", "--client", client, "--config", str(path), *extra])


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """A child `pieces-mcp`, so a hang ends the test by its timeout and a traceback shows on stderr."""
    return subprocess.run(
        [sys.executable, "-m", "pieces_mcp", *args], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize("client", ["claude-code", "gemini-cli", "codex-cli", "goose", "vscode"])
def test_arguments_after_double_dash_follow_serve_in_the_entry(client: str, tmp_path: Path) -> None:
    path = tmp_path / "config"
    assert install(client, path, "--", *SERVE_ARGS) == 0
    assert entry_in(client, path)[CLIENTS[client].args_key] == [*LAUNCHER, *SERVE_ARGS]


def test_a_reinstall_keeps_the_persons_arguments_unless_new_ones_are_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / ".claude.json"
    assert install("claude-code", path, "--", *SERVE_ARGS) == 0
    assert install("claude-code", path) == 0  # an upgrade's re-install must not undo --read-only
    assert entry_in("claude-code", path)["args"] == [*LAUNCHER, *SERVE_ARGS]
    assert "already configured" in capsys.readouterr().err

    assert install("claude-code", path, "--", "--confirm", "deny") == 0
    assert entry_in("claude-code", path)["args"] == [*LAUNCHER, "--confirm", "deny"]

    assert install("claude-code", path, "--") == 0  # a bare `--`: nothing after serve
    assert entry_in("claude-code", path)["args"] == LAUNCHER


@pytest.mark.parametrize(
    ("serve_args", "reason"),
    [(["--read-onyl"], "unrecognized arguments: --read-onyl"), (["--toolsets", "nonsense"], "nonsense")],
)
def test_arguments_serve_would_reject_are_refused_before_the_file_is_touched(
    tmp_path: Path, serve_args: list[str], reason: str
) -> None:
    path = tmp_path / ".claude.json"
    path.write_text('{"numStartups": 3}\n', encoding="utf-8")
    done = run_cli("install", "--client", "claude-code", "--config", str(path), "--", *serve_args)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and reason in done.stderr and "not serve's" in done.stderr
    assert path.read_text(encoding="utf-8") == '{"numStartups": 3}\n'


@pytest.mark.parametrize(
    ("client", "text", "what"),
    [
        ("claude-code", '{\n  // mine\n  "numStartups": 3\n}\n', "comments or trailing commas"),
        ("claude-code", '{\n  "numStartups": 3,\n}\n', "comments or trailing commas"),
        ("gemini-cli", '{\n  // comments are fine here\n  "theme": "dark",\n}\n', "a trailing comma"),
    ],
)
def test_a_file_its_client_could_not_parse_is_refused_untouched(
    tmp_path: Path, client: str, text: str, what: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Claude Code reads strict JSON and Gemini CLI comments without trailing commas: editing such a file would
    leave the client reporting it corrupted, so install says what to remove instead."""
    path = tmp_path / "settings.json"
    path.write_text(text, encoding="utf-8")
    assert install(client, path) == 1
    err = capsys.readouterr().err
    assert f"holds {what}" in err and f"which {CLIENTS[client].label} cannot read" in err
    assert "remove them" in err and err.count("\n") == 1
    assert path.read_text(encoding="utf-8") == text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["settings.json"]  # no backup, no temporary file


def test_gemini_cli_file_with_comments_only_is_edited(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{\n  // my theme\n  "theme": "dark"\n}\n', encoding="utf-8")
    assert install("gemini-cli", path) == 0
    text = path.read_text(encoding="utf-8")
    assert "// my theme" in text
    # Read as Gemini CLI does: its comment lines dropped, then strict JSON (no trailing comma may appear).
    data = json.loads("\n".join(line for line in text.splitlines() if not line.strip().startswith("//")))
    assert data["theme"] == "dark" and data["mcpServers"][SERVER_NAME]["args"] == LAUNCHER


def test_config_in_a_missing_folder_is_refused_not_created(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "typo" / "mcp.json"
    assert install("cursor", path) == 1
    err = capsys.readouterr().err
    assert f"the folder {path.parent} does not exist" in err and err.count("\n") == 1
    assert not path.parent.exists()


NESTED = 100_000


@pytest.mark.parametrize(
    ("client", "text"),
    [
        ("claude-code", "[" * NESTED),
        ("vscode", '{"servers": ' + "[" * NESTED),
        ("goose", "extensions: " + "[" * NESTED),
    ],
)
def test_deeply_nested_file_gets_one_line(tmp_path: Path, client: str, text: str) -> None:
    path = tmp_path / "config"
    path.write_text(text, encoding="utf-8")
    done = run_cli("install", "--client", client, "--config", str(path))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1, done.stderr[-2000:]
    assert str(path) in done.stderr and "It was not changed" in done.stderr
    assert path.read_text(encoding="utf-8") == text


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are a POSIX thing")
def test_a_fifo_is_refused_instead_of_waited_on(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    os.mkfifo(path)
    done = run_cli("install", "--client", "cursor", "--config", str(path))  # a hang fails by the timeout
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and f"{path} is not a regular file (a pipe or a device)" in done.stderr


def test_a_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "mcp.json"
    path.mkdir()
    assert install("cursor", path) == 1
    assert f"{path} is a folder, not a configuration file" in capsys.readouterr().err
    assert list(path.iterdir()) == []


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
def test_a_device_is_refused() -> None:
    """/dev/zero never ends: reading it would fill memory (the child's is capped, so a regression fails here)."""
    import resource

    def cap_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    done = subprocess.run(
        [sys.executable, "-m", "pieces_mcp", "install", "--client", "cursor", "--config", "/dev/zero"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        preexec_fn=cap_memory,
    )
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "/dev/zero is not a regular file" in done.stderr
