"""Discovery against real simulators on chosen ports: none, one, several, and the older fixed ports."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from pieces_mcp import discovery
from pieces_mcp.simulator import start_in_thread

# The discovery range is machine-wide: these tests take it one at a time, across xdist workers too.
pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60), pytest.mark.usefixtures("discovery_ports")]


@contextmanager
def simulators_on(*ports: int) -> Iterator[None]:
    running = [start_in_thread(port=port) for port in ports]
    try:
        yield
    finally:
        for simulator in running:
            simulator.stop()


async def test_nothing_running_finds_nothing() -> None:
    async with httpx.AsyncClient() as http:
        assert await discovery.discover(http) is None


async def test_the_lowest_healthy_port_of_the_range_wins() -> None:
    with simulators_on(39329, 39303, 39318):
        async with httpx.AsyncClient() as http:
            assert await discovery.discover(http) == "http://127.0.0.1:39303"


async def test_the_last_port_of_the_range_is_found() -> None:
    with simulators_on(39333):
        async with httpx.AsyncClient() as http:
            assert await discovery.discover(http) == "http://127.0.0.1:39333"


async def test_the_older_port_is_used_when_the_range_is_empty() -> None:
    with simulators_on(5323):
        async with httpx.AsyncClient() as http:
            assert await discovery.discover(http) == "http://127.0.0.1:5323"


async def test_an_open_port_that_is_not_piecesos_is_skipped() -> None:
    # Something else on 39301 answers health with 404; the simulator on 39310 is the one.
    import threading

    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    other = uvicorn.Server(
        uvicorn.Config(
            Starlette(routes=[Route("/", lambda request: PlainTextResponse("hello"))]),
            host="127.0.0.1",
            port=39301,
            log_level="error",
        )
    )
    thread = threading.Thread(target=other.run, daemon=True)
    thread.start()
    try:
        while not other.started:
            thread.join(0.01)
        with simulators_on(39310):
            async with httpx.AsyncClient() as http:
                assert await discovery.discover(http) == "http://127.0.0.1:39310"
    finally:
        other.should_exit = True
        thread.join(5)
