"""The confirmation guard end to end: the person's answer or the person's configuration decides, nothing else."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client.context import ClientRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types import ElicitRequestParams, ElicitResult

from tests.support import SimulatorProcess, serve, structured, text_of

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

ERAS = ["legacy", "auto"]  # the 2025-11-25 handshake, and 2026-07-28 with input_required round trips
RESTART = "/os/restart"
Answer = Callable[[ClientRequestContext, ElicitRequestParams], Awaitable[ElicitResult]]


def answering(action: str, confirm: bool | None = None, asked: list[str] | None = None) -> Answer:
    async def answer(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        if asked is not None:
            asked.append(params.message)
        content = {"confirm": confirm} if confirm is not None else None
        return ElicitResult(action=action, content=content)  # type: ignore[arg-type]

    return answer


async def never_answers(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
    await anyio.sleep(3600)
    raise AssertionError("unreachable")


def audit_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("mode", ERAS)
async def test_yes_runs_the_call_after_asking_in_plain_words(
    simulator: SimulatorProcess, mode: str, tmp_path: Path
) -> None:
    asked: list[str] = []
    audit = tmp_path / "audit.jsonl"
    async with serve(
        simulator.url, mode=mode, elicitation_callback=answering("accept", True, asked), PIECES_MCP_AUDIT_LOG=audit
    ) as served:
        result = await served.client.call_tool("os_restart", {})
    assert structured(result)["restarted"] is True
    assert len(asked) == 1 and "PiecesOS will restart" in asked[0] and "lose it for a few seconds" in asked[0]
    assert len(simulator.os_calls(RESTART)) == 1
    started, line = audit_lines(audit)  # approved and started (on disk before PiecesOS hears of it), then the end
    assert (started["outcome"], started["call"]) == ("started", line["call"])
    assert line["tool"] == "os_restart" and line["decision"] == "confirmed" and line["outcome"] == "ok"
    assert line["asked"] == "client"
    assert line["duration_ms"] >= 0 and "time" in line


@pytest.mark.parametrize("mode", ERAS)
@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (answering("accept", False), "answered no"),
        (answering("decline"), "declined"),
        (answering("cancel"), "dismissed the question"),
    ],
    ids=["no", "decline", "cancel"],
)
async def test_anything_but_yes_does_not_reach_piecesos(
    simulator: SimulatorProcess, mode: str, answer: Answer, said: str, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    async with serve(simulator.url, mode=mode, elicitation_callback=answer, PIECES_MCP_AUDIT_LOG=audit) as served:
        result = await served.client.call_tool("pick_files", {})
        still_serving = await served.client.call_tool("os_permissions", {})
    assert result.is_error
    assert said in text_of(result) and "do not retry unless they ask" in text_of(result)
    assert not still_serving.is_error
    assert simulator.os_calls("/os/filesystem/files/pick") == []
    [line] = audit_lines(audit)
    assert (line["decision"], line["outcome"]) == ("declined", "not run")


async def test_no_answer_within_the_interactive_timeout_is_a_no(simulator: SimulatorProcess, tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    async with serve(
        simulator.url,
        elicitation_callback=never_answers,
        PIECES_MCP_INTERACTIVE_TIMEOUT="0.2",
        PIECES_MCP_AUDIT_LOG=audit,
    ) as served:
        with anyio.fail_after(10):
            result = await served.client.call_tool("sign_out_of_os", {})
    assert result.is_error and "nobody answered the confirmation within 0.2 s" in text_of(result)
    assert simulator.os_calls("/os/sign_out") == []
    assert audit_lines(audit)[0]["decision"] == "declined"


@pytest.mark.parametrize("mode", ERAS)
async def test_a_client_that_cannot_ask_is_told_how_to_allow_the_tool(
    simulator: SimulatorProcess, mode: str, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    async with serve(simulator.url, mode=mode, PIECES_MCP_AUDIT_LOG=audit) as served:
        result = await served.client.call_tool("os_restart", {})
    assert result.is_error and "PIECES_MCP_ALLOW_TOOLS=os_restart" in text_of(result)
    assert simulator.os_calls(RESTART) == []
    assert audit_lines(audit)[0]["decision"] == "refused: no elicitation"


async def test_deny_mode_refuses_without_asking(simulator: SimulatorProcess, tmp_path: Path) -> None:
    asked: list[str] = []
    audit = tmp_path / "audit.jsonl"
    async with serve(
        simulator.url,
        elicitation_callback=answering("accept", True, asked),
        PIECES_MCP_CONFIRM="deny",
        PIECES_MCP_AUDIT_LOG=audit,
    ) as served:
        result = await served.client.call_tool("sign_into_os", {})
        read = await served.client.call_tool("os_device_information", {})
    assert result.is_error and "PIECES_MCP_CONFIRM=deny" in text_of(result) and asked == []
    assert not read.is_error
    assert simulator.os_calls("/os/sign_in") == []
    assert audit_lines(audit)[0]["decision"] == "denied"


async def test_allow_mode_runs_without_asking(simulator: SimulatorProcess, tmp_path: Path) -> None:
    asked: list[str] = []
    audit = tmp_path / "audit.jsonl"
    async with serve(
        simulator.url,
        elicitation_callback=answering("decline", asked=asked),
        PIECES_MCP_CONFIRM="allow",
        PIECES_MCP_AUDIT_LOG=audit,
    ) as served:
        result = await served.client.call_tool("pick_folders", {})
    assert not result.is_error and asked == []
    assert audit_lines(audit)[0]["decision"] == "allowed by policy"


async def test_allow_tools_beats_deny_mode_for_the_named_tool_only(simulator: SimulatorProcess) -> None:
    async with serve(simulator.url, PIECES_MCP_CONFIRM="deny", PIECES_MCP_ALLOW_TOOLS="pick_folders") as served:
        allowed = await served.client.call_tool("pick_folders", {})
        refused = await served.client.call_tool("pick_files", {})
    assert not allowed.is_error and refused.is_error


async def test_deny_tools_hides_and_refuses_as_unknown_even_when_allowed(simulator: SimulatorProcess) -> None:
    async with serve(
        simulator.url,
        PIECES_MCP_CONFIRM="allow",
        PIECES_MCP_ALLOW_TOOLS="os_restart",
        PIECES_MCP_DENY_TOOLS="os_restart,os_permissions",
    ) as served:
        names = {tool.name for tool in (await served.client.list_tools()).tools}
        with pytest.raises(MCPError, match="os_restart is denied by PIECES_MCP_DENY_TOOLS"):
            await served.client.call_tool("os_restart", {})
    assert "os_restart" not in names and "os_permissions" not in names and "pick_files" in names
    assert simulator.os_calls(RESTART) == []


@pytest.mark.parametrize("mode", ERAS)
async def test_read_only_beats_everything(simulator: SimulatorProcess, mode: str) -> None:
    async with serve(
        simulator.url,
        mode=mode,
        elicitation_callback=answering("accept", True),
        PIECES_MCP_READ_ONLY="1",
        PIECES_MCP_CONFIRM="allow",
        PIECES_MCP_ALLOW_TOOLS="os_restart",
    ) as served:
        names = sorted(tool.name for tool in (await served.client.list_tools()).tools)
        with pytest.raises(MCPError, match="os_restart is hidden by --read-only"):
            await served.client.call_tool("os_restart", {})
        read = await served.client.call_tool("os_update_check", {})
    assert names == ["os_device_information", "os_permissions", "os_update_check"]
    assert not read.is_error and simulator.os_calls(RESTART) == []


@pytest.mark.parametrize(
    "arguments",
    [{"confirm": True}, {"confirmed": True, "force": True}, {"_meta": {"confirm": True}}, {"yes": "true"}],
)
async def test_no_argument_bypasses_the_guard(simulator: SimulatorProcess, arguments: dict[str, Any]) -> None:
    async with serve(simulator.url) as served:  # elicit mode, and this client cannot ask
        result = await served.client.call_tool("os_restart", arguments)
    assert result.is_error
    assert simulator.os_calls(RESTART) == []


async def test_a_guarded_call_that_fails_is_audited_with_its_outcome(
    simulator: SimulatorProcess, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    simulator.state(signed_in=False)
    async with serve(simulator.url, PIECES_MCP_CONFIRM="allow", PIECES_MCP_AUDIT_LOG=audit) as served:
        result = await served.client.call_tool("link_provider", {"type": "github"})
    assert result.is_error and "HTTP 401" in text_of(result) and "sign_into_os" in text_of(result)
    _, line = audit_lines(audit)
    assert line["outcome"] == "error: BadStatusError 401"
    assert set(line) == {"time", "call", "tool", "decision", "asked", "target", "outcome", "duration_ms"}
    assert line["asked"] is None and line["target"] == {"type": '"github"'}
