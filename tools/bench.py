"""pieces-mcp against its baselines, side by side in one run, against one PiecesOS simulator.

    python tools/bench.py [--quick] [--json bench-results.json] [--startups 15] [--calls 1000]

Prints the machine and one Markdown table (figures, ratios, targets met or missed) and writes the same as
JSON. The numbers are only comparable within one run: the machine is shared and noisy, so every figure is
a median or a percentile over repeated runs, and the targets are interleaved (start-ups round-robin, calls
in alternating blocks) so that a burst of noise lands on all of them rather than on one.

What is measured, and against what:
1. start-up: spawn to the answer to `tools/list` (after `initialize`) of `python -m pieces_mcp serve`, of
   `python -m mcp_server_time` (the MCP project's reference Python server) and of a generic OpenAPI-to-MCP
   bridge (`fastmcp`'s `FastMCP.from_openapi`) over the same ten endpoints, described by
   tools/pieces-os-openapi.json (made from shared/pieces-os-api's endpoints.json and models.json);
2. per call: p50/p99 of `os_device_information` through MCP (pieces-mcp, the bridge) and of a raw keep-alive
   httpx GET of the same endpoint; the difference is what MCP and the server add. The targets are judged
   against `httpx.AsyncClient`, the client pieces-mcp is built on (the same HTTP work, in the same kind of
   event loop); `httpx.Client`, about half a millisecond faster here, is shown beside it;
3. concurrency: pieces-mcp's throughput with 1, 10 and 100 requests pipelined on one stdio connection, with
   and without a 50 ms backend delay, and 100 in flight vs the time of one such call, next to 100 concurrent
   raw httpx.AsyncClient GETs (the floor for any server built on httpx);
4. memory: peak RSS (VmHWM) of each server, read just before it is closed, after the per-call phase.

Every server is driven by the same raw JSON-RPC-over-pipes driver below (no MCP client library), so no
server is charged for a client library the others do not pay for.

Baselines come from the `bench` extra (`pip install -e ".[bench]"`) and are skipped, with the reason in the
output, when not installed. fastmcp 4.x (fastmcp-slim 4.2.3 requires `mcp>=2.3.0,<3`, checked with
`pip install --dry-run`) installs beside mcp 2.3 in the project's environment, so no separate virtualenv is
needed; `--bridge-python` runs the bridge under another interpreter should a later fastmcp need one. The
bridge gets an `httpx2.AsyncClient` (the httpx fork mcp 2.x and fastmcp 4 use; a legacy `httpx` client
would go through fastmcp's deprecation shim instead of its normal path).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import gc
import json
import math
import os
import platform
import re
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from pieces_mcp.client import POOL_LIMITS

ROOT = Path(__file__).resolve().parent.parent
API_DIR = ROOT.parent / "shared" / "pieces-os-api"  # the reference API description, beside the checkout
# The bridge's OpenAPI document, made from API_DIR by `--write-openapi` and kept here, so a clone runs alone.
OPENAPI_PATH = ROOT / "tools" / "pieces-os-openapi.json"
PROTOCOL_VERSION = "2025-11-25"
DEVICE_PATH = "/os/device/information"
DEVICE_TOOL = "os_device_information"
PIECES, TIME, BRIDGE = "pieces-mcp", "mcp-server-time", "fastmcp-bridge"
# The raw baselines: httpx.AsyncClient, as pieces-mcp itself uses (the one the targets judge), and httpx.Client.
RAW, RAW_SYNC = "raw-httpx", "raw-httpx-sync"
REQUEST_TIMEOUT_S = 30.0  # one request, or one start-up; far above any healthy figure
CLOSE_TIMEOUT_S = 5.0
BLOCK = 50  # calls per target before switching to the next one in the per-call phase
DELAY_MS = 50
LEVELS = (1, 10, 100)
PYCACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pieces-mcp-bench" / "pycache"

BRIDGE_SCRIPT = '''\
"""A generic OpenAPI-to-MCP bridge over PiecesOS's OS endpoints, written by tools/bench.py."""
import json
import math
import os
import sys

