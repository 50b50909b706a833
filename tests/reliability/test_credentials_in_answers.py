"""A credential PiecesOS puts in an ordinary field of a successful answer never comes out.

The simulator's `planted_answers` put `SECRET_MARKERS` where no allow-list keeps them out: a token in the profile
picture's URL, a provider's connection and user id, an enum value PiecesOS invents (kept as `*_raw`), applet
fields, stream messages and the paths PiecesOS echoes (a file read's, a path check's, a picker's). The real
server serves each through a tool call and, where there is one, a resource; the test searches the results,
the resources, the DEBUG log and the audit log.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from pieces_mcp.catalog import BY_NAME, LIVE, Exchange
from pieces_mcp.redact import MASK
from pieces_mcp.simulator import SECRET_MARKERS
from pieces_mcp.simulator.profiles import planted_answers
from tests.support import SimulatorProcess, serve, text_of

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]

PLANTED = planted_answers(datetime(2026, 11, 29, tzinfo=timezone.utc))
STREAM_PATHS = {live.name: live.path for live in LIVE}
# What each tool is called with; the file read and the path check echo their own path, not this one.
ARGUMENTS: dict[str, dict[str, Any]] = {
    "user_snapshot": {},
    "os_device_information": {},
    "os_update_check": {},
    "os_applet_launch": {"type": "COPILOT"},
    "os_filesystem_path_verify": {"path": "/home/ada/notes.md"},
    "pick_files": {},
    "os_filesystem_file_read_streamed": {"path": "/home/ada/notes.md"},
}
RESOURCES = [
    "pieces-os://user_snapshot",
    "pieces-os://os_device_information",
    "pieces-os://os_update_check_stream",
    "pieces-os://stream_os_migration_status",
]


def plant(simulator: SimulatorProcess) -> None:
    """Every planted answer, for every request until the next reset."""
    for name, answer in PLANTED.items():
        if name in STREAM_PATHS:
            simulator.fault(STREAM_PATHS[name], times=0, frames=[answer])
        elif BY_NAME[name].exchange is Exchange.STREAMED_READ:
            simulator.fault(BY_NAME[name].path_for("current"), times=0, frames=[answer])
        else:
            simulator.fault(BY_NAME[name].path_for("current"), times=0, status=200, body=answer)


def test_every_planted_answer_carries_a_marker() -> None:
    # The test below proves something only if every place really holds a credential.
    for name, answer in PLANTED.items():
        assert any(marker in json.dumps(answer) for marker in SECRET_MARKERS), name
    assert set(ARGUMENTS) | {"stream_os_migration_status"} == set(PLANTED)


async def test_no_marker_in_a_successful_answer_comes_out(simulator: SimulatorProcess, tmp_path: Path) -> None:
    plant(simulator)
    audit = tmp_path / "audit.jsonl"
    written: dict[str, str] = {}
    async with serve(
        simulator.url,
        PIECES_MCP_LOG_LEVEL="DEBUG",
        PIECES_MCP_AUDIT_LOG=str(audit),
        PIECES_MCP_CONFIRM="allow",
        PIECES_MCP_TOOLSETS="all",
    ) as served:
        for tool, arguments in ARGUMENTS.items():
            result = await served.client.call_tool(tool, arguments)
            assert not result.is_error, (tool, text_of(result))  # a successful answer, the class under test
            written[tool] = result.model_dump_json()
        for uri in RESOURCES:
            written[uri] = (await served.client.read_resource(uri)).model_dump_json()
        written["log"] = served.stderr()
    written["audit"] = audit.read_text()
    leaked = {place: marker for place, text in written.items() for marker in SECRET_MARKERS if marker in text}
    assert not leaked, leaked
    # The planted answers were the ones served: each result and resource shows where a credential was masked.
    unmasked = [place for place in [*ARGUMENTS, *RESOURCES] if MASK not in written[place]]
    assert not unmasked, unmasked
    assert "HTTP Request:" in written["log"]  # the log really is at DEBUG


async def test_masking_keeps_what_the_answer_is_for(simulator: SimulatorProcess) -> None:
    """Around the masked credentials, the answer still says what PiecesOS said: ids, names, enum values."""
    plant(simulator)
    async with serve(simulator.url, PIECES_MCP_TOOLSETS="all") as served:
        user = json.loads(text_of(await served.client.call_tool("user_snapshot", {})))["user"]
        status = json.loads(text_of(await served.client.call_tool("os_update_check", {})))
    assert user["id"] == PLANTED["user_snapshot"]["user"]["id"]  # a UUID is an id, not a credential
    assert user["picture"] == f"https://img.pieces.example/ada.png?token={MASK}&size=200"
    assert [provider["type"] for provider in user["providers"]["iterable"]] == ["github", "UNKNOWN"]
    assert user["providers"]["iterable"][1]["type_raw"] == MASK
    assert status["status"] == "UNKNOWN" and status["status_raw"] == MASK
