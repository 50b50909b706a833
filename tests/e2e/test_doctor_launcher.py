"""`doctor` says whether pieces:// links have an application to open them (what open_pieces_os needs), where that
can be known: on Linux, the desktop's `xdg-mime query default x-scheme-handler/pieces`."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import SERVER_COMMAND, SimulatorProcess, server_env

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="xdg-mime is Linux's")


def doctor_with_xdg_mime(folder: Path, simulator: SimulatorProcess, answer: str, status: int = 0) -> str:
    folder.mkdir()
    fake = folder / "xdg-mime"
    fake.write_text(f"#!/bin/sh\nprintf '%s' '{answer}'\nexit {status}\n", encoding="utf-8")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    env = server_env(simulator.url, PATH=f"{folder}{os.pathsep}{os.environ.get('PATH', '')}")
    done = subprocess.run([*SERVER_COMMAND, "doctor"], capture_output=True, text=True, timeout=60, env=env)
    launcher = [line for line in done.stdout.splitlines() if line.startswith("launcher")]
    assert len(launcher) == 1, done.stdout
    return launcher[0]


def test_doctor_names_the_application_that_opens_pieces_links(simulator: SimulatorProcess, tmp_path: Path) -> None:
    line = doctor_with_xdg_mime(tmp_path / "bin", simulator, "pieces-os.desktop\n")
    assert "pieces:// links open with pieces-os.desktop" in line


def test_doctor_says_when_nothing_opens_pieces_links(simulator: SimulatorProcess, tmp_path: Path) -> None:
    line = doctor_with_xdg_mime(tmp_path / "bin", simulator, "")
    assert "no application is registered for pieces:// links" in line and "open_pieces_os" in line
