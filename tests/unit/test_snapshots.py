"""Each tool's interface is pinned: a change to a schema or an annotation must show up in review.

After a deliberate change: `python tools/update_snapshots.py`, and commit the snapshot diff. The server lists the
schemas from a packaged file made from the models (`pieces_mcp.catalog.schemas`, so that no model is built
before a tool's first call); it must say what the models say.
"""

from __future__ import annotations

import json

import pytest

from pieces_mcp.catalog import CATALOG, Endpoint
from pieces_mcp.catalog.schemas import SCHEMAS_FILE, model_schemas
from tools.update_snapshots import SNAPSHOTS, snapshots

CURRENT = snapshots()


@pytest.mark.parametrize("name", sorted(CURRENT))
def test_tool_interface_matches_its_snapshot(name: str) -> None:
    stored = SNAPSHOTS / name
    assert stored.exists(), f"no snapshot for {name}: run python tools/update_snapshots.py"
    assert json.loads(stored.read_text()) == json.loads(CURRENT[name]), (
        f"{name} changed; if deliberate, run python tools/update_snapshots.py and commit the diff"
    )


PACKAGED = json.loads(SCHEMAS_FILE.read_text(encoding="utf-8"))


@pytest.mark.parametrize("endpoint", CATALOG, ids=lambda endpoint: endpoint.name)
def test_the_packaged_schemas_are_the_models(endpoint: Endpoint) -> None:
    packaged = PACKAGED.get(endpoint.name)
    assert packaged is not None, f"{endpoint.name} is not in {SCHEMAS_FILE.name}: run python tools/update_snapshots.py"
    assert packaged == model_schemas(endpoint), (
        f"{endpoint.name}'s models changed since {SCHEMAS_FILE.name} was made: run python tools/update_snapshots.py"
    )


def test_the_packaged_schemas_hold_no_tool_that_is_gone() -> None:
    gone = sorted(set(PACKAGED) - {endpoint.name for endpoint in CATALOG})
    assert not gone, f"{SCHEMAS_FILE.name} has tools that are gone: {gone}; run python tools/update_snapshots.py"


def test_no_snapshot_is_left_for_a_tool_that_is_gone() -> None:
    stale = sorted({path.name for path in SNAPSHOTS.glob("*.json")} - set(CURRENT))
    assert not stale, f"snapshots of tools that are gone: {stale}; run python tools/update_snapshots.py"


@pytest.mark.parametrize("endpoint", CATALOG, ids=lambda endpoint: endpoint.name)
def test_annotations_say_what_the_entry_says(endpoint: Endpoint) -> None:
    """The four hints come from the entry alone; the snapshots above pin each tool's values for review."""
    annotations = json.loads(CURRENT[f"{endpoint.name}.json"])["annotations"]
    hints = {key: value for key, value in annotations.items() if key.endswith("Hint")}
    assert hints == {
        "readOnlyHint": endpoint.read_only,  # not guarded, and no side effect (os_update_check may download)
        "destructiveHint": endpoint.destructive,
        "idempotentHint": endpoint.idempotent,
        "openWorldHint": endpoint.open_world,
    }, f"{endpoint.name}'s annotations disagree with its catalog entry: fix the adapter, not the snapshot"
