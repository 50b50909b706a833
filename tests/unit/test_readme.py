"""The README's quick start is what CI runs: a stranger following it gets what CI proved."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CI = (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def quick_start() -> list[str]:
    """The commands of the quick start's first code block, each without its trailing comment."""
    section = README[README.index("## Quick start") :]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert block is not None
    return [line.split("   #")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_ci_runs_the_readmes_test_command_word_for_word() -> None:
    found = re.search(r"^TEST_COMMAND='(.*)'$", CI, re.MULTILINE)
    assert found is not None
    assert quick_start()[1] == found.group(1)
    assert 'eval "$TEST_COMMAND"' in CI


def test_first_command_uses_a_virtual_environment_and_the_simulator() -> None:
    words = shlex.split(quick_start()[0])
    assert words[:4] == ["python3", "-m", "venv", ".venv"]
    activate = words.index(".venv/bin/activate")
    assert words[activate - 1] == "." and words.index("pip") > activate  # installs into the venv, not the system
    assert words[-3:] == ["pieces-mcp", "serve", "--simulate"]


def test_ci_installs_the_project_once() -> None:
    installs = re.findall(r"pip install[^\n]*-e", CI)
    assert len(installs) == 1  # the README's own test command; the wheel goes into environments of its own
    assert "python -m build" in CI and "uvx --from" in CI
