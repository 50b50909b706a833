"""The README's map of the code is checked against the tree: every module is on it, and nothing that is gone."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def layout_rows() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- layout:start -->(.*?)<!-- layout:end -->", text, re.DOTALL)
    assert block is not None, "README.md has no <!-- layout:start --> ... <!-- layout:end --> section"
    return re.findall(r"^\| `([^`]+)` \|", block.group(1), re.MULTILINE)


def test_every_module_is_on_the_map() -> None:
    listed = layout_rows()
    for module in sorted((ROOT / "pieces_mcp").rglob("*.py")):
        relative = module.relative_to(ROOT).as_posix()
        covered = relative in listed or any(relative.startswith(row) for row in listed if row.endswith("/"))
        assert covered, f"{relative} is not in the README's layout table"


def test_nothing_on_the_map_is_gone() -> None:
    for row in layout_rows():
        assert (ROOT / row).exists(), f"the README's layout table names {row}, which does not exist"
