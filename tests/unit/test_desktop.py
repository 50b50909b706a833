"""The desktop dialog per platform: the exact command or call each makes, and how each answer is read.

Linux's zenity is also driven for real in tests/e2e/test_desktop_dialog.py; macOS and Windows are pinned here.
"""

from __future__ import annotations

import sys
import time
import types
from typing import Any

import anyio
import anyio.abc
import pytest

from pieces_mcp import desktop
from pieces_mcp.desktop import (
    CREATE_NO_WINDOW,
    OSASCRIPT_LINES,
    WINDOWS_SCRIPT,
    DesktopOutcome,
    Dialog,
    Finished,
    ask_on_desktop,
    find_dialog,
    wrapped,
)

pytestmark = pytest.mark.anyio

TEXT = "Your AI assistant wants to run “Restart PiecesOS”. <b>It</b> restarts. Allow it?"
X11 = {"DISPLAY": ":0"}


def installed(*programs: str) -> Any:
    return lambda name: f"/usr/bin/{name}" if name in programs else None


def test_zenity_lines_keep_every_character_of_a_long_target() -> None:
    """Wrapping for zenity breaks lines but never drops a character: joined again, they are the text."""
    target = "path: /home/ana/" + "./" * 300 + "notes  with  spaces/" + "x" * 200
    lines = wrapped(target)
    assert "".join(lines) == target and all(len(line) <= desktop.ZENITY_LINE for line in lines)


def test_linux_uses_zenity_with_allow_printed_and_no_markup() -> None:
    dialog = find_dialog(TEXT, 300, platform="linux", environ=X11, which=installed("zenity", "kdialog"))
    assert isinstance(dialog, Dialog)
    assert dialog.argv == (
        "/usr/bin/zenity",
        "--question",
        "--switch",
        "--title=pieces-mcp",
        # wrapped at 76 characters: GTK 3 would otherwise make the dialog as wide as the screen
        "--text=Your AI assistant wants to run “Restart PiecesOS”. <b>It</b> restarts. Allow\n it?",
        "--no-markup",
        "--extra-button=Don't allow",
        "--extra-button=Allow",
        "--width=480",
        "--timeout=300",
    )


@pytest.mark.parametrize(
    ("finished", "outcome"),
    [
        (Finished(1, "Allow\n", ""), DesktopOutcome(True, True, "the person chose Allow")),
        (Finished(1, "Don't allow\n", ""), DesktopOutcome(False, True, "the person chose Don't allow")),
        (Finished(0, "", ""), DesktopOutcome(False, True, "the person closed the dialog without choosing")),
        (Finished(1, "", ""), DesktopOutcome(False, True, "the person closed the dialog without choosing")),
        (Finished(5, "", ""), DesktopOutcome(False, True, "no answer within 300 s")),
        (
            Finished(1, "", "Gtk-WARNING: cannot open display: :9"),
            DesktopOutcome(False, False, "zenity could not open the display"),
        ),
        (Finished(-11, "", ""), DesktopOutcome(False, False, "zenity failed (exit code -11)")),
    ],
    ids=["allow", "dont-allow", "destroyed", "escape", "timeout", "no-display", "crash"],
)
def test_zenity_allows_only_on_the_allow_it_prints(finished: Finished, outcome: DesktopOutcome) -> None:
    dialog = find_dialog(TEXT, 300, platform="linux", environ=X11, which=installed("zenity"))
    assert isinstance(dialog, Dialog) and dialog.read(finished) == outcome


def test_linux_without_zenity_uses_kdialog_with_no_as_default_and_the_text_escaped() -> None:
    text = 'a <b>bold</b> & line\nnext {"type": "x\\\\ny"}'
    dialog = find_dialog(text, 300, platform="linux", environ=X11, which=installed("kdialog"))
    assert isinstance(dialog, Dialog)
    assert dialog.argv == (
        "/usr/bin/kdialog",
        "--title",
        "pieces-mcp",
        "--warningyesno",
        # backslashes doubled: kdialog reads a double one as one, so the JSON is shown as written
        "<qt>a &lt;b&gt;bold&lt;/b&gt; &amp; line<br>next {&quot;type&quot;: &quot;x\\\\\\\\ny&quot;}</qt>",
        "--yes-label",
        "Allow",
        "--no-label",
        "Don't allow",
    )
    assert dialog.read(Finished(0, "", "")).allowed
    assert not any(dialog.read(Finished(code, "", "")).allowed for code in (1, 2, 134))


