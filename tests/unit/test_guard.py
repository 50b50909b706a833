"""The guard's policy: read-only beats everything, then deny-tools, then allow-tools, then the mode."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest

from pieces_mcp.catalog import BY_NAME, CATALOG, DEFAULT_TOOLSETS, TOOLSETS
from pieces_mcp.config import ConfirmMode, Settings
from pieces_mcp.guard import AuditLog, ClientAnswer, Decision, Guard, Policy, Verdict, question
from pieces_mcp.models.base import NoArguments
from pieces_mcp.models.os_tools import FilePickerInput, LinkProviderInput
from pieces_mcp.targets import HEADING, EffectiveCall, effective_call

RESTART = BY_NAME["os_restart"]
DEVICE = BY_NAME["os_device_information"]


def policy(**settings: object) -> Policy:
    return Policy(Settings(**settings))  # type: ignore[arg-type]


def test_read_tools_always_run_and_guarded_ones_ask_by_default() -> None:
    default = policy(toolsets=frozenset(TOOLSETS))
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


def test_the_question_says_what_will_happen_and_to_what() -> None:
    link = BY_NAME["link_provider"]
    text = question(link, effective_call(link, LinkProviderInput(type="github")))
    assert text.startswith("Your AI assistant wants to run “Link an identity provider”.") and "Allow it?" in text
    assert text.endswith(f'\n\n{HEADING}\ntype: "github"')
    picker = BY_NAME["pick_files"]
    chosen = question(picker, effective_call(picker, FilePickerInput(allow_multiple=False, allowed_extensions=["py"])))
    assert "file picker window will open on your desktop" in chosen
    assert chosen.endswith('allow_multiple: false\nallowed_extensions: ["py"]')  # JSON, not Python's False
    assert HEADING not in question(RESTART, EffectiveCall(NoArguments()))


class FakeAsker:
    def __init__(self, can_ask: bool, answer: ClientAnswer = "yes") -> None:
        self.can_ask = can_ask
        self.answer = answer
        self.questions: list[str] = []

    async def ask(self, question: str, patience: float) -> ClientAnswer:
        self.questions.append(question)
        return self.answer


def decide(asker: FakeAsker, **settings: object) -> Verdict:
    guard = Guard(Settings(**settings))  # type: ignore[arg-type]
    return anyio.run(guard.decide, RESTART, EffectiveCall(NoArguments()), asker)


@pytest.mark.parametrize(
    ("answer", "runs", "said"),
    [("yes", True, ""), ("no", False, "answered no"), ("decline", False, "declined"),
     ("cancel", False, "dismissed the question"), ("timeout", False, "nobody answered the confirmation within 300 s"),
     ("failed", False, "could not ask")],
)  # fmt: skip
def test_only_a_yes_from_the_person_runs(answer: ClientAnswer, runs: bool, said: str) -> None:
    asker = FakeAsker(True, answer)
    verdict = decide(asker)
    assert verdict.runs is runs and said in verdict.reason and verdict.asked == "client"
    assert len(asker.questions) == 1


@pytest.mark.parametrize("mode", [ConfirmMode.ALLOW, ConfirmMode.DENY])
def test_a_settled_mode_never_asks(mode: ConfirmMode) -> None:
    asker = FakeAsker(True)
    assert decide(asker, confirm=mode).asked is None and asker.questions == []


def test_desktop_mode_asks_on_the_desktop_even_when_the_client_could_ask(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(variable, raising=False)
    asker = FakeAsker(True)
    verdict = decide(asker, confirm=ConfirmMode.DESKTOP)
    assert asker.questions == [] and verdict.decision is Decision.NO_ELICITATION and "no dialog" in verdict.reason


def test_client_mode_refuses_when_the_client_cannot_ask() -> None:
    verdict = decide(FakeAsker(False), confirm=ConfirmMode.CLIENT)
    assert verdict.decision is Decision.NO_ELICITATION and "PIECES_MCP_ALLOW_TOOLS=os_restart" in verdict.reason


def test_the_audit_log_has_one_line_per_call_and_survives_a_bad_path(tmp_path: Path) -> None:
    log = AuditLog(str(tmp_path / "audit.jsonl"))
    log.record("os_restart", Verdict(Decision.CONFIRMED), "ok", 0.0, {}, "a")
    log.record("pick_files", Verdict(Decision.DECLINED, "no"), "not run", 0.0, {}, "b")
    lines = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [(line["tool"], line["decision"]) for line in lines] == [
        ("os_restart", "confirmed"),
        ("pick_files", "declined"),
    ]
    (tmp_path / "gone").mkdir()
    vanished = AuditLog(str(tmp_path / "gone" / "audit.jsonl"))
    (tmp_path / "gone").rmdir()  # removed while the server runs: a warning, not a crash
    vanished.record("os_restart", Verdict(Decision.DENIED), "x", 0.0, {}, "c")
    assert not (tmp_path / "gone").exists()


def test_the_default_toolset_offers_exactly_the_seeds_ten() -> None:
    offered = [endpoint.name for endpoint in policy().visible()]
    seeds = [endpoint.name for endpoint in CATALOG if endpoint.toolset == "os"]
    assert {"os"} == DEFAULT_TOOLSETS and offered == seeds and "os_terminate" not in offered
    assert policy().describe(BY_NAME["os_terminate"]) == "hidden (toolset process not chosen)"


def test_every_toolset_together_offers_the_whole_catalog() -> None:
    assert policy(toolsets=frozenset(TOOLSETS)).visible() == CATALOG


def test_read_only_and_deny_apply_across_toolsets() -> None:
    chosen = policy(
        toolsets=frozenset({"files", "settings"}), read_only=True, deny_tools=frozenset({"os_settings_snapshot"})
    )
    assert [endpoint.name for endpoint in chosen.visible()] == ["os_filesystem_path_verify"]


def test_allow_tools_lets_a_guarded_tool_of_another_set_run_unasked() -> None:
    allowed = policy(toolsets=frozenset({"process"}), allow_tools=frozenset({"os_memory_optimize"}))
    assert allowed.settled(BY_NAME["os_memory_optimize"]) == Verdict(Decision.ALLOWED_BY_POLICY)
    assert allowed.settled(BY_NAME["os_terminate"]) is None
