"""PiecesOS's WebSocket operations, simulated: the settings, update, migration and user streams, and file reads.

Each sends a JSON text message per change. Settings and migration changes are pushed by whoever makes
them (`os_settings_update`, `/_simulator/migration`); the update status lives in `state.py`, which other
code changes in several places, so its stream watches it (every `UPDATE_POLL_S`) and sends what differs.
A `frames` fault (`state.FaultSpec`) replaces any stream's messages with its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from pieces_mcp.catalog import BY_NAME, LIVE
from pieces_mcp.simulator.behaviours.files import Unreadable, read_under
from pieces_mcp.simulator.state import FILES_ENV, Simulator

UPDATE_POLL_S = 0.05
FILE_READ = BY_NAME["os_filesystem_file_read_streamed"]
FILE_READ_PATH = FILE_READ.path_for("current")
CHUNK = 64 * 1024
SIGNED_OUT = "signed out"  # not JSON: what the vendor wrapper reads as nobody signed in


async def _until_closed(websocket: WebSocket) -> None:
    """Returns when the client closes (its messages, if any, are ignored)."""
    try:
        while True:
            await websocket.receive_text()
    except (WebSocketDisconnect, RuntimeError):
        return


async def _serve(websocket: WebSocket, produce: Callable[[], Awaitable[None]]) -> None:
    """Run `produce` until it ends (PiecesOS went away) or the client leaves, whichever is first."""
    await websocket.accept()
    tasks = {asyncio.ensure_future(produce()), asyncio.ensure_future(_until_closed(websocket))}
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    with contextlib.suppress(RuntimeError):  # already closed by the client
        await websocket.close()


async def _send_frames(websocket: WebSocket, messages: list[str | bytes]) -> None:
    """A `frames` fault: its messages instead of the stream's, then open until the client leaves."""
    await websocket.accept()
    for message in messages:
        if isinstance(message, bytes):
            await websocket.send_bytes(message)
        else:
            await websocket.send_text(message)
    await _until_closed(websocket)


def _faultable(sim: Simulator, path: str, endpoint: Callable[[WebSocket], Awaitable[None]]) -> WebSocketRoute:
    """The route of a stream, answered by a queued `frames` fault on `path` when there is one."""

    async def faulted(websocket: WebSocket) -> None:
        fault = sim.take_fault(path)
        if fault is not None and fault.frames is not None:
            await _send_frames(websocket, fault.frame_messages())
            return
        await endpoint(websocket)

    return WebSocketRoute(path, faulted)


def user_stream(sim: Simulator) -> Callable[[WebSocket], Awaitable[None]]:
    async def user(websocket: WebSocket) -> None:
        """`/user/stream`: the signed-in UserProfile, or a message that is not JSON once nobody is signed in.

        The vendor wrapper reads a message that is not JSON as signed out (`AuthWS.on_message`,
        pieces-os-client-sdk-for-python src/pieces_os_client/wrapper/websockets/auth_ws.py). Who is signed in
        changes in several places (sign-in, sign-out, a linked provider, the control API), so the stream
        watches the state as the update stream does, and says where it stands on connect as the wrapper expects.
        """
        closed = sim.hub.join("user")  # only ever receives None: PiecesOS went away

        def now() -> str:
            return json.dumps(sim.state.profile()) if sim.state.signed_in else SIGNED_OUT

        async def produce() -> None:
            sent = now()
            await websocket.send_text(sent)
            while closed.empty():
                await asyncio.sleep(UPDATE_POLL_S)
                if (current := now()) != sent:
                    await websocket.send_text(current)
                    sent = current

        try:
            await _serve(websocket, produce)
        finally:
            sim.hub.leave("user", closed)

    return user


