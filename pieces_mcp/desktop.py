"""Ask the person with a native dialog on their own desktop, for when the MCP client cannot ask them.

The dialog is always a child process (zenity or kdialog, osascript, or a child Python calling user32), never
a GUI toolkit inside the server: a toolkit would want the main thread and its own event loop, and a child can
be killed when the call is cancelled or the wait ends. The text is the guard's whole question (`guard.question`:
the effective target, escaped by `targets.visible`), shown whole. Only an explicit "Allow" allows: Return (the default
button is "Don't allow"), Escape, closing the window, a crash of the dialog program and silence all mean no.
"""

from __future__ import annotations

import html
import math
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass

import anyio
from anyio.abc import ByteReceiveStream

TITLE = "pieces-mcp"
ALLOW = "Allow"
DONT_ALLOW = "Don't allow"
ZENITY_LINE = 76  # characters
CREATE_NO_WINDOW = 0x08000000  # Windows: the child Python gets no console window of its own
# Calls made together are asked one after the other: two windows with the same title on top of each other
# could have the person allow the one they did not read. The wait counts against the call's limit.
ONE_DIALOG_AT_A_TIME = anyio.Lock()


@dataclass(frozen=True)
class DesktopOutcome:
    allowed: bool  # True only when the person chose "Allow"
    asked: bool  # False when no dialog could be shown
    detail: str  # one plain phrase: "the person chose Don't allow", "no display", ...


@dataclass(frozen=True)
class Finished:
    """How a dialog program ended."""

    returncode: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Dialog:
    """One way to ask on this desktop: the command line, and how to read its answer."""

    program: str
    argv: tuple[str, ...]
    read: Callable[[Finished], DesktopOutcome]
    creationflags: int = 0


def wrapped(paragraph: str, width: int = ZENITY_LINE) -> list[str]:
    """`paragraph` in lines of at most `width` characters, at spaces where it can; joined, they are `paragraph`."""
    wrapper = textwrap.TextWrapper(width, drop_whitespace=False, replace_whitespace=False, break_on_hyphens=False)
    return wrapper.wrap(paragraph) or [paragraph]