@pytest.mark.parametrize(
    ("environ", "which", "why"),
    [
        ({}, installed("zenity"), "there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set)"),
        ({"DISPLAY": ":0"}, installed(), "neither zenity nor kdialog is installed"),
    ],
    ids=["no-display", "no-program"],
)
def test_linux_says_why_no_dialog_can_be_shown(environ: dict[str, str], which: Any, why: str) -> None:
    assert find_dialog(TEXT, 300, platform="linux", environ=environ, which=which) == why


def test_wayland_alone_is_a_display() -> None:
    dialog = find_dialog(
        TEXT, 300, platform="linux", environ={"WAYLAND_DISPLAY": "wayland-0"}, which=installed("zenity")
    )
    assert isinstance(dialog, Dialog) and dialog.program == "zenity"


def test_macos_asks_with_display_dialog_and_passes_the_text_as_an_argument() -> None:
    dialog = find_dialog(TEXT, 299.5, platform="darwin", environ={}, which=installed("osascript"))
    assert isinstance(dialog, Dialog)
    assert dialog.argv == (
        "/usr/bin/osascript",
        "-e",
        "on run argv",
        "-e",
        "activate",
        "-e",
        'set answer to display dialog (item 1 of argv) with title (item 2 of argv) buttons {"Don\'t allow", "Allow"}'
        ' default button "Don\'t allow" cancel button "Don\'t allow" with icon caution'
        " giving up after ((item 3 of argv) as integer)",
        "-e",
        'if gave up of answer then return "no answer"',
        "-e",
        "return button returned of answer",
        "-e",
        "end run",
        TEXT,
        "pieces-mcp",
        "300",
    )
    assert all(TEXT not in line for line in OSASCRIPT_LINES)  # never spliced into the script


@pytest.mark.parametrize(
    ("finished", "allowed", "asked"),
    [
        (Finished(0, "Allow\n", ""), True, True),
        (Finished(1, "", "execution error: User canceled. (-128)"), False, True),
        (Finished(0, "no answer\n", ""), False, True),
        (Finished(0, "Don't allow\n", ""), False, False),  # cannot happen: it is the cancel button
        (Finished(1, "", "execution error: No user interaction allowed. (-1713)"), False, False),
    ],
    ids=["allow", "dont-allow-or-escape", "gave-up", "unexpected-answer", "cannot-show"],
)
async def test_macos_allows_only_on_allow(
    monkeypatch: pytest.MonkeyPatch, finished: Finished, allowed: bool, asked: bool
) -> None:
    ran: list[tuple[tuple[str, ...], int]] = []

    async def run_dialog(argv: tuple[str, ...], creationflags: int = 0) -> Finished:
        ran.append((tuple(argv), creationflags))
        return finished

    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setattr(desktop.shutil, "which", installed("osascript"))
    monkeypatch.setattr(desktop, "run_dialog", run_dialog)
    outcome = await ask_on_desktop("Allow it?\n\nvision: true", 60)
    assert (outcome.allowed, outcome.asked) == (allowed, asked)
    [(argv, flags)] = ran
    assert argv[0] == "/usr/bin/osascript" and argv[-3:] == (
        "Allow it?\n\nvision: true",
        "pieces-mcp",
        "60",
    )
    assert flags == 0


def test_windows_runs_a_child_python_with_no_console_window() -> None:
    dialog = find_dialog(TEXT, 300, platform="win32", environ={}, which=installed())
    assert isinstance(dialog, Dialog)
    assert dialog.argv == (sys.executable, "-I", "-c", WINDOWS_SCRIPT, TEXT, "pieces-mcp")
    assert dialog.creationflags == CREATE_NO_WINDOW == 0x08000000


class FakeFunction:
    def __init__(self, name: str, calls: list[tuple[str, tuple[Any, ...]]], result: Any = 0) -> None:
        self.name, self.calls, self.result = name, calls, result
        self.argtypes: Any = None
        self.restype: Any = None

    def __call__(self, *args: Any) -> Any:
        self.calls.append((self.name, args))
        return self.result(*args) if callable(self.result) else self.result


