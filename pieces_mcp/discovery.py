"""Finding PiecesOS on this machine: today's port range first, then the older fixed ports."""

from __future__ import annotations

from collections.abc import Iterable

import anyio
import httpx

PORT_RANGE = range(39300, 39334)
LEGACY_PORTS = (1000, 5323)
HOST = "127.0.0.1"
# The vendor's own discovery uses 50 ms and 100 ms; a loaded machine needs a little more slack.
CONNECT_PROBE_S = 0.25
HEALTH_PROBE_S = 1.0


async def is_healthy(http: httpx.AsyncClient, base_url: str) -> bool:
    """True when `/.well-known/health` answers 200 with text starting with `ok`."""
    try:
        response = await http.get(f"{base_url}/.well-known/health", timeout=HEALTH_PROBE_S)
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and response.text.lstrip().lower().startswith("ok")


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
    """The base URL of the lowest healthy port, probing all ports at once; None when nothing answers."""
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
