"""The command line speaks to a person: one line for a malformed PIECES_OS_URL or a dead child, why a tool is not
offered and how to offer it, the tool's own arguments in a `--json` hint, no INFO lines around `call`'s output,
`doctor --simulate`, and placeholders kept in messages (issue 19, items 3 and 4)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pieces_mcp.catalog import CATALOG, DEFAULT_TOOLSETS
from pieces_mcp.redact import quote
from tests.e2e.in_process import run_here
from tests.support import SERVER_COMMAND, server_env

pytestmark = pytest.mark.timeout(120)

MALFORMED_URLS = ("http://[::1", "http://localhost:99999", "http://localhost:port", "http://", "http://:39300")


def run(*args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SERVER_COMMAND, *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=server_env(None, **settings),
        timeout=90,
    )


@pytest.mark.parametrize("url", MALFORMED_URLS)
@pytest.mark.parametrize("command", [("serve",), ("call", "os_device_information"), ("doctor",)])
def test_a_malformed_pieces_os_url_is_refused_at_start_in_one_line(command: tuple[str, ...], url: str) -> None:
    done = run_here(*command, PIECES_OS_URL=url)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pieces-mcp: PIECES_OS_URL is not an http(s) URL"), done.stderr


def test_call_whose_child_server_dies_at_start_says_so_in_one_line(tmp_path: Path) -> None:
    # The child (only it runs `serve`) dies while Python starts, before it can answer anything.
    (tmp_path / "sitecustomize.py").write_text('import os, sys\nif "serve" in sys.orig_argv:\n    os._exit(3)\n')
    done = run("call", "os_device_information", "--simulate", PYTHONPATH=str(tmp_path))
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "pieces-mcp: the server (a child `pieces-mcp serve`) ended before it answered os_device_information; "
        "what it printed, if anything, is above."
    ]


def _not_in_defaults() -> str:
    return next(entry.name for entry in CATALOG if entry.toolset not in DEFAULT_TOOLSETS)


def _guarded() -> str:
    return next(entry.name for entry in CATALOG if entry.guarded and entry.toolset in DEFAULT_TOOLSETS)


def test_call_of_a_tool_in_a_toolset_not_chosen_says_which_and_how_to_add_it() -> None:
    name = _not_in_defaults()
    toolset = next(entry.toolset for entry in CATALOG if entry.name == name)
    done = run_here("call", name, "--simulate")
    assert done.returncode == 1
    assert f"{name} is in the `{toolset}` toolset" in done.stderr
    assert "--toolsets " in done.stderr and toolset in done.stderr.split("--toolsets ", 1)[1].split("`")[0]
    assert "tools/list" not in done.stderr and "Traceback" not in done.stderr


def test_call_of_a_tool_hidden_by_read_only_or_denied_says_so() -> None:
    name = _guarded()
    read_only = run_here("call", name, "--simulate", "--read-only")
    denied = run_here("call", name, "--simulate", PIECES_MCP_DENY_TOOLS=name)
    assert f"{name} is hidden by --read-only" in read_only.stderr and read_only.returncode == 1
    assert f"{name} is denied by PIECES_MCP_DENY_TOOLS" in denied.stderr and denied.returncode == 1


def test_a_misspelt_tool_name_gets_the_nearest_one() -> None:
    name = CATALOG[0].name
    misspelt = name[:-2] + name[-1]  # one letter dropped
    done = run_here("call", misspelt, "--simulate")
    assert f"did you mean {name}?" in done.stderr and "tools/list" not in done.stderr


def test_a_bad_json_hint_shows_that_tool_s_own_arguments() -> None:
    # (tests/e2e/test_cli.py sees a real `pieces-mcp call` refuse bad JSON; here every tool's own hint.)
    for entry in CATALOG:
        fields = list(entry.input_model.model_json_schema().get("properties", {}))
        done = run_here("call", entry.name, "--json", "{not json")
        assert done.returncode == 2
        hint = done.stderr.split(";", 1)[1]
        assert all(f'"{field}"' in hint for field in fields), (entry.name, done.stderr)
        others = {f for other in CATALOG for f in other.input_model.model_json_schema().get("properties", {})}
        assert not any(f'"{field}"' in hint for field in others - set(fields)), (entry.name, done.stderr)


def test_call_prints_no_info_lines_around_its_result() -> None:
    done = run("call", "os_device_information", "--simulate")
    assert done.returncode == 0, done.stderr
    assert " INFO " not in done.stderr, done.stderr


def test_doctor_simulate_works_like_the_other_commands() -> None:
    done = run("doctor", "--simulate")
    assert done.returncode == 0, done.stderr
    assert "API" in done.stdout and "current" in done.stdout


def test_a_placeholder_in_a_message_keeps_its_text() -> None:
    # The simulator's own sentence for a file read without files (simulator/streams.py), as PiecesOS text.
    assert quote("start it with PIECES_SIMULATOR_FILES=<folder>.").endswith("PIECES_SIMULATOR_FILES=<folder>.")
    assert quote("<html><body><h1>502 Bad Gateway</h1></body></html>").strip() == "502 Bad Gateway"