def fake_ctypes(answer: int, calls: list[tuple[str, tuple[Any, ...]]]) -> tuple[types.ModuleType, types.ModuleType]:
    """A stand-in for ctypes on Windows: records each user32 call; the message box fires the CBT hook."""
    hooks: list[Any] = []

    def message_box(*args: Any) -> int:
        for hook in hooks:
            hook(5, 0x1234, 0)  # HCBT_ACTIVATE for the box's window
        return answer

    user32 = types.SimpleNamespace(
        SetWindowsHookExW=FakeFunction("SetWindowsHookExW", calls, lambda kind, proc, *rest: hooks.append(proc) or 99),
        CallNextHookEx=FakeFunction("CallNextHookEx", calls),
        SetDlgItemTextW=FakeFunction("SetDlgItemTextW", calls, 1),
        MessageBoxW=FakeFunction("MessageBoxW", calls, message_box),
    )
    kernel32 = types.SimpleNamespace(GetCurrentThreadId=FakeFunction("GetCurrentThreadId", calls, 4242))
    wintypes = types.ModuleType("ctypes.wintypes")
    for name in ("LPARAM", "WPARAM", "HHOOK", "HINSTANCE", "DWORD", "HWND", "LPCWSTR", "UINT"):
        setattr(wintypes, name, name)
    ctypes = types.ModuleType("ctypes")
    ctypes.WinDLL = lambda name, **options: {"user32": user32, "kernel32": kernel32}[name]  # type: ignore[attr-defined]
    ctypes.WINFUNCTYPE = lambda *signature: lambda function: function  # type: ignore[attr-defined]
    ctypes.c_int = "c_int"  # type: ignore[attr-defined]
    ctypes.wintypes = wintypes  # type: ignore[attr-defined]
    return ctypes, wintypes


@pytest.mark.parametrize(("answer", "printed"), [(1, "Allow"), (2, "Don't allow"), (0, "failed 0")])
def test_windows_shows_a_topmost_ok_cancel_box_relabelled_allow_and_dont_allow(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], answer: int, printed: str
) -> None:
    calls: list[tuple[str, tuple[Any, ...]]] = []
    ctypes, wintypes = fake_ctypes(answer, calls)
    monkeypatch.setitem(sys.modules, "ctypes", ctypes)
    monkeypatch.setitem(sys.modules, "ctypes.wintypes", wintypes)
    monkeypatch.setattr(sys, "argv", ["-c", TEXT, "pieces-mcp"])
    exec(compile(WINDOWS_SCRIPT, "<the dialog child>", "exec"), {"__name__": "__main__"})
    assert capsys.readouterr().out == printed + "\n"
    hook_call = next(args for name, args in calls if name == "SetWindowsHookExW")
    assert hook_call[0] == 5 and hook_call[2:] == (None, 4242)  # WH_CBT on the box's own thread
    box = next(args for name, args in calls if name == "MessageBoxW")
    # MB_OKCANCEL | MB_ICONQUESTION | MB_DEFBUTTON2 (Cancel is the default) | MB_SETFOREGROUND | MB_TOPMOST
    assert box == (None, TEXT, "pieces-mcp", 0x1 | 0x20 | 0x100 | 0x10000 | 0x40000)
    labels = [args for name, args in calls if name == "SetDlgItemTextW"]
    assert labels == [(0x1234, 1, "Allow"), (0x1234, 2, "Don't allow")]  # IDOK, IDCANCEL


def test_windows_allows_only_on_the_printed_allow() -> None:
    dialog = find_dialog(TEXT, 300, platform="win32", environ={}, which=installed())
    assert isinstance(dialog, Dialog)
    assert dialog.read(Finished(0, "Allow\r\n", "")).allowed
    assert not dialog.read(Finished(0, "Don't allow\r\n", "")).allowed
    assert not dialog.read(Finished(1, "", "Traceback ...")).asked


async def test_a_dialog_left_unanswered_is_killed_when_the_wait_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    dialog = Dialog(
        "sleeper",
        (sys.executable, "-c", "import time; time.sleep(120)"),
        lambda finished: DesktopOutcome(True, True, ""),
    )
    monkeypatch.setattr(desktop, "find_dialog", lambda *args, **kwargs: dialog)
    started_dialogs: list[int] = []
    open_process = anyio.open_process

    async def noting_the_dialog(*args: Any, **kwargs: Any) -> anyio.abc.Process:
        process = await open_process(*args, **kwargs)
        started_dialogs.append(process.pid)  # known at once: the wait need not cover the dialog's own start
        return process

    monkeypatch.setattr(anyio, "open_process", noting_the_dialog)
    started = time.monotonic()
    outcome = await ask_on_desktop("Allow it?", 0.5)
    assert outcome == DesktopOutcome(False, True, "no answer within 0.5 s")
    assert time.monotonic() - started < 8
    [pid] = started_dialogs
    assert not await anyio.Path(f"/proc/{pid}").exists()  # killed and reaped, not left behind


async def test_a_dialog_program_that_cannot_start_is_not_an_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    dialog = Dialog("nothing", ("/nonexistent/dialog",), lambda finished: DesktopOutcome(True, True, ""))
    monkeypatch.setattr(desktop, "find_dialog", lambda *args, **kwargs: dialog)
    outcome = await ask_on_desktop("Allow it?", 5)
    assert not outcome.allowed and not outcome.asked and outcome.detail.startswith("nothing could not start")
