"""Discovery against real simulators on chosen ports: none, one, several, and the older fixed ports."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from pieces_mcp import discovery
from pieces_mcp.simulator import REAL_PORTS, start_in_thread

# The discovery range is machine-wide: these tests take it one at a time, across xdist workers too.
# Fixed ports are odd: Linux hands even ephemeral ports to connect() (since 4.6), so an even port of the
# range may be held for a minute by some client's TIME_WAIT, and binding it fails.
pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60), pytest.mark.usefixtures("discovery_ports", "home")]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home directory of the test's own: no real PiecesOS port file is read."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("USERPROFILE", str(tmp_path))
    return tmp_path


def announce(home: Path, text: str) -> None:
    """Write the port file PiecesOS writes, with `text` in it."""
    path = discovery.port_file()
    assert path.is_relative_to(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


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
    with simulators_on(39329, 39303, 39317):
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
    # Something else on 39301 answers health with 404; the simulator on 39311 is the one.
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
        with simulators_on(39311):
            async with httpx.AsyncClient() as http:
                assert await discovery.discover(http) == "http://127.0.0.1:39311"
    finally:
        other.should_exit = True
        thread.join(5)


async def test_the_port_in_the_port_file_wins_over_the_range(home: Path) -> None:
    with simulators_on(39301), start_in_thread(port=0) as announced:
        announce(home, f"{announced.port}\n")
        async with httpx.AsyncClient() as http:
            assert await discovery.discover(http) == announced.url


@pytest.mark.parametrize("text", [None, "", "null", "not a port", "-1", "70000", "39300 39301"])
async def test_a_missing_empty_null_or_junk_port_file_means_scanning(home: Path, text: str | None) -> None:
    if text is not None:
        announce(home, text)
    with simulators_on(39305):
        async with httpx.AsyncClient() as http:
            assert await discovery.discover(http) == "http://127.0.0.1:39305"


async def test_a_port_file_naming_a_dead_port_means_scanning(home: Path) -> None:
    with start_in_thread(port=0) as gone:
        port = gone.port
    announce(home, str(port))
    with simulators_on(39309):
        async with httpx.AsyncClient() as http:
            assert await discovery.discover(http) == "http://127.0.0.1:39309"


@pytest.mark.parametrize(
    ("platform", "parts"),
    [
        ("darwin", ("Library", "com.pieces.os", "production", "Config", ".port.txt")),
        ("linux", ("Documents", "com.pieces.os", "production", "Config", ".port.txt")),
        ("win32", ("Documents", "com.pieces.os", "production", "Config", ".port.txt")),
    ],
)
def test_the_port_file_is_where_the_vendor_reads_it(home: Path, platform: str, parts: tuple[str, ...]) -> None:
    assert discovery.port_file(platform) == home.joinpath(*parts)


@pytest.mark.parametrize(("status", "text", "healthy"), [(200, "OK:5f0c", True), (200, "", True), (503, "ok", False)])
async def test_any_200_from_health_is_healthy(status: int, text: str, healthy: bool) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(status, text=text))
    async with httpx.AsyncClient(transport=transport) as http:
        assert await discovery.is_healthy(http, "http://127.0.0.1:39300") is healthy


async def test_a_current_simulator_on_real_ports_listens_in_the_range_and_is_found() -> None:
    with start_in_thread(api="current", port=REAL_PORTS) as real:
        assert 39300 <= real.port <= 39333
        async with httpx.AsyncClient() as http:
            assert await discovery.discover(http) == real.url


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="5323 is the Linux port; 1000 may need privileges")
async def test_a_piecesos_10_simulator_on_its_real_port_is_found_by_the_older_ports() -> None:
    with start_in_thread(api="v10", port=REAL_PORTS) as real:
        assert real.port == 5323
        async with httpx.AsyncClient() as http:
            assert await discovery.discover(http) == "http://127.0.0.1:5323"
