"""Rewrite tests/snapshots/ (each tool's schemas and annotations as `tools/list` shows them) and the packaged
schemas the server lists them from (pieces_mcp/catalog/tool_schemas.json, made from the models).

Run after a deliberate change to a tool's interface; review the diff: it is what clients will see.
    python tools/update_snapshots.py          # rewrite both
    python tools/update_snapshots.py --check  # exit 1 when either is out of date
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pieces_mcp.catalog import CATALOG, TOOLSETS
from pieces_mcp.catalog.schemas import SCHEMAS_FILE, render
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


def stale() -> list[str]:
    """What is out of date: the packaged schemas, then each snapshot that differs, is missing or is left over."""
    found = [] if SCHEMAS_FILE.read_text(encoding="utf-8") == render(CATALOG) else [str(SCHEMAS_FILE)]
    wanted = snapshots()
    stored = {path.name: path.read_text(encoding="utf-8") for path in SNAPSHOTS.glob("*.json")}
    found += sorted(name for name in wanted.keys() | stored.keys() if wanted.get(name) != stored.get(name))
    return found


def main(argv: list[str]) -> int:
    if argv == ["--check"]:
        out_of_date = stale()
        if out_of_date:
            print(f"out of date: {', '.join(out_of_date)}; run python tools/update_snapshots.py", file=sys.stderr)
        return 1 if out_of_date else 0
    # The packaged schemas first: the snapshots are `tools/list` as the server lists it, from that file.
    SCHEMAS_FILE.write_text(render(CATALOG), encoding="utf-8")
    SNAPSHOTS.mkdir(parents=True, exist_ok=True)
    wanted = snapshots()
    for gone in set(path.name for path in SNAPSHOTS.glob("*.json")) - wanted.keys():
        (SNAPSHOTS / gone).unlink()
    for name, content in wanted.items():
        (SNAPSHOTS / name).write_text(content, encoding="utf-8")
    print(f"wrote {SCHEMAS_FILE.name} and {len(wanted)} snapshots to {SNAPSHOTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
