"""The simulator's state of every toolset, driven over loopback HTTP through the one control API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pieces_mcp.simulator import RunningSimulator, start_in_thread
from tests.support import wait_until_healthy

pytestmark = pytest.mark.timeout(30)


@pytest.fixture(scope="module")
def simulator() -> Iterator[RunningSimulator]:
    with start_in_thread() as running:
        yield running


@pytest.fixture
def client(simulator: RunningSimulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=simulator.url, timeout=10) as client:
        client.post("/_simulator/reset").raise_for_status()
        yield client


def test_reset_puts_settings_applets_migration_files_and_liveness_back(client: httpx.Client, tmp_path: Path) -> None:
    fresh = client.get("/_simulator/state").json()
    client.post("/os/settings/update", json={"autoboot": True}).raise_for_status()
    client.post("/os/applet/launch", json={"type": "GLOBAL_SEARCH"}).raise_for_status()
    client.post("/_simulator/migration", json={"status": "FAILED"}).raise_for_status()
    client.post("/_simulator/files", json={"root": str(tmp_path)}).raise_for_status()
    lifecycle = {
        "restart_comes_back": False,
        "restart_signs_out": True,
        "snapshot_on_connect": {"os_settings_stream": True},
    }
    client.post("/_simulator/state", json=lifecycle).raise_for_status()
    assert client.get("/_simulator/state").json() != fresh
    client.post("/_simulator/reset").raise_for_status()
    assert client.get("/_simulator/state").json() == fresh
    assert client.get("/os/settings").json() == {"autoboot": False}


def test_a_terminated_piecesos_refuses_connections_until_it_is_launched(
    simulator: RunningSimulator, client: httpx.Client
) -> None:
    assert client.post("/os/terminate").status_code == 204
    # A quit process: nothing listens on its port any more, the control API's included (after the moment the
    # process takes to end: requests in it go unanswered).
    with pytest.raises(httpx.ConnectError):
        while True:  # bounded by the test's timeout
            try:
                client.get("/os/settings")
            except httpx.ConnectError:
                raise
            except httpx.TransportError:  # accepted while the process ended, then dropped unanswered
                continue
    with pytest.raises(httpx.ConnectError):
        client.get("/_simulator/state")
    simulator.launch()
    wait_until_healthy(simulator.url)
    assert client.get("/_simulator/state").json()["terminated"] is False
    assert client.get("/os/settings").status_code == 200


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ({"root": "/no/such/folder"}, "is not a folder"),
        ({"root": 3}, '{"root": "/a/folder"} or {"root": null}'),
        ({"folder": "/tmp"}, '{"root": "/a/folder"} or {"root": null}'),
    ],
)
def test_files_control_refuses_what_it_cannot_serve(client: httpx.Client, body: object, said: str) -> None:
    answer = client.post("/_simulator/files", json=body)
    assert answer.status_code == 400 and said in answer.json()["error"]


def test_migration_control_refuses_an_unknown_status(client: httpx.Client) -> None:
    answer = client.post("/_simulator/migration", json={"status": "HALF_DONE"})
    assert answer.status_code == 400 and "status must be one of" in answer.json()["error"]


def test_a_path_outside_the_files_folder_is_not_read(client: httpx.Client, tmp_path: Path) -> None:
    client.post("/_simulator/files", json={"root": str(tmp_path)}).raise_for_status()
    answer = client.request("GET", "/os/filesystem/file/read/streamed", json={"path": str(tmp_path / ".." / "x")})
    assert answer.status_code == 500 and "outside the simulator's files folder" in answer.text


def test_bad_bodies_are_400_with_the_reason(client: httpx.Client) -> None:
    assert "JSON string" in client.post("/os/browser/url/open", json={"url": "https://x"}).text
    assert "'type' must be one of" in client.post("/os/applet/launch", json={"type": "PAINT"}).text
    assert "'autoboot' must be a bool" in client.post("/os/settings/update", json={"autoboot": "yes"}).text
