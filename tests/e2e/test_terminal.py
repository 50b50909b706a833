"""`pieces-mcp` in a real pseudo-terminal: what a person at a terminal sees, and Ctrl-C.

The program's stdin and stderr are the terminal (its controlling one, so Ctrl-C is a real SIGINT from the
line discipline); stdout is a pipe where the result is expected, as in `pieces-mcp call ... > result.json`.
"""

from __future__ import annotations

import fcntl
import io
import os
import pty
import select
import signal
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from pieces_mcp import cli
from pieces_mcp.cli_parser import build_parser
from pieces_mcp.config import load
from tests.support import SERVER_COMMAND, SimulatorProcess, server_env

pytestmark = pytest.mark.timeout(60)

SPINNER_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class Terminal:
    """A program running in a pseudo-terminal; `screen` is everything it has written there so far."""

    def __init__(self, master: int, process: subprocess.Popen[bytes]) -> None:
        self.master = master
        self.process = process
        self.screen = b""

    def read_until(self, text: str, timeout: float = 30) -> bytes:
        """Wait for `text` on the terminal; returns what came after it, keeping that for the next wait."""
        wanted = text.encode()
        deadline = time.monotonic() + timeout
        while wanted not in self.screen:
            self._read(deadline - time.monotonic())
            assert time.monotonic() < deadline, f"{text!r} never appeared; the terminal shows {self.screen!r}"
        return self.screen.split(wanted, 1)[1]

    def read_for(self, seconds: float) -> bytes:
        """Everything written during `seconds`: for checking that nothing is written."""
        before = len(self.screen)
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self._read(left)
        return self.screen[before:]

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def wait(self, timeout: float) -> int:
        code = self.process.wait(timeout=timeout)
        self.read_for(0.1)  # what it wrote last
        return code

    def _read(self, timeout: float) -> None:
        ready, _, _ = select.select([self.master], [], [], max(timeout, 0))
        if ready:
            try:
                self.screen += os.read(self.master, 1 << 16)
            except OSError:  # the program closed the terminal
                time.sleep(0.01)


def _take_the_terminal() -> None:
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


@contextmanager
def in_terminal(*args: str, stdout_is_terminal: bool = False, **settings: str) -> Iterator[Terminal]:
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [*SERVER_COMMAND, *args],
        stdin=slave,
        stdout=slave if stdout_is_terminal else subprocess.PIPE,
        stderr=slave,
        env=server_env(None, **settings),
        start_new_session=True,
        preexec_fn=_take_the_terminal,
    )
    os.close(slave)
    try:
        yield Terminal(master, process)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
        os.close(master)


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_serve_in_a_terminal_says_it_waits_for_a_client_and_stops_on_the_first_ctrl_c(
    simulator: SimulatorProcess,
) -> None:
    with in_terminal("serve", stdout_is_terminal=True, PIECES_OS_URL=simulator.url) as terminal:
        terminal.read_until("Ctrl-C stops it.")
        assert b"waits for an MCP client on stdin" in terminal.screen
        terminal.type(b"\x03")
        assert terminal.wait(timeout=5) in (0, 130)  # stopped by that one Ctrl-C, not killed by the signal
    assert b"Traceback" not in terminal.screen


