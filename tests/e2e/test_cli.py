"""The command line as a person uses it: tools, call, doctor, resources and the HTTP transport."""

from __future__ import annotations

import json
import queue
import re
import socket
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from pieces_mcp.catalog import CATALOG, DEFAULT_TOOLSETS
from tests.support import (
    INITIALIZE,
    MCP_HEADERS,
    SERVER_COMMAND,
    SimulatorProcess,
    serve,
    server_env,
    start_simulator,
    stop,
    structured,
)

pytestmark = pytest.mark.timeout(90)


def run(
    *args: str, base_url: str | None = None, stdin: str | None = "", **settings: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SERVER_COMMAND, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=server_env(base_url, **settings),
    )


def test_version_and_help_list_every_command() -> None:
    assert re.fullmatch(r"pieces-mcp \S+\n", run("--version").stdout)
    help_text = run("--help").stdout
    for command in ("serve", "simulator", "tools", "call", "doctor", "install"):
        assert command in help_text


def test_tools_shows_set_risk_and_what_the_policy_does() -> None:
    lines = run("tools", PIECES_MCP_ALLOW_TOOLS="pick_files").stdout.splitlines()
    rows = {line.split()[0]: line.split(None, 3)[1:] for line in lines[1:]}
    assert rows["os_device_information"] == ["os", "read", "runs"]
    assert rows["os_restart"] == ["os", "guarded", "asks the person"]
    assert rows["pick_files"] == ["os", "guarded", "runs"]
    assert rows["os_terminate"] == ["process", "guarded", "hidden (toolset process not chosen)"]
    read_only = run("tools", "--read-only").stdout
    default_guarded = [endpoint for endpoint in CATALOG if endpoint.toolset in DEFAULT_TOOLSETS and endpoint.guarded]
    assert read_only.count("hidden (read-only)") == len(default_guarded)


def test_tools_with_every_toolset_lists_each_tool_under_its_set() -> None:
    lines = run("tools", "--toolsets", "all").stdout.splitlines()
    rows = {line.split()[0]: line.split(None, 3)[1:] for line in lines[1:]}
    assert list(rows) == [endpoint.name for endpoint in CATALOG] and "hidden" not in " ".join(
        " ".join(row) for row in rows.values()
    )
    assert rows["os_filesystem_file_read_streamed"] == ["files", "guarded", "asks the person"]
    assert rows["user_snapshot"] == ["user", "read", "runs"]


def test_call_prints_the_structured_result(simulator: SimulatorProcess) -> None:
    done = run("call", "os_device_information", base_url=simulator.url)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["hardware"]["cpus"]


def test_call_answers_the_confirmation_with_yes(simulator: SimulatorProcess) -> None:
    simulator.state(picked_folders=["/home/ada/src"])
    done = run("call", "pick_folders", "--yes", base_url=simulator.url)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["paths"] == ["/home/ada/src"]
    assert "folder picker window will open" in done.stderr


def test_call_without_a_terminal_or_yes_does_not_run_and_says_why(simulator: SimulatorProcess) -> None:
    done = run("call", "os_restart", base_url=simulator.url)
    assert done.returncode == 1 and "did not run" in done.stderr and "pass --yes" in done.stderr
    assert "declined" not in done.stderr and "dismissed" not in done.stderr  # nobody was asked
    assert simulator.os_calls("/os/restart") == []


def test_call_refuses_arguments_that_are_not_json() -> None:
    done = run("call", "pick_files", "--json", "{allow_multiple: false}")
    assert done.returncode == 2 and "not valid JSON" in done.stderr


def test_call_with_simulate_needs_no_piecesos() -> None:
    done = run("call", "pick_files", "--json", '{"allow_multiple": false}', "--simulate", "--yes")
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["paths"]) == 1


def test_doctor_reports_a_healthy_piecesos(any_simulator: SimulatorProcess) -> None:
    done = run("doctor", base_url=any_simulator.url)
    assert done.returncode == 0, done.stderr
    report = done.stdout
    assert any_simulator.url in report and "PIECES_OS_URL" in report
    assert re.search(r"^port file\s+not read: PIECES_OS_URL", report, re.MULTILINE), report
    assert httpx.get(f"{any_simulator.url}/.well-known/version", timeout=5).text in report
    assert re.search(rf"^API\s+{any_simulator.api}$", report, re.MULTILINE), report
    assert re.search(r"^round trip\s+\d+\.\d ms median", report, re.MULTILINE)
    assert "os_restart" in report and "asks the person" in report


def test_doctor_names_the_fix_when_piecesos_is_absent() -> None:
    with socket.socket() as held:  # bound, never listening: refused, and no other process can take the port
        held.bind(("127.0.0.1", 0))
        done = run("doctor", base_url=f"http://127.0.0.1:{held.getsockname()[1]}")
    assert done.returncode == 1
    assert "not running" in done.stderr and "start the Pieces desktop app" in done.stderr


