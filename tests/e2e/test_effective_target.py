"""What the person is asked is what runs: the effective target through a client's elicitation, in both eras.

The SDK's in-memory client talks to the real server object (`build_server`), which talks to the simulator
process over loopback: the question the client is shown, what reached PiecesOS (the simulator's call log and
its answers) and the audit line are all read from outside the code under test.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.client.context import ClientRequestContext
from mcp_types import CallToolResult, ElicitRequestParams, ElicitResult, TextContent

from pieces_mcp.catalog import TOOLSETS
from pieces_mcp.config import Settings
from pieces_mcp.mcp_adapter import build_server
from pieces_mcp.targets import SHOWN_LIMIT
from tests.support import SimulatorProcess

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

ERAS = ["legacy", "auto"]  # the 2025-11-25 handshake, and 2026-07-28 with input_required round trips
OPEN = "/os/filesystem/file/open"
BROWSE = "/os/browser/url/open"


class Person:
    """Answers every question yes, and keeps what it was shown."""

    def __init__(self) -> None:
        self.questions: list[str] = []

    async def __call__(self, context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        self.questions.append(params.message)
        return ElicitResult(action="accept", content={"confirm": True})


@asynccontextmanager
async def client(simulator: SimulatorProcess, mode: str, person: Person, audit: Path) -> AsyncIterator[Client]:
    settings = Settings(base_url=simulator.url, toolsets=frozenset(TOOLSETS), audit_log=str(audit))
    async with Client(build_server(settings), mode=mode, elicitation_callback=person) as connected:
        yield connected


def text_of(result: CallToolResult) -> str:
    return " ".join(block.text for block in result.content if isinstance(block, TextContent))


def audit_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.mark.parametrize("mode", ERAS)
async def test_a_padded_path_is_asked_about_and_sent_resolved(
    simulator: SimulatorProcess, mode: str, tmp_path: Path
) -> None:
    (tmp_path / "notes").mkdir()
    up = "../" * (len((tmp_path / "notes").parts) + 3)  # past the root, where .. stays at /
    padded = str(tmp_path) + "/notes/" + "./" * 60 + up + str(tmp_path).lstrip("/") + "/notes/./plan.md"
    resolved = str(tmp_path / "notes" / "plan.md")
    person, audit = Person(), tmp_path / "audit.jsonl"
    async with client(simulator, mode, person, audit) as connected:
        result = await connected.call_tool("os_filesystem_file_open", {"path": padded})
    assert not result.is_error, text_of(result)
    [question] = person.questions
    assert f"\npath: {resolved}\n" in question
    assert f"(the assistant asked for {padded}, which is {resolved})" in question  # both, whole
    assert [call["body"] for call in simulator.os_calls(OPEN)] == [resolved]  # what was shown is what ran
    started, ended = audit_lines(audit)
    assert started["target"] == ended["target"] == {"path": resolved}


@pytest.mark.parametrize("mode", ERAS)
async def test_a_symlink_from_a_harmless_name_is_asked_about_as_the_secret(
    simulator: SimulatorProcess, mode: str, tmp_path: Path
) -> None:
    secret = tmp_path / ".ssh" / "id_ed25519"
    secret.parent.mkdir()
    secret.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    (tmp_path / "shopping-list.txt").symlink_to(secret)
    simulator.control("files", {"root": str(tmp_path)})
    person, audit = Person(), tmp_path / "audit.jsonl"
    async with client(simulator, mode, person, audit) as connected:
        result = await connected.call_tool(
            "os_filesystem_file_read_streamed", {"path": str(tmp_path / "shopping-list.txt")}
        )
    [question] = person.questions
    assert f"\npath: {secret}\n" in question and f"which is {secret})" in question
    # What PiecesOS read is the secret itself (the echoed path's folder names may be masked as random runs).
    assert result.structured_content is not None and result.structured_content["text"].startswith("-----BEGIN")
    assert result.structured_content["path"].endswith("/.ssh/id_ed25519")
    assert audit_lines(audit)[0]["target"] == {"path": str(secret)}


@pytest.mark.parametrize("mode", ERAS)
@pytest.mark.parametrize(
    "url", ["https://docs.pieces.app%40evil.example/login", "https://docs.pieces.app\\@evil.example/login"]
)
async def test_a_url_whose_real_host_hides_behind_an_encoded_at_is_refused_unasked(
    simulator: SimulatorProcess, mode: str, url: str, tmp_path: Path
) -> None:
    person, audit = Person(), tmp_path / "audit.jsonl"
    async with client(simulator, mode, person, audit) as connected:
        result = await connected.call_tool("os_browser_url_open", {"url": url})
        after = await connected.call_tool("os_permissions", {})
    assert result.is_error and text_of(result).startswith("os_browser_url_open did not run: its url ")
    assert person.questions == [] and simulator.os_calls(BROWSE) == []
    assert not after.is_error
    [line] = audit_lines(audit)
    assert (line["decision"], line["outcome"]) == ("refused: target", "not run")


@pytest.mark.parametrize("mode", ERAS)
async def test_a_look_alike_host_is_asked_about_in_punycode_and_opened_as_asked(
    simulator: SimulatorProcess, mode: str, tmp_path: Path
) -> None:
    person = Person()
    async with client(simulator, mode, person, tmp_path / "audit.jsonl") as connected:
        result = await connected.call_tool("os_browser_url_open", {"url": "https://аррӏе.com/signin"})
    assert not result.is_error, text_of(result)
    [question] = person.questions
    assert "url: https://xn--80ak6aa92e.com/signin (host xn--80ak6aa92e.com, port 443)" in question
    assert "(the assistant asked for https://аррӏе.com/signin, which is https://xn--80ak6aa92e.com/signin)" in question
    assert [call["body"] for call in simulator.os_calls(BROWSE)] == ["https://xn--80ak6aa92e.com/signin"]


@pytest.mark.parametrize("mode", ERAS)
@pytest.mark.parametrize("length", [5000, 3000])
async def test_an_argument_too_long_to_show_whole_is_refused_with_a_sentence_not_cut(
    simulator: SimulatorProcess, mode: str, length: int, tmp_path: Path
) -> None:
    path = "/" + "a" * (length - 1)
    person = Person()
    async with client(simulator, mode, person, tmp_path / "audit.jsonl") as connected:
        result = await connected.call_tool("os_filesystem_file_open", {"path": path})
        after = await connected.call_tool("os_permissions", {})
    said = text_of(result)
    assert result.is_error and person.questions == [] and simulator.os_calls(OPEN) == []
    if length > 4096:  # past what the tool takes at all: its argument check says so
        assert "at most 4096 characters" in said
    else:
        assert f"more than the {SHOWN_LIMIT} a confirmation shows whole" in said
    assert "…" not in said and not after.is_error


@pytest.mark.parametrize("mode", ERAS)
async def test_a_read_tool_never_makes_piecesos_look_at_a_network_or_device_path(
    simulator: SimulatorProcess, mode: str, tmp_path: Path
) -> None:
    (tmp_path / "shared").symlink_to("/net/fileserver/export")
    async with client(simulator, mode, Person(), tmp_path / "audit.jsonl") as connected:
        for path in ("\\\\fileserver\\share\\x", "//fileserver/share", "/proc/self/environ", str(tmp_path / "shared")):
            result = await connected.call_tool("os_filesystem_path_verify", {"path": path})
            assert result.is_error and "only local files and folders" in text_of(result), path
    assert simulator.os_calls("/os/filesystem/path/verify") == []
