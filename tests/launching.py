"""A fake `pieces://launch` opener for the tests: a script named `xdg-open` on PATH, as the desktop's would be.

It records the URL it was asked to open, then starts PiecesOS: either a fresh simulator on a port the test chose
(writing that port to the port file, as PiecesOS does when it starts), or, given a simulator's pid, SIGUSR1 to
a simulator that quit, which brings it back on its port (pieces_mcp/simulator/server.py).
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path

OPENER = """#!{python}
import os, pathlib, signal, subprocess, sys
with open(os.environ["FAKE_OPENER_LOG"], "a", encoding="utf-8") as log:
    log.write(" ".join(sys.argv[1:]) + "\\n")
status = int(os.environ.get("FAKE_OPENER_EXIT", "0"))
if status:
    sys.exit(status)
quit_pid = os.environ.get("FAKE_OPENER_WAKE_PID")
if quit_pid:
    os.kill(int(quit_pid), signal.SIGUSR1)
    sys.exit(0)
port = os.environ["FAKE_OPENER_PORT"]
child = subprocess.Popen(
    [sys.executable, "-m", "pieces_mcp", "simulator", "--port", port],
    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
)
pathlib.Path(os.environ["FAKE_OPENER_STARTED"]).write_text(str(child.pid), encoding="utf-8")
port_file = pathlib.Path(os.environ["FAKE_OPENER_PORT_FILE"])
port_file.parent.mkdir(parents=True, exist_ok=True)
port_file.write_text(port, encoding="utf-8")
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class FakeOpener:
    """The opener's folder (put first on PATH) and what it recorded."""

    folder: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def opened(self) -> list[str]:
        log = self.folder / "opened.log"
        return log.read_text(encoding="utf-8").splitlines() if log.exists() else []

    def stop_what_it_started(self) -> None:
        started = self.folder / "started.pid"
        if started.exists():
            os.kill(int(started.read_text(encoding="utf-8")), signal.SIGTERM)


def fake_opener(
    folder: Path, *, port_file: Path | None = None, wake_pid: int | None = None, exit_status: int = 0
) -> FakeOpener:
    """A fake `xdg-open` in `folder`: it starts a simulator announced in `port_file`, or wakes `wake_pid`."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "xdg-open"
    script.write_text(OPENER.format(python=sys.executable), encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    env = {
        "PATH": f"{folder}{os.pathsep}{os.environ.get('PATH', '')}",
        "FAKE_OPENER_LOG": str(folder / "opened.log"),
        "FAKE_OPENER_STARTED": str(folder / "started.pid"),
        "FAKE_OPENER_EXIT": str(exit_status),
    }
    if wake_pid is not None:
        env["FAKE_OPENER_WAKE_PID"] = str(wake_pid)
    if port_file is not None:
        env |= {"FAKE_OPENER_PORT": str(free_port()), "FAKE_OPENER_PORT_FILE": str(port_file)}
    return FakeOpener(folder, env)
