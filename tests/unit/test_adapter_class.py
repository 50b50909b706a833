"""The adapter is a class (issue 20 item 3): short bound handlers, one offered set, the SDK's request state.

Through the SDK's in-memory `Client(server)`; PiecesOS is not needed (nothing answers at 127.0.0.1:9).
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client
from mcp.client.context import ClientRequestContext
from mcp.shared.exceptions import MCPError

from pieces_mcp import mcp_adapter
from pieces_mcp.catalog import CATALOG, TOOLSETS
from pieces_mcp.config import Settings
from pieces_mcp.guard import Guard, Policy
from pieces_mcp.mcp_adapter import build_server

NOBODY = "http://127.0.0.1:9"
LONGEST_FUNCTION = 60


def test_no_function_of_the_adapter_is_longer_than_sixty_lines() -> None:
    tree = ast.parse(Path(mcp_adapter.__file__).read_text(encoding="utf-8"))
    functions = [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    too_long = {
        f.name: f.end_lineno - f.lineno + 1 for f in functions if f.end_lineno - f.lineno + 1 > LONGEST_FUNCTION
    }  # type: ignore[operator]
    assert not too_long, f"functions over {LONGEST_FUNCTION} lines: {too_long}"


def test_the_offered_set_is_decided_once_for_listing_calling_and_resources(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    offers = Policy.offers

    def counted(self: Policy, endpoint: Any) -> bool:
        asked.append(endpoint.name)
        return offers(self, endpoint)

    monkeypatch.setattr(Policy, "offers", counted)
    settings = Settings(base_url=NOBODY, toolsets=frozenset(TOOLSETS))

    async def main() -> None:
        async with Client(build_server(settings)) as client:
            await client.list_tools()
            await client.call_tool("os_device_information", {})
            await client.list_resources()

    anyio.run(main)
    assert sorted(asked) == sorted(endpoint.name for endpoint in CATALOG)


def test_a_read_tool_never_reaches_the_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_read_tool_here(self: Guard, endpoint: Any, *rest: Any) -> Any:
        raise AssertionError(f"the guard was asked about {endpoint.name}")

    monkeypatch.setattr(Guard, "decide", no_read_tool_here)

    async def main() -> types.CallToolResult:
        async with Client(build_server(Settings(base_url=NOBODY))) as client:
            return await client.call_tool("os_device_information", {})

    result = anyio.run(main)
    [text] = [block.text for block in result.content if isinstance(block, types.TextContent)]
    assert result.is_error and text.startswith("PiecesOS is not running"), text


async def yes(context: ClientRequestContext, params: types.ElicitRequestParams) -> types.ElicitResult:
    return types.ElicitResult(action="accept", content={"confirm": True})


def round_trip(settings: Settings, rounds: Any) -> Any:
    async def main() -> Any:
        async with Client(build_server(settings), elicitation_callback=yes) as client:
            return await rounds(client)

    return anyio.run(main)


ANSWER = {"confirm": types.ElicitResult(action="accept", content={"confirm": True})}


def test_a_forged_or_altered_request_state_is_refused_by_the_sdk_boundary() -> None:
    async def rounds(client: Client) -> list[str]:
        asked = await client.session.call_tool("os_restart", {}, allow_input_required=True)
        assert isinstance(asked, types.InputRequiredResult) and asked.request_state
        refused = []
        for forged in (asked.request_state[:-2] + "AA", "made-up.0000"):
            with pytest.raises(MCPError) as error:
                await client.session.call_tool(
                    "os_restart", {}, input_responses=ANSWER, request_state=forged, allow_input_required=True
                )
            refused.append(f"{error.value.error.code} {error.value.error.message}")
        return refused

    assert (
        round_trip(Settings(base_url=NOBODY), rounds) == [f"{types.INVALID_PARAMS} Invalid or expired requestState"] * 2
    )


def test_an_answer_counts_once_and_only_for_the_call_it_was_asked_for(tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"

    async def rounds(client: Client) -> list[str]:
        asked = await client.session.call_tool("os_restart", {}, allow_input_required=True)
        assert isinstance(asked, types.InputRequiredResult)
        state, kinds = asked.request_state, []
        with pytest.raises(MCPError, match="Invalid or expired requestState"):  # sealed for os_restart {} only
            await client.session.call_tool(
                "sign_out_of_os", {}, input_responses=ANSWER, request_state=state, allow_input_required=True
            )
        for _ in range(2):  # answered, then the same answer replayed
            again = await client.session.call_tool(
                "os_restart", {}, input_responses=ANSWER, request_state=state, allow_input_required=True
            )
            kinds.append(type(again).__name__)
        return kinds

    assert round_trip(Settings(base_url=NOBODY, audit_log=str(audit)), rounds) == [
        "CallToolResult",  # it ran (and found nothing at 127.0.0.1:9)
        "InputRequiredResult",  # the replay is asked again
    ]
    started, line = [json.loads(line) for line in audit.read_text().splitlines()]  # started, then how it ended
    assert (started["outcome"], line["tool"], line["decision"]) == ("started", "os_restart", "confirmed")


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_resource_templates_are_listed_empty_in_both_eras(mode: str) -> None:
    """Codex asks on every connection; the resources are all listed by URI, so there is no template."""

    async def main() -> types.ListResourceTemplatesResult:
        async with Client(build_server(Settings(base_url=NOBODY)), mode=mode) as client:  # type: ignore[arg-type]
            return await client.list_resource_templates()

    assert anyio.run(main).resource_templates == []
