"""os_update_check says what it does: a check can start PiecesOS's download, so it is not annotated read-only."""

from __future__ import annotations

from pieces_mcp.catalog import BY_NAME, CATALOG
from pieces_mcp.config import Settings
from pieces_mcp.guard import Policy
from pieces_mcp.mcp_adapter import tool_listing

CHECK = BY_NAME["os_update_check"]


def test_the_check_is_not_annotated_read_only_and_its_description_says_why() -> None:
    [tool] = [tool for tool in tool_listing(Settings()) if tool["name"] == CHECK.name]
    assert tool["annotations"]["readOnlyHint"] is False
    assert tool["annotations"]["destructiveHint"] is False and tool["annotations"]["openWorldHint"] is True
    assert "Not read-only" in tool["description"] and "start downloading" in tool["description"]


def test_read_only_mode_still_offers_it_and_says_why() -> None:
    read_only = Policy(Settings(read_only=True))
    assert CHECK in read_only.visible()
    assert (
        read_only.describe(CHECK)
        == "runs, asking nobody; it may start downloading a PiecesOS update it finds (installs nothing)"
    )
    assert all(not endpoint.guarded for endpoint in read_only.visible())


def test_only_tools_with_no_side_effect_are_annotated_read_only() -> None:
    for tool in tool_listing(Settings(toolsets=frozenset({endpoint.toolset for endpoint in CATALOG}))):
        endpoint = BY_NAME[tool["name"]]
        assert tool["annotations"]["readOnlyHint"] is (not endpoint.guarded and not endpoint.side_effect)
