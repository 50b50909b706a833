"""A PiecesOS that only speaks WebSocket, and speaks it as an attacker would: floods, huge messages.

It runs in its own thread with its own event loop, so a test can drive `pieces-mcp` (in memory or as a process)
from its own loop while it counts the connections PiecesOS would see. Every path is the migration stream's
kind: whatever a test subscribes to, `send` decides what each connection gets.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

Send = Callable[[ServerConnection], Awaitable[None]]


def migration(percentage: float, padding: int = 0) -> str:
    """One migration-stream message, each percentage a different state; `padding` zeros in a list after it.

    A list of zeros is the costly kind of padding: reading it takes time and memory per element.
    """
    message = json.dumps({"status": "MIGRATING", "overallProgressPercentage": percentage, "activeMigrations": []})
    return message[:-1] + ', "padding": [' + "0," * padding + "0]}" if padding else message


async def stay_silent(connection: ServerConnection) -> None:
    await connection.wait_closed()


@dataclass
class HostilePiecesOS:
    send: Send
    url: str = ""
    opened: int = 0  # connections accepted so far
    open_now: int = 0
    sent: int = 0  # connections whose `send` ended: all sent, or the client refused or left
    changed: threading.Condition = field(default_factory=threading.Condition)

    async def _handle(self, connection: ServerConnection) -> None:
        with self.changed:
            self.opened += 1
            self.open_now += 1
            self.changed.notify_all()
        try:
            with suppress(ConnectionClosed):  # refused by the client, or it left
                await self.send(connection)
            with self.changed:
                self.sent += 1
                self.changed.notify_all()
            await connection.wait_closed()
        finally:
            with self.changed:
                self.open_now -= 1
                self.changed.notify_all()

    def wait_for(self, condition: Callable[[HostilePiecesOS], bool], timeout: float = 30) -> None:
        """Block until `condition(self)` holds (a signal from the server's side); fail after `timeout`."""
        with self.changed:
            held = self.changed.wait_for(lambda: condition(self), timeout)
            assert held, f"opened {self.opened}, open {self.open_now}, sent {self.sent}"


@contextmanager
def hostile_piecesos(send: Send) -> Iterator[HostilePiecesOS]:
    """A running HostilePiecesOS on a free loopback port; `url` is its base URL (PIECES_OS_URL)."""
    hostile = HostilePiecesOS(send)
    ready = threading.Event()
    stop: list[Callable[[], None]] = []

    async def run() -> None:
        done = asyncio.Event()
        loop = asyncio.get_running_loop()
        stop.append(lambda: loop.call_soon_threadsafe(done.set))
        # The server's own limit would refuse the huge messages it is here to send.
        async with serve(hostile._handle, "127.0.0.1", 0, max_size=None) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            hostile.url = f"http://127.0.0.1:{port}"
            ready.set()
            await done.wait()

    thread = threading.Thread(target=lambda: asyncio.run(run()), daemon=True)
    thread.start()
    assert ready.wait(10), "the hostile PiecesOS did not start"
    try:
        yield hostile
    finally:
        stop[0]()
        thread.join(10)
