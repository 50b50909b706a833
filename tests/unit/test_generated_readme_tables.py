"""The README's generated tables (tools, configuration) are what the catalog and the settings say today."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import readme_table  # noqa: E402


def test_the_readme_tables_are_generated_from_the_catalog_and_settings() -> None:
    current = readme_table.README.read_text(encoding="utf-8")
    assert current == readme_table.render(current), "the README's tables are stale: run python tools/readme_table.py"
