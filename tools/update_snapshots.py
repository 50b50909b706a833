"""Rewrite tests/snapshots/: each tool's schemas and annotations as `tools/list` shows them.

Run after a deliberate change to a tool's interface; review the diff: it is what clients will see.
    python tools/update_snapshots.py
"""

from __future__ import annotations

import json
from pathlib import Path

from pieces_mcp.catalog import TOOLSETS
from pieces_mcp.config import ConfirmMode, Settings
from pieces_mcp.mcp_adapter import tool_listing

SNAPSHOTS = Path(__file__).resolve().parent.parent / "tests" / "snapshots"
SNAPSHOT_KEYS = ("name", "title", "description", "inputSchema", "outputSchema", "annotations")


def snapshots() -> dict[str, str]:
    """File name → content, for every tool (all of them listed: the policy only hides tools)."""
    result = {}
    for tool in tool_listing(Settings(confirm=ConfirmMode.ALLOW, toolsets=frozenset(TOOLSETS))):
        picked = {key: tool[key] for key in SNAPSHOT_KEYS if key in tool}
        result[f"{tool['name']}.json"] = json.dumps(picked, indent=2, sort_keys=True) + "\n"
    return result


def main() -> None:
    SNAPSHOTS.mkdir(parents=True, exist_ok=True)
    wanted = snapshots()
    for stale in set(path.name for path in SNAPSHOTS.glob("*.json")) - wanted.keys():
        (SNAPSHOTS / stale).unlink()
    for name, content in wanted.items():
        (SNAPSHOTS / name).write_text(content, encoding="utf-8")
    print(f"wrote {len(wanted)} snapshots to {SNAPSHOTS}")


if __name__ == "__main__":
    main()
