"""Bad input on the wire, load, and stdout hygiene: JSON-RPC or tool errors, never a crash, only MCP on stdout."""

from __future__ import annotations

import array
import fcntl
import json
import string
import subprocess
import termios
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pieces_mcp.catalog import CATALOG, DEFAULT_TOOLSETS
from tests.support import SERVER_COMMAND, RawServer, SimulatorProcess, serve, server_env

pytestmark = pytest.mark.timeout(120)

TOOL_NAMES = [endpoint.name for endpoint in CATALOG if endpoint.toolset in DEFAULT_TOOLSETS]
GUARDED_PATH_WORDS = ("restart", "pick", "sign_", "link_provider", "permissions/request")


@pytest.fixture(scope="module")
def _raw_for_the_module(_simulator_current: SimulatorProcess) -> Iterator[RawServer]:
    """One `pieces-mcp serve` for every test here: each test's bad input must leave it serving the next test's,
    and at the end it still exits cleanly, with no traceback for anything it was sent."""
    server = RawServer(_simulator_current.url)  # elicit mode; this client declares no elicitation
    server.initialize()
    yield server
    code, stderr = server.close()
    assert code == 0, stderr
    assert "Traceback" not in stderr, stderr


@pytest.fixture
def raw(_raw_for_the_module: RawServer, simulator: SimulatorProcess) -> RawServer:
    """The module's server (the simulator behind it reset for this test), still alive and answering."""
    assert _raw_for_the_module.process.poll() is None, "an earlier test's input ended the server"
    assert _raw_for_the_module.request("ping")["result"] == {}
    return _raw_for_the_module


@pytest.mark.parametrize(
    ("line", "code", "answer_id"),
    [
        (b"{not json", -32700, None),
        (b"\xff\xfe garbage", -32700, None),
        (b"[]", -32600, None),
        (b'{"jsonrpc": "2.0"}', -32600, None),
        (b'{"jsonrpc":"2.0","id":7}', -32600, 7),
        (b'{"jsonrpc":"2.0","id":"a","method":5}', -32600, "a"),
    ],
    ids=["not-json", "not-utf8", "batch", "no-method", "id-only", "method-not-a-string"],
)
def test_a_bad_line_gets_its_json_rpc_error_and_the_server_goes_on(
    raw: RawServer, line: bytes, code: int, answer_id: object
) -> None:
    raw.send_line(line)
    answer = raw.read()
    assert answer["id"] == answer_id and answer["error"]["code"] == code
    assert raw.request("ping")["result"] == {}


def test_prompts_are_not_offered_so_asking_for_one_is_method_not_found(raw: RawServer) -> None:
    assert "prompts" not in raw.initialize_result["capabilities"]
    answer = raw.request("prompts/get", {"name": "nothing"})
    assert answer["error"]["code"] == -32601


def test_both_protocol_eras_announce_the_same_true_capabilities(raw: RawServer, simulator: SimulatorProcess) -> None:
    """Exactly what the server does: resource subscriptions (the live resources); no listChanged, no prompts."""
    modern_server = RawServer(simulator.url)  # its first request decides its era: 2026-07-28, no handshake
    meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}
    modern = modern_server.request("server/discover", {"_meta": meta})
    assert modern_server.close()[0] == 0

    def announced(capabilities: dict[str, Any]) -> dict[str, Any]:  # mcp 2.1 and 2.2 add an empty `experimental`
        return {key: value for key, value in capabilities.items() if value != {}}

    legacy = announced(raw.initialize_result["capabilities"])
    assert announced(modern["result"]["capabilities"]) == legacy
    assert legacy == {"resources": {"subscribe": True, "listChanged": False}, "tools": {"listChanged": False}}


def test_an_unknown_method_is_method_not_found(raw: RawServer) -> None:
    assert raw.request("pieces/teleport")["error"]["code"] == -32601


def test_an_unknown_tool_is_a_protocol_error(raw: RawServer) -> None:
    answer = raw.call("os_format_disk", {})
    assert answer["error"]["code"] == -32602 and "There is no tool named 'os_format_disk'" in answer["error"]["message"]


