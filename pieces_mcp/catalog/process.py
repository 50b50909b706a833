"""The `process` toolset: PiecesOS's own process and the applets it serves."""

from __future__ import annotations

from pieces_mcp.catalog.entry import (
    BASE_MODELS,
    CONFIRM_NOTE,
    ArgumentKind,
    Endpoint,
    Example,
    Exchange,
    Models,
    Risk,
    Wait,
)
from pieces_mcp.catalog.generations import FROM_V10

PROCESS_MODELS = Models("pieces_mcp.models.process")

TOOLSET = "process"
ABOUT = "quit and start PiecesOS, free its memory, launch, restart or stop the Pieces applets it serves"

# The applet names are the vendor's enum; the one whose name says nothing is told in words in the question.
SETTINGS_APPLET_IN_WORDS = " (FUTURE_APPLET_MODULE_PLACEHOLDER_A is PiecesOS's settings.)"

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        name="os_terminate",
        title="Quit PiecesOS",
        description=(
            "Quit PiecesOS. It stays off until the person starts it again (every Pieces tool stops working until "
            "then). Only when the person asked for PiecesOS to quit." + CONFIRM_NOTE
        ),
        method="POST",
        path="/os/terminate",
        arguments=BASE_MODELS.NoArguments,
        answer=BASE_MODELS.Accepted,
        risk=Risk.GUARDED,
        toolset=TOOLSET,
        since=FROM_V10,
        wait=Wait.ORDINARY,
        destructive=True,
        idempotent=True,
        exchange=Exchange.QUIT,
        consequence=(
            "PiecesOS will quit and stay off until you start it again: the Pieces apps lose it, and anything it "
            "is doing now is stopped."
        ),
        examples=(Example(answer_has=("accepted",)),),
    ),
    Endpoint(
        # The vendor wrapper's own name (pieces-os-client-sdk-for-python, wrapper/client.py
        # `PiecesClient.open_pieces_os`): not a PiecesOS endpoint but the OS opening `pieces://launch`.
        name="open_pieces_os",
        title="Start PiecesOS",
        description=(
            "Start PiecesOS when it is not running (after os_terminate, or when another tool says it is not "
            "running), as the Pieces apps do: opens pieces://launch on this machine, waits until PiecesOS answers "
            "and reports the version that came up. Nothing is opened when it already runs." + CONFIRM_NOTE
        ),
        method="GET",
        path="pieces://launch",
        arguments=BASE_MODELS.NoArguments,
        answer=PROCESS_MODELS.LaunchOutcome,
        risk=Risk.GUARDED,
        toolset=TOOLSET,
        wait=Wait.COMEBACK,
        idempotent=True,
        exchange=Exchange.LAUNCH,
        consequence="PiecesOS will be started on this computer (the Pieces app may open a window).",
        # With PiecesOS answering (the simulator's default) it opens nothing; tests/e2e/test_open_pieces_os.py
        # starts one through a fake URL opener.
        examples=(Example(answer_has=("already_running", "running", "version")),),
    ),
    Endpoint(
        name="os_memory_optimize",
        title="Free PiecesOS memory",
        description=(
            "Ask PiecesOS to free memory it does not need right now (caches, idle models). Work in progress is "
            "kept." + CONFIRM_NOTE
        ),
        method="POST",
        path="/os/memory/optimize",
        arguments=BASE_MODELS.NoArguments,
        answer=BASE_MODELS.Accepted,
        risk=Risk.GUARDED,
        toolset=TOOLSET,
        since=FROM_V10,
        wait=Wait.ORDINARY,
        idempotent=True,
        consequence="PiecesOS will free memory it is not using now; it may be slower for a moment afterwards.",
        examples=(Example(answer_has=("accepted",)),),
    ),
    Endpoint(
        name="os_applet_launch",
        title="Launch a Pieces applet",
        description=(
            "Start one of the small Pieces apps PiecesOS serves (COPILOT, GLOBAL_SEARCH, ...), or find the one "
            "already running; returns the loopback port it serves on." + CONFIRM_NOTE
        ),
        method="POST",
        path="/os/applet/launch",
        arguments=PROCESS_MODELS.AppletInput,
        targets={"type": ArgumentKind.VALUE},
        answer=PROCESS_MODELS.ActiveApplet,
        risk=Risk.GUARDED,
        toolset=TOOLSET,
        since=FROM_V10,
        wait=Wait.ORDINARY,
        idempotent=True,
        consequence="PiecesOS will start the Pieces applet named below (it may open a window on your desktop)."
        + SETTINGS_APPLET_IN_WORDS,
        examples=(Example({"type": "COPILOT"}, answer_has=("type", "port")),),
    ),
    Endpoint(
        name="os_applet_restart",
        title="Restart a Pieces applet",
        description=(
            "Stop and start again one of the Pieces apps PiecesOS serves; returns the port it serves on "
            "afterwards." + CONFIRM_NOTE
        ),
        method="POST",
        path="/os/applet/restart",
        arguments=PROCESS_MODELS.AppletInput,
        targets={"type": ArgumentKind.VALUE},
        answer=PROCESS_MODELS.ActiveApplet,
        risk=Risk.GUARDED,
        toolset=TOOLSET,
        since=FROM_V10,
        wait=Wait.ORDINARY,
        destructive=True,
        consequence="The Pieces applet named below will be shut down and started again; its open window closes."
        + SETTINGS_APPLET_IN_WORDS,
        examples=(Example({"type": "COPILOT"}, answer_has=("type", "port")),),
    ),
    Endpoint(
        name="os_applet_terminate",
        title="Stop a Pieces applet",
        description="Shut down one of the Pieces apps PiecesOS serves." + CONFIRM_NOTE,
        method="POST",
        path="/os/applet/terminate",
        arguments=PROCESS_MODELS.AppletInput,
        targets={"type": ArgumentKind.VALUE},
        answer=BASE_MODELS.Accepted,
        risk=Risk.GUARDED,
        toolset=TOOLSET,
        since=FROM_V10,
        wait=Wait.ORDINARY,
        destructive=True,
        idempotent=True,
        consequence="The Pieces applet named below will be shut down; its open window closes."
        + SETTINGS_APPLET_IN_WORDS,
        examples=(Example({"type": "COPILOT"}, answer_has=("accepted",)),),
    ),
)
