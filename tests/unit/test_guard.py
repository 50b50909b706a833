"""The guard's policy: read-only beats everything, then deny-tools, then allow-tools, then the mode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mcp.server.mcpserver import AcceptedElicitation, CancelledElicitation, DeclinedElicitation

from pieces_mcp.catalog import BY_NAME, CATALOG
from pieces_mcp.config import ConfirmMode, Settings
from pieces_mcp.guard import AuditLog, Confirm, Decision, Policy, Verdict, question, verdict_from
from pieces_mcp.models import FilePickerInput, LinkProviderInput, NoArguments

RESTART = BY_NAME["os_restart"]
DEVICE = BY_NAME["os_device_information"]


def policy(**settings: object) -> Policy:
    return Policy(Settings(**settings))  # type: ignore[arg-type]


def test_read_tools_always_run_and_guarded_ones_ask_by_default() -> None:
    default = policy()
    assert default.settled(DEVICE) == Verdict(Decision.ALLOWED_BY_POLICY)
    for endpoint in CATALOG:
        if endpoint.guarded:
            assert default.settled(endpoint) is None and default.describe(endpoint) == "asks the person"


@pytest.mark.parametrize(
    ("settings", "offered", "decision"),
    [
        ({"read_only": True, "confirm": ConfirmMode.ALLOW, "allow_tools": frozenset({"os_restart"})}, False, None),
        ({"deny_tools": frozenset({"os_restart"}), "allow_tools": frozenset({"os_restart"})}, False, None),
        ({"confirm": ConfirmMode.DENY, "allow_tools": frozenset({"os_restart"})}, True, Decision.ALLOWED_BY_POLICY),
        ({"confirm": ConfirmMode.DENY}, True, Decision.DENIED),
        ({"confirm": ConfirmMode.ALLOW}, True, Decision.ALLOWED_BY_POLICY),
        ({"confirm": ConfirmMode.ELICIT}, True, None),
    ],
    ids=["read-only-beats-all", "deny-beats-allow", "allow-beats-mode", "deny-mode", "allow-mode", "elicit-mode"],
)
def test_precedence(settings: dict[str, object], offered: bool, decision: Decision | None) -> None:
    chosen = policy(**settings)
    assert chosen.offers(RESTART) is offered
    if offered:
        verdict = chosen.settled(RESTART)
        assert (verdict.decision if verdict else None) == decision


def test_read_only_keeps_the_read_tools() -> None:
    names = [endpoint.name for endpoint in policy(read_only=True).visible()]
    assert names == ["os_device_information", "os_permissions", "os_update_check"]


def test_a_denial_says_how_to_allow_the_tool() -> None:
    verdict = policy(confirm=ConfirmMode.DENY).settled(RESTART)
    assert verdict is not None and "PIECES_MCP_ALLOW_TOOLS=os_restart" in verdict.reason


def test_the_question_says_what_will_happen_with_the_arguments() -> None:
    text = question(BY_NAME["link_provider"], LinkProviderInput(type="github"))
    assert "Link an identity provider" in text and text.endswith('(its words, not pieces-mcp\'s):\n{"type": "github"}')
    picker = question(BY_NAME["pick_files"], FilePickerInput(allowed_extensions=["py"], allow_multiple=False))
    assert "file picker window will open on your desktop" in picker
    assert '{"allow_multiple": false, "allowed_extensions": ["py"]}' in picker
    assert question(RESTART, NoArguments()).endswith("Allow it?")


@pytest.mark.parametrize(
    ("outcome", "runs", "said"),
    [
        (AcceptedElicitation(data=Confirm(confirm=True)), True, ""),
        (AcceptedElicitation(data=Confirm(confirm=False)), False, "answered no"),
        (DeclinedElicitation(), False, "declined"),
        (CancelledElicitation(), False, "dismissed the question"),
    ],
)
def test_only_an_accepted_yes_runs(outcome: object, runs: bool, said: str) -> None:
    verdict = verdict_from(RESTART, outcome)  # type: ignore[arg-type]
    assert verdict.runs is runs and said in verdict.reason


def test_the_audit_log_has_one_line_per_call_and_survives_a_bad_path(tmp_path: Path) -> None:
    log = AuditLog(str(tmp_path / "audit.jsonl"))
    log.record("os_restart", Verdict(Decision.CONFIRMED), "ok", 0.0)
    log.record("pick_files", Verdict(Decision.DECLINED, "no"), "not run", 0.0)
    lines = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [(line["tool"], line["decision"]) for line in lines] == [
        ("os_restart", "confirmed"),
        ("pick_files", "declined"),
    ]
    AuditLog(str(tmp_path / "missing-dir" / "audit.jsonl")).record("os_restart", Verdict(Decision.DENIED), "x", 0.0)
