"""An operation this PiecesOS does not have: one sentence naming it and the PiecesOS that has it, not "HTTP 404".

Also `pieces-mcp doctor` and `pieces-mcp tools` list the offered tools this PiecesOS cannot do. The simulator
of each generation serves what that generation had (tests/simulator/test_each_generation_serves_what_it_had.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from pieces_mcp.catalog import BY_NAME, CATALOG, GENERATIONS, LIVE, Endpoint, Generation, LiveResource
from pieces_mcp.client import PiecesOS, http_client
from pieces_mcp.config import Settings
from pieces_mcp.errors import AbsentOperationError, BadStatusError
from pieces_mcp.live import read_once
from pieces_mcp.models.base import NoArguments
from pieces_mcp.simulator import RunningSimulator
from tests.e2e.test_cli import run

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]

ABSENT = [
    (generation, endpoint)
    for generation in GENERATIONS
    for endpoint in CATALOG
    if not endpoint.since.exists_in(generation)
]


@pytest.fixture
async def pieces_of(simulators: dict[Generation, RunningSimulator]) -> AsyncIterator[dict[Generation, PiecesOS]]:
    clients = {}
    for generation, simulator in simulators.items():
        settings = Settings(base_url=simulator.url)  # type: ignore[call-arg]
        clients[generation] = (settings, http_client(settings))
    opened = {generation: await context.__aenter__() for generation, (_, context) in clients.items()}
    try:
        yield {generation: PiecesOS(clients[generation][0], http) for generation, http in opened.items()}
    finally:
        for _, context in clients.values():
            await context.__aexit__(None, None, None)


@pytest.mark.parametrize(("generation", "endpoint"), ABSENT, ids=lambda item: getattr(item, "name", item))
async def test_an_absent_operation_names_itself_and_the_piecesos_that_has_it(
    pieces_of: dict[Generation, PiecesOS], generation: Generation, endpoint: Endpoint
) -> None:
    # The arguments do not matter here: the path is not there, whatever the body (a WebSocket one included).
    with pytest.raises(AbsentOperationError) as raised:
        await pieces_of[generation].call(endpoint, NoArguments())
    message = raised.value.message
    assert f"This PiecesOS (API generation {generation}) has no {endpoint.name};" in message
    assert f"client {endpoint.since.client}" in message and message.endswith(": update PiecesOS.")
    assert "HTTP 404" not in message and ". " not in message  # one sentence, not the generic status error


async def test_the_sentence_for_the_seed_without_settings(pieces_of: dict[Generation, PiecesOS]) -> None:
    with pytest.raises(AbsentOperationError) as raised:
        await pieces_of["seed"].call(BY_NAME["os_settings_snapshot"], NoArguments())
    assert raised.value.message == (
        "This PiecesOS (API generation seed) has no os_settings_snapshot; it came with PiecesOS 10 (client 2.3.0): "
        "update PiecesOS."
    )


async def test_an_operation_every_generation_has_keeps_piecesos_own_404(
    simulators: dict[Generation, RunningSimulator], pieces_of: dict[Generation, PiecesOS]
) -> None:
    # A 404 from an operation the seed already had is not "absent": PiecesOS's own status and text stay.
    async with httpx.AsyncClient(timeout=10) as control:
        fault = {"path": "/os/device/information", "status": 404, "body": "Route not found"}
        (await control.post(f"{simulators['current'].url}/_simulator/faults", json=fault)).raise_for_status()
    with pytest.raises(BadStatusError) as raised:
        await pieces_of["current"].call(BY_NAME["os_device_information"], NoArguments())
    assert not isinstance(raised.value, AbsentOperationError) and "HTTP 404 (Route not found)" in raised.value.message


def test_doctor_lists_the_offered_tools_this_piecesos_cannot_do(
    simulators: dict[Generation, RunningSimulator],
) -> None:
    done = run("doctor", base_url=simulators["seed"].url, PIECES_MCP_TOOLSETS="all")
    lines = [line for line in done.stdout.splitlines() if line.startswith("cannot do")]
    missing = [endpoint.name for endpoint in CATALOG if not endpoint.since.exists_in("seed")]
    assert all(any(name in line for line in lines) for name in missing), done.stdout
    assert all("not on this PiecesOS (API generation seed)" in line for line in lines)
    assert any(line.endswith("came with PiecesOS 10 (client 2.3.0): update PiecesOS") for line in lines)


def test_doctor_says_nothing_is_missing_on_a_current_piecesos(
    simulators: dict[Generation, RunningSimulator],
) -> None:
    done = run("doctor", base_url=simulators["current"].url, PIECES_MCP_TOOLSETS="all")
    assert "cannot do      nothing: this PiecesOS (API generation current) has every offered tool" in done.stdout


def test_tools_lists_what_this_piecesos_cannot_do_of_the_offered_tools(
    simulators: dict[Generation, RunningSimulator],
) -> None:
    seed = run("tools", "--toolsets", "os,settings", base_url=simulators["seed"].url).stdout
    assert (
        "cannot do here: os_settings_snapshot, os_settings_update: not on this PiecesOS (API generation seed); "
        "they came with PiecesOS 10 (client 2.3.0): update PiecesOS"
    ) in seed.splitlines()
    v10 = run("tools", "--toolsets", "all", base_url=simulators["v10"].url).stdout
    assert [line for line in v10.splitlines() if line.startswith("cannot do here")] == [
        "cannot do here: os_nano_models_prepare: not on this PiecesOS (API generation v10); it came with "
        "PiecesOS 11 or later (client 4.3.0): update PiecesOS"
    ]
    default = run("tools", base_url=simulators["seed"].url).stdout  # the default os set: the seed has all ten
    assert "cannot do here" not in default


ABSENT_STREAMS = [
    (generation, stream)
    for generation in GENERATIONS
    for stream in LIVE
    if stream.snapshot is None and not stream.since.exists_in(generation)
]


@pytest.mark.parametrize(("generation", "stream"), ABSENT_STREAMS, ids=lambda item: getattr(item, "name", item))
async def test_reading_a_stream_this_piecesos_lacks_names_the_piecesos_that_has_it(
    pieces_of: dict[Generation, PiecesOS], generation: Generation, stream: LiveResource
) -> None:
    with pytest.raises(AbsentOperationError) as raised:
        await read_once(pieces_of[generation], stream)
    assert raised.value.message == (
        f"This PiecesOS (API generation {generation}) has no {stream.name}; it came with "
        f"{stream.since.came_with()}: update PiecesOS."
    )
