"""Opening `pieces://launch` through the operating system's URL opener, as every vendor client starts PiecesOS.

`open` on macOS, `start` (ShellExecute: `os.startfile`) on Windows, `xdg-open` elsewhere: the vendor wrapper's
`PiecesClient.open_pieces_os` (pieces-os-client-sdk-for-python src/pieces_os_client/wrapper/client.py). The
opener's output never reaches stdout: on stdio, stdout carries MCP alone.
"""

from __future__ import annotations

import os
import subprocess
import sys

import anyio

from pieces_mcp.budget import Budget
from pieces_mcp.errors import NotRunningError

LAUNCH_URL = "pieces://launch"
# xdg-open's exit status when no application handles the URL (xdg-utils: "3 A required tool could not be
# found", "4 The action failed").
_NO_HANDLER = (3, 4)


def opener(platform: str = sys.platform) -> list[str]:
    """The command that opens a URL the way the person's desktop would."""
    return ["open"] if platform == "darwin" else ["xdg-open"]


async def open_launch_url(budget: Budget) -> None:
    """Ask the OS to open `pieces://launch`; a NotRunningError when nothing could open it."""
    if sys.platform == "win32":
        try:
            os.startfile(LAUNCH_URL)  # ShellExecute, what `start pieces://launch` runs
        except OSError as exc:
            raise _not_opened(f"Windows could not open it ({exc.strerror})") from None
        return
    command = [*opener(), LAUNCH_URL]
    try:
        with anyio.fail_after(budget.remaining()):
            done = await anyio.run_process(
                command,
                check=False,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
    except FileNotFoundError:
        raise _not_opened(f"there is no `{command[0]}` on this machine to open it") from None
    except TimeoutError:
        raise _not_opened(f"`{command[0]}` did not finish in time") from None
    if done.returncode in _NO_HANDLER:
        raise _not_opened("no application is registered for pieces:// links (is PiecesOS installed?)")
    if done.returncode != 0:
        raise _not_opened(f"`{command[0]}` failed (exit status {done.returncode})")


async def url_handler(platform: str = sys.platform) -> str | None:
    """Which application opens pieces:// links: "" when none is registered, None where it cannot be known.

    On Linux the desktop's own answer: `xdg-mime query default x-scheme-handler/pieces` (xdg-utils); macOS and
    Windows keep it in their launch services and registry, which no command reads without side effects.
    """
    if platform != "linux":
        return None
    try:
        with anyio.fail_after(5):
            done = await anyio.run_process(
                ["xdg-mime", "query", "default", "x-scheme-handler/pieces"],
                check=False,
                stdin=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
    except (OSError, TimeoutError):
        return None
    return done.stdout.decode("utf-8", "replace").strip() if done.returncode == 0 else ""


def _not_opened(why: str) -> NotRunningError:
    return NotRunningError(
        f"PiecesOS could not be started: pieces-mcp asked to open {LAUNCH_URL}, but {why}; "
        "start the Pieces desktop app or PiecesOS yourself, then try again."
    )
