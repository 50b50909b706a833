"""The desktop dialog for real: a client without elicitation, the server, zenity on a virtual X display.

A person is played by xdotool: it waits for the dialog window and presses keys in it. The simulator's call log
proves what reached PiecesOS. On CI (CI set) these tests must run; elsewhere they skip without Xvfb and zenity.
The dialog is always a real zenity, the server's child. The server is a real `pieces-mcp serve` where "Allow"
runs the call (the whole way, as a person's client starts it); elsewhere it runs in this process (`serve_on`),
where the dialog is the subject and the server's own start is not.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest.mock import patch

import anyio
import pytest
from mcp.client.context import ClientRequestContext
from mcp_types import CallToolResult, ElicitRequestParams, ElicitResult

from pieces_mcp import desktop, heartbeat
from tests.support import Served, SimulatorProcess, serve, serve_process, structured, text_of
from tools.dialog_latency import virtual_display

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]

RESTART = "/os/restart"
WINDOW_WAIT_S = 30  # the first dialog on a cold CI machine loads GTK from disk


def needed_programs() -> None:
    missing = [program for program in ("Xvfb", "zenity", "xdotool") if shutil.which(program) is None]
    if not missing:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the desktop dialog tests, but {', '.join(missing)} are missing: see .ci/run")
    pytest.skip(f"{', '.join(missing)} not installed (apt-get install xvfb zenity xdotool)")


@dataclass
class Screen:
    """A virtual X display, and xdotool playing the person in front of it."""

    display: str

    @property
    def env(self) -> dict[str, str]:
        return {"DISPLAY": self.display}

    async def xdotool(self, *args: str) -> str:
        done = await anyio.run_process(["xdotool", *args], env={**os.environ, **self.env}, check=False)
        return done.stdout.decode().strip()

    async def dialog(self) -> str:
        """The dialog's window id, once it is mapped on the screen."""
        with anyio.fail_after(WINDOW_WAIT_S):
            found = await self.xdotool("search", "--sync", "--onlyvisible", "--name", "^pieces-mcp$")
        return found.split()[0]

    async def press(self, window: str, *keys: str) -> None:
        with anyio.fail_after(10):
            await self.xdotool("windowfocus", "--sync", window, "key", "--clearmodifiers", *keys)

    async def dialogs(self) -> list[str]:
        return (await self.xdotool("search", "--onlyvisible", "--name", "^pieces-mcp$")).split()


@pytest.fixture(scope="module")
def screen() -> Iterator[Screen]:
    needed_programs()
    with virtual_display() as display:
        yield Screen(display)


@asynccontextmanager
async def serve_on(screen: Screen, base_url: str, **kwargs: Any) -> AsyncIterator[Served]:
    """The server in this process (tests.support.serve), on `screen`'s display: its dialogs open there."""
    async with serve(base_url, **kwargs) as served:
        with patch.dict(os.environ, screen.env):  # serve() starts from an environment with no display
            yield served


async def gone(pid: int) -> None:
    """Until process `pid` has ended and been reaped: it is the server's child, so this side cannot wait() for it."""
    while await anyio.Path(f"/proc/{pid}").exists():  # noqa: ASYNC110 (no event to wait on for another's child)
        await anyio.sleep(0.05)


