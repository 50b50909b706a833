"""One budget per call: a guarded picker's confirmation and picking share one --interactive-timeout (budget.py),
and an ordinary guarded call's own limit starts once the person has answered."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from mcp.client.context import ClientRequestContext
from mcp_types import ElicitRequestParams, ElicitResult

from tests.support import SimulatorProcess, serve, structured, text_of

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]


def confirming_after(seconds: float) -> Any:
    async def answer(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        await anyio.sleep(seconds)  # the person reading the question: the slowness is the subject here
        return ElicitResult(action="accept", content={"confirm": True})

    return answer


async def test_confirming_and_picking_share_one_interactive_timeout(simulator: SimulatorProcess) -> None:
    # Each alone fits in the 1.5 s limit; together they do not: a guarded picker has one person's budget, not two.
    simulator.state(pick_delay_ms=1000)
    async with serve(
        simulator.url, elicitation_callback=confirming_after(1), PIECES_MCP_INTERACTIVE_TIMEOUT="1.5"
    ) as served:
        result = await served.client.call_tool("pick_files", {})
    assert result.is_error, text_of(result)
    assert "the --interactive-timeout limit" in text_of(result) and "within 1.5 s" in text_of(result)


async def test_an_ordinary_guarded_call_gets_its_own_limit_once_the_person_answered(
    simulator: SimulatorProcess,
) -> None:
    # The person takes longer than --timeout to say yes; PiecesOS still gets its whole --timeout afterwards.
    async with serve(
        simulator.url,
        elicitation_callback=confirming_after(1.5),
        args=("--toolsets", "all"),
        PIECES_MCP_TIMEOUT="1",
        PIECES_MCP_INTERACTIVE_TIMEOUT="30",
    ) as served:
        result = await served.client.call_tool("os_memory_optimize", {})
    assert structured(result) == {"accepted": True}
