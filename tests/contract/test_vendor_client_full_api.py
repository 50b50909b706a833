"""The vendor's 5.0.1 client calls every request/response operation added after the seed, and parses each answer.

The WebSocket operations (the three streams, and file read, which the vendor marks "[WS]") are not callable
through the generated client (it GETs them as plain HTTP, without the body); their messages are parsed with the
vendor's models instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pieces_os_client.api.os_api import OSApi
from pieces_os_client.api.user_api import UserApi
from pieces_os_client.api_client import ApiClient
from pieces_os_client.configuration import Configuration
from pieces_os_client.models.active_os_server_applet import ActiveOSServerApplet
from pieces_os_client.models.inactive_os_server_applet import InactiveOSServerApplet
from pieces_os_client.models.model_download_progress_status_enum import ModelDownloadProgressStatusEnum
from pieces_os_client.models.nano_models_preparation_input import NanoModelsPreparationInput
from pieces_os_client.models.nano_models_preparation_tasks import NanoModelsPreparationTasks
from pieces_os_client.models.os_applet_enum import OSAppletEnum
from pieces_os_client.models.os_file_streaming_read import OSFileStreamingRead
from pieces_os_client.models.os_file_streaming_read_attempt import OSFileStreamingReadAttempt
from pieces_os_client.models.os_migration_status_enum import OSMigrationStatusEnum
from pieces_os_client.models.os_migration_status_response import OSMigrationStatusResponse
from pieces_os_client.models.os_server_settings import OSServerSettings
from pieces_os_client.models.os_server_update_status import OSServerUpdateStatus
from pieces_os_client.models.terminating_os_server_applet import TerminatingOSServerApplet
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from pieces_mcp.catalog import LIVE
from pieces_mcp.simulator import RunningSimulator, start_in_thread
from tests.support import wait_until_healthy

pytestmark = pytest.mark.timeout(30)
STREAMS = {live.name: live.path for live in LIVE} | {
    "os_filesystem_file_read_streamed": "/os/filesystem/file/read/streamed"
}


@pytest.fixture(scope="module")
def simulator() -> Iterator[RunningSimulator]:
    with start_in_thread(api="current") as running:
        yield running


@pytest.fixture
def control(simulator: RunningSimulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=simulator.url, timeout=10) as client:
        client.post("/_simulator/reset").raise_for_status()
        yield client


@pytest.fixture
def api_client(simulator: RunningSimulator, control: httpx.Client) -> Iterator[ApiClient]:
    with ApiClient(Configuration(host=simulator.url)) as client:
        yield client


@pytest.fixture
def os_api(api_client: ApiClient) -> OSApi:
    return OSApi(api_client)


def calls_to(control: httpx.Client, path: str) -> list[dict[str, object]]:
    return [call for call in control.get("/_simulator/calls").json() if call["path"] == path]


def ws_url(simulator: RunningSimulator, name: str) -> str:
    return simulator.url.replace("http://", "ws://") + STREAMS[name]


FILE_READ = "os_filesystem_file_read_streamed"


def test_settings_snapshot_parses_into_the_vendor_model(os_api: OSApi) -> None:
    assert os_api.os_settings_snapshot() == OSServerSettings(autoboot=False)


def test_settings_update_is_kept_and_parses(os_api: OSApi) -> None:
    assert os_api.os_settings_update(OSServerSettings(autoboot=True)).autoboot is True
    assert os_api.os_settings_snapshot().autoboot is True


def test_path_verify_tells_a_file_from_a_folder_and_a_missing_path(os_api: OSApi, tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("hello")
    file = os_api.os_filesystem_path_verify(str(tmp_path / "notes.md"))
    assert file.verified and file.file and not file.directory and file.bytes is not None and file.bytes.value == 5
    folder = os_api.os_filesystem_path_verify(str(tmp_path))
    assert folder.verified and folder.directory
    assert os_api.os_filesystem_path_verify(str(tmp_path / "missing")).verified is False


def test_file_open_is_recorded_with_its_path(os_api: OSApi, control: httpx.Client) -> None:
    assert os_api.os_filesystem_file_open("/home/ada/notes/plan.md") is None
    assert calls_to(control, "/os/filesystem/file/open")[0]["body"] == "/home/ada/notes/plan.md"


def test_url_open_is_recorded_with_its_address(os_api: OSApi, control: httpx.Client) -> None:
    assert os_api.os_browser_url_open("https://pieces.app/") is None
    assert calls_to(control, "/os/browser/url/open")[0]["body"] == "https://pieces.app/"


def test_file_read_streams_a_file_from_the_given_folder(
    simulator: RunningSimulator, control: httpx.Client, tmp_path: Path
) -> None:
    (tmp_path / "plan.md").write_bytes("plan: ship it ✓\n".encode())
    control.post("/_simulator/files", json={"root": str(tmp_path)}).raise_for_status()
    attempt = OSFileStreamingReadAttempt(path=str(tmp_path / "plan.md"))
    with connect(ws_url(simulator, FILE_READ), open_timeout=5) as stream:
        stream.send(attempt.to_json())
        read = OSFileStreamingRead.from_json(str(stream.recv(timeout=5)))
    assert read is not None and read.status is ModelDownloadProgressStatusEnum.COMPLETED
    assert read.bytes is not None and bytes(read.bytes.raw or []).decode() == "plan: ship it ✓\n"


def test_file_read_without_a_files_folder_closes_with_the_reason(
    simulator: RunningSimulator, control: httpx.Client
) -> None:
    with connect(ws_url(simulator, FILE_READ), open_timeout=5) as stream:
        stream.send(OSFileStreamingReadAttempt(path="/etc/hostname").to_json())
        with pytest.raises(ConnectionClosed) as closed:
            stream.recv(timeout=5)
    assert closed.value.rcvd is not None and "serves no files" in closed.value.rcvd.reason


def test_memory_optimize_answers_no_content(os_api: OSApi, control: httpx.Client) -> None:
    assert os_api.os_memory_optimize() is None
    assert control.get("/_simulator/state").json()["memory_optimizations"] == 1


def test_nano_models_prepare_answers_no_content(os_api: OSApi, control: httpx.Client) -> None:
    tasks = NanoModelsPreparationInput(tasks=NanoModelsPreparationTasks(conversation=True))
    assert os_api.os_nano_models_prepare(tasks) is None
    assert control.get("/_simulator/state").json()["nano_models_prepared"] is True


def test_applet_launch_restart_and_terminate_parse(os_api: OSApi, control: httpx.Client) -> None:
    launched = os_api.os_applet_launch(InactiveOSServerApplet(type=OSAppletEnum.COPILOT))
    assert isinstance(launched, ActiveOSServerApplet) and launched.type is OSAppletEnum.COPILOT
    assert os_api.os_applet_restart(InactiveOSServerApplet(type=OSAppletEnum.COPILOT)).port == launched.port
    assert os_api.os_applet_terminate(TerminatingOSServerApplet(type=OSAppletEnum.COPILOT)) is None
    assert control.get("/_simulator/state").json()["applets"] == {}


def test_user_snapshot_parses_and_is_empty_when_signed_out(api_client: ApiClient, control: httpx.Client) -> None:
    users = UserApi(api_client)
    signed_in = users.user_snapshot()
    assert signed_in.user is not None and signed_in.user.email
    control.post("/_simulator/state", json={"signed_in": False}).raise_for_status()
    assert users.user_snapshot().user is None


def test_terminate_takes_piecesos_down_until_it_is_launched_again(
    simulator: RunningSimulator, os_api: OSApi, control: httpx.Client
) -> None:
    assert os_api.os_terminate() is None
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{simulator.url}/.well-known/health", timeout=5)
    simulator.launch()
    wait_until_healthy(simulator.url)
    assert os_api.os_settings_snapshot().autoboot is False


def test_settings_stream_pushes_each_update(simulator: RunningSimulator, os_api: OSApi) -> None:
    with connect(ws_url(simulator, "os_settings_stream"), open_timeout=5) as stream:
        os_api.os_settings_update(OSServerSettings(autoboot=True))
        pushed = OSServerSettings.from_json(str(stream.recv(timeout=5)))
    assert pushed is not None and pushed.autoboot is True


def test_update_stream_reports_the_status_then_each_change(simulator: RunningSimulator, control: httpx.Client) -> None:
    with connect(ws_url(simulator, "os_update_check_stream"), open_timeout=5) as stream:
        first = OSServerUpdateStatus.from_json(str(stream.recv(timeout=5)))
        control.post("/_simulator/state", json={"update_status": "READY_TO_RESTART"}).raise_for_status()
        changed = OSServerUpdateStatus.from_json(str(stream.recv(timeout=5)))
    assert first is not None and first.status.value == "UP_TO_DATE"
    assert changed is not None and changed.status.value == "READY_TO_RESTART"


def test_migration_stream_reports_the_status_then_each_change(
    simulator: RunningSimulator, control: httpx.Client
) -> None:
    with connect(ws_url(simulator, "stream_os_migration_status"), open_timeout=5) as stream:
        first = OSMigrationStatusResponse.from_json(str(stream.recv(timeout=5)))
        migrating = {"status": "MIGRATING", "overallProgressPercentage": 40}
        control.post("/_simulator/migration", json=migrating).raise_for_status()
        changed = json.loads(stream.recv(timeout=5))
    assert first is not None and first.status is OSMigrationStatusEnum.IDLE
    parsed = OSMigrationStatusResponse.from_dict(changed)
    assert parsed is not None and parsed.status is OSMigrationStatusEnum.MIGRATING
    assert parsed.overall_progress_percentage == 40
