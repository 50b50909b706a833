"""Following an update's download on PiecesOS's update stream, after `os_update_check` found one."""

from __future__ import annotations

import anyio
from pydantic import ValidationError

from pieces_mcp.budget import Budget
from pieces_mcp.catalog import LIVE
from pieces_mcp.errors import BadAnswerError, BadStatusError
from pieces_mcp.exchanges.connection import Connection
from pieces_mcp.exchanges.streams import decoded, open_stream
from pieces_mcp.heartbeat import Progress
from pieces_mcp.models.base import Answer

DOWNLOAD_UNDER_WAY = frozenset({"AVAILABLE", "DOWNLOADING"})
# Ends a followed download a little before the call's own deadline, so the latest status is an answer.
DEADLINE_MARGIN_S = 0.25
UPDATE_STREAM = next(live for live in LIVE if live.name == "os_update_check_stream")
# The seed generation (client 2.2.0) has no update stream; it came with client 2.3.0 (vendor SDK tags).
NO_STREAM_NOTE = (
    "This PiecesOS has no update stream, so the download's progress cannot be followed here; "
    "call os_update_check again to see how far it is."
)


async def follow_download(connection: Connection, first: Answer, budget: Budget, progress: Progress | None) -> Answer:
    """While an update downloads, relay its percentage as progress; the latest status is the answer.

    Follows PiecesOS's update stream ("it is recommended to use the stream instead of pulling", the vendor's
    os_update_check_stream) until the update is no longer under way or the call's budget is nearly spent.
    A PiecesOS without the stream answers with the check's status and a note saying so.
    """
    from websockets.exceptions import ConnectionClosed

    if getattr(first, "status", None) not in DOWNLOAD_UNDER_WAY:
        return first
    # The update stream's messages are the check's own answer model (`UpdateStatus`), read off the answer: the
    # os toolset's models are imported only by a session that offers it (issue 22).
    status_model = type(first)
    latest, reported = first, -1.0
    what = f"the {UPDATE_STREAM.name} stream"
    with anyio.move_on_after(max(0.0, budget.remaining() - DEADLINE_MARGIN_S)):
        try:
            websocket = await open_stream(connection, UPDATE_STREAM.path, what, budget.remaining())
        except BadStatusError:
            return first.with_note(NO_STREAM_NOTE)
        try:
            async for message in websocket:
                try:
                    latest = status_model.model_validate(decoded(message, UPDATE_STREAM.name))
                except (BadAnswerError, ValidationError):
                    continue
                # MCP progress must increase from one notification to the next: repeats are not reported.
                percentage = getattr(latest, "percentage", None)
                if progress is not None and percentage is not None and percentage > reported:
                    reported = float(percentage)
                    await progress(reported, f"Downloading the PiecesOS update: {percentage}%")
                if getattr(latest, "status", None) not in DOWNLOAD_UNDER_WAY:
                    break
        except ConnectionClosed:
            pass  # PiecesOS went away (to install the update?): the latest status seen is the answer
        finally:
            with anyio.CancelScope(shield=True):
                await websocket.close()
    return latest
