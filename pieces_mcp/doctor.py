"""`pieces-mcp doctor`: what is there, what answers, what to fix. Never calls an endpoint with side effects."""

from __future__ import annotations

import statistics
import sys
import time

import httpx

from pieces_mcp.catalog import BY_NAME, GENERATIONS, Generation
from pieces_mcp.client import PiecesOS, http_client
from pieces_mcp.config import Settings
from pieces_mcp.errors import PiecesError
from pieces_mcp.guard import Policy
from pieces_mcp.models.base import NoArguments
from pieces_mcp.redact import display_url

ROUND_TRIPS = 5


async def probe_generation(http: httpx.AsyncClient, base_url: str) -> Generation | None:
    """Which wire generation answers, without side effects.

    The picker path tells seed from the others (HEAD, so no picker opens: 405 there, 404 not); the
    hardware shape of the read-only device information tells v10 (`cpu`) from current (`cpus`).
    """
    picker = BY_NAME["pick_files"]
    paths = {picker.path_for(generation): generation for generation in reversed(GENERATIONS)}
    found: Generation | None = None
    for path, generation in paths.items():
        try:
            response = await http.head(base_url + path)
        except httpx.HTTPError:
            return None
        if response.status_code != 404:
            found = generation
            break
    if found is None or found == "seed":
        return found
    try:
        hardware = (await http.get(base_url + BY_NAME["os_device_information"].path_for(found))).json()["hardware"]
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return found
    return "v10" if isinstance(hardware, dict) and "cpu" in hardware and "cpus" not in hardware else "current"


async def run_doctor(settings: Settings) -> int:
    def say(label: str, value: str) -> None:
        print(f"{label:<14} {value}")

    policy = Policy(settings)
    async with http_client(settings) as http:
        pieces = PiecesOS(settings, http, mention_doctor=False)
        try:
            base_url = await pieces.locate()
            say("PiecesOS", f"{display_url(base_url)} ({pieces.found_by})")
            say("version", await pieces.version())
            generation = await probe_generation(http, base_url)
            say("API", generation or "unknown (the picker paths answer neither way)")
            timings = []
            for _ in range(ROUND_TRIPS):
                started = time.perf_counter()
                await pieces.call(BY_NAME["os_device_information"], NoArguments())
                timings.append((time.perf_counter() - started) * 1000)
            say("round trip", f"{statistics.median(timings):.1f} ms median of {ROUND_TRIPS} device-information calls")
        except PiecesError as exc:
            say("PiecesOS", "not reachable")
            print(f"\nProblem: {exc.message}", file=sys.stderr)
            _print_policy(settings, policy)
            return 1
    _print_policy(settings, policy)
    return 0


def _print_policy(settings: Settings, policy: Policy) -> None:
    from pieces_mcp.install import configured_clients

    toolsets = ",".join(sorted(settings.toolsets))
    read_only = " read-only" if settings.read_only else ""
    print(f"{'policy':<14} confirm={settings.confirm.value} toolsets={toolsets}{read_only}")
    print("\n".join(f"  {line}" for line in policy.table()))
    clients = configured_clients()
    listed = (
        ", ".join(f"{name} ({path})" for name, path in clients) or "none yet: run `pieces-mcp install --client NAME`"
    )
    print(f"{'clients':<14} {listed}")
