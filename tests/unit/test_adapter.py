"""The MCP adapter and the dispatcher in process: tool definitions, strictness, errors, round-trip questions."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp_types import CallToolResult, TextContent
from pydantic import ValidationError

from pieces_mcp.catalog import BY_NAME, CATALOG, LIVE, TOOLSETS
from pieces_mcp.client import PiecesOS
from pieces_mcp.config import ConfirmMode, Settings
from pieces_mcp.dispatch import argument_problem, parse_arguments
from pieces_mcp.mcp_adapter import Questions, build_server, tool_listing


def test_every_catalog_entry_becomes_one_tool_with_a_strict_schema() -> None:
    listing = {
        tool["name"]: tool for tool in tool_listing(Settings(confirm=ConfirmMode.ALLOW, toolsets=frozenset(TOOLSETS)))
    }
    assert list(listing) == [endpoint.name for endpoint in CATALOG]
    for tool in listing.values():
        assert tool["inputSchema"]["additionalProperties"] is False
        assert tool["outputSchema"]["type"] == "object"
        assert set(tool["annotations"]) >= {"readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"}


def test_denied_tools_are_not_listed() -> None:
    listing = tool_listing(Settings(deny_tools=frozenset({"pick_files"})))
    assert "pick_files" not in {tool["name"] for tool in listing}


def resource_uris(settings: Settings) -> list[str]:
    async def main() -> list[str]:
        async with Client(build_server(settings)) as client:
            return [str(resource.uri) for resource in (await client.list_resources()).resources]

    return anyio.run(main)


def test_resources_mirror_the_read_tools_without_arguments_then_the_live_streams_of_the_chosen_toolsets() -> None:
    every = frozenset(TOOLSETS)
    read_tools = [
        f"pieces-os://{endpoint.name}"
        for endpoint in CATALOG
        if not endpoint.guarded and endpoint.name != "os_filesystem_path_verify"  # it needs a path
    ]
    streams = [f"pieces-os://{live.name}" for live in LIVE]
    assert resource_uris(Settings(base_url="http://127.0.0.1:9", toolsets=every)) == [*read_tools, *streams]
    seed_read_tools = read_tools[:3]
    seed_streams = [f"pieces-os://{live.name}" for live in LIVE if live.toolset == "os"]
    assert resource_uris(Settings(base_url="http://127.0.0.1:9")) == [*seed_read_tools, *seed_streams]


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


def test_a_list_sent_as_a_json_string_is_read_as_the_list() -> None:
    """Some clients JSON-encode array arguments; the strict model still refuses anything else."""
    parsed = parse_arguments(BY_NAME["pick_files"], {"allowed_extensions": '["py", "md"]'})
    assert parsed.model_dump()["allowed_extensions"] == ["py", "md"]
    with pytest.raises(ValidationError):
        parse_arguments(BY_NAME["pick_files"], {"allowed_extensions": "[not json"})


def test_a_bug_under_a_tool_answers_without_its_internals_and_is_audited_as_failed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async def broken(self: PiecesOS, endpoint: object, arguments: object) -> None:
        raise RuntimeError("internal detail at /home/someone/.secret")

    monkeypatch.setattr(PiecesOS, "call", broken)
    audit = tmp_path / "audit.jsonl"
    settings = Settings(base_url="http://127.0.0.1:9", confirm=ConfirmMode.ALLOW, audit_log=str(audit))

    async def main() -> tuple[CallToolResult, CallToolResult]:
        async with Client(build_server(settings)) as client:
            return await client.call_tool("os_device_information", {}), await client.call_tool("os_restart", {})

    for result in anyio.run(main):
        assert result.is_error
        [text] = [block.text for block in result.content if isinstance(block, TextContent)]
        assert text.startswith("Error executing tool os_") and "secret" not in text
    started, line = [json.loads(line) for line in audit.read_text().splitlines()]
    assert (started["tool"], started["outcome"]) == ("os_restart", "started")
    assert (line["tool"], line["outcome"]) == ("os_restart", "failed")


def test_a_round_trip_answer_counts_once_and_only_for_its_own_call() -> None:
    questions = Questions()
    state = questions.issue("os_restart", {}, 60)
    assert not questions.redeem(state, "sign_out_of_os", {})  # another tool
    assert not questions.redeem(state, "os_restart", {"extra": 1})  # other arguments
    assert questions.redeem(state, "os_restart", {})
    assert not questions.redeem(state, "os_restart", {})  # replayed
    assert not questions.redeem("made-up.0000", "os_restart", {}) and not questions.redeem(None, "os_restart", {})


def test_a_round_trip_answer_expires_with_the_interactive_timeout() -> None:
    questions = Questions()
    state = questions.issue("os_restart", {}, -1)
    assert not questions.redeem(state, "os_restart", {})