@pytest.mark.parametrize(
    ("tool", "arguments", "expected"),
    [
        ("pick_files", {"allow_multiple": "perhaps"}, "allow_multiple: Input should be a valid boolean"),
        ("pick_files", {"allowed_extensions": "py"}, "allowed_extensions"),
        ("os_permissions", {"verbose": True}, "unknown argument 'verbose'"),
        ("link_provider", {"type": "x" * 1_000_000}, "type: Input should be"),
        ("pick_files", {"allowed_extensions": ["y" * 1_000_000]}, "at most 32 characters"),
    ],
    ids=["wrong-type", "string-for-list", "extra", "1MB-enum", "1MB-item"],
)
def test_bad_arguments_are_tool_errors_naming_the_argument(
    raw: RawServer, tool: str, arguments: dict[str, Any], expected: str
) -> None:
    result = raw.call(tool, arguments)["result"]
    text = result["content"][0]["text"]
    assert result["isError"] is True and expected in text
    assert len(text) < 600  # the 1 MB value is not echoed back


def test_arguments_that_are_not_an_object_are_refused(raw: RawServer) -> None:
    answer = raw.call("os_permissions", ["not", "an", "object"])
    assert "error" in answer or answer["result"]["isError"] is True
    assert raw.request("ping")["result"] == {}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
argument_names = st.sampled_from(
    ["allow_multiple", "allowed_extensions", "type", "vision", "accessibility", "confirm", "force", "_meta"]
) | st.text(string.ascii_letters + "_", max_size=16)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tool=st.sampled_from(TOOL_NAMES), arguments=st.dictionaries(argument_names, json_values, max_size=4))
def test_fuzzed_arguments_never_crash_and_never_get_past_the_guard(
    raw: RawServer, simulator: SimulatorProcess, tool: str, arguments: dict[str, Any]
) -> None:
    answer = raw.call(tool, arguments)
    assert "result" in answer, answer
    assert isinstance(answer["result"]["isError"], bool)
    reached = [call["path"] for call in simulator.calls()]
    assert not [path for path in reached if any(word in path for word in GUARDED_PATH_WORDS)], reached


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(line=st.binary(max_size=200).filter(lambda data: b"\n" not in data and b"\r" not in data))
def test_fuzzed_stdin_lines_never_crash_the_server(raw: RawServer, line: bytes) -> None:
    raw.send_line(line)
    assert raw.request("ping", timeout=10)["result"] == {}


def test_nothing_but_mcp_on_stdout_even_when_a_dependency_prints(simulator: SimulatorProcess, tmp_path: Path) -> None:
    # A sitecustomize that makes httpx print when it is imported and on every request, as a careless
    # dependency might (and an interpreter-wide print, before any program code runs, is not ours to stop).
    (tmp_path / "sitecustomize.py").write_text(
        "import importlib.abc, sys\n"
        "class NoisyHttpx(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name != 'httpx':\n"
        "            return None\n"
        "        sys.meta_path.remove(self)\n"
        "        print('NOISE at import')\n"
        "        import httpx\n"
        "        send = httpx.AsyncClient.send\n"
        "        async def noisy(self, *args, **kwargs):\n"
        "            print('NOISE from a dependency', flush=True)\n"
        "            sys.stdout.write('more noise\\n')\n"
        "            return await send(self, *args, **kwargs)\n"
        "        httpx.AsyncClient.send = noisy\n"
        "        return httpx.__spec__\n"
        "sys.meta_path.insert(0, NoisyHttpx())\n"
    )
    server = RawServer(simulator.url, env={"PYTHONPATH": str(tmp_path)})
    server.initialize()
    for _ in range(3):
        assert server.call("os_device_information", {})["result"]["isError"] is False
    code, stderr = server.close()  # close() reads every remaining stdout line as JSON-RPC
    assert code == 0 and "NOISE at import" in stderr and "NOISE from a dependency" in stderr


