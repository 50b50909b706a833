"""Each `--api` mode serves the operations and streams its generation of PiecesOS had, and nothing else.

The evidence (vendor wheels and SDK tags): the seed (client 2.2.0) has the seed page's ten and `GET /user`;
the further operations and the update and settings streams came with client 2.3.0 (v10);
`os_nano_models_prepare` with 4.3.0 and the migration stream with 5.0.0 (current only). A path PiecesOS does
not have answers 404 "Route not found" (pieces-app/support#597, #474); a WebSocket upgrade to one, HTTP 404
(support#774).
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from pieces_mcp.catalog import CATALOG, GENERATIONS, LIVE, Endpoint, Generation, LiveResource
from pieces_mcp.simulator import RunningSimulator, create_app

pytestmark = pytest.mark.timeout(60)

ROUTE_NOT_FOUND = "Route not found"  # PiecesOS's own text (support#597, #474)


def _http_answer(generation: Generation, method: str, path: str) -> httpx.Response:
    async def ask() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(generation))
        async with httpx.AsyncClient(transport=transport, base_url="http://simulated") as http:
            return await http.request(method, path, json={})

    return asyncio.run(ask())


@pytest.mark.parametrize("generation", GENERATIONS)
# open_pieces_os is the OS opening pieces://launch, no PiecesOS route (tests/e2e/test_open_pieces_os.py).
@pytest.mark.parametrize(
    "endpoint", [entry for entry in CATALOG if entry.served_over_http], ids=lambda endpoint: endpoint.name
)
def test_an_operation_is_served_exactly_where_its_generation_had_it(generation: Generation, endpoint: Endpoint) -> None:
    response = _http_answer(generation, endpoint.method, endpoint.path_for(generation))
    if endpoint.since.exists_in(generation):
        assert response.status_code != 404, f"{endpoint.name} is missing from the {generation} simulator"
    else:
        assert (response.status_code, response.text) == (404, ROUTE_NOT_FOUND), endpoint.name


def test_the_seed_has_only_the_seed_pages_ten_and_the_user() -> None:
    seed = {endpoint.name for endpoint in CATALOG if endpoint.since.exists_in("seed") and endpoint.served_over_http}
    assert seed == {endpoint.name for endpoint in CATALOG if endpoint.toolset in ("os", "user")}


@pytest.mark.parametrize("generation", GENERATIONS)
def test_an_unknown_path_is_route_not_found(generation: Generation) -> None:
    response = _http_answer(generation, "GET", "/os/no/such/thing")
    assert (response.status_code, response.text) == (404, ROUTE_NOT_FOUND)


async def _upgrade_status(url: str) -> int | None:
    """The HTTP status a WebSocket upgrade to `url` is refused with; None when it is accepted."""
    try:
        async with connect(url, proxy=None, open_timeout=10):
            return None
    except InvalidStatus as refused:
        return refused.response.status_code


def _ws(simulator: RunningSimulator, path: str) -> str:
    return simulator.url.replace("http://", "ws://", 1) + path


@pytest.mark.parametrize("generation", GENERATIONS)
@pytest.mark.parametrize("stream", LIVE, ids=lambda stream: stream.name)
def test_a_stream_is_served_exactly_where_its_generation_had_it(
    simulators: dict[Generation, RunningSimulator], generation: Generation, stream: LiveResource
) -> None:
    status = asyncio.run(_upgrade_status(_ws(simulators[generation], stream.path)))
    assert status == (None if stream.since.exists_in(generation) else 404), stream.name


@pytest.mark.parametrize("generation", GENERATIONS)
def test_an_unknown_websocket_path_is_refused_with_404_not_403(
    simulators: dict[Generation, RunningSimulator], generation: Generation
) -> None:
    assert asyncio.run(_upgrade_status(_ws(simulators[generation], "/os/no/such/stream"))) == 404
