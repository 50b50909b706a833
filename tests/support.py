"""Test support: a real simulator process on loopback and a real `pieces-mcp serve` over stdio."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp_types import CallToolResult, TextContent

SERVER_COMMAND = [sys.executable, "-m", "pieces_mcp"]


@dataclass
class SimulatorProcess:
    """`pieces-mcp simulator` in its own process, driven through its `/_simulator/` control API."""

    url: str
    process: subprocess.Popen[str]

    def control(self, path: str, payload: Any = None) -> Any:
        if payload is None and path == "calls":
            response = httpx.get(f"{self.url}/_simulator/calls", timeout=5)
        else:
            response = httpx.post(f"{self.url}/_simulator/{path}", json=payload or {}, timeout=30)
        response.raise_for_status()
        return response.json() if response.content else None

    def reset(self) -> None:
        self.control("reset")

    def state(self, **changes: Any) -> None:
        self.control("state", changes)

    def fault(self, path: str, **spec: Any) -> None:
        self.control("faults", {"path": path, **spec})

    def calls(self) -> list[dict[str, Any]]:
        calls: list[dict[str, Any]] = self.control("calls")
        return calls

    def os_calls(self, path: str) -> list[dict[str, Any]]:
        return [call for call in self.calls() if call["path"] == path]


def start_simulator(*args: str) -> SimulatorProcess:
    process = subprocess.Popen(
        [*SERVER_COMMAND, "simulator", *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert process.stdout is not None
    url = process.stdout.readline().strip()  # printed once it accepts connections: the readiness signal
    if not url.startswith("http://"):
        process.kill()
        raise RuntimeError(f"simulator did not start: {url!r}")
    return SimulatorProcess(url, process)


def stop(simulator: SimulatorProcess) -> None:
    simulator.process.terminate()
    try:
        simulator.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        simulator.process.kill()


def server_env(base_url: str | None, **settings: str) -> dict[str, str]:
    """The child's environment: PATH and friends, none of this shell's PIECES_* settings, plus ours."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PIECES_", "COVERAGE"))}
    if base_url is not None:
        env["PIECES_OS_URL"] = base_url
    env.update(settings)
    return env


@dataclass
class Served:
    client: Client
    stderr_path: Path

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")


@asynccontextmanager
async def serve(
    base_url: str | None, *, mode: str = "legacy", args: tuple[str, ...] = (), **kwargs: Any
) -> AsyncIterator[Served]:
    """The real `pieces-mcp serve` process over stdio, with its stderr kept for inspection.

    `kwargs`: PIECES_* settings (as environment variables) and `Client` options (elicitation_callback, ...).
    """
    settings = {key: str(value) for key, value in kwargs.items() if key.startswith("PIECES_")}
    client_options = {key: value for key, value in kwargs.items() if not key.startswith("PIECES_")}
    params = StdioServerParameters(
        command=SERVER_COMMAND[0], args=[*SERVER_COMMAND[1:], "serve", *args], env=server_env(base_url, **settings)
    )
    with tempfile.TemporaryDirectory() as folder:
        stderr_path = Path(folder) / "stderr.log"
        with stderr_path.open("w", encoding="utf-8") as errlog:
            async with Client(stdio_client(params, errlog=errlog), mode=mode, **client_options) as client:
                yield Served(client, stderr_path)


def text_of(result: CallToolResult) -> str:
    return " ".join(block.text for block in result.content if isinstance(block, TextContent))


def structured(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, text_of(result)
    assert result.structured_content is not None
    first = result.content[0]
    assert isinstance(first, TextContent) and json.loads(first.text) == result.structured_content
    return result.structured_content
