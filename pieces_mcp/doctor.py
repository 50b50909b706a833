"""`pieces-mcp doctor`: what is there, what answers, what to fix. Never calls an endpoint with side effects."""

from __future__ import annotations

import statistics
import sys
import time

import httpx

from pieces_mcp.catalog import BY_NAME, CATALOG, GENERATIONS, Generation
from pieces_mcp.client import PiecesOS, http_client
from pieces_mcp.config import Settings
from pieces_mcp.errors import PiecesError
from pieces_mcp.guard import Policy
from pieces_mcp.models import NoArguments

ROUND_TRIPS = 5


async def probe_generation(http: httpx.AsyncClient, base_url: str) -> Generation | None:
    """Which generation's picker path exists, asked with HEAD so no picker opens (405: there, 404: not)."""
    picker = BY_NAME["pick_files"]
    for generation in GENERATIONS:
        try:
            response = await http.head(base_url + picker.path_for(generation))
        except httpx.HTTPError:
            return None
        if response.status_code != 404:
            return generation
    return None


async def run_doctor(settings: Settings) -> int:
    def say(label: str, value: str) -> None:
        print(f"{label:<14} {value}")

    policy = Policy(settings)
    async with http_client(settings) as http:
        pieces = PiecesOS(settings, http)
        try:
            base_url = await pieces.locate()
            say("PiecesOS", f"{base_url} ({pieces.found_by})")
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
    for endpoint in CATALOG:
        print(f"  {endpoint.name:<24} {endpoint.risk.value:<8} {policy.describe(endpoint)}")
    clients = configured_clients()
    listed = (
        ", ".join(f"{name} ({path})" for name, path in clients) or "none yet: run `pieces-mcp install --client NAME`"
    )
    print(f"{'clients':<14} {listed}")