@pytest.mark.anyio
async def test_a_hundred_concurrent_calls_share_the_pool_and_ping_keeps_answering(
    simulator: SimulatorProcess,
) -> None:
    # Every answer waits on the simulator's held clock, so the test sees the hundred calls in flight at once
    # (none waits for another's connection) and a ping answered while all of them are, without timing anything.
    simulator.hold_clock()
    simulator.fault(
        "/os/device/information",
        delay_ms=200,
        status=200,
        times=0,
        content_type="application/json",
        body=json.dumps({"name": "slow-desk"}),
    )
    results: list[bool] = []
    # A limit longer than the wait below: a call queued behind the pool stays queued, not timed out.
    async with serve(simulator.url, args=("--timeout", "60")) as served:

        async def one_call() -> None:
            result = await served.client.call_tool("os_device_information", {})
            results.append(not result.is_error)

        async with anyio.create_task_group() as calls:
            for _ in range(100):
                calls.start_soon(one_call)
            with anyio.move_on_after(30):
                while simulator.sleeping() < 100:  # noqa: ASYNC110 (the simulator is another loop)
                    await anyio.sleep(0.01)
            in_flight = simulator.sleeping()
            assert in_flight == 100, f"only {in_flight} of the hundred calls reached PiecesOS at once"
            await served.client.send_ping()
            assert results == [], "the ping waited for the calls in flight"
            simulator.advance(200)
    assert results == [True] * 100


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def unread_bytes(pipe: int) -> int:
    """Bytes written into the pipe and not yet read by the other end (FIONREAD works on either end)."""
    count = array.array("i", [0])
    fcntl.ioctl(pipe, termios.FIONREAD, count)
    return count[0]


def holds_off_reading(pid: int, stdin: int) -> bool:
    """The server asleep although its stdin has bytes for it: an event loop still reading that pipe would have
    been woken by them. (State from /proc/<pid>/stat: the main thread, where the event loop runs.)"""
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state == "S" and unread_bytes(stdin) > 0


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the server's state and memory from /proc")
def test_a_client_that_does_not_read_stops_the_server_reading_and_loses_nothing(simulator: SimulatorProcess) -> None:
    """Backpressure: while stdout is full the server reads no more requests, so its memory stays bounded."""
    process = subprocess.Popen(
        [*SERVER_COMMAND, "serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=server_env(simulator.url),
    )
    assert process.stdin is not None and process.stdout is not None
    hello = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "slow", "version": "0"}}
    process.stdin.write(json.dumps({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": hello}).encode())
    process.stdin.write(b'\n{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
    process.stdin.flush()
    assert json.loads(process.stdout.readline())["id"] == 0
    before = rss_mib(process.pid)
    # More than twice what the two pipes and the server's own buffers (stdio.PAUSE_AT, its write buffer) hold
    # together: about 9,000 pings, after which a server that holds off reading leaves the writer blocked.
    requests = 20_000
    stdin = process.stdin

    def write_all() -> None:
        for number in range(1, requests + 1):
            stdin.write(b'{"jsonrpc":"2.0","id":%d,"method":"ping"}\n' % number)
        stdin.flush()

    writer = threading.Thread(target=write_all, daemon=True)
    writer.start()
    # The signal that the server stopped reading: asleep with requests waiting on its stdin, look after look
    # (a server still reading would be woken by them at once). A server that read on takes every request
    # and lets the writer finish.
    looks, deadline = 0, time.monotonic() + 60
    while looks < 5:
        assert writer.is_alive(), "the server read every request although nobody read its answers"
        assert time.monotonic() < deadline, "the server never settled with requests left on its stdin"
        looks = looks + 1 if holds_off_reading(process.pid, stdin.fileno()) else 0
        time.sleep(0.02)
    assert writer.is_alive(), "the server read every request although nobody read its answers"
    held = rss_mib(process.pid) - before
    answered = set()
    for line in iter(process.stdout.readline, b""):  # the client reads at last: everything arrives
        answered.add(json.loads(line)["id"])
        if len(answered) == requests:
            break
    writer.join(timeout=30)
    process.stdin.close()
    assert process.wait(timeout=15) == 0
    assert answered == set(range(1, requests + 1))
    assert held < 30, f"the server's memory grew {held:.0f} MiB while its answers were not read"
