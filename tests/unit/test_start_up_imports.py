"""What a session imports before it answers `initialize` and `tools/list` (issue 22): only what listing needs.

A fresh `pieces-mcp serve` (the command line itself, over stdio) is asked `initialize`, `tools/list` and
`resources/list`; when its stdin closes it writes its `sys.modules` to a file. None of the tools' models is
there (the listing comes from the packaged schemas, `pieces_mcp.catalog.schemas`), nor the HTTP client, nor the
call path, nor `websockets`, the desktop dialog, `install` or the simulator. The version string costs no
`importlib.metadata` look-up (about 51 ms at every start). The first call then makes the session's one HTTP
client, which every later call shares.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from pieces_mcp.catalog import DEFAULT_TOOLSETS, TOOLSETS
from pieces_mcp.exchanges import connection
from tests.support import SimulatorProcess, serve, server_env, structured

# Needed by almost no session, so never imported before one is used.
UNUSED_AT_START = ("websockets", "pieces_mcp.desktop", "pieces_mcp.install", "pieces_mcp.simulator")
# Needed by the first call, and not before: the tools' pydantic models, the HTTP client and the call path.
CALLS_ONLY = (
    "pieces_mcp.models",
    "httpx",
    "httpcore",
    "h11",
    "pieces_mcp.client",
    "pieces_mcp.dispatch",
    "pieces_mcp.exchanges",
    "pieces_mcp.live",
    "pieces_mcp.targets",
    "pieces_mcp.wire_text",
    "pieces_mcp.discovery",
    "pieces_mcp.redact",  # its patterns compile at import: with the first call or the first log line
    "difflib",
)

# `pieces-mcp serve` as the console script runs it, writing what it imported when it ends.
PROBE = """
import atexit, importlib.metadata, json, sys

looked_up = []
from_name = importlib.metadata.Distribution.from_name.__func__

def recording(cls, name):
    looked_up.append(name)
    return from_name(cls, name)

importlib.metadata.Distribution.from_name = classmethod(recording)

def report():
    with open(sys.argv[1], "w", encoding="utf-8") as out:
        json.dump({"modules": sorted(sys.modules), "looked_up": looked_up}, out)

atexit.register(report)
from pieces_mcp.cli import main

sys.exit(main(sys.argv[2:]))
"""

REQUESTS = [
    {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}},
    },
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
    {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    {"jsonrpc": "2.0", "id": 3, "method": "resources/list"},
]


def _matches(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


CHOICES = [",".join(sorted(DEFAULT_TOOLSETS)), *(name for name in TOOLSETS if name not in DEFAULT_TOOLSETS), "all"]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("choice", CHOICES)
def test_listing_imports_no_model_no_http_client_and_no_call_path(choice: str, tmp_path: Path) -> None:
    report = tmp_path / "modules.json"
    argv = [sys.executable, "-c", PROBE, str(report), "serve", "--toolsets", choice]
    env = server_env("http://127.0.0.1:9", PIECES_MCP_LOG_LEVEL="WARNING")
    with subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    ) as child:
        assert child.stdin is not None and child.stdout is not None and child.stderr is not None
        child.stdin.write(b"".join(json.dumps(request).encode() + b"\n" for request in REQUESTS))
        child.stdin.flush()
        answers = {}
        while len(answers) < 3:
            line = child.stdout.readline()
            assert line, f"serve ended early: {child.stderr.read().decode()}"
            message = json.loads(line)
            answers[message.get("id")] = message
        child.stdin.close()
        assert child.wait(timeout=30) == 0, child.stderr.read().decode()
    assert answers[2]["result"]["tools"], f"--toolsets {choice} listed no tools"
    assert "inputSchema" in answers[2]["result"]["tools"][0]
    seen = json.loads(report.read_text(encoding="utf-8"))
    modules = seen["modules"]
    early = sorted(name for name in modules if _matches(name, UNUSED_AT_START + CALLS_ONLY))
    assert not early, f"--toolsets {choice} imported before any call needed them: {early}"
    assert "pieces-mcp" not in seen["looked_up"], "the version string was read from importlib.metadata at start"


@pytest.mark.anyio
async def test_the_first_calls_make_one_http_client_for_the_session(
    simulator: SimulatorProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = []
    original = connection.new_http_client

    def counting(settings: object) -> object:
        made.append(settings)
        return original(settings)  # type: ignore[arg-type]

    monkeypatch.setattr(connection, "new_http_client", counting)
    async with serve(simulator.url) as served:
        await served.client.list_tools()
        assert not made, "listing the tools made an HTTP client"
        answers = []

        async def call() -> None:
            answers.append(structured(await served.client.call_tool("os_device_information", {})))

        async with anyio.create_task_group() as calls:  # two first calls at once
            calls.start_soon(call)
            calls.start_soon(call)
        await call()
    assert len(answers) == 3 and all("version" in answer for answer in answers)
    assert len(made) == 1, f"one session made {len(made)} HTTP clients"


def test_the_version_constant_is_the_installed_one() -> None:
    from importlib.metadata import version

    import pieces_mcp

    assert pieces_mcp.__version__ == version("pieces-mcp"), "pieces_mcp.__version__ must match pyproject.toml"
