"""Where a tool call's time goes: cProfile inside the real stdio server, over sequential calls or bursts.

    python tools/profile_calls.py [--calls 3000] [--bursts 0] [--top 40] [--out calls.prof]

Starts the simulator and `python -m pieces_mcp serve` under a cProfile that measures CPU time
(`time.process_time`), so its figures hold on a loaded machine (wall-clock ones do not; the profiler's own cost
inflates every figure alike, so compare them with each other, not with the bench). Warm-up calls run unprofiled;
then `--calls` sequential `os_device_information` calls (or `--bursts` bursts of 100 in flight at a 50 ms
backend) are profiled. Prints the server's CPU per call read from /proc without the profiler, the function calls
per tool call, and the functions by their own CPU per call; the profile is kept in `--out` for pstats.
"""

from __future__ import annotations

import argparse
import os
import pstats
import signal
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # `python tools/profile_calls.py`: the checkout's root, so `tools.benchkit` imports
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.benchkit.concurrency import BURST, DELAY_MS, pipelined
from tools.benchkit.driver import StdioServer
from tools.benchkit.targets import DEVICE_PATH, DEVICE_TOOL, Target, clean_env, simulator

# Run inside the server: SIGUSR1 starts the profiler, SIGUSR2 stops it and writes the profile.
PROFILED_SERVE = """
import cProfile, os, runpy, signal, sys, time
profile = cProfile.Profile(time.process_time)
signal.signal(signal.SIGUSR1, lambda *_: profile.enable())
signal.signal(signal.SIGUSR2, lambda *_: (profile.disable(), profile.dump_stats(os.environ["PROFILE_OUT"])))
sys.argv = ["pieces_mcp", "serve"]
runpy.run_module("pieces_mcp", run_name="__main__", alter_sys=True)
"""
WARMUP = 100


def server_cpu_s(pid: int) -> float:
    """utime + stime of a process, from /proc (clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_calls(server: StdioServer, server_target: Target, calls: int, bursts: int) -> int:
    """`calls` sequential calls, or `bursts` bursts of 100 in flight; how many calls that was."""
    if bursts:
        for _ in range(bursts):
            pipelined(server, server_target, BURST, BURST)
        return bursts * BURST
    for _ in range(calls):
        server.call(DEVICE_TOOL, {})
    return calls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=3000, help="sequential calls profiled")
    parser.add_argument("--bursts", type=int, default=0, help="bursts of 100 in flight at a 50 ms backend instead")
    parser.add_argument("--top", type=int, default=40, help="functions shown")
    parser.add_argument("--out", type=Path, default=Path("calls.prof"))
    args = parser.parse_args()
    out = args.out.resolve()
    out.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="pieces-profile-") as folder, simulator(Path(folder)) as sim:
        argv = [sys.executable, "-c", PROFILED_SERVE]
        target = Target("pieces-mcp", argv, clean_env(PIECES_OS_URL=sim.url, PROFILE_OUT=str(out)), DEVICE_TOOL, {})
        with target.start(Path(folder)) as server:
            server.initialize()
            for _ in range(WARMUP):
                server.call(DEVICE_TOOL, {})
            if args.bursts:
                body = sim.http.get(DEVICE_PATH).text
                delay = {"status": 200, "body": body, "content_type": "application/json", "times": 0}
                sim.control("faults", {"path": DEVICE_PATH, **delay, "delay_ms": DELAY_MS})
                pipelined(server, target, BURST, BURST)  # the pool's connections opened, unprofiled
            started = server_cpu_s(server.process.pid)
            done = run_calls(server, target, args.calls, args.bursts)
            cpu_ms = (server_cpu_s(server.process.pid) - started) / done * 1000
            os.kill(server.process.pid, signal.SIGUSR1)
            server.call(DEVICE_TOOL, {})  # the signal is handled between two bytecodes of the next call
            profiled = run_calls(server, target, args.calls, args.bursts)
            os.kill(server.process.pid, signal.SIGUSR2)
            server.call(DEVICE_TOOL, {})
            deadline = time.monotonic() + 30
            while not out.exists() and time.monotonic() < deadline:
                server.call(DEVICE_TOOL, {})
    stats = pstats.Stats(str(out))
    print(f"server CPU per call without the profiler: {cpu_ms:.3f} ms over {done} calls (/proc utime + stime)")
    print(f"function calls per tool call: {stats.total_calls / profiled:.0f}")  # type: ignore[attr-defined]
    print(f"profiled CPU per call: {stats.total_tt / profiled * 1000:.3f} ms")  # type: ignore[attr-defined]
    stats.sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
