"""A person's mistake on the command line gets one clear line on stderr and a failing exit code, never a traceback."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from tests.e2e.in_process import run_here
from tests.support import SERVER_COMMAND, SimulatorProcess, serve, server_env, start_simulator, stop

pytestmark = pytest.mark.timeout(90)


def run(*args: str, base_url: str | None = None, **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SERVER_COMMAND, *args],
        input="",
        capture_output=True,
        text=True,
        timeout=60,
        env=server_env(base_url, **settings),
    )


def one_clear_line(done: subprocess.CompletedProcess[str]) -> str:
    """The failure's message: the run failed, said it in exactly one `pieces-mcp:` line, with no traceback."""
    assert done.returncode != 0, done.stderr
    assert "Traceback" not in done.stderr and "Error executing" not in done.stderr, done.stderr
    said = [line for line in done.stderr.splitlines() if line.startswith("pieces-mcp:")]
    assert len(said) == 1, done.stderr
    return said[0]


@pytest.mark.parametrize(
    ("tool", "settings"),
    [
        ("no_such_tool", {}),
        ("os_restart", {"PIECES_MCP_DENY_TOOLS": "os_restart"}),
        ("pick_files", {"PIECES_MCP_READ_ONLY": "1"}),
    ],
    ids=["unknown", "denied", "hidden-by-read-only"],
)
def test_calling_a_tool_that_is_not_offered_is_one_line(
    simulator: SimulatorProcess, tool: str, settings: dict[str, str]
) -> None:
    done = run_here("call", tool, "--yes", PIECES_OS_URL=simulator.url, PIECES_MCP_LOG_LEVEL="WARNING", **settings)
    line = one_clear_line(done)
    assert tool in line and done.stdout == ""
    assert simulator.calls() == []


@pytest.mark.parametrize("port", ["70000", "-1", "65536"])
def test_an_http_port_out_of_range_is_one_line(port: str) -> None:
    line = one_clear_line(run_here("serve", "--transport", "http", "--port", port))
    assert "--port" in line and port in line


def test_an_http_port_in_use_is_one_line() -> None:
    with socket.socket() as taken:  # our own socket: the port stays ours while the server tries it
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = str(taken.getsockname()[1])
        line = one_clear_line(run_here("serve", "--transport", "http", "--port", port))
    assert port in line and "in use" in line


def test_port_without_the_http_transport_is_refused() -> None:
    # A real process: were it not refused, serve would take over stdin and stdout (not this process's to give).
    line = one_clear_line(run("serve", "--port", "40123"))
    assert "--port" in line and "--transport http" in line


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_an_audit_log_in_a_missing_directory_stops_the_server_at_start(
    simulator: SimulatorProcess, tmp_path: Path, how: str
) -> None:
    target = tmp_path / "no-such-folder" / "audit.jsonl"
    if how == "flag":
        done = run("serve", "--audit-log", str(target), base_url=simulator.url)
    else:
        done = run("serve", base_url=simulator.url, PIECES_MCP_AUDIT_LOG=str(target))
    line = one_clear_line(done)
    assert done.returncode == 2 and "audit" in line.lower() and "no-such-folder" in line


@pytest.mark.anyio
@pytest.mark.parametrize(("level", "shown"), [("INFO", False), ("DEBUG", True)])
async def test_httpx_request_lines_are_debug_not_info(simulator: SimulatorProcess, level: str, shown: bool) -> None:
    async with serve(simulator.url, PIECES_MCP_LOG_LEVEL=level) as served:
        result = await served.client.call_tool("os_device_information", {})
        stderr = served.stderr()
    assert not result.is_error
    assert ("HTTP Request:" in stderr) is shown, stderr


def test_doctor_does_not_tell_the_person_to_run_doctor_with_a_configured_url() -> None:
    closed = start_simulator()
    stop(closed)
    done = run("doctor", base_url=closed.url)
    assert done.returncode == 1 and "not running" in done.stderr
    assert "doctor" not in done.stderr
