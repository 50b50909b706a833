"""`pieces-mcp doctor`: what is there, what answers, what to fix. Never calls an endpoint with side effects."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Sequence

from pieces_mcp import discovery
from pieces_mcp.catalog import BY_NAME, Endpoint, Generation, Since
from pieces_mcp.client import PiecesOS, http_client, probe_generation
from pieces_mcp.config import Settings
from pieces_mcp.errors import PiecesError
from pieces_mcp.exchanges.launch import url_handler
from pieces_mcp.guard import Policy
from pieces_mcp.models.base import NoArguments
from pieces_mcp.redact import display_url

ROUND_TRIPS = 5


def cannot_do(generation: Generation | None, offered: Sequence[Endpoint]) -> list[str]:
    """Which offered tools this PiecesOS's generation lacks, one line per PiecesOS that brought them."""
    if generation is None:
        return ["unknown: which API generation this PiecesOS speaks could not be told"]
    missing: dict[Since, list[str]] = {}
    for endpoint in offered:
        if not endpoint.since.exists_in(generation):
            missing.setdefault(endpoint.since, []).append(endpoint.name)
    if not missing:
        return [f"nothing: this PiecesOS (API generation {generation}) has every offered tool"]
    return [
        f"{', '.join(names)}: not on this PiecesOS (API generation {generation}); "
        f"{'they' if len(names) > 1 else 'it'} came with {since.came_with()}: update PiecesOS"
        for since, names in missing.items()
    ]


async def cannot_do_here(settings: Settings) -> list[str]:
    """For `pieces-mcp tools`: the offered tools the PiecesOS this configuration reaches lacks, if it lacks any.

    Nothing when no PiecesOS answers or its generation cannot be told: `tools` works without one, and
    `doctor` is where a missing PiecesOS is explained.
    """
    async with http_client(settings) as http:
        pieces = PiecesOS(settings, http, mention_doctor=False)
        try:
            base_url = await pieces.locate()
        except PiecesError:
            return []
        generation = await probe_generation(http, base_url)
    offered = Policy(settings).visible()
    if generation is None or all(endpoint.since.exists_in(generation) for endpoint in offered):
        return []
    return cannot_do(generation, offered)


def say(label: str, value: str) -> None:
    print(f"{label:<14} {value}")


def port_files_read(machine: discovery.Machine) -> str:
    """Each port file discovery reads, newest first, with what it holds."""
    return "; ".join(f"{path} ({discovery.read_port_file(path)[1]})" for path in machine.port_files())


async def run_doctor(settings: Settings, machine: discovery.Machine | None = None) -> int:
    policy = Policy(settings)
    say("launcher", _launcher(await url_handler()))
    machine = machine or discovery.Machine.this()
    if settings.base_url:
        say("port file", "not read: PIECES_OS_URL / --base-url is set")
    else:
        say("port file", port_files_read(machine))
    async with http_client(settings) as http:
        pieces = PiecesOS(settings, http, mention_doctor=False, machine=machine)
        try:
            base_url = await pieces.locate()
            say("PiecesOS", f"{display_url(base_url)} ({pieces.found_by})")
            say("version", await pieces.version())
            generation = await probe_generation(http, base_url)
            say("API", generation or "unknown (the picker paths answer neither way)")
            for line in cannot_do(generation, policy.visible()):
                say("cannot do", line)
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


def _launcher(handler: str | None) -> str:
    """Whether open_pieces_os can start PiecesOS here: what opens pieces:// links."""
    if handler is None:
        return "pieces:// links: which application opens them cannot be known on this system"
    if not handler:
        return "no application is registered for pieces:// links: open_pieces_os cannot start PiecesOS"
    return f"pieces:// links open with {handler} (open_pieces_os starts PiecesOS with it)"


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
