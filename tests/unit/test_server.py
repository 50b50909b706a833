"""Tool registration from the catalog, in process: schemas, strictness, error sentences."""

from __future__ import annotations

import anyio
import pytest
from mcp import Client
from mcp_types import CallToolResult, TextContent
from pydantic import ValidationError

from pieces_mcp.catalog import BY_NAME, CATALOG
from pieces_mcp.client import PiecesOS
from pieces_mcp.config import ConfirmMode, Settings
from pieces_mcp.server import argument_problem, build_server, tool_listing


def test_every_catalog_entry_becomes_one_tool_with_a_strict_schema() -> None:
    listing = {tool["name"]: tool for tool in tool_listing(Settings(confirm=ConfirmMode.ALLOW))}
    assert list(listing) == [endpoint.name for endpoint in CATALOG]
    for tool in listing.values():
        assert tool["inputSchema"]["additionalProperties"] is False
        assert tool["outputSchema"]["type"] == "object"
        assert set(tool["annotations"]) >= {"readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"}


def test_denied_tools_are_not_registered() -> None:
    listing = tool_listing(Settings(deny_tools=frozenset({"pick_files"})))
    assert "pick_files" not in {tool["name"] for tool in listing}


def test_resources_mirror_the_read_tools() -> None:
    resources = anyio.run(build_server(Settings()).list_resources)
    assert sorted(str(resource.uri) for resource in resources) == [
        f"pieces-os://{endpoint.name}" for endpoint in CATALOG if not endpoint.guarded
    ]


def test_argument_problems_name_each_argument_and_what_the_tool_takes() -> None:
    endpoint = BY_NAME["pick_files"]
    with pytest.raises(ValidationError) as raised:
        endpoint.input_model.model_validate({"allow_multiple": "maybe", "confirm": True})
    message = argument_problem(endpoint, raised.value)
    assert message.startswith("Invalid arguments for pick_files: ")
    assert "unknown argument 'confirm'" in message and "allow_multiple: Input should be a valid boolean" in message
    assert "(it takes: allow_multiple, allowed_extensions)" in message and "\n" not in message


def test_a_model_level_problem_reads_as_a_sentence() -> None:
    endpoint = BY_NAME["os_permissions_request"]
    with pytest.raises(ValidationError) as raised:
        endpoint.input_model.model_validate({})
    assert "set vision or accessibility (or both) to true" in argument_problem(endpoint, raised.value)


def test_a_bug_under_a_read_tool_answers_without_its_internals(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read tools skip the SDK's tool machinery (tools/bench.py), so they map a crash the way it would."""

    async def broken(self: PiecesOS, endpoint: object, arguments: object) -> None:
        raise RuntimeError("internal detail at /home/someone/.secret")

    monkeypatch.setattr(PiecesOS, "call", broken)

    async def main() -> CallToolResult:
        async with Client(build_server(Settings(base_url="http://127.0.0.1:9"))) as client:
            return await client.call_tool("os_device_information", {})

    result = anyio.run(main)
    assert result.is_error
    assert [block.text for block in result.content if isinstance(block, TextContent)] == [
        "Error executing tool os_device_information"
    ]
