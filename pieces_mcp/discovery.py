"""Finding PiecesOS on this machine, in the vendor's order: the port file, today's range, the older ports.

The vendor's C# client (pieces-app/pieces-os-client-sdk-for-csharp, src/Client/PiecesClient.cs,
`GetBaseUrlAsync`) reads the port PiecesOS wrote to `.port.txt` first; a missing or unreadable file means
scanning 39300-39333 (PiecesOS 11 and later), then the fixed ports of PiecesOS 10.1.15 and earlier: 1000
(macOS, Windows) or 5323 (Linux). Both older ports are probed on every system here: a PiecesOS 10 on the
"other" port costs one refused connection to rule out.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

import anyio
import httpx

from pieces_mcp import LOOPBACK

PORT_RANGE = range(39300, 39334)
LEGACY_PORTS = (1000, 5323)
HOST = LOOPBACK
# The vendor's own discovery uses 50 ms and 100 ms; a loaded machine needs a little more slack.
CONNECT_PROBE_S = 0.25
HEALTH_PROBE_S = 1.0
# The port file's place under the home directory; the home directory is `Path.home()`, so HOME (or
# USERPROFILE on Windows) moves it, which is how the tests announce a PiecesOS through it.
_PORT_FILE_MACOS = ("Library", "com.pieces.os", "production", "Config", ".port.txt")
_PORT_FILE_OTHERS = ("Documents", "com.pieces.os", "production", "Config", ".port.txt")


def port_file(platform: str = sys.platform) -> Path:
    """Where PiecesOS writes the port it listens on (C# client `GetConfigFilePath`)."""
    parts = _PORT_FILE_MACOS if platform == "darwin" else _PORT_FILE_OTHERS
    return Path.home().joinpath(*parts)


def announced_port(path: Path | None = None) -> int | None:
    """The port in the port file; None when the file is missing, empty, `null` or anything but a port."""
    try:
        text = (path or port_file()).read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None
    if not text.isdigit():  # "", "null", junk, a negative number
        return None
    port = int(text)
    return port if 0 < port < 65536 else None


async def is_healthy(http: httpx.AsyncClient, base_url: str) -> bool:
    """True when `/.well-known/health` answers 200, whatever the text.

    The vendor's discovery counts any 200 (pieces-app/pieces-os-client-sdk-for-python,
    src/pieces_os_client/wrapper/client.py `is_pieces_running`: `response.status == 200`; the C# client
    takes any non-null answer). PiecesOS answers "OK" and an id; older versions answered "ok".
    """
    try:
        response = await http.get(f"{base_url}/.well-known/health", timeout=HEALTH_PROBE_S)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


async def _port_open(port: int) -> bool:
    with anyio.move_on_after(CONNECT_PROBE_S):
        try:
            stream = await anyio.connect_tcp(HOST, port)
        except OSError:
            return False
        await stream.aclose()
        return True
    return False


async def discover(http: httpx.AsyncClient) -> str | None:
    """The base URL of PiecesOS: the port file's port, else the lowest healthy port of the range, else
    of the older ports; None when nothing answers."""
    announced = announced_port()
    if announced is not None and await is_healthy(http, f"http://{HOST}:{announced}"):
        return f"http://{HOST}:{announced}"
    for ports in (PORT_RANGE, LEGACY_PORTS):
        healthy = await _healthy_ports(http, ports)
        if healthy:
            return f"http://{HOST}:{min(healthy)}"
    return None


async def _healthy_ports(http: httpx.AsyncClient, ports: Iterable[int]) -> list[int]:
    healthy: list[int] = []

    async def probe(port: int) -> None:
        if await _port_open(port) and await is_healthy(http, f"http://{HOST}:{port}"):
            healthy.append(port)

    async with anyio.create_task_group() as group:
        for port in ports:
            group.start_soon(probe, port)
    return healthy
