"""How a client stops `serve` (SIGTERM, SIGINT, or closing stdin) cancels the calls in flight: each guarded
call that was allowed and started gets its `cancelled` audit line before the process exits."""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path

import pytest

from tests.support import RawServer, SimulatorProcess

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

ENDINGS = ("SIGTERM", "SIGINT", "stdin closed")


def _wait_for_os_call(simulator: SimulatorProcess, fragment: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not any(fragment in call["path"] for call in simulator.calls()):
        assert time.monotonic() < deadline, f"no PiecesOS call to {fragment!r} arrived"
        time.sleep(0.05)


@pytest.mark.parametrize("ending", ENDINGS)
def test_a_guarded_call_in_flight_is_audited_cancelled_however_the_server_is_stopped(
    simulator: SimulatorProcess, tmp_path: Path, ending: str
) -> None:
    simulator.state(picked_files=["/home/ada/notes.md"], pick_delay_ms=600_000)  # the picker stays open
    audit = tmp_path / "audit.jsonl"
    server = RawServer(
        simulator.url, PIECES_MCP_CONFIRM="allow", PIECES_MCP_AUDIT_LOG=str(audit), PIECES_MCP_TOOLSETS="all"
    )
    try:
        server.initialize()
        server.send(
            {"jsonrpc": "2.0", "id": 99, "method": "tools/call", "params": {"name": "pick_files", "arguments": {}}}
        )
        _wait_for_os_call(simulator, "pick")  # allowed, and reached PiecesOS: in flight
        if ending == "stdin closed":
            assert server.process.stdin is not None
            server.process.stdin.close()
        else:
            server.process.send_signal(getattr(signal, ending))
        code = server.process.wait(timeout=30)
    finally:
        if server.process.poll() is None:
            server.process.kill()
    assert code in (0, 128 + signal.SIGINT, 128 + signal.SIGTERM), code  # exited by itself, not killed
    for pump in server.pumps:
        pump.join(timeout=15)
    assert b"Traceback" not in b"".join(server.stderr_chunks)
    lines = [json.loads(line) for line in audit.read_text(encoding="utf-8").splitlines()]
    assert [line["outcome"] for line in lines if line["tool"] == "pick_files"][-1] == "cancelled", lines
