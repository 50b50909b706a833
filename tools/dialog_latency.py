"""How long a person waits for the desktop dialog: from a guarded `tools/call` to its window mapped on screen.

    python tools/dialog_latency.py [--runs 20] [--screenshot docs/confirm-dialog.png]

Linux only: it starts a virtual X display (Xvfb), the real `pieces-mcp serve --simulate` over stdio and an MCP
client without elicitation, so every guarded call asks with the dialog (zenity). The moment the window is mapped
is read from the X server itself (a MapNotify event on the root window, through libX11), not by polling. Each
dialog is then closed with Escape, so nothing runs. Prints the first (cold) run apart from the median, min and
max of all runs. Needs: apt-get install xvfb zenity xdotool (and imagemagick for --screenshot; with openbox
installed too, the screenshot shows the window's title bar).
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import os
import queue
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp_types import CallToolResult

TOOL = "pick_files"
ARGUMENTS = {"allow_multiple": False, "allowed_extensions": ["py", "md"]}
MAP_NOTIFY = 19
SUBSTRUCTURE_NOTIFY_MASK = 1 << 19


class XMapEvent(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("serial", ctypes.c_ulong),
        ("send_event", ctypes.c_int),
        ("display", ctypes.c_void_p),
        ("event", ctypes.c_ulong),
        ("window", ctypes.c_ulong),
        ("override_redirect", ctypes.c_int),
    ]


class XEvent(ctypes.Union):
    _fields_ = [("type", ctypes.c_int), ("xmap", XMapEvent), ("pad", ctypes.c_long * 24)]


class MapWatcher:
    """Reports (monotonic time, window id) whenever a top-level window titled `title` is mapped."""

    def __init__(self, display: str, title: str) -> None:
        self.x11 = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
        self.x11.XOpenDisplay.restype = ctypes.c_void_p
        self.x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
        self.x11.XDefaultRootWindow.restype = ctypes.c_ulong
        self.x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
        self.x11.XSelectInput.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_long]
        self.x11.XFlush.argtypes = [ctypes.c_void_p]
        self.x11.XNextEvent.argtypes = [ctypes.c_void_p, ctypes.POINTER(XEvent)]
        self.x11.XFetchName.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(ctypes.c_void_p)]
        self.x11.XFree.argtypes = [ctypes.c_void_p]
        self.x11.XPending.argtypes = [ctypes.c_void_p]
        self.x11.XConnectionNumber.argtypes = [ctypes.c_void_p]
        self.x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
        self.connection = self.x11.XOpenDisplay(display.encode())
        if not self.connection:
            raise SystemExit(f"cannot open X display {display}")
        root = self.x11.XDefaultRootWindow(self.connection)
        self.x11.XSelectInput(self.connection, root, SUBSTRUCTURE_NOTIFY_MASK)
        self.x11.XFlush(self.connection)
        self.title = title.encode()
        self.mapped: queue.Queue[tuple[float, int]] = queue.Queue()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def close(self) -> None:
        """Before the X server goes: Xlib ends the whole process when its connection breaks."""
        self.stopping.set()
        self.thread.join()
        self.x11.XCloseDisplay(self.connection)

    def _watch(self) -> None:
        event = XEvent()
        socket = self.x11.XConnectionNumber(self.connection)
        while not self.stopping.is_set():
            if not self.x11.XPending(self.connection):
                select.select([socket], [], [], 0.1)
                continue
            self.x11.XNextEvent(self.connection, ctypes.byref(event))
            if event.type != MAP_NOTIFY:
                continue
            at = time.monotonic()
            name = ctypes.c_void_p()
            if self.x11.XFetchName(self.connection, event.xmap.window, ctypes.byref(name)) and name.value:
                title = ctypes.string_at(name.value)
                self.x11.XFree(name)
                if title == self.title:
                    self.mapped.put((at, event.xmap.window))


@contextmanager
def virtual_display() -> Iterator[str]:
    read_end, write_end = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1024x640x24", "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], 30)
        number = os.read(read_end, 64).decode().strip() if ready else ""
        if not number.isdigit():
            raise RuntimeError(f"Xvfb did not start (exit code {xvfb.poll()})")
        yield f":{number}"
    finally:
        os.close(read_end)
        xvfb.terminate()
        xvfb.wait(timeout=10)


def server(display: str) -> StdioServerParameters:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PIECES_")}
    env.update(DISPLAY=display, PIECES_MCP_CONFIRM="elicit")
    env.pop("WAYLAND_DISPLAY", None)
    return StdioServerParameters(command=sys.executable, args=["-m", "pieces_mcp", "serve", "--simulate"], env=env)


async def close_with_escape(display: str, window: int | str) -> None:
    await anyio.run_process(
        ["xdotool", "windowfocus", "--sync", str(window), "key", "Escape"], env={**os.environ, "DISPLAY": display}
    )


async def measure(display: str, runs: int) -> list[float]:
    watcher = MapWatcher(display, "pieces-mcp")
    latencies: list[float] = []
    with tempfile.TemporaryFile("w+") as errlog, closing(watcher):
        async with Client(stdio_client(server(display), errlog=errlog), mode="legacy") as client:  # no elicitation
            results: list[CallToolResult] = []

            async def call() -> None:
                results.append(await client.call_tool(TOOL, ARGUMENTS))

            for _ in range(runs):
                async with anyio.create_task_group() as group:
                    sent = time.monotonic()
                    group.start_soon(call)
                    mapped, window = await anyio.to_thread.run_sync(watcher.mapped.get, True, 60)
                    latencies.append((mapped - sent) * 1000)
                    await close_with_escape(display, window)
                if not results[-1].is_error:
                    raise SystemExit(f"{TOOL} ran although the dialog was closed with Escape")
    return latencies


async def screenshot(display: str, path: Path) -> None:
    """One dialog as a person sees it: framed by a window manager (openbox) when one is installed."""
    env = {**os.environ, "DISPLAY": display}
    manager = None
    if shutil.which("openbox"):
        manager = await anyio.open_process(
            ["openbox"], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    try:
        with tempfile.TemporaryFile("w+") as errlog:
            async with (
                Client(stdio_client(server(display), errlog=errlog), mode="legacy") as client,
                anyio.create_task_group() as group,
            ):
                group.start_soon(client.call_tool, TOOL, ARGUMENTS)
                found = await anyio.run_process(
                    ["xdotool", "search", "--sync", "--onlyvisible", "--name", "^pieces-mcp$"], env=env
                )
                window = found.stdout.decode().split()[0]
                await anyio.sleep(1.5)  # mapped is not yet painted; this picture is for people
                frame = ["-frame"] if manager is not None else []
                await anyio.run_process(["import", *frame, "-window", window, str(path)], env=env)
                await close_with_escape(display, window)
    finally:
        if manager is not None:
            manager.terminate()
            await manager.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--screenshot", type=Path, help="also save a dialog as a PNG here (after the runs)")
    options = parser.parse_args()
    with virtual_display() as display:
        latencies = anyio.run(measure, display, options.runs)
        if options.screenshot is not None:
            anyio.run(screenshot, display, options.screenshot)
    print(f"guarded tools/call → dialog window mapped, {len(latencies)} runs (zenity on Xvfb):")
    print(f"  first (cold) {latencies[0]:.0f} ms")
    print(f"  median {statistics.median(latencies):.0f} ms   min {min(latencies):.0f} ms   max {max(latencies):.0f} ms")


if __name__ == "__main__":
    main()