def test_a_simulator_on_real_ports_listens_where_that_piecesos_does() -> None:
    """`simulator --port real` takes the first free of the real range (binding it is the point); discovery's
    own tests find PiecesOS on injected ports (tests/unit/test_discovery.py), never on the machine's."""
    real = start_simulator("--api", "current", "--port", "real")
    try:
        health = httpx.get(f"{real.url}/.well-known/health", timeout=5)
    finally:
        stop(real)
    assert 39300 <= int(real.url.rsplit(":", 1)[1]) <= 39333
    assert health.status_code == 200


@pytest.mark.anyio
async def test_read_tools_and_live_streams_are_resources(simulator: SimulatorProcess) -> None:
    async with serve(simulator.url) as served:
        listed = {str(resource.uri): resource for resource in (await served.client.list_resources()).resources}
        device = await served.client.read_resource("pieces-os://os_device_information")
        tool = structured(await served.client.call_tool("os_device_information", {}))
    assert sorted(listed) == [
        "pieces-os://os_device_information",
        "pieces-os://os_permissions",
        "pieces-os://os_update_check",
        "pieces-os://os_update_check_stream",
        "pieces-os://stream_os_migration_status",
    ]
    assert listed["pieces-os://os_permissions"].mime_type == "application/json"
    contents = device.contents[0]
    assert json.loads(contents.text) == tool  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def http_server(_simulator_current: SimulatorProcess) -> Iterator[tuple[str, str]]:
    """`serve --transport http --port 0`; yields (URL, token) read off its stderr. One for the module's tests:
    each asks it something new, and the one that counts PiecesOS calls resets the simulator (`simulator`)."""
    process = subprocess.Popen(
        [*SERVER_COMMAND, "serve", "--transport", "http", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=server_env(_simulator_current.url, PIECES_MCP_CONFIRM="deny"),
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stderr is not None
    threading.Thread(target=lambda: [lines.put(line) for line in process.stderr], daemon=True).start()  # type: ignore[union-attr]
    url = token = ""
    while not (url and token):
        line = lines.get(timeout=20)
        url = url or _after(line, "Streamable HTTP on ")
        token = token or _after(line, "Authorization: Bearer ")
    try:
        yield url, token
    finally:
        process.terminate()
        process.wait(timeout=10)


def _after(line: str, marker: str) -> str:
    return line.split(marker, 1)[1].strip() if marker in line else ""


def _post(url: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(url, json=INITIALIZE, headers={**MCP_HEADERS, **headers}, timeout=10)


def test_http_transport_requires_the_token(http_server: tuple[str, str]) -> None:
    url, token = http_server
    assert _post(url, {}).status_code == 401
    assert _post(url, {"Authorization": "Bearer wrong"}).status_code == 401
    assert _post(url, {"Authorization": f"Bearer {token}"}).status_code == 200


def test_http_transport_refuses_a_foreign_origin_or_host(http_server: tuple[str, str]) -> None:
    url, token = http_server
    auth = {"Authorization": f"Bearer {token}"}
    assert _post(url, {**auth, "Origin": "http://evil.example"}).status_code in (400, 403)
    assert _post(url, {**auth, "Host": "evil.example"}).status_code in (400, 403, 421)


@pytest.mark.anyio
async def test_http_transport_serves_the_same_tools_and_guard(
    http_server: tuple[str, str], simulator: SimulatorProcess
) -> None:
    url, token = http_server
    headers: dict[str, Any] = {"Authorization": f"Bearer {token}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(url, http_client=http), mode="legacy") as client,
    ):
        names = {tool.name for tool in (await client.list_tools()).tools}
        device = await client.call_tool("os_device_information", {})
        restart = await client.call_tool("os_restart", {})
    assert names == {endpoint.name for endpoint in CATALOG if endpoint.toolset in DEFAULT_TOOLSETS}
    assert not device.is_error
    assert restart.is_error and simulator.os_calls("/os/restart") == []


def test_a_base_url_off_this_machine_is_refused_at_start() -> None:
    # Refused while reading the settings: nothing is ever sent to that address.
    done = run("serve", base_url="http://10.1.2.3:39300")
    assert done.returncode == 2 and done.stdout == ""
    assert "is not on this machine" in done.stderr and "--allow-remote" in done.stderr


def test_serve_reads_and_writes_plain_files_too(simulator: SimulatorProcess, tmp_path: Any) -> None:
    """Clients hand over pipes (served on the event loop); files and terminals take the SDK's transport."""
    client = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "file", "version": "0"}}
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": client}
    # Only the handshake: the end of the file is the end of the session, which cancels calls still running.
    (tmp_path / "in").write_text(json.dumps(initialize) + "\n")
    with open(tmp_path / "in", "rb") as stdin, open(tmp_path / "out", "wb") as stdout:
        env = server_env(simulator.url)
        subprocess.run([*SERVER_COMMAND, "serve"], stdin=stdin, stdout=stdout, timeout=60, env=env, check=True)
    [answer] = map(json.loads, (tmp_path / "out").read_text().splitlines())
    assert answer["id"] == 1 and answer["result"]["serverInfo"]["name"] == "pieces-os"