def _pushed(
    sim: Simulator, kind: str, stream: str, now: Callable[[], dict[str, Any]]
) -> Callable[[WebSocket], Awaitable[None]]:
    """A stream pushed by whoever changes its state, first sending the state now when `snapshot_on_connect` says so."""

    async def endpoint(websocket: WebSocket) -> None:
        hub = sim.hub
        queue = hub.join(kind)

        async def produce() -> None:
            if sim.state.snapshot_on_connect.get(stream, False):
                await websocket.send_json(now())
            while (payload := await queue.get()) is not None:
                await websocket.send_json(payload)

        try:
            await _serve(websocket, produce)
        finally:
            hub.leave(kind, queue)

    return endpoint


def stream_routes(sim: Simulator) -> list[BaseRoute]:
    async def update_status(websocket: WebSocket) -> None:
        hub = sim.hub
        closed = hub.join("update")  # only ever receives None: PiecesOS went away

        async def produce() -> None:
            # "This will first kick off the check. Then will stream the progress" (the vendor's os_update_check_stream).
            sent = sim.state.check_for_update(sim.api)
            await websocket.send_json(sent)
            while closed.empty():
                await asyncio.sleep(UPDATE_POLL_S)
                answer = sim.state.check_for_update(sim.api)
                if (answer["status"], answer.get("percentage")) != (sent["status"], sent.get("percentage")):
                    await websocket.send_json(answer)
                    sent = answer

        try:
            await _serve(websocket, produce)
        finally:
            hub.leave("update", closed)

    async def file_read(websocket: WebSocket) -> None:
        """`os_filesystem_file_read_streamed`: the attempt comes first, then the file in `CHUNK`-byte messages."""
        await websocket.accept()
        try:
            attempt = await websocket.receive_json()
        except (WebSocketDisconnect, ValueError, KeyError):
            await websocket.close(1003, "The first message must be an OSFileStreamingReadAttempt.")
            return
        sim.record("WS", FILE_READ_PATH, attempt)  # so /_simulator/calls shows what was read
        path = attempt.get("path") if isinstance(attempt, dict) else None
        root = sim.state.files_root
        if not isinstance(path, str) or not path:
            await websocket.close(1011, "'path' must be a string.")
            return
        if root is None:
            await websocket.close(1011, f"This simulator serves no files: start it with {FILES_ENV}=<folder>.")
            return
        try:
            data = await asyncio.to_thread(read_under, Path(root), path)
        except Unreadable as problem:
            await websocket.close(1011, str(problem)[:120])
            return
        stream_id = str(uuid.uuid4())
        total = {"value": len(data), "readable": f"{len(data)} B"}
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):  # a reader may stop early by closing
            for start in range(0, max(len(data), 1), CHUNK):
                end = min(start + CHUNK, len(data))
                await websocket.send_json(
                    {
                        "id": stream_id,
                        "path": path,
                        "status": "COMPLETED" if end >= len(data) else "IN-PROGRESS",
                        "percentage": round(100 * end / len(data)) if data else 100,
                        "bytes": {"raw": list(data[start:end])},
                        "progress": {"total": total, "transferred": {"value": end, "readable": f"{end} B"}},
                    }
                )
            await websocket.close()

    # Whether the settings and migration streams send the current state on connect the vendor never says (only
    # "will emit a change on the update of the OSSettings"): `snapshot_on_connect` chooses, per stream.
    served = {
        "os_settings_stream": _pushed(sim, "settings", "os_settings_stream", lambda: sim.state.settings()),
        "stream_os_migration_status": _pushed(
            sim, "migration", "stream_os_migration_status", lambda: sim.state.migration
        ),
        "os_update_check_stream": update_status,
        "stream_user": user_stream(sim),
    }
    # Only the streams this generation had (catalog.generations); any other path is refused with 404 (app.py).
    routes: list[BaseRoute] = [
        _faultable(sim, live.path, served[live.name]) for live in LIVE if live.since.exists_in(sim.api)
    ]
    if FILE_READ.since.exists_in(sim.api):
        routes.append(_faultable(sim, FILE_READ_PATH, file_read))
    return routes