def audit_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def call_and_answer(
    served: Served, screen: Screen, keys: tuple[str, ...], tool: str = "os_restart", arguments: Any = None
) -> CallToolResult:
    """Call `tool`, wait for the dialog, press `keys` in it (none: leave it alone), return the call's result."""
    results: list[CallToolResult] = []

    async def call() -> None:
        results.append(await served.client.call_tool(tool, arguments or {}))

    async with anyio.create_task_group() as group:
        group.start_soon(call)
        window = await screen.dialog()
        if keys:
            await screen.press(window, *keys)
    return results[0]


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_allow_in_the_desktop_dialog_runs_the_call(
    simulator: SimulatorProcess, screen: Screen, mode: str, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    async with serve_process(simulator.url, mode=mode, env=screen.env, PIECES_MCP_AUDIT_LOG=audit) as served:
        # The dialog opens with "Don't allow" focused: the person tabs to "Allow" and presses Return.
        result = await call_and_answer(served, screen, ("Tab", "Return"))
    assert structured(result)["restarted"] is True
    assert len(simulator.os_calls(RESTART)) == 1
    _, line = audit_lines(audit)
    assert (line["decision"], line["asked"], line["outcome"]) == ("confirmed", "desktop", "ok")


@pytest.mark.parametrize(
    ("keys", "said"),
    [
        (("Tab", "shift+Tab", "space"), "the person chose Don't allow"),
        (("Return",), "the person chose Don't allow"),
        (("Escape",), "closed the dialog without choosing"),
    ],
    ids=["dont-allow", "return", "escape"],
)
async def test_anything_but_allow_in_the_dialog_does_not_reach_piecesos(
    simulator: SimulatorProcess, screen: Screen, keys: tuple[str, ...], said: str, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    async with serve_on(screen, simulator.url, PIECES_MCP_AUDIT_LOG=audit) as served:
        result = await call_and_answer(served, screen, keys, "pick_files", {"allowed_extensions": ["py"]})
    assert result.is_error and said in text_of(result) and "do not retry" in text_of(result)
    assert simulator.os_calls("/os/filesystem/files/pick") == []
    [line] = audit_lines(audit)
    assert (line["decision"], line["asked"], line["outcome"]) == ("declined", "desktop", "not run")


async def test_a_destroyed_dialog_window_is_not_an_allow(simulator: SimulatorProcess, screen: Screen) -> None:
    # zenity exits 0 when its window is destroyed without an answer: only the "Allow" it prints allows.
    async with serve_on(screen, simulator.url) as served:
        results: list[CallToolResult] = []

        async def call() -> None:
            results.append(await served.client.call_tool("os_restart", {}))

        async with anyio.create_task_group() as group:
            group.start_soon(call)
            await screen.xdotool("windowclose", await screen.dialog())
    assert results[0].is_error
    assert simulator.os_calls(RESTART) == []


async def test_no_answer_before_the_interactive_timeout_is_a_no_and_closes_the_dialog(
    simulator: SimulatorProcess, screen: Screen
) -> None:
    async with serve_on(screen, simulator.url, PIECES_MCP_INTERACTIVE_TIMEOUT="2") as served:
        started = time.monotonic()
        result = await call_and_answer(served, screen, ())
        elapsed = time.monotonic() - started
        left_open = await screen.dialogs()
    assert result.is_error and "no answer within 2 s" in text_of(result)
    assert elapsed < 10 and left_open == []
    assert simulator.os_calls(RESTART) == []


async def test_calls_made_together_are_asked_one_after_the_other(simulator: SimulatorProcess, screen: Screen) -> None:
    async with serve_on(screen, simulator.url) as served:
        results: dict[str, CallToolResult] = {}
        first_answered = anyio.Event()

        async def call(tool: str) -> None:
            results[tool] = await served.client.call_tool(tool, {})
            if tool == "os_restart":
                first_answered.set()

        async with anyio.create_task_group() as group:
            group.start_soon(call, "os_restart")
            first = await screen.dialog()
            group.start_soon(call, "sign_out_of_os")
            # The server runs in this process: the second call is seen queued for the one dialog at a time
            # (were calls not taken one at a time, it would never queue, and this wait would end the test).
            with anyio.fail_after(10):
                while desktop.ONE_DIALOG_AT_A_TIME.statistics().tasks_waiting < 1:  # noqa: ASYNC110 (no event for it)
                    await anyio.sleep(0.01)
            shown_together = await screen.dialogs()
            await screen.press(first, "Escape")
            with anyio.fail_after(10):
                await first_answered.wait()  # its dialog has ended: the window found next is the second one
            await screen.press(await screen.dialog(), "Tab", "Return")
    assert shown_together == [first]
    assert results["os_restart"].is_error and not results["sign_out_of_os"].is_error
    assert simulator.os_calls(RESTART) == [] and len(simulator.os_calls("/os/sign_out")) == 1


async def test_waiting_for_the_dialog_reports_progress(
    simulator: SimulatorProcess, screen: Screen, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What a notification says is checked here; how often they come (every 4 s), in
    # tests/reliability/test_piecesos_faults.py. So the first need not take 4 s: the server runs in this process.
    monkeypatch.setattr(heartbeat, "INTERVAL_S", 0.2)
    messages: list[str] = []
    progressed = anyio.Event()

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        messages.append(message or "")
        progressed.set()

    async with serve_on(screen, simulator.url) as served:
        results: list[CallToolResult] = []

        async def call() -> None:
            results.append(await served.client.call_tool("os_restart", {}, progress_callback=on_progress))

        async with anyio.create_task_group() as group:
            group.start_soon(call)
            window = await screen.dialog()
            with anyio.fail_after(15):
                await progressed.wait()
            await screen.press(window, "Tab", "Return")
    assert not results[0].is_error
    assert "answer the dialog on their desktop" in messages[0]


async def test_cancelling_the_call_kills_the_dialog(simulator: SimulatorProcess, screen: Screen) -> None:
    async with serve_on(screen, simulator.url) as served:
        pid = 0
        with anyio.CancelScope() as scope:
            async with anyio.create_task_group() as group:
                group.start_soon(served.client.call_tool, "os_restart", {})
                pid = int(await screen.xdotool("getwindowpid", await screen.dialog()))
                scope.cancel()  # the client sends notifications/cancelled
        with anyio.fail_after(10):
            await gone(pid)
            after = await served.client.call_tool("os_permissions", {})
    assert not after.is_error
    assert simulator.os_calls(RESTART) == []


async def test_confirm_desktop_asks_on_the_desktop_even_when_the_client_can_ask(
    simulator: SimulatorProcess, screen: Screen
) -> None:
    asked_in_client: list[str] = []

    async def client_answer(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        asked_in_client.append(params.message)
        return ElicitResult(action="accept", content={"confirm": True})

    async with serve_on(
        screen, simulator.url, elicitation_callback=client_answer, PIECES_MCP_CONFIRM="desktop"
    ) as served:
        result = await call_and_answer(served, screen, ("Return",))
    assert result.is_error and "Don't allow" in text_of(result)
    assert asked_in_client == [] and simulator.os_calls(RESTART) == []


async def test_confirm_client_with_a_client_that_cannot_ask_refuses_without_a_dialog(
    simulator: SimulatorProcess, screen: Screen, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    async with serve_on(screen, simulator.url, PIECES_MCP_CONFIRM="client", PIECES_MCP_AUDIT_LOG=audit) as served:
        with anyio.fail_after(10):
            result = await served.client.call_tool("os_restart", {})
        shown = await screen.dialogs()
    assert result.is_error and "PIECES_MCP_ALLOW_TOOLS=os_restart" in text_of(result)
    assert shown == [] and simulator.os_calls(RESTART) == []
    assert audit_lines(audit)[0]["asked"] is None


async def test_a_server_without_a_display_refuses_with_the_instructions(
    simulator: SimulatorProcess, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    async with serve(simulator.url, PIECES_MCP_AUDIT_LOG=audit) as served:  # serve() drops DISPLAY
        with anyio.fail_after(10):
            result = await served.client.call_tool("os_restart", {})
    text = text_of(result)
    assert result.is_error and "PIECES_MCP_ALLOW_TOOLS=os_restart" in text
    assert "cannot ask (it does not support elicitation)" in text and "no display" in text
    assert simulator.os_calls(RESTART) == []
    [line] = audit_lines(audit)
    assert (line["decision"], line["asked"]) == ("refused: no elicitation", None)


# Set to a PNG path to keep a picture of the padded-path dialog (docs/confirm-dialog-path.png was made so).
SCREENSHOT = "PIECES_MCP_TEST_DIALOG_SCREENSHOT"


async def dialog_text(screen: Screen, window: str) -> str:
    """The text zenity was given to show, read from its own command line: what is on the screen, whole."""
    pid = await screen.xdotool("getwindowpid", window)
    argv = (await anyio.Path(f"/proc/{pid}/cmdline").read_bytes()).split(b"\0")
    [text] = [arg.decode().removeprefix("--text=") for arg in argv if arg.startswith(b"--text=")]
    return text


async def keep_picture(screen: Screen, window: str, path: str) -> None:
    await anyio.sleep(1.5)  # mapped is not yet painted; the picture is for people, not for the assertion
    frame = ["-frame"] if shutil.which("openbox") else []
    await anyio.run_process(["import", *frame, "-window", window, path], env={**os.environ, **screen.env})


async def test_the_dialog_shows_a_padded_path_whole_and_resolved(
    simulator: SimulatorProcess, screen: Screen, tmp_path: Path
) -> None:
    home = tmp_path / "home" / "ana"
    (home / "notes").mkdir(parents=True)
    (home / ".ssh").mkdir()
    (home / ".ssh" / "id_ed25519").write_text("key")
    padded = f"{home}/notes/./././../notes/../../ana/./notes/../.ssh/id_ed25519"
    resolved = str(home / ".ssh" / "id_ed25519")
    simulator.control("files", {"root": str(tmp_path)})
    manager = None
    if os.environ.get(SCREENSHOT) and shutil.which("openbox"):
        manager = await anyio.open_process(["openbox"], env={**os.environ, **screen.env})
    try:
        async with serve_on(screen, simulator.url, PIECES_MCP_TOOLSETS="all") as served:
            results: list[CallToolResult] = []

            async def call() -> None:
                results.append(await served.client.call_tool("os_filesystem_file_read_streamed", {"path": padded}))

            async with anyio.create_task_group() as group:
                group.start_soon(call)
                window = await screen.dialog()
                shown = await dialog_text(screen, window)
                if os.environ.get(SCREENSHOT):
                    await keep_picture(screen, window, os.environ[SCREENSHOT])
                await screen.press(window, "Escape")
    finally:
        if manager is not None:
            manager.terminate()
            await manager.wait()
    whole = shown.replace("\n", "")  # zenity's lines are wrapped here, never cut: joined, they are the question
    assert f"path: {resolved}(the assistant asked for {padded}, which is {resolved})" in whole
    assert "…" not in shown and results[0].is_error
    assert simulator.os_calls("/os/filesystem/file/read/streamed") == []
