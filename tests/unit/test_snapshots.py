"""Each tool's interface is pinned: a change to a schema or an annotation must show up in review.

After a deliberate change: `python tools/update_snapshots.py`, and commit the snapshot diff.
"""

from __future__ import annotations

import json

import pytest

from pieces_mcp.catalog import CATALOG, Endpoint
from tools.update_snapshots import SNAPSHOTS, snapshots

CURRENT = snapshots()


@pytest.mark.parametrize("name", sorted(CURRENT))
def test_tool_interface_matches_its_snapshot(name: str) -> None:
    stored = SNAPSHOTS / name
    assert stored.exists(), f"no snapshot for {name}: run python tools/update_snapshots.py"
    assert json.loads(stored.read_text()) == json.loads(CURRENT[name]), (
        f"{name} changed; if deliberate, run python tools/update_snapshots.py and commit the diff"
    )


def test_no_snapshot_is_left_for_a_tool_that_is_gone() -> None:
    assert sorted(path.name for path in SNAPSHOTS.glob("*.json")) == sorted(CURRENT)


@pytest.mark.parametrize("endpoint", CATALOG, ids=lambda endpoint: endpoint.name)
def test_annotations_agree_with_the_risk_class(endpoint: Endpoint) -> None:
    annotations = json.loads(CURRENT[f"{endpoint.name}.json"])["annotations"]
    # Unguarded but not read-only: a check that finds an update makes PiecesOS download it (README, "Tools").
    starts_a_download = {"os_update_check"}
    assert annotations["readOnlyHint"] is (not endpoint.guarded and endpoint.name not in starts_a_download)
    destructive = {"os_restart", "sign_out_of_os", "os_terminate", "os_applet_restart", "os_applet_terminate"}
    assert annotations["destructiveHint"] is (endpoint.name in destructive)
    open_world = {"sign_into_os", "link_provider", "os_update_check", "os_browser_url_open", "os_nano_models_prepare"}
    assert annotations["openWorldHint"] is (endpoint.name in open_world)
    guarded = {"os_restart", "sign_out_of_os", "sign_into_os", "link_provider", "os_permissions_request"}
    guarded |= {"pick_files", "pick_folders", "os_terminate", "os_settings_update", "os_filesystem_file_open"}
    guarded |= {"os_browser_url_open", "os_applet_launch", "os_applet_restart", "os_applet_terminate"}
    guarded |= {"os_memory_optimize", "os_nano_models_prepare", "os_filesystem_file_read_streamed"}
    assert endpoint.guarded is (endpoint.name in guarded)
