"""A client's reply to the confirmation that does not fit its schema: a sentence saying so, never a run."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client
from mcp.client.context import ClientRequestContext
from mcp_types import ElicitRequestParams, ElicitResult, TextContent

from pieces_mcp.config import Settings
from pieces_mcp.mcp_adapter import build_server
from tests.support import RawServer, SimulatorProcess

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

ERAS = ["legacy", "auto"]
UNFIT = "the client's reply to the confirmation did not fit its question (it takes confirm: true or false)"


@pytest.mark.parametrize("mode", ERAS)
@pytest.mark.parametrize("content", [{"confirm": "yes"}, {"confirm": 1}, {}, None])
async def test_an_accept_without_a_boolean_confirm_is_named_as_the_clients_fault(
    simulator: SimulatorProcess, mode: str, content: dict[str, Any] | None
) -> None:
    async def answer(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        return ElicitResult(action="accept", content=content)

    async with Client(build_server(Settings(base_url=simulator.url)), mode=mode, elicitation_callback=answer) as client:
        result = await client.call_tool("os_restart", {})
        after = await client.call_tool("os_permissions", {})
    [text] = [block.text for block in result.content if isinstance(block, TextContent)]
    assert result.is_error and text.startswith("os_restart did not run: ") and UNFIT in text
    assert simulator.os_calls("/os/restart") == [] and not after.is_error


def test_a_reply_whose_shape_is_no_elicitation_result_gets_the_sentence_not_error_executing_tool(
    simulator: SimulatorProcess,
) -> None:
    """Over the wire the SDK validates the reply and raises; that used to end as "Error executing tool"."""
    server = RawServer(simulator.url)
    try:
        server.request(
            "initialize",
            {
                "protocolVersion": "2025-11-25",
                "capabilities": {"elicitation": {}},
                "clientInfo": {"name": "raw", "version": "0"},
            },
        )
        server.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        server.send({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "os_restart"}})
        question = server.read()
        assert question.get("method") == "elicitation/create", question
        reply = {"action": "accept", "content": {"confirm": {"nested": ["not", "a", "boolean"]}}}
        server.send({"jsonrpc": "2.0", "id": question["id"], "result": reply})
        answer = server.read()
        while answer.get("id") != 7:
            answer = server.read()
        [block] = answer["result"]["content"]
        assert answer["result"]["isError"] is True and UNFIT in block["text"]
        assert "Error executing tool" not in block["text"]
        assert simulator.os_calls("/os/restart") == []
        assert "result" in server.call("os_permissions", {})
    finally:
        server.close()
