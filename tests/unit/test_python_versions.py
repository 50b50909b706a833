"""The Pythons the project claims are the ones CI runs: `requires-python`, the classifiers, the README and
`.ci/run` agree, and nothing CI or the tools run needs a newer Python than the lowest claimed (issue 19)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = (ROOT / "pyproject.toml").read_text(encoding="utf-8")  # read as text: tomllib is 3.11+
CI = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")
ADDED_AFTER_LOWEST = ("tomllib", "wsgiref.types")  # standard modules new in 3.11 and later


def _version(text: str) -> tuple[int, int]:
    major, minor = text.split(".")
    return int(major), int(minor)


def claimed() -> list[tuple[int, int]]:
    return sorted(_version(v) for v in re.findall(r'"Programming Language :: Python :: (3\.\d+)"', PYPROJECT))


def in_ci() -> list[tuple[int, int]]:
    """The Pythons of section 7's venvs, and section 3's python3 (3.11 on this machine kind)."""
    return sorted({_version(v) for v in re.findall(r"^other_python (3\.\d+) ", CI, re.MULTILINE)} | {(3, 11)})


def test_requires_python_and_the_classifiers_start_where_ci_does() -> None:
    lowest = re.search(r'^requires-python = ">=(3\.\d+)"$', PYPROJECT, re.MULTILINE)
    assert lowest is not None
    assert _version(lowest.group(1)) == claimed()[0] == in_ci()[0]


def test_ci_runs_the_newest_python_claimed() -> None:
    assert claimed()[-1] == in_ci()[-1]
    assert set(in_ci()) <= set(claimed())


def test_the_readme_names_the_range_and_what_ci_runs() -> None:
    low, high = claimed()[0], claimed()[-1]
    assert f"Python {low[0]}.{low[1]} to {high[0]}.{high[1]}" in README
    ran = ", ".join(f"{major}.{minor}" for major, minor in in_ci()[:-1]) + f" and {in_ci()[-1][0]}.{in_ci()[-1][1]}"
    assert f"CI runs the suite on {ran}" in README


@pytest.mark.parametrize(
    "path", [ROOT / ".ci" / "run", *sorted((ROOT / "tools").rglob("*.py"))], ids=lambda path: path.name
)
def test_ci_and_the_tools_need_no_newer_python_than_the_lowest_claimed(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    if path.suffix == ".py":
        ast.parse(source, feature_version=claimed()[0])  # no newer syntax
    for module in ADDED_AFTER_LOWEST:
        assert not re.search(rf"\bimport {re.escape(module)}\b|\bfrom {re.escape(module)} import", source), module