try:
    import httpx2 as http
except ImportError:  # an older fastmcp in another environment takes classic httpx
    import httpx as http
from fastmcp import FastMCP

with open(sys.argv[1], encoding="utf-8") as spec_file:
    spec = json.load(spec_file)
client = http.AsyncClient(base_url=os.environ["PIECES_OS_URL"], timeout=10.0, trust_env=False)
FastMCP.from_openapi(spec, client=client, name="pieces-os-openapi").run(transport="stdio", show_banner=False)
'''


class BenchError(RuntimeError):
    """A server or the simulator misbehaved; the run stops (children are killed on the way out)."""


# -- a raw JSON-RPC driver over a child's pipes ------------------------------------------------------------


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


# -- the simulator and the servers under test ----------------------------------------------------------------


@dataclass
class Simulator:
    url: str
    process: subprocess.Popen[bytes]
    http: httpx.Client

    def control(self, path: str, payload: dict[str, Any] | None = None) -> None:
        self.http.post(f"/_simulator/{path}", json=payload or {}).raise_for_status()


@contextlib.contextmanager
def simulator(cwd: Path) -> Iterator[Simulator]:
    process = subprocess.Popen(
        [sys.executable, "-m", "pieces_mcp", "simulator"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=cwd,
        env=clean_env(),
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        ready = select.select([process.stdout], [], [], REQUEST_TIMEOUT_S)[0]
        url = process.stdout.readline().decode().strip() if ready else ""
        if not url.startswith("http://"):
            raise BenchError(f"the simulator did not print its URL within {REQUEST_TIMEOUT_S:g} s: {url!r}")
        with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT_S, trust_env=False) as http:
            yield Simulator(url, process, http)
    finally:
        kill_group(process)


def clean_env(**extra: str) -> dict[str, str]:
    """This shell's environment without its PIECES_* settings, so every server runs its defaults.

    Bytecode is cached for every server alike in one folder of ours: with PYTHONDONTWRITEBYTECODE set (as
    here), a source tree edited since its last compile would be compiled again at every start-up, which an
    installed package never is.
    """
    dropped = ("PIECES_", "FASTMCP_", "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")
    env = {key: value for key, value in os.environ.items() if not key.startswith(dropped)}
    return {**env, "PYTHONPYCACHEPREFIX": str(PYCACHE), **extra}


@dataclass(frozen=True)
class Target:
    name: str
    argv: list[str]
    env: dict[str, str]
    tool: str
    arguments: dict[str, Any]

    def start(self, cwd: Path) -> StdioServer:
        return StdioServer(self.name, self.argv, self.env, cwd)


def targets(url: str, work: Path, bridge_python: str, skip: set[str]) -> tuple[dict[str, Target], dict[str, str]]:
    """The servers that can run here, and why each other one is skipped."""
    found = {
        PIECES: Target(
            PIECES, [sys.executable, "-m", "pieces_mcp", "serve"], clean_env(PIECES_OS_URL=url), DEVICE_TOOL, {}
        ),
        TIME: Target(
            TIME, [sys.executable, "-m", "mcp_server_time"], clean_env(), "get_current_time", {"timezone": "UTC"}
        ),
    }
    spec_path, script_path = work / "pieces-os-openapi.json", work / "openapi_bridge.py"
    spec = {**json.loads(OPENAPI_PATH.read_text(encoding="utf-8")), "servers": [{"url": url}]}
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    script_path.write_text(BRIDGE_SCRIPT, encoding="utf-8")
    bridge_env = clean_env(PIECES_OS_URL=url, FASTMCP_CHECK_FOR_UPDATES="off", FASTMCP_LOG_LEVEL="WARNING")
    found[BRIDGE] = Target(BRIDGE, [bridge_python, str(script_path), str(spec_path)], bridge_env, DEVICE_TOOL, {})
    missing = {TIME: (sys.executable, "mcp_server_time"), BRIDGE: (bridge_python, "fastmcp")}
    skipped: dict[str, str] = {name: "skipped with --skip" for name in skip}
    for name, (python, module) in missing.items():
        if name not in skipped and not importable(python, module):
            skipped[name] = f"{module} is not importable by {python}: pip install -e '.[bench]'"
    return {name: target for name, target in found.items() if name not in skipped}, skipped


def importable(python: str, module: str) -> bool:
    try:
        check = subprocess.run(
            [python, "-c", f"import {module}"], capture_output=True, env=clean_env(), timeout=120, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return check.returncode == 0


def openapi_document() -> dict[str, Any]:
    """OpenAPI 3.0 for the ten OS endpoints, from the reference facts a bridge user would start from."""
    endpoints = json.loads((API_DIR / "endpoints.json").read_text(encoding="utf-8"))
    models = json.loads((API_DIR / "models.json").read_text(encoding="utf-8"))
    by_module = {model.get("x-python-module"): name for name, model in models.items()}

    def schema_of(kind: str | None) -> dict[str, Any] | None:
        if kind in (None, "None"):
            return None
        if kind == "str":
            return {"type": "string"}
        if kind == "List[str]":
            return {"type": "array", "items": {"type": "string"}}
        return {"$ref": f"#/components/schemas/{kind}"}

    paths: dict[str, Any] = {}
    for operation_id, endpoint in endpoints.items():
        if not endpoint["path"].startswith("/os/"):
            continue  # the three /.well-known/ endpoints are not tools
        responses: dict[str, Any] = {}
        for status, kind in endpoint["responses"].items():
            schema = schema_of(kind)
            media = "text/plain" if kind == "str" else "application/json"
            responses[status] = {
                "description": f"HTTP {status}",
                **({"content": {media: {"schema": schema}}} if schema else {}),
            }
        operation: dict[str, Any] = {
            "operationId": operation_id,
            "summary": endpoint["doc"][:300],
            "responses": responses,
        }
        if endpoint["body_param"]:
            model = by_module[endpoint["body_param"]]
            operation["requestBody"] = {
                "required": False,
                "content": {"application/json": {"schema": schema_of(model)}},
            }
        paths.setdefault(endpoint["path"], {})[endpoint["method"].lower()] = operation
    return {
        "openapi": "3.0.3",
        "info": {"title": "PiecesOS OS API", "version": "5.0.1"},
        "paths": paths,
        "components": {"schemas": {name: refs_to_components(model) for name, model in models.items()}},
    }


def refs_to_components(node: Any) -> Any:
    """models.json as OpenAPI 3.0 schemas: `$ref` as a JSON pointer, no vendor keys, no empty lists."""
    if isinstance(node, dict):
        return {
            key: f"#/components/schemas/{value}" if key == "$ref" else refs_to_components(value)
            for key, value in node.items()
            if not key.startswith("x-") and value != []  # OpenAPI 3.0: `required` lists at least one name
        }
    if isinstance(node, list):
        return [refs_to_components(value) for value in node]
    return node


# -- the measurements ------------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), without numpy."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def spread(samples_ms: list[float]) -> dict[str, float]:
    return {
        "p50": statistics.median(samples_ms),
        "p99": percentile(samples_ms, 0.99),
        "mean": statistics.fmean(samples_ms),
        "n": len(samples_ms),
    }


@contextlib.contextmanager
def quiet_gc() -> Iterator[None]:
    """No collector pause of the driver inside a timed stretch (it would land on one target at random)."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def measure_startups(servers: dict[str, Target], runs: int, cwd: Path) -> dict[str, dict[str, Any]]:
    """Spawn to `tools/list` answered; round-robin over the servers, after one untimed warm-up each."""
    samples: dict[str, list[float]] = {name: [] for name in servers}
    for run in range(runs + 1):
        for name, target in servers.items():
            started = time.perf_counter()
            with target.start(cwd) as server:
                server.initialize()
                tools = server.request("tools/list")["tools"]
                elapsed_ms = (time.perf_counter() - started) * 1000
            if not any(tool["name"] == target.tool for tool in tools):
                raise BenchError(f"{name} does not list {target.tool}")
            if run:
                samples[name].append(elapsed_ms)
    return {name: {"median": statistics.median(runs_ms), "runs": runs_ms} for name, runs_ms in samples.items()}


Timer = Callable[[int], list[float]]  # runs n calls in a row, returns each one's latency in ms


def measure_calls(timers: dict[str, Timer], calls: int, warmup: int) -> dict[str, dict[str, float]]:
    """Sequential calls in alternating blocks of BLOCK per target, so noise spreads over all of them."""
    for timer in timers.values():
        timer(warmup)
    samples: dict[str, list[float]] = {name: [] for name in timers}
    with quiet_gc():
        for start in range(0, calls, BLOCK):
            for name, timer in timers.items():
                samples[name] += timer(min(BLOCK, calls - start))
    return {name: spread(values) for name, values in samples.items()}


def timed(call: Callable[[], object]) -> Timer:
    def timer(n: int) -> list[float]:
        latencies = []
        for _ in range(n):
            started = time.perf_counter_ns()
            call()
            latencies.append((time.perf_counter_ns() - started) / 1e6)
        return latencies

    return timer


def tool_timer(server: StdioServer, target: Target) -> Timer:
    return timed(lambda: server.call(target.tool, target.arguments))


@contextlib.contextmanager
def raw_async_timer(url: str) -> Iterator[Timer]:
    """An httpx.AsyncClient GET, each timed inside one event loop (a loop start per call would be charged)."""
    loop = asyncio.new_event_loop()
    client = httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT_S, trust_env=False)

    async def block(n: int) -> list[float]:
        latencies = []
        for _ in range(n):
            started = time.perf_counter_ns()
            (await client.get(DEVICE_PATH)).raise_for_status()
            latencies.append((time.perf_counter_ns() - started) / 1e6)
        return latencies

    try:
        yield lambda n: loop.run_until_complete(block(n))
    finally:
        loop.run_until_complete(client.aclose())
        loop.close()


def pipelined(server: StdioServer, target: Target, in_flight: int, total: int) -> tuple[float, list[float]]:
    """`total` calls keeping `in_flight` outstanding: (wall seconds, each call's latency in ms)."""
    sent_at: dict[int, float] = {}
    latencies: list[float] = []
    sent = 0

    def send_next() -> None:
        nonlocal sent
        message = server.call_message(target.tool, target.arguments)
        sent_at[message["id"]] = time.perf_counter()
        server.send(message)
        sent += 1

    started = time.perf_counter()
    deadline = time.monotonic() + REQUEST_TIMEOUT_S + total  # generous: even one call per second ends
    with quiet_gc():
        for _ in range(min(in_flight, total)):
            send_next()
        while len(latencies) < total:
            message = server.read(deadline)
            began = sent_at.pop(message.get("id", -1), None)
            if began is None:
                continue
            server.checked(message)
            latencies.append((time.perf_counter() - began) * 1000)
            if sent < total:
                send_next()
    return time.perf_counter() - started, latencies


@dataclass
class Settings:
    startups: int
    calls: int
    warmup: int
    bursts: int
    skip: set[str] = field(default_factory=set)
    bridge_python: str = sys.executable


def measure_concurrency(sim: Simulator, target: Target, settings: Settings, cwd: Path) -> dict[str, Any]:
    """pieces-mcp with 1, 10 and 100 calls in flight on one connection, with and without a 50 ms backend."""
    normal_body = sim.http.get(DEVICE_PATH).raise_for_status().text
    result: dict[str, Any] = {"no_delay": {}, "delay_50ms": {}}
    with target.start(cwd) as server:
        server.initialize()
        pipelined(server, target, 10, settings.warmup)
        for level in LEVELS:
            wall, _ = pipelined(server, target, level, settings.calls)
            result["no_delay"][str(level)] = settings.calls / wall
        sim.control(
            "faults",
            {
                "path": DEVICE_PATH,
                "status": 200,
                "body": normal_body,
                "content_type": "application/json",
                "delay_ms": DELAY_MS,
                "times": 0,
            },
        )
        try:
            single_ms: float | None = None
            for level in LEVELS:
                # Fewer calls at low levels: at 50 ms each, a thousand in a row would take a minute.
                total = min(settings.calls, max(40, 20 * level))
                wall, latencies = pipelined(server, target, level, total)
                result["delay_50ms"][str(level)] = total / wall
                single_ms = statistics.median(latencies) if level == 1 else single_ms
            bursts = [pipelined(server, target, 100, 100)[0] * 1000 for _ in range(settings.bursts)]
            raw_bursts = raw_async_bursts(sim.url, settings.bursts)
        finally:
            sim.control("reset")
    assert single_ms is not None
    wall_ms = statistics.median(bursts)
    result["burst_100_delay_50ms"] = {
        "wall_ms": wall_ms,
        "single_call_ms": single_ms,
        "ratio": wall_ms / single_ms,
        "raw_httpx_wall_ms": statistics.median(raw_bursts),
    }
    return result


def raw_async_bursts(url: str, bursts: int) -> list[float]:
    """The floor under pieces-mcp's burst: 100 concurrent httpx.AsyncClient GETs, no MCP, pieces-mcp's pool limits."""

    async def burst(client: httpx.AsyncClient) -> float:
        started = time.perf_counter()
        responses = await asyncio.gather(*(client.get(DEVICE_PATH) for _ in range(100)))
        for response in responses:
            response.raise_for_status()
        return (time.perf_counter() - started) * 1000

    async def main() -> list[float]:
        async with httpx.AsyncClient(
            base_url=url, timeout=REQUEST_TIMEOUT_S, trust_env=False, limits=POOL_LIMITS
        ) as client:
            await burst(client)  # warm-up
            return [await burst(client) for _ in range(bursts)]

    return asyncio.run(main())


def run(settings: Settings) -> dict[str, Any]:
    report: dict[str, Any] = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    report["machine"] = {
        "platform": platform.platform(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "versions": package_versions(),
    }
    report["settings"] = {
        "startups": settings.startups,
        "calls": settings.calls,
        "warmup": settings.warmup,
        "bursts": settings.bursts,
        "delay_ms": DELAY_MS,
    }
    with tempfile.TemporaryDirectory(prefix="pieces-bench-") as folder, contextlib.ExitStack() as stack:
        work = Path(folder)
        sim = stack.enter_context(simulator(work))
        servers, skipped = targets(sim.url, work, settings.bridge_python, settings.skip)
        report["skipped"] = skipped
        sim.control("reset")
        report["startup_ms"] = measure_startups(servers, settings.startups, work)

        sim.control("reset")
        running = {name: stack.enter_context(target.start(work)) for name, target in servers.items()}
        for server in running.values():
            server.initialize()
        raw = stack.enter_context(httpx.Client(base_url=sim.url, timeout=REQUEST_TIMEOUT_S, trust_env=False))
        timers = {
            RAW: stack.enter_context(raw_async_timer(sim.url)),
            RAW_SYNC: timed(lambda: raw.get(DEVICE_PATH).raise_for_status()),
        }
        timers.update({name: tool_timer(server, servers[name]) for name, server in running.items()})
        report["per_call_ms"] = measure_calls(timers, settings.calls, settings.warmup)
        report["memory"] = {
            "calls": settings.calls + settings.warmup,
            "peak_rss_mib": {name: server.peak_rss_kib() / 1024 for name, server in running.items()},
        }
        for server in running.values():
            server.close()

        sim.control("reset")
        report["concurrency"] = measure_concurrency(sim, servers[PIECES], settings, work)
    report["targets"] = judge(report)
    return report


def package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("pieces-mcp", "mcp", "httpx", "httpx2", "fastmcp", "mcp-server-time"):
        with contextlib.suppress(PackageNotFoundError):
            found[name] = version(name)
    return found


# -- targets and the table -------------------------------------------------------------------------------------


def judge(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, each as measured value vs limit; a target whose baseline was skipped is left out."""
    startup = {name: figures["median"] for name, figures in report["startup_ms"].items()}
    calls = report["per_call_ms"]
    rss = report["memory"]["peak_rss_mib"]
    found: list[dict[str, Any]] = []

    def add(key: str, what: str, value: float, limit: float, unit: str) -> None:
        found.append({"key": key, "what": what, "value": value, "limit": limit, "unit": unit, "met": value <= limit})

    if TIME in startup:
        add("startup_vs_time", "start-up vs mcp-server-time", startup[PIECES] / startup[TIME], 1.10, "x")
    if BRIDGE in startup:
        add("startup_vs_bridge", "start-up vs fastmcp bridge", startup[PIECES] / startup[BRIDGE], 0.70, "x")
    add("p50_overhead", "per-call p50 over raw httpx", calls[PIECES]["p50"] - calls[RAW]["p50"], 0.8, "ms")
    add("p99_overhead", "per-call p99 over raw httpx", calls[PIECES]["p99"] - calls[RAW]["p99"], 2.0, "ms")
    if BRIDGE in calls:
        ours, theirs = (calls[name]["p50"] - calls[RAW]["p50"] for name in (PIECES, BRIDGE))
        # A bridge no slower than raw HTTP would make any overhead of ours infinitely worse.
        add("overhead_vs_bridge", "p50 overhead vs the bridge's", ours / theirs if theirs > 0 else math.inf, 0.70, "x")
    burst = report["concurrency"]["burst_100_delay_50ms"]
    add("burst_100", "100 in flight, 50 ms backend, vs one call", burst["ratio"], 2.0, "x")
    if TIME in rss:
        add("memory_vs_time", "peak memory vs mcp-server-time", rss[PIECES] / rss[TIME], 1.10, "x")
    return found


def markdown(report: dict[str, Any]) -> str:
    """The machine, then one table: pieces-mcp's figure, the baseline's, their ratio or difference, the target."""
    machine, settings, concurrency = report["machine"], report["settings"], report["concurrency"]
    startup = {name: figures["median"] for name, figures in report["startup_ms"].items()}
    p50 = {name: figures["p50"] for name, figures in report["per_call_ms"].items()}
    p99 = {name: figures["p99"] for name, figures in report["per_call_ms"].items()}
    rss, burst = report["memory"]["peak_rss_mib"], concurrency["burst_100_delay_50ms"]
    verdicts = {target["key"]: target for target in report["targets"]}

    def judged(key: str) -> list[str]:
        if key not in verdicts:
            return ["—", "—", "skipped"]
        target = verdicts[key]
        ratio = target["unit"] == "x"
        shown = f"×{target['value']:.2f}" if ratio else f"{target['value']:+.2f} ms"
        limit = f"≤ ×{target['limit']:.2f}" if ratio else f"≤ +{target['limit']:g} ms"
        return [shown, limit, "**met**" if target["met"] else "**missed**"]

    def of(figures: dict[str, float], name: str, digits: int = 2) -> str:
        return f"{figures[name]:.{digits}f}" if name in figures else "skipped"

    def levels(section: str) -> str:
        return " / ".join(f"{concurrency[section][str(level)]:.0f}" for level in LEVELS)

    info = ["", "", "info"]
    n = settings["calls"]
    rows = [
        [f"start-up to `tools/list`, median of {settings['startups']} (ms)", of(startup, PIECES, 0),
         f"mcp-server-time {of(startup, TIME, 0)}", *judged("startup_vs_time")],
        ["start-up (ms)", of(startup, PIECES, 0), f"fastmcp bridge {of(startup, BRIDGE, 0)}",
         *judged("startup_vs_bridge")],
        [f"`{DEVICE_TOOL}` p50, {n} sequential calls (ms)", of(p50, PIECES),
         f"raw httpx.AsyncClient GET {of(p50, RAW)} (httpx.Client {of(p50, RAW_SYNC)})", *judged("p50_overhead")],
        [f"`{DEVICE_TOOL}` p99, {n} sequential calls (ms)", of(p99, PIECES),
         f"raw httpx.AsyncClient GET {of(p99, RAW)} (httpx.Client {of(p99, RAW_SYNC)})", *judged("p99_overhead")],
        ["p50 overhead over raw httpx.AsyncClient (ms)", f"{p50[PIECES] - p50[RAW]:.2f}",
         f"fastmcp bridge {of(p50, BRIDGE)} − {of(p50, RAW)}", *judged("overhead_vs_bridge")],
        ["p50 overhead over raw httpx.Client, sync (ms)", f"{p50[PIECES] - p50[RAW_SYNC]:.2f}",
         "not judged: pieces-mcp runs on httpx.AsyncClient", *info],
        ["baselines' tools, p50 / p99 (ms)", "",
         f"bridge {of(p50, BRIDGE)} / {of(p99, BRIDGE)}; mcp-server-time {of(p50, TIME)} / {of(p99, TIME)}", *info],
        ["throughput, 1 / 10 / 100 in flight (calls/s)", levels("no_delay"), "", *info],
        [f"throughput, {DELAY_MS} ms backend, 1 / 10 / 100 in flight (calls/s)", levels("delay_50ms"), "", *info],
        [f"100 in flight, {DELAY_MS} ms backend: wall, median of {settings['bursts']} (ms)",
         f"{burst['wall_ms']:.0f}", f"one such call {burst['single_call_ms']:.1f}", *judged("burst_100")],
        [f"100 concurrent GETs, {DELAY_MS} ms backend, raw httpx.AsyncClient: wall (ms)", "",
         f"{burst['raw_httpx_wall_ms']:.0f} (the floor: no MCP at all)", *info],
        [f"peak RSS (VmHWM) after {report['memory']['calls']} calls (MiB)", of(rss, PIECES, 1),
         f"mcp-server-time {of(rss, TIME, 1)}; bridge {of(rss, BRIDGE, 1)}", *judged("memory_vs_time")],
    ]  # fmt: skip
    versions = ", ".join(f"{name} {version}" for name, version in machine["versions"].items())
    return "\n".join(
        [
            f"pieces-mcp benchmark, {report['date']}",
            f"machine: {machine['platform']}, {machine['cores']} cores, Python {machine['python']}; {versions}",
            *(f"skipped {name}: {why}" for name, why in report["skipped"].items()),
            "",
            "| measure | pieces-mcp | compared with | ratio / difference | target | result |",
            "|---|---|---|---|---|---|",
            *("| " + " | ".join(row) + " |" for row in rows),
        ]
    )


def parse_arguments(argv: list[str] | None) -> tuple[Settings, Path, bool]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 start-ups and 100 calls: a smoke run, not figures")
    parser.add_argument("--startups", type=int, help="timed start-ups per server (default 15, quick 3)")
    parser.add_argument("--calls", type=int, help="calls per target and per concurrency level (default 1000)")
    parser.add_argument("--json", type=Path, default=Path("bench-results.json"), help="where to write the JSON")
    parser.add_argument("--skip", action="append", choices=(TIME, BRIDGE), default=[], help="leave a baseline out")
    parser.add_argument("--bridge-python", default=sys.executable, help="interpreter that has fastmcp")
    parser.add_argument(
        "--write-openapi", action="store_true", help=f"remake {OPENAPI_PATH.name} from {API_DIR} and stop"
    )
    args = parser.parse_args(argv)
    calls = args.calls or (100 if args.quick else 1000)
    settings = Settings(
        startups=args.startups or (3 if args.quick else 15),
        calls=calls,
        warmup=min(100, max(10, calls // 10)),
        bursts=2 if args.quick else 9,
        skip=set(args.skip),
        bridge_python=args.bridge_python,
    )
    if settings.startups < 1 or settings.calls < 1:
        parser.error("--startups and --calls must be positive")
    return settings, args.json, args.write_openapi


def main(argv: list[str] | None = None) -> int:
    settings, json_path, write_openapi = parse_arguments(argv)
    if write_openapi:
        OPENAPI_PATH.write_text(json.dumps(openapi_document(), indent=2) + "\n", encoding="utf-8")
        return 0
    # A SIGTERM unwinds like Ctrl-C, so the context managers kill every child.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        report = run(settings)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    report["table"] = markdown(report)
    print(report["table"])
    json_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\n(JSON: {json_path})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
