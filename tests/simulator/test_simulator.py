"""The PiecesOS simulator, driven over real loopback HTTP the way other processes use it."""

from __future__ import annotations

import ast
import asyncio
import concurrent.futures
import errno
import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pieces_mcp.catalog import BY_NAME, CATALOG, GENERATIONS, Generation
from pieces_mcp.simulator import (
    SECRET_MARKERS,
    SIMULATOR_VERSION,
    RunningSimulator,
    create_app,
    serve,
    start_in_thread,
)
from pieces_mcp.simulator.app import BEHAVIOURS
from pieces_mcp.simulator.fault_answers import ConnectionDroppedError

pytestmark = pytest.mark.timeout(30)

MOVED = [endpoint for endpoint in CATALOG if endpoint.moved_between_generations]


@pytest.fixture(scope="module")
def shared_client(simulators: dict[Generation, RunningSimulator]) -> Iterator[httpx.Client]:
    # One client for the module: httpx builds a TLS context per client, which costs ~50 ms.
    with httpx.Client(base_url=simulators["current"].url, timeout=10) as http:
        yield http


@pytest.fixture
def client(simulators: dict[Generation, RunningSimulator], shared_client: httpx.Client) -> httpx.Client:
    """A client of the current-generation simulator (absolute URLs reach the seed one); both reset."""
    for simulator in simulators.values():
        shared_client.post(f"{simulator.url}/_simulator/reset").raise_for_status()
    return shared_client


def call(
    http: httpx.Client, name: str, generation: Generation = "current", base: str = "", **body: Any
) -> httpx.Response:
    """Call one catalog endpoint the way a client would; `body=...` replaces the usual request body."""
    endpoint = BY_NAME[name]
    if "body" not in body:  # the body the server sends for the entry's first example
        arguments = endpoint.input_model.model_validate(endpoint.examples[0].filled("/tmp"))
        body["body"] = endpoint.input_model.body_for_generation(arguments.body(), generation)
    json_body = body["body"]
    return http.request(endpoint.method, base + endpoint.path_for(generation), json=json_body)


def set_state(http: httpx.Client, base: str = "", **state: Any) -> None:
    http.post(f"{base}/_simulator/state", json=state).raise_for_status()


def add_fault(http: httpx.Client, **fault: Any) -> None:
    http.post("/_simulator/faults", json=fault).raise_for_status()