def find_dialog(
    text: str,
    timeout: float,
    *,
    platform: str | None = None,
    environ: Mapping[str, str] | None = None,
    which: Callable[[str], str | None] | None = None,
) -> Dialog | str:
    """The dialog this desktop can show, or why there is none (one plain phrase)."""
    platform = sys.platform if platform is None else platform
    environ = os.environ if environ is None else environ
    which = shutil.which if which is None else which
    seconds = max(1, math.ceil(timeout))
    if platform == "darwin":
        osascript = which("osascript")
        return _osascript(osascript, text, seconds) if osascript else "osascript is not available"
    if platform == "win32":
        return _windows(text)
    if not (environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY")):
        return "there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set)"
    if zenity := which("zenity"):
        return _zenity(zenity, text, seconds, timeout)
    if kdialog := which("kdialog"):
        return _kdialog(kdialog, text)
    return "neither zenity nor kdialog is installed"


# The limit is a parameter, not only the caller's cancel scope, because the dialog program is told it too:
# a dialog whose server died without killing it still closes by itself.
async def ask_on_desktop(question: str, timeout: float) -> DesktopOutcome:  # noqa: ASYNC109
    """Ask `question` (the guard's whole text, shown whole) in a dialog; wait at most `timeout` s for the answer."""
    dialog = find_dialog(question, timeout)
    if isinstance(dialog, str):
        return DesktopOutcome(allowed=False, asked=False, detail=dialog)
    with anyio.move_on_after(timeout):
        async with ONE_DIALOG_AT_A_TIME:
            try:
                finished = await run_dialog(dialog.argv, dialog.creationflags)
            except OSError as exc:
                return DesktopOutcome(allowed=False, asked=False, detail=f"{dialog.program} could not start ({exc})")
            return dialog.read(finished)
    return DesktopOutcome(allowed=False, asked=True, detail=f"no answer within {timeout:g} s")


async def run_dialog(argv: Sequence[str], creationflags: int = 0) -> Finished:
    """Run the dialog program to its end; when the wait is cancelled, the program is killed first."""
    process = await anyio.open_process(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        creationflags=creationflags,
    )
    try:
        outputs: dict[str, bytes] = {}
        async with anyio.create_task_group() as group:
            for name, stream in (("stdout", process.stdout), ("stderr", process.stderr)):
                if stream is not None:
                    group.start_soon(_collect, stream, outputs, name)
        returncode = await process.wait()
        return Finished(
            returncode,
            outputs.get("stdout", b"").decode("utf-8", "replace"),
            outputs.get("stderr", b"").decode("utf-8", "replace"),
        )
    finally:
        if process.returncode is None:
            with suppress(ProcessLookupError):  # it ended on its own in between
                process.kill()
        with anyio.CancelScope(shield=True):
            await process.aclose()


async def _collect(stream: ByteReceiveStream, outputs: dict[str, bytes], name: str) -> None:
    chunks = [chunk async for chunk in stream]
    outputs[name] = b"".join(chunks)


def _failed(program: str, finished: Finished) -> DesktopOutcome:
    last_line = next((line.strip() for line in reversed(finished.stderr.splitlines()) if line.strip()), "")
    why = f": {last_line[:160]}" if last_line else ""
    return DesktopOutcome(allowed=False, asked=False, detail=f"{program} failed (exit code {finished.returncode}){why}")


def _chose(label: str) -> DesktopOutcome:
    return DesktopOutcome(allowed=label == ALLOW, asked=True, detail=f"the person chose {label}")


# Linux, GTK: zenity. `--switch` drops zenity's own OK/Cancel, so each answer is a button whose label zenity
# prints on stdout: "Allow" must be read there, and no exit code alone (a destroyed window exits 0, and the
# ZENITY_OK/ZENITY_ESC environment variables renumber exit codes) can allow a call. The first button has the
# focus, so Return chooses "Don't allow". Escape and closing the window print nothing. `--no-markup`: the text
# is shown as it is, never read as Pango markup. `--timeout` closes a dialog whose server died without killing it.
# Exit codes: 1 for a button or Escape, 5 for the timeout (help.gnome.org/users/zenity/stable/usage.html).
# GTK 3 sizes a wrapping label to its whole text, so a long question made the dialog as wide as the screen:
# the lines are wrapped here, keeping every character (a path or URL is shown whole, never cut).
def _zenity(path: str, text: str, seconds: int, timeout: float) -> Dialog:
    lines = "\n".join("\n".join(wrapped(paragraph)) for paragraph in text.split("\n"))
    argv = (
        path,
        "--question",
        "--switch",
        f"--title={TITLE}",
        f"--text={lines}",
        "--no-markup",
        f"--extra-button={DONT_ALLOW}",
        f"--extra-button={ALLOW}",
        "--width=480",
        f"--timeout={seconds}",
    )

    def read(finished: Finished) -> DesktopOutcome:
        answer = finished.stdout.strip()
        if answer in (ALLOW, DONT_ALLOW):
            return _chose(answer)
        if "cannot open display" in finished.stderr:
            return DesktopOutcome(allowed=False, asked=False, detail="zenity could not open the display")
        if finished.returncode == 5:
            return DesktopOutcome(allowed=False, asked=True, detail=f"no answer within {timeout:g} s")
        if finished.returncode in (0, 1):
            return DesktopOutcome(allowed=False, asked=True, detail="the person closed the dialog without choosing")
        return _failed("zenity", finished)

    return Dialog("zenity", argv, read)


# Linux, KDE: kdialog. `--warningyesno` because KMessageBox makes "No" the default button of a warning
# (KMessageBox's documentation of warningYesNo: "The default button is 'No'. Pressing 'Esc' selects the
# 'No'-button"; warningTwoActions, its successor, keeps that). Not verified on a KDE desktop here. The text is
# given as escaped rich text, so nothing in it is read as markup, and with its backslashes doubled, since
# kdialog reads "\n" and "\\" in it as escapes (KDE/kdialog src/utils.cpp, parseString). Exit codes: 0 for
# the first button, 1 for the second, 2 for anything else (src/kdialog.cpp). No timeout of its own: it is killed.
def _kdialog(path: str, text: str) -> Dialog:
    rich = "<qt>" + html.escape(text).replace("\\", "\\\\").replace("\n", "<br>") + "</qt>"
    argv = (path, "--title", TITLE, "--warningyesno", rich, "--yes-label", ALLOW, "--no-label", DONT_ALLOW)

    def read(finished: Finished) -> DesktopOutcome:
        if finished.returncode == 0:
            return _chose(ALLOW)
        if finished.returncode == 1:  # the button, Return (its default) or Escape
            return DesktopOutcome(allowed=False, asked=True, detail="the person chose Don't allow or pressed Escape")
        if finished.returncode == 2:
            return DesktopOutcome(allowed=False, asked=True, detail="the person closed the dialog without choosing")
        return _failed("kdialog", finished)

    return Dialog("kdialog", argv, read)


# macOS: `display dialog` through osascript. The text, the title and the limit travel as arguments of the
# run handler, never spliced into the script. "Don't allow" is both the default button (Return) and the
# cancel button (Escape); choosing it ends the script with error -128 "User canceled" and exit code 1.
# `giving up after` closes the dialog by itself when the server died without killing it.
# (developer.apple.com, AppleScript Language Guide, "display dialog").
OSASCRIPT_LINES = (
    "on run argv",
    "activate",
    f'set answer to display dialog (item 1 of argv) with title (item 2 of argv) buttons {{"{DONT_ALLOW}", "{ALLOW}"}}'
    f' default button "{DONT_ALLOW}" cancel button "{DONT_ALLOW}" with icon caution'
    " giving up after ((item 3 of argv) as integer)",
    'if gave up of answer then return "no answer"',
    "return button returned of answer",
    "end run",
)


def _osascript(path: str, text: str, seconds: int) -> Dialog:
    script = [part for line in OSASCRIPT_LINES for part in ("-e", line)]
    argv = (path, *script, text, TITLE, str(seconds))

    def read(finished: Finished) -> DesktopOutcome:
        answer = finished.stdout.strip()
        if finished.returncode == 0 and answer == ALLOW:
            return _chose(ALLOW)
        if finished.returncode == 0 and answer == "no answer":
            return DesktopOutcome(allowed=False, asked=True, detail=f"no answer within {seconds} s")
        if "-128" in finished.stderr:
            return DesktopOutcome(allowed=False, asked=True, detail="the person chose Don't allow or pressed Escape")
        return _failed("osascript", finished)

    return Dialog("osascript", argv, read)


# Windows: user32's MessageBoxW in a child Python (no new dependency). OK/Cancel with Cancel as the default
# button (MB_DEFBUTTON2), so Return, Escape and the close button all answer Cancel; a CBT hook on the box's own
# thread renames the buttons to "Allow" / "Don't allow" when the box is activated (HCBT_ACTIVATE), the
# documented way to relabel a message box (learn.microsoft.com: SetWindowsHookExW, CBTProc). MB_TOPMOST and
# MB_SETFOREGROUND put it above the assistant's window. The child prints the answer; a message box has no
# timeout, so it is killed when the wait ends.
WINDOWS_SCRIPT = f"""\
import ctypes, sys
from ctypes import wintypes
user32 = ctypes.WinDLL("user32", use_last_error=True)
kernel32 = ctypes.WinDLL("kernel32")
HOOKPROC = ctypes.WINFUNCTYPE(wintypes.LPARAM, ctypes.c_int, wintypes.WPARAM, wintypes.LPARAM)
user32.SetWindowsHookExW.restype = wintypes.HHOOK
user32.SetWindowsHookExW.argtypes = [ctypes.c_int, HOOKPROC, wintypes.HINSTANCE, wintypes.DWORD]
user32.CallNextHookEx.restype = wintypes.LPARAM
user32.CallNextHookEx.argtypes = [wintypes.HHOOK, ctypes.c_int, wintypes.WPARAM, wintypes.LPARAM]
user32.SetDlgItemTextW.argtypes = [wintypes.HWND, ctypes.c_int, wintypes.LPCWSTR]
user32.MessageBoxW.argtypes = [wintypes.HWND, wintypes.LPCWSTR, wintypes.LPCWSTR, wintypes.UINT]
kernel32.GetCurrentThreadId.restype = wintypes.DWORD
HCBT_ACTIVATE, WH_CBT, IDOK, IDCANCEL = 5, 5, 1, 2
@HOOKPROC
def relabel(code, wparam, lparam):
    if code == HCBT_ACTIVATE:
        user32.SetDlgItemTextW(wparam, IDOK, {ALLOW!r})
        user32.SetDlgItemTextW(wparam, IDCANCEL, {DONT_ALLOW!r})
    return user32.CallNextHookEx(None, code, wparam, lparam)
hook = user32.SetWindowsHookExW(WH_CBT, relabel, None, kernel32.GetCurrentThreadId())
# MB_OKCANCEL | MB_ICONQUESTION | MB_DEFBUTTON2 | MB_SETFOREGROUND | MB_TOPMOST
answer = user32.MessageBoxW(None, sys.argv[1], sys.argv[2], 0x1 | 0x20 | 0x100 | 0x10000 | 0x40000)
print({ALLOW!r} if answer == IDOK else {DONT_ALLOW!r} if answer == IDCANCEL else "failed %d" % answer)
"""


def _windows(text: str) -> Dialog:
    argv = (sys.executable, "-I", "-c", WINDOWS_SCRIPT, text, TITLE)

    def read(finished: Finished) -> DesktopOutcome:
        answer = finished.stdout.strip()
        if answer == ALLOW:
            return _chose(ALLOW)
        if answer == DONT_ALLOW:
            return DesktopOutcome(allowed=False, asked=True, detail="the person chose Don't allow or closed the dialog")
        return _failed("the message box", finished)

    return Dialog("the message box", argv, read, creationflags=CREATE_NO_WINDOW)
