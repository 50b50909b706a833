"""A raw JSON-RPC driver over an MCP server's stdio pipes: no client library, no threads, every wait bounded.

Every server under test is driven by this one driver, so no server is charged for a client library the others
do not pay for.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

PROTOCOL_VERSION = "2025-11-25"
REQUEST_TIMEOUT_S = 30.0  # one request, or one start-up; far above any healthy figure
CLOSE_TIMEOUT_S = 5.0


class BenchError(RuntimeError):
    """A server or the simulator misbehaved; the run stops (children are killed on the way out)."""


class StdioServer:
    """One MCP server process spoken to line by line: no client library, no threads, every wait bounded."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        self.name = name
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the process)
        # Its own session, so a failure can kill whatever it started too, and nothing else.
        self.process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
            cwd=cwd,
            bufsize=0,
            start_new_session=True,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self._in = self.process.stdin.fileno()
        self._out = self.process.stdout.fileno()
        os.set_blocking(self._in, False)
        self._buffer = b""
        self._next_id = 0
        self._closed = False

    def __enter__(self) -> StdioServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, *messages: dict[str, Any], timeout: float = REQUEST_TIMEOUT_S) -> None:
        data = b"".join(json.dumps(message, separators=(",", ":")).encode() + b"\n" for message in messages)
        deadline = time.monotonic() + timeout
        while data:
            if not select.select([], [self._in], [], self._left(deadline, "accept input"))[1]:
                continue
            try:
                data = data[os.write(self._in, data) :]
            except BrokenPipeError:
                raise BenchError(f"{self.name} exited: {self.stderr_tail()}") from None

    def read(self, deadline: float) -> dict[str, Any]:
        """The next message; a request from the server (ping, ...) is answered on the way."""
        while True:
            while b"\n" not in self._buffer:
                if select.select([self._out], [], [], self._left(deadline, "answer"))[0]:
                    chunk = os.read(self._out, 1 << 16)
                    if not chunk:
                        raise BenchError(f"{self.name} closed its stdout: {self.stderr_tail()}")
                    self._buffer += chunk
            line, self._buffer = self._buffer.split(b"\n", 1)
            message = json.loads(line)
            if "method" in message and "id" in message:
                self.send({"jsonrpc": "2.0", "id": message["id"], "result": {}})
            elif "method" not in message:
                return dict(message)

    def request_message(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": self._next_id, "method": method}
        if params is not None:
            message["params"] = params
        return message

    def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        message = self.request_message(method, params)
        self.send(message)
        return self.answer(message["id"])

    def answer(self, request_id: int) -> dict[str, Any]:
        deadline = time.monotonic() + REQUEST_TIMEOUT_S
        while True:
            message = self.read(deadline)
            if message.get("id") == request_id:
                return self.checked(message)

    def checked(self, message: dict[str, Any]) -> dict[str, Any]:
        if "error" in message:
            raise BenchError(f"{self.name} answered with an error: {message['error']}")
        result: dict[str, Any] = message["result"]
        if result.get("isError"):
            raise BenchError(f"{self.name}'s tool failed: {json.dumps(result)[:300]}")
        return result

    def initialize(self) -> None:
        client = {
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "bench", "version": "0"},
        }
        self.request("initialize", client)
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def call_message(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        return self.request_message("tools/call", {"name": tool, "arguments": arguments})

    def call(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        return self.request("tools/call", {"name": tool, "arguments": arguments})

    def peak_rss_kib(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        found = re.search(r"^VmHWM:\s+(\d+)\s+kB", status, re.MULTILINE)
        if found is None:
            raise BenchError(f"no VmHWM in /proc/{self.process.pid}/status")
        return int(found.group(1))

    def stderr_tail(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")[-600:].strip() or "(nothing on stderr)"

    def close(self) -> None:
        """Close stdin (an MCP server's cue to exit), then terminate and kill, each step bounded."""
        if self._closed:
            return
        self._closed = True
        for stream in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                stream.close()  # type: ignore[union-attr]
        try:
            self.process.wait(timeout=CLOSE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            kill_group(self.process)
        self._stderr.close()

    @staticmethod
    def _left(deadline: float, what: str) -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise BenchError(f"no {what} within {REQUEST_TIMEOUT_S:g} s")
        return left


def kill_group(process: subprocess.Popen[Any]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=CLOSE_TIMEOUT_S)
            return
        except subprocess.TimeoutExpired:
            continue
