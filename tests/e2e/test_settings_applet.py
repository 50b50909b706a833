"""The vendor CLI opens PiecesOS's settings as applet FUTURE_APPLET_MODULE_PLACEHOLDER_A (cli-agent
core/open_command.py): the applet tools take it, and the person's question says in words what it is."""

from __future__ import annotations

import pytest
from mcp.client.context import ClientRequestContext
from mcp_types import ElicitRequestParams, ElicitResult

from tests.support import SimulatorProcess, serve, structured, text_of

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

EVERY_SET = ("--toolsets", "all")


async def test_the_settings_applet_launches_and_the_question_names_it(simulator: SimulatorProcess) -> None:
    asked: list[str] = []

    async def confirm(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="accept", content={"confirm": True})

    async with serve(simulator.url, elicitation_callback=confirm, args=EVERY_SET) as served:
        result = await served.client.call_tool("os_applet_launch", {"type": "FUTURE_APPLET_MODULE_PLACEHOLDER_A"})
    launched = structured(result)
    assert launched["type"] == "FUTURE_APPLET_MODULE_PLACEHOLDER_A" and launched["port"] > 0
    [question] = asked
    assert "FUTURE_APPLET_MODULE_PLACEHOLDER_A is PiecesOS's settings" in question


async def test_the_placeholders_no_vendor_client_sends_are_refused(simulator: SimulatorProcess) -> None:
    async with serve(simulator.url, args=EVERY_SET, PIECES_MCP_CONFIRM="allow") as served:
        result = await served.client.call_tool("os_applet_launch", {"type": "FUTURE_APPLET_MODULE_PLACEHOLDER_B"})
    assert result.is_error and "Invalid arguments for os_applet_launch" in text_of(result)
    assert simulator.os_calls("/os/applet/launch") == []