class _CtrlCAtTheNotice(io.StringIO):
    """stderr on which writing the terminal notice is followed at once by a Ctrl-C (SIGINT to this process)."""

    def write(self, text: str) -> int:
        written = super().write(text)
        if "Ctrl-C stops it." in text:
            os.kill(os.getpid(), signal.SIGINT)
        return written


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_a_ctrl_c_the_moment_the_terminal_notice_appears_stops_serve(
    simulator: SimulatorProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The notice is a promise from the moment it is shown. Printed before serve's own signal handling was in
    place, a Ctrl-C typed at once met Python's default one: a KeyboardInterrupt wherever the program was (once
    in the middle of importing the event loop, and the process died of the signal or hung). In this process, so
    that the Ctrl-C lands exactly as the notice is written."""
    settings = load(build_parser().parse_args(["serve"]), environ=server_env(simulator.url))
    master, terminal = pty.openpty()
    read_end, write_end = os.pipe()
    screen = _CtrlCAtTheNotice()
    monkeypatch.setattr(sys, "stderr", screen)
    try:
        with os.fdopen(terminal, "rb", buffering=0) as stdin, os.fdopen(write_end, "wb", buffering=0) as stdout:
            try:
                code = cli.serve(settings, stdin, stdout)
            except KeyboardInterrupt:
                pytest.fail("the Ctrl-C typed as the notice appeared was not handled by serve")
    finally:
        os.close(master)
        os.close(read_end)
    assert "Ctrl-C stops it." in screen.getvalue()
    assert code == 130


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_serve_in_a_terminal_answers_a_message_typed_there(simulator: SimulatorProcess) -> None:
    with in_terminal("serve", stdout_is_terminal=True, PIECES_OS_URL=simulator.url) as terminal:
        terminal.read_until("Ctrl-C stops it.")
        terminal.type(
            b'{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25",'
            b' "capabilities": {}, "clientInfo": {"name": "a person", "version": "0"}}}\n'
        )
        terminal.read_until('"serverInfo"')
        terminal.type(b"\x04")  # end of input: the server stops as it does when a client goes away
        assert terminal.wait(timeout=10) == 0


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_call_asks_with_json_arguments_and_nothing_writes_over_the_question(simulator: SimulatorProcess) -> None:
    simulator.state(picked_files=["/home/ada/notes.md"])
    with in_terminal(
        "call", "pick_files", "--json", '{"allow_multiple": false}', PIECES_OS_URL=simulator.url
    ) as terminal:
        terminal.read_until("[y/N] ")
        assert b"You asked to run" in terminal.screen  # the person typed the call, not an assistant
        assert b"Your AI assistant" not in terminal.screen and b"the assistant chose" not in terminal.screen
        # The spinner draws every 0.15 s: a second of silence shows it stopped for the question.
        assert terminal.read_for(1.0) == b""
        terminal.type(b"y\n")
        assert terminal.process.stdout is not None
        result = terminal.process.stdout.read().decode()
        assert terminal.wait(timeout=10) == 0
    assert '"/home/ada/notes.md"' in result
    assert not any(frame in result for frame in SPINNER_FRAMES)


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_call_answered_no_says_the_person_answered_no(simulator: SimulatorProcess) -> None:
    with in_terminal("call", "os_restart", PIECES_OS_URL=simulator.url) as terminal:
        terminal.read_until("[y/N] ")
        terminal.type(b"n\n")
        assert terminal.wait(timeout=10) == 1
    assert b"you answered no" in terminal.screen
    assert b"do not retry" not in terminal.screen  # advice for a model, not for the person who said no
    assert simulator.os_calls("/os/restart") == []


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_ctrl_c_at_the_question_stops_call_at_once(simulator: SimulatorProcess) -> None:
    with in_terminal("call", "os_restart", PIECES_OS_URL=simulator.url) as terminal:
        terminal.read_until("[y/N] ")
        terminal.type(b"\x03")
        assert terminal.wait(timeout=5) == 130
    assert b"Traceback" not in terminal.screen
    assert simulator.os_calls("/os/restart") == []


def _wait_for_os_call(simulator: SimulatorProcess, fragment: str, timeout: float = 30) -> None:
    """Until PiecesOS (the simulator) has received a call whose path holds `fragment`."""
    deadline = time.monotonic() + timeout
    while not any(fragment in call["path"] for call in simulator.calls()):
        assert time.monotonic() < deadline, f"no PiecesOS call to {fragment!r} arrived"
        time.sleep(0.05)


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_ctrl_c_mid_call_stops_call_at_once(simulator: SimulatorProcess) -> None:
    simulator.state(picked_files=["/home/ada/notes.md"], pick_delay_ms=600_000)  # the picker stays open
    with in_terminal("call", "pick_files", "--yes", PIECES_OS_URL=simulator.url) as terminal:
        _wait_for_os_call(simulator, "pick")
        terminal.type(b"\x03")
        assert terminal.wait(timeout=10) == 130
        assert terminal.process.stdout is not None
        assert terminal.process.stdout.read() == b""  # no result, and nothing half-written
    assert b"Traceback" not in terminal.screen
    assert b"interrupted" in terminal.screen


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_simulator_in_a_terminal_stops_on_the_first_ctrl_c() -> None:
    with in_terminal("simulator", stdout_is_terminal=True) as terminal:
        terminal.read_until("http://127.0.0.1:")
        terminal.read_until("\n")
        terminal.type(b"\x03")
        assert terminal.wait(timeout=10) in (0, 130)
    assert b"Traceback" not in terminal.screen


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_serve_in_a_terminal_answers_every_line_typed_there(simulator: SimulatorProcess) -> None:
    """Not only the first: on 3.12 and 3.13 the server saw the end of its input after one line (issue 19)."""
    with in_terminal("serve", stdout_is_terminal=True, PIECES_OS_URL=simulator.url) as terminal:
        terminal.read_until("Ctrl-C stops it.")
        for number in (1, 2, 3):
            terminal.type(f'{{"jsonrpc": "2.0", "id": {number}, "method": "ping"}}\n'.encode())
            terminal.read_until(f'{{"jsonrpc":"2.0","id":{number},"result":{{}}}}')
        terminal.type(b"\x03")
        assert terminal.wait(timeout=10) in (0, 130)
    assert b"Traceback" not in terminal.screen