def connection_refused(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == errno.ECONNREFUSED


def unanswered(http: httpx.Client, url: str) -> bool:
    """True when a request gets no answer: the connection is refused or closes before one."""
    try:
        http.get(f"{url}/.well-known/health", timeout=2)
    except httpx.TransportError:
        return True
    return False


def wait_until_healthy(http: httpx.Client, url: str, within_s: float = 5.0) -> float:
    """Seconds until `/.well-known/health` answers again."""
    started = time.monotonic()
    while time.monotonic() - started < within_s:
        try:
            if http.get(f"{url}/.well-known/health", timeout=1).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            time.sleep(0.01)
    raise AssertionError(f"{url} did not come back within {within_s} s")


# --- routes -----------------------------------------------------------------------------------


def test_every_catalog_endpoint_has_a_behaviour() -> None:
    assert set(BEHAVIOURS) == {endpoint.name for endpoint in CATALOG if endpoint.served_over_http}


# The operations added after the seed are called with the vendor's client: tests/contract/test_vendor_client_full_api.py
@pytest.mark.parametrize("generation", GENERATIONS)
@pytest.mark.parametrize("name", [endpoint.name for endpoint in CATALOG if endpoint.toolset == "os"])
def test_every_catalog_endpoint_answers(
    simulators: dict[Generation, RunningSimulator], client: httpx.Client, generation: Generation, name: str
) -> None:
    url = simulators[generation].url
    set_state(client, url, restart_downtime_ms=0)
    response = call(client, name, generation, url)
    if name == "os_restart":
        assert response.status_code == 204 and response.content == b""
        wait_until_healthy(client, url)
    else:
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize("generation", GENERATIONS)
@pytest.mark.parametrize("endpoint", MOVED, ids=lambda endpoint: endpoint.name)
def test_the_other_generations_path_is_not_found(
    simulators: dict[Generation, RunningSimulator], client: httpx.Client, generation: Generation, endpoint: Any
) -> None:
    other: Generation = "current" if generation == "seed" else "seed"
    response = client.request(endpoint.method, simulators[generation].url + endpoint.path_for(other), json={})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "Route not found"  # PiecesOS's own text (pieces-app/support#597, #474)


@pytest.mark.parametrize(
    ("generation", "keys"),
    [
        ("seed", {"status"}),
        ("v10", {"status", "percentage", "updated"}),
        ("current", {"status", "percentage", "updated"}),
    ],
)
def test_update_check_answers_its_generations_shape(
    simulators: dict[Generation, RunningSimulator], client: httpx.Client, generation: Generation, keys: set[str]
) -> None:
    answer = client.post(f"{simulators[generation].url}/os/update/check", json={}).json()
    assert set(answer) == keys and answer["status"] == "UP_TO_DATE"


@pytest.mark.parametrize("generation", ["seed", "v10"])
def test_older_generations_report_one_cpu_and_one_gpu(
    simulators: dict[Generation, RunningSimulator], client: httpx.Client, generation: Generation
) -> None:
    hardware = client.get(f"{simulators[generation].url}/os/device/information").json()["hardware"]
    assert set(hardware) == {"cpu", "gpu"}
    assert set(hardware["cpu"]) == {"name", "memory"} and hardware["gpu"]["capabilities"] == {"llm": True}


def test_the_seed_picker_refuses_the_newer_allow_multiple(
    simulators: dict[Generation, RunningSimulator], client: httpx.Client
) -> None:
    response = client.post(f"{simulators['seed'].url}/os/files/pick", json={"allowMultiple": True})
    assert response.status_code == 400 and "allowMultiple" in response.text


@pytest.mark.parametrize("generation", ["seed", "v10"])
def test_older_generations_have_no_microsoft_store_status(
    simulators: dict[Generation, RunningSimulator], client: httpx.Client, generation: Generation
) -> None:
    response = client.post(
        f"{simulators[generation].url}/_simulator/state", json={"update_status": "UPDATE_VIA_MICROSOFT_STORE"}
    )
    assert response.status_code == 400 and generation in response.json()["error"]


def hold_clock(http: httpx.Client, base: str = "") -> None:
    http.post(f"{base}/_simulator/clock", json={"hold": True}).raise_for_status()


def advance(http: httpx.Client, ms: int, base: str = "") -> None:
    http.post(f"{base}/_simulator/clock", json={"advance_ms": ms}).raise_for_status()


def test_an_available_update_downloads_then_waits_for_a_restart(client: httpx.Client) -> None:
    """On a held clock the download moves only when time does: no wall-clock window can be missed."""
    hold_clock(client)
    set_state(client, update_status="AVAILABLE", update_download_ms=300)
    seen = [call(client, "os_update_check").json()]  # the check starts the download
    for _ in range(3):
        seen.append(call(client, "os_update_check").json())
        advance(client, 100)
    seen.append(call(client, "os_update_check").json())
    assert [answer["status"] for answer in seen] == ["AVAILABLE", *["DOWNLOADING"] * 3, "READY_TO_RESTART"]
    assert [answer["percentage"] for answer in seen[1:4]] == [0, 33, 66]


def test_a_held_clock_lets_a_download_run_again_once_released(client: httpx.Client) -> None:
    hold_clock(client)
    set_state(client, update_status="DOWNLOADING", update_download_ms=100)
    assert call(client, "os_update_check").json()["percentage"] == 0
    client.post("/_simulator/clock", json={"hold": False}).raise_for_status()
    while call(client, "os_update_check").json()["status"] == "DOWNLOADING":
        pass  # wall time runs again: bounded by the test's timeout
    assert client.get("/_simulator/state").json()["update_status"] == "READY_TO_RESTART"


def test_the_clock_takes_only_hold_and_advance(client: httpx.Client) -> None:
    response = client.post("/_simulator/clock", json={"advance_ms": -1, "speed": 2})
    assert response.status_code == 400 and "speed" in response.json()["error"]


def test_a_restart_installs_a_downloaded_update(client: httpx.Client) -> None:
    set_state(client, update_status="READY_TO_RESTART", restart_downtime_ms=0)
    assert call(client, "os_restart").status_code == 204
    wait_until_healthy(client, str(client.base_url).rstrip("/"))
    assert call(client, "os_update_check").json()["status"] == "UP_TO_DATE"
    assert client.get("/.well-known/version").text == "12.3.5-simulator"


def test_health_answers_ok_and_an_id_to_get_and_head(client: httpx.Client) -> None:
    assert re.fullmatch(r"OK:[0-9a-f-]{36}", client.get("/.well-known/health").text)
    assert client.head("/.well-known/health").status_code == 200


def test_version_and_installation_path(client: httpx.Client) -> None:
    assert client.get("/.well-known/version").text == SIMULATOR_VERSION
    assert client.get("/.well-known/installation/path").text.startswith("/")


def test_device_information_is_believable(client: httpx.Client) -> None:
    info = call(client, "os_device_information").json()
    assert info["name"] and info["version"] == SIMULATOR_VERSION
    assert len(info["hardware"]["cpus"]) == 2
    assert 1 <= len(info["hardware"]["gpus"]) <= 2
    assert all("llm" in gpu["capabilities"] for gpu in info["hardware"]["gpus"])
    assert info["hardware"]["ram"]["type"] == "DDR5"
    assert info["dependencies"] == {"vulkan": True}


# --- control API ------------------------------------------------------------------------------


def test_calls_log_lists_os_requests_in_order_with_parsed_bodies(client: httpx.Client) -> None:
    client.get("/.well-known/health")
    call(client, "os_device_information")
    call(client, "pick_files", body={"allowMultiple": False})
    client.post("/os/sign_out", content=b"not json")

    assert client.get("/_simulator/calls").json() == [
        {"method": "GET", "path": "/os/device/information", "body": None},
        {"method": "POST", "path": "/os/filesystem/files/pick", "body": {"allowMultiple": False}},
        {"method": "POST", "path": "/os/sign_out", "body": "not json"},
    ]


def test_reset_restores_state_and_clears_faults_and_calls(client: httpx.Client) -> None:
    set_state(client, signed_in=False, picked_files=["/x"])
    add_fault(client, path="/os/permissions", times=0)
    call(client, "os_device_information")

    client.post("/_simulator/reset").raise_for_status()

    assert client.get("/_simulator/calls").json() == []
    assert client.get("/_simulator/faults").json() == []
    assert call(client, "os_permissions").status_code == 200
    state = client.get("/_simulator/state").json()
    assert state["signed_in"] is True and state["picked_files"] != ["/x"]


def test_state_merge_changes_only_the_given_keys(client: httpx.Client) -> None:
    before = client.get("/_simulator/state").json()
    after = client.post("/_simulator/state", json={"signed_in": False, "picked_folders": ["/srv"]}).json()
    assert after == {**before, "signed_in": False, "picked_folders": ["/srv"]}
    assert call(client, "pick_folders").json() == ["/srv"]


def test_state_rejects_unknown_keys_with_a_message(client: httpx.Client) -> None:
    before = client.get("/_simulator/state").json()
    response = client.post("/_simulator/state", json={"signed_in": False, "colour": "blue"})
    assert response.status_code == 400
    assert "colour" in response.json()["error"]
    assert client.get("/_simulator/state").json() == before


@pytest.mark.parametrize(
    "bad", [{"signed_in": "yes"}, {"update_status": "DONE"}, {"pick_delay_ms": -1}, {"picked_files": "/a"}]
)
def test_state_rejects_values_of_the_wrong_kind(client: httpx.Client, bad: dict[str, Any]) -> None:
    response = client.post("/_simulator/state", json=bad)
    assert response.status_code == 400
    assert next(iter(bad)) in response.json()["error"]


def test_update_status_is_scriptable(client: httpx.Client) -> None:
    set_state(client, update_status="READY_TO_RESTART")
    assert call(client, "os_update_check").json()["status"] == "READY_TO_RESTART"


# --- faults -----------------------------------------------------------------------------------


def test_fault_answers_with_its_status_body_and_content_type(client: httpx.Client) -> None:
    add_fault(client, path="/os/device/information", status=503, body="PiecesOS is busy")
    add_fault(client, path="/os/permissions", body={"error": "boom"})

    busy = call(client, "os_device_information")
    boom = call(client, "os_permissions")

    assert (busy.status_code, busy.text) == (503, "PiecesOS is busy")
    assert busy.headers["content-type"].startswith("text/plain")
    assert (boom.status_code, boom.json()) == (500, {"error": "boom"})
    assert boom.headers["content-type"].startswith("application/json")


def answered_only_after_the_clock_moves(client: httpx.Client, name: str, delay_ms: int) -> httpx.Response:
    """Call `name` on a held clock: it is not answered until the clock has moved `delay_ms` on."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool, httpx.Client(base_url=client.base_url, timeout=10) as other:
        waiting = pool.submit(call, other, name)
        while not client.get("/_simulator/clock").json()["sleeping"]:
            time.sleep(0.01)  # until its delay has begun: a poll for that signal, not a wait standing in for it
        advance(client, delay_ms - 1)
        assert not waiting.done()
        advance(client, 1)
        return waiting.result(timeout=10)


def test_fault_with_only_a_delay_delays_the_normal_answer(client: httpx.Client) -> None:
    hold_clock(client)
    add_fault(client, path="/os/device/information", delay_ms=300)
    response = answered_only_after_the_clock_moves(client, "os_device_information", 300)
    assert response.status_code == 200 and response.json()["name"]


def test_fault_drop_closes_the_connection_without_an_answer(client: httpx.Client) -> None:
    add_fault(client, path="/os/update/check", drop=True)
    with pytest.raises(httpx.RemoteProtocolError):
        call(client, "os_update_check")
    assert call(client, "os_update_check").status_code == 200


def test_fault_applies_the_given_number_of_times(client: httpx.Client) -> None:
    add_fault(client, path="/os/permissions", status=502, times=2)
    statuses = [call(client, "os_permissions").status_code for _ in range(3)]
    assert statuses == [502, 502, 200]


def test_fault_with_times_zero_lasts_until_reset(client: httpx.Client) -> None:
    add_fault(client, path="/os/permissions", times=0)
    assert [call(client, "os_permissions").status_code for _ in range(5)] == [500] * 5
    client.post("/_simulator/reset")
    assert call(client, "os_permissions").status_code == 200


def test_faults_on_one_path_apply_in_the_order_given(client: httpx.Client) -> None:
    add_fault(client, path="/os/permissions", status=503)
    add_fault(client, path="/os/permissions", status=504)
    assert [call(client, "os_permissions").status_code for _ in range(3)] == [503, 504, 200]


def test_faults_can_target_well_known_paths(client: httpx.Client) -> None:
    add_fault(client, path="/.well-known/health", status=503, body="starting")
    assert client.get("/.well-known/health").status_code == 503
    assert client.get("/.well-known/health").text.startswith("OK:")


def test_faulted_os_requests_are_still_logged(client: httpx.Client) -> None:
    add_fault(client, path="/os/link_provider", status=500)
    call(client, "link_provider", body={"type": "github"})
    assert client.get("/_simulator/calls").json() == [
        {"method": "POST", "path": "/os/link_provider", "body": {"type": "github"}}
    ]


def test_fault_rejects_unknown_keys(client: httpx.Client) -> None:
    response = client.post("/_simulator/faults", json={"path": "/os/permissions", "statuss": 500})
    assert response.status_code == 400 and "statuss" in response.json()["error"]


# --- behaviour --------------------------------------------------------------------------------


def test_link_provider_is_refused_with_401_when_signed_out(client: httpx.Client) -> None:
    set_state(client, signed_in=False)
    response = call(client, "link_provider")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("text/plain") and response.text


def test_link_provider_adds_the_provider_to_the_profile(client: httpx.Client) -> None:
    user = call(client, "link_provider", body={"type": "gitlab"}).json()["user"]
    assert [provider["type"] for provider in user["providers"]["iterable"]] == ["google-oauth2", "gitlab"]


def test_sign_out_then_sign_in_toggles_signed_in(client: httpx.Client) -> None:
    users = call(client, "sign_out_of_os").json()
    assert client.get("/_simulator/state").json()["signed_in"] is False
    profile = call(client, "sign_into_os").json()
    assert client.get("/_simulator/state").json()["signed_in"] is True
    assert users["iterable"][0]["id"] == profile["id"]


def test_signing_in_while_signed_in_answers_the_same_user(client: httpx.Client) -> None:
    first, again = call(client, "sign_into_os").json(), call(client, "sign_into_os").json()
    assert again["id"] == first["id"]
    assert client.get("/_simulator/state").json()["signed_in"] is True


def test_signing_out_while_signed_out_answers_the_known_users_again(client: httpx.Client) -> None:
    first, again = call(client, "sign_out_of_os"), call(client, "sign_out_of_os")
    assert again.status_code == 200 and again.json()["iterable"] == first.json()["iterable"]
    assert client.get("/_simulator/state").json()["signed_in"] is False


@pytest.mark.parametrize("name", ["sign_into_os", "sign_out_of_os", "link_provider"])
def test_every_profile_answer_carries_every_secret_marker(client: httpx.Client, name: str) -> None:
    text = call(client, name).text
    assert [marker for marker in SECRET_MARKERS if marker not in text] == []


def test_permission_request_grants_what_was_asked(client: httpx.Client) -> None:
    set_state(client, permissions={"vision": False, "accessibility": False})
    granted = call(client, "os_permissions_request", body={"processing": {"accessibility": True}}).json()
    assert granted == {"processing": {"vision": False, "accessibility": True}}
    assert call(client, "os_permissions").json() == granted


def test_pickers_wait_for_the_person(client: httpx.Client) -> None:
    hold_clock(client)
    set_state(client, pick_delay_ms=300)
    assert answered_only_after_the_clock_moves(client, "pick_folders", 300).status_code == 200


def test_pick_files_without_multiple_returns_at_most_one(client: httpx.Client) -> None:
    set_state(client, picked_files=["/a.md", "/b.md", "/c.md"])
    assert call(client, "pick_files", body={"allowMultiple": False}).json() == ["/a.md"]
    assert call(client, "pick_files", body=None).json() == ["/a.md", "/b.md", "/c.md"]


def test_pick_files_can_return_twenty_thousand_paths(client: httpx.Client) -> None:
    set_state(client, picked_files_count=20_000)
    paths = call(client, "pick_files").json()
    assert len(paths) == len(set(paths)) == 20_000

    set_state(client, picked_files=[f"/data/{index}.bin" for index in range(20_000)])
    assert call(client, "pick_files").json()[-1] == "/data/19999.bin"


def test_malformed_os_bodies_are_a_400(client: httpx.Client) -> None:
    assert client.post("/os/filesystem/files/pick", content=b"{").status_code == 400
    assert call(client, "link_provider", body={"type": "myspace"}).status_code == 400


# --- restart and serving ----------------------------------------------------------------------


def test_restart_stops_answering_during_downtime_then_returns_on_the_same_port(client: httpx.Client) -> None:
    with start_in_thread() as simulator:
        set_state(client, simulator.url, restart_downtime_ms=400, signed_in=False)
        started = time.monotonic()

        assert client.get(f"{simulator.url}/os/restart").status_code == 204
        unanswered_at_once = unanswered(client, simulator.url)
        back_after = wait_until_healthy(client, simulator.url)

        assert unanswered_at_once
        assert time.monotonic() - started >= 0.3 and back_after > 0  # down at least its downtime, then back
        state = client.get(f"{simulator.url}/_simulator/state").json()
        assert state["signed_in"] is False and state["restarts"] == 1


def test_restart_drops_calls_in_flight(client: httpx.Client) -> None:
    with start_in_thread() as simulator, concurrent.futures.ThreadPoolExecutor(1) as pool:
        set_state(client, simulator.url, pick_delay_ms=5_000, restart_downtime_ms=0)
        with httpx.Client(base_url=simulator.url, timeout=10) as person:
            waiting = pool.submit(call, person, "pick_folders")
            while not client.get(f"{simulator.url}/_simulator/calls").json():
                time.sleep(0.01)  # until the picker call has arrived
            assert client.get(f"{simulator.url}/os/restart").status_code == 204
            with pytest.raises(httpx.RemoteProtocolError):
                waiting.result(timeout=5)


def test_reset_ends_the_requests_an_earlier_client_left_waiting(client: httpx.Client) -> None:
    """What one test leaves waiting on the simulator's held clock neither counts as a sleeper for the next test
    (`GET /_simulator/clock`'s signal that a delay has begun) nor lands in its call log."""
    client.post("/_simulator/clock", json={"hold": True}).raise_for_status()
    set_state(client, "", pick_delay_ms=5_000)
    with concurrent.futures.ThreadPoolExecutor(1) as pool, httpx.Client(base_url=client.base_url, timeout=10) as person:
        waiting = pool.submit(call, person, "pick_folders")
        while not client.get("/_simulator/clock").json()["sleeping"]:
            time.sleep(0.01)  # until the picker is open
        client.post("/_simulator/reset").raise_for_status()
        assert client.get("/_simulator/clock").json() == {"held": False, "sleeping": 0}
        with pytest.raises(httpx.RemoteProtocolError):
            waiting.result(timeout=5)
    assert client.get("/_simulator/calls").json() == []


def test_restart_can_be_faulted_and_then_does_not_happen(client: httpx.Client) -> None:
    add_fault(client, path="/os/restart", status=500, body="cannot restart now")
    assert call(client, "os_restart").status_code == 500
    assert client.get("/_simulator/state").json()["restarts"] == 0


def test_start_in_thread_reports_the_real_port_and_stop_closes_it(client: httpx.Client) -> None:
    simulator = start_in_thread(port=0)
    assert simulator.port != 0 and simulator.url == f"http://127.0.0.1:{simulator.port}"
    assert client.get(f"{simulator.url}/.well-known/health").status_code == 200
    simulator.stop()
    assert connection_refused(simulator.port)
    simulator.stop()  # stopping twice is harmless


def test_serve_announces_its_url_and_stops_when_cancelled(capfd: pytest.CaptureFixture[str]) -> None:
    async def scenario() -> str:
        announced: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        server = asyncio.create_task(serve("127.0.0.1", 0, "seed", announced.set_result))
        url = await asyncio.wait_for(announced, 10)
        async with httpx.AsyncClient(base_url=url) as http:
            assert (await http.post("/os/files/pick", json={})).status_code == 200
        server.cancel()
        with pytest.raises(asyncio.CancelledError):
            await server
        return url

    url = asyncio.run(scenario())
    assert connection_refused(int(url.rsplit(":", 1)[1]))
    assert capfd.readouterr().out == ""  # the CLI's first stdout line must be the URL, not server logs


def test_the_app_works_in_process() -> None:
    async def scenario() -> None:
        transport = httpx.ASGITransport(app=create_app("current"))
        async with httpx.AsyncClient(transport=transport, base_url="http://simulator") as http:
            assert (await http.get("/os/device/information")).json()["version"] == SIMULATOR_VERSION
            assert (await http.post("/os/restart")).status_code == 405
            await http.post("/_simulator/faults", content=json.dumps({"path": "/os/permissions", "drop": True}))
            with pytest.raises(ConnectionDroppedError):
                await http.get("/os/permissions")

    asyncio.run(scenario())


def test_create_app_rejects_an_unknown_generation() -> None:
    with pytest.raises(ValueError, match="api must be one of"):
        create_app("future")  # type: ignore[arg-type]


def test_the_simulator_uses_only_uvicorns_documented_entry_points() -> None:
    # uvicorn documents `uvicorn.Config` and `uvicorn.Server` (with `serve()` and `should_exit`) for
    # running a server from code; its submodules (protocol classes, server state) are internals.
    used: set[str] = set()
    for source in Path(create_app.__code__.co_filename).parent.glob("*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("uvicorn"):
                used.add(f"from {node.module} import")
            elif isinstance(node, ast.Import):
                used.update(f"import {alias.name}" for alias in node.names if alias.name.startswith("uvicorn."))
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "uvicorn":
                used.add(f"uvicorn.{node.attr}")
    assert used == {"uvicorn.Config", "uvicorn.Server"}
