"""The audit log survives: started before PiecesOS hears of a call, private, fail closed, never a FIFO's hostage.

Each test runs the real `pieces-mcp serve` (its own process, so it can be killed) against the simulator.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client.context import ClientRequestContext
from mcp_types import ElicitRequestParams, ElicitResult

from tests.support import SERVER_COMMAND, RawServer, SimulatorProcess, serve, server_env, text_of

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

ALLOW = {"PIECES_MCP_CONFIRM": "allow"}
PICK = "/os/filesystem/files/pick"
SIGNAL_WAIT_S = 20  # bounded waits for something the other side does (a call arriving, a line written)


def audit_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


async def test_the_audit_file_is_created_private(simulator: SimulatorProcess, tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    async with serve(simulator.url, PIECES_MCP_AUDIT_LOG=audit, **ALLOW) as served:
        await served.client.call_tool("os_restart", {})
    assert stat.S_IMODE(audit.stat().st_mode) == 0o600


def test_after_a_sigkill_the_log_shows_the_call_was_approved_and_started(
    simulator: SimulatorProcess, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    simulator.state(pick_delay_ms=600_000)  # the person never picks: the call is in PiecesOS when the kill comes
    server = RawServer(simulator.url, PIECES_MCP_AUDIT_LOG=str(audit), **ALLOW)
    try:
        server.initialize()
        server.send({"jsonrpc": "2.0", "id": 99, "method": "tools/call", "params": {"name": "pick_files"}})
        deadline = time.monotonic() + SIGNAL_WAIT_S
        while not simulator.os_calls(PICK):  # PiecesOS has the call: the server has let it go
            assert time.monotonic() < deadline, "the call never reached the simulator"
            time.sleep(0.05)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=15)
    finally:
        if server.process.poll() is None:
            server.process.kill()
    [line] = audit_lines(audit)
    assert (line["tool"], line["decision"], line["outcome"]) == ("pick_files", "allowed by policy", "started")


@pytest.mark.parametrize("replacement", ["directory", "fifo"])
async def test_an_audit_line_that_cannot_be_written_refuses_the_call(
    simulator: SimulatorProcess, replacement: str, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    async with serve(simulator.url, PIECES_MCP_AUDIT_LOG=audit, **ALLOW) as served:
        # Checked and fine at start; then, while it runs, something else takes the log's place.
        (os.mkdir if replacement == "directory" else os.mkfifo)(audit)
        with anyio.fail_after(SIGNAL_WAIT_S):  # a FIFO with no reader is refused at once, never waited on
            result = await served.client.call_tool("pick_files", {})
        after = await served.client.call_tool("os_permissions", {})
    said = text_of(result)
    assert result.is_error and said.startswith("pick_files did not run: the audit log ") and "unaudited" in said
    assert simulator.os_calls(PICK) == []
    assert not after.is_error


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_an_audit_path_that_is_not_a_regular_file_is_refused_at_start(kind: str, tmp_path: Path) -> None:
    if kind == "fifo":
        path = tmp_path / "audit.jsonl"
        os.mkfifo(path)
    else:
        path = Path("/dev/null")
    done = subprocess.run(
        [*SERVER_COMMAND, "serve"],
        env=server_env("http://127.0.0.1:9", PIECES_MCP_AUDIT_LOG=str(path)),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode != 0 and done.stdout == ""
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("pieces-mcp: ") and "not a regular file" in line


async def test_a_call_cancelled_while_the_person_is_asked_leaves_its_cancelled_line(
    simulator: SimulatorProcess, tmp_path: Path
) -> None:
    asked = anyio.Event()

    async def never_answers(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        asked.set()
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    audit = tmp_path / "audit.jsonl"
    async with serve(simulator.url, elicitation_callback=never_answers, PIECES_MCP_AUDIT_LOG=audit) as served:
        with anyio.CancelScope() as scope:
            async with anyio.create_task_group() as group:
                group.start_soon(served.client.call_tool, "os_restart", {})
                with anyio.fail_after(SIGNAL_WAIT_S):
                    await asked.wait()
                scope.cancel()  # the client sends notifications/cancelled
        with anyio.fail_after(SIGNAL_WAIT_S):
            while not audit_lines(audit):  # noqa: ASYNC110 (the line is the only signal a client can see)
                await anyio.sleep(0.05)
    [line] = audit_lines(audit)
    assert (line["tool"], line["decision"], line["outcome"]) == ("os_restart", "undecided", "cancelled")
    assert simulator.os_calls("/os/restart") == []
