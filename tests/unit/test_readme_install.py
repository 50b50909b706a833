"""The README's install sections say what is true: they agree with the client table, `install --help` and the
catalog, name the Node the suite runs on, and the repository stands alone (nothing cites a file outside it)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pieces_mcp.catalog import CATALOG
from pieces_mcp.install import CLIENT_LIST, CLIENTS, Format

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    start = README.index(title)
    following = README.find("\n## ", start + len(title))
    return README[start : following if following >= 0 else len(README)]


def table_rows(text: str, first_cell: str) -> list[list[str]]:
    """The rows of the Markdown table whose header starts with `first_cell`, as lists of cells."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_cell}"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split(" | ")])
    return rows


def test_the_install_table_has_every_client_with_the_format_install_help_names() -> None:
    rows = {row[0].strip("`"): row for row in table_rows(section("## Add it to your MCP client"), "`--client`")}
    assert list(rows) == [client.name for client in CLIENT_LIST]
    help_text = subprocess.run(
        [sys.executable, "-m", "pieces_mcp", "install", "--help"], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout
    for client in CLIENT_LIST:
        format_cell = rows[client.name][3]
        if client.format is Format.MANUAL:
            assert format_cell in ("link", "steps")
            continue
        assert format_cell == client.format_label, client.name
        assert re.search(
            rf"^  {re.escape(client.name)} +{re.escape(client.label)}: {client.format_label}, ", help_text, re.M
        )


def test_which_client_asks_how_names_only_clients_install_supports_and_says_how_each_row_is_known() -> None:
    text = section("### Which client asks how")
    assert "not in `install`" not in text and "not in install" not in text
    rows = table_rows(text, "client (`install --client`)")
    named = {match for row in rows for match in re.findall(r"\(`([a-z-]+)`\)", row[0])}
    assert named and named <= set(CLIENTS)
    for row in rows:
        assert row[3] == "read" or row[3] == "reported by a run" or re.fullmatch(r"seen in a run \([\d.]+\)", row[3])


def test_seen_versions_are_the_pinned_ones() -> None:
    """A row that says "seen in a run (VERSION)" names the version .tools/ pins, which the real-client test runs."""
    pinned = json.loads((ROOT / ".tools" / "package.json").read_text(encoding="utf-8"))["dependencies"]
    seen = dict(re.findall(r"\| (Claude Code|Gemini CLI|Codex)[^|]*\|[^\n]*seen in a run \(([\d.]+)\)", README))
    assert seen == {
        "Claude Code": pinned["@anthropic-ai/claude-code"],
        "Gemini CLI": pinned["@google/gemini-cli"],
        "Codex": pinned["@openai/codex"],
    }


def test_tool_counts_come_from_the_catalog() -> None:
    """Any count of all tools the README gives ("offers all N", "the models of N tools") is the catalog's."""
    counts = re.findall(r"offers all (\d+)\b|models of (\d+) tools|all (\d+) tools", README)
    assert counts, "the README gives no count of the tools: drop this test or the phrases it looks for"
    assert {int(next(group for group in found if group)) for found in counts} == {len(CATALOG)}


def test_the_node_the_suite_needs_is_stated_and_pinned() -> None:
    pinned = json.loads((ROOT / ".tools" / "package.json").read_text(encoding="utf-8"))["dependencies"]["node"]
    quick_start = " ".join(section("## Quick start").split())  # however the paragraph is wrapped
    assert f"Node {pinned.split('.')[0]} in `.tools/node_modules/.bin`" in quick_start
    assert "Node 20 or newer" in quick_start


# Spelled in pieces so this file does not match itself.
OUTSIDE = ("CONTRACT" + ".md", "/work/" + "shared", "shared" + "/pieces-os-api", "../" + "shared", "../" + "seed")


@pytest.mark.parametrize("needle", OUTSIDE)
def test_nothing_in_the_repository_cites_a_file_outside_it(needle: str) -> None:
    tracked = subprocess.run(["git", "ls-files"], capture_output=True, text=True, cwd=ROOT, check=True).stdout.split()
    citing = []
    for name in tracked:
        path = ROOT / name
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # a binary file (a screenshot) or one the work tree does not have
        if needle in text:
            citing.append(name)
    assert citing == []


def test_contributing_lists_every_check_ci_runs_and_the_readmes_test_command() -> None:
    contributing = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    checks = ci[ci.index('section "4. static checks"') :]
    checks = checks[: checks.index("section ", 10)]
    lines = [line.strip() for line in checks.splitlines()[1:] if line.strip() and not line.startswith("#")]
    assert lines
    for line in lines:
        assert line in contributing, line
    command = re.search(r"^TEST_COMMAND='(.*)'$", ci, re.MULTILINE)
    assert command is not None and command.group(1) in contributing


def test_contributing_points_at_the_readmes_recipe_for_an_operation() -> None:
    contributing = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    assert "### Add an operation" in README and 'the README\'s "Add an operation" section' in contributing
    assert (ROOT / "tests" / "unit" / "test_adding_an_operation.py").exists()
