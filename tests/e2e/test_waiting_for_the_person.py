"""Calls that wait for a person are bounded by --interactive-timeout, not by the ordinary --timeout, end to end."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp_types import CallToolResult

from pieces_mcp.catalog import CATALOG, Wait
from tests.support import SimulatorProcess, serve, text_of

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]

ALLOW = {"PIECES_MCP_CONFIRM": "allow"}
# The tools that wait for a person at the desktop, with their catalog example and the path the person is slow on.
INTERACTIVE = [
    (endpoint.name, endpoint.examples[0].filled("/tmp"), endpoint.path_for("current"))
    for endpoint in CATALOG
    if endpoint.wait is Wait.INTERACTIVE
]


def person_takes(simulator: SimulatorProcess, path: str, seconds: float) -> None:
    if "pick" in path:
        simulator.state(pick_delay_ms=int(seconds * 1000))
    else:  # a delay-only fault answers as PiecesOS would, just later
        simulator.fault(path, delay_ms=int(seconds * 1000), times=1)


async def test_a_person_slower_than_the_ordinary_timeout_still_gets_an_answer(simulator: SimulatorProcess) -> None:
    """Every tool that waits for a person, each in its own call, all at once: the person takes longer than
    --timeout at each of them, and each still gets its answer."""
    assert INTERACTIVE, "the catalog has no tool that waits for a person"
    for _, _, path in INTERACTIVE:
        person_takes(simulator, path, 1.5)
    results: dict[str, tuple[CallToolResult, float]] = {}
    async with serve(simulator.url, PIECES_MCP_TIMEOUT="1", PIECES_MCP_INTERACTIVE_TIMEOUT="30", **ALLOW) as served:

        async def call(tool: str, arguments: dict[str, Any]) -> None:
            started = time.monotonic()
            result = await served.client.call_tool(tool, arguments)
            results[tool] = result, time.monotonic() - started

        async with anyio.create_task_group() as calls:
            for tool, arguments, _ in INTERACTIVE:
                calls.start_soon(call, tool, arguments)
    for tool, _, path in INTERACTIVE:
        result, took = results[tool]
        assert not result.is_error and result.structured_content, (tool, text_of(result))
        assert took >= 1.5, tool  # the person really was slower than --timeout
        assert len(simulator.os_calls(path)) == 1, tool


async def test_a_person_slower_than_the_interactive_timeout_gets_a_message_naming_it(
    simulator: SimulatorProcess,
) -> None:
    simulator.hold_clock()  # the person never picks: only a limit can end the call
    person_takes(simulator, "/os/filesystem/files/pick", 5)
    async with serve(simulator.url, PIECES_MCP_TIMEOUT="0.5", PIECES_MCP_INTERACTIVE_TIMEOUT="1", **ALLOW) as served:
        started = time.monotonic()
        result = await served.client.call_tool("pick_files", {})
        waited = time.monotonic() - started
    assert result.is_error and "within 1 s, the --interactive-timeout limit" in text_of(result), text_of(result)
    assert waited >= 1  # it waited out the interactive limit, not the ordinary one


async def test_an_ordinary_call_slower_than_the_timeout_names_the_timeout(simulator: SimulatorProcess) -> None:
    simulator.hold_clock()  # the answer never comes: only a limit can end the call
    simulator.fault("/os/device/information", delay_ms=3000, times=1)
    async with serve(simulator.url, PIECES_MCP_TIMEOUT="0.5", PIECES_MCP_INTERACTIVE_TIMEOUT="30") as served:
        result = await served.client.call_tool("os_device_information", {})
    assert result.is_error and "within 0.5 s, the --timeout limit" in text_of(result), text_of(result)


def audit_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_a_guarded_call_cancelled_while_it_runs_is_audited_as_cancelled(
    simulator: SimulatorProcess, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    simulator.state(pick_delay_ms=10_000)
    async with serve(simulator.url, PIECES_MCP_AUDIT_LOG=audit, **ALLOW) as served:
        async with anyio.create_task_group() as calling:
            calling.start_soon(served.client.call_tool, "pick_files", {})
            await simulator.until_a_delay_begins()  # the picker is open: the call runs
            calling.cancel_scope.cancel()
        # The audit line is the only signal of the server's cancellation a client can see: wait for it, bounded,
        # while the session is still open (closing it would cancel the call as well).
        with anyio.fail_after(5):
            while not audit.exists() or len(audit_lines(audit)) < 2:  # noqa: ASYNC110
                await anyio.sleep(0.05)
    _, line = audit_lines(audit)
    assert (line["tool"], line["decision"], line["outcome"]) == ("pick_files", "allowed by policy", "cancelled")


async def test_a_guarded_call_whose_answer_breaks_the_parser_is_still_audited(
    simulator: SimulatorProcess, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    nested = "[" * 200_000 + "]" * 200_000  # deeper than any JSON parser's recursion limit
    simulator.fault("/os/sign_in", status=200, body=nested, content_type="application/json", times=1)
    async with serve(simulator.url, PIECES_MCP_AUDIT_LOG=audit, **ALLOW) as served:
        result = await served.client.call_tool("sign_into_os", {})
        after = await served.client.call_tool("os_permissions", {})
    assert result.is_error and not after.is_error
    started, line = audit_lines(audit)
    assert started["outcome"] == "started"
    assert line["tool"] == "sign_into_os" and line["outcome"] != "ok"
