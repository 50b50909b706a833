"""The vendor's own generated client (`pieces-os-client` 5.0.1) accepts every simulator answer.

If PiecesOS's client can parse what the simulator says, the simulator speaks PiecesOS's wire format,
and tests that pass against it mean something.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from pieces_os_client.api.os_api import OSApi
from pieces_os_client.api.well_known_api import WellKnownApi
from pieces_os_client.api_client import ApiClient
from pieces_os_client.configuration import Configuration
from pieces_os_client.exceptions import ApiException
from pieces_os_client.models.external_provider_type_enum import ExternalProviderTypeEnum
from pieces_os_client.models.file_picker_input import FilePickerInput
from pieces_os_client.models.os_device_ram_type_enum import OSDeviceRAMTypeEnum
from pieces_os_client.models.os_permissions import OSPermissions
from pieces_os_client.models.os_processing_permissions import OSProcessingPermissions
from pieces_os_client.models.seeded_external_provider import SeededExternalProvider
from pieces_os_client.models.unchecked_os_server_update import UncheckedOSServerUpdate
from pieces_os_client.models.updating_status_enum import UpdatingStatusEnum

from pieces_mcp.simulator import SECRET_MARKERS, SIMULATOR_VERSION, RunningSimulator, start_in_thread

pytestmark = pytest.mark.timeout(30)

SCRIPTED_FILES = ["/home/ada/notes/plan.md", "/home/ada/notes/ideas.txt", "/srv/data/set.csv"]
SCRIPTED_FOLDERS = ["/home/ada/notes", "/srv/data"]


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
def os_api(simulator: RunningSimulator, control: httpx.Client) -> Iterator[OSApi]:
    with ApiClient(Configuration(host=simulator.url)) as api_client:
        yield OSApi(api_client)


@pytest.fixture
def well_known(simulator: RunningSimulator) -> Iterator[WellKnownApi]:
    with ApiClient(Configuration(host=simulator.url)) as api_client:
        yield WellKnownApi(api_client)


def test_device_information_parses_into_the_vendor_model(os_api: OSApi) -> None:
    info = os_api.os_device_information()
    assert info.name == "ada-workstation"
    assert info.version == SIMULATOR_VERSION
    assert info.hardware is not None and info.hardware.cpus and info.hardware.gpus and info.hardware.ram
    assert len(info.hardware.cpus) == 2
    assert any(gpu.capabilities is not None and gpu.capabilities.llm for gpu in info.hardware.gpus)
    assert info.hardware.ram.type == OSDeviceRAMTypeEnum.DDR5
    assert info.dependencies is not None and info.dependencies.vulkan is True


def test_permissions_and_permission_request_parse(os_api: OSApi) -> None:
    before = os_api.os_permissions()
    assert before.processing is not None and before.processing.vision is False

    asked = OSPermissions(processing=OSProcessingPermissions(vision=True))
    after = os_api.os_permissions_request(os_permissions=asked)
    assert after.processing is not None and after.processing.vision is True
    assert after.processing.accessibility is True


def test_update_check_parses_with_a_timestamp(os_api: OSApi) -> None:
    status = os_api.os_update_check(unchecked_os_server_update=UncheckedOSServerUpdate())
    assert status.status == UpdatingStatusEnum.UP_TO_DATE
    assert status.percentage is None
    assert status.updated is not None and status.updated.value.year >= 2024


def test_update_check_reports_a_scripted_download(os_api: OSApi, control: httpx.Client) -> None:
    control.post("/_simulator/state", json={"update_status": "DOWNLOADING"}).raise_for_status()
    status = os_api.os_update_check(unchecked_os_server_update=UncheckedOSServerUpdate())
    assert status.status == UpdatingStatusEnum.DOWNLOADING
    assert status.percentage is not None and 0 <= status.percentage <= 100


def test_restart_answers_no_content(os_api: OSApi, control: httpx.Client, well_known: WellKnownApi) -> None:
    control.post("/_simulator/state", json={"restart_downtime_ms": 0}).raise_for_status()
    assert os_api.os_restart() is None
    for _ in range(200):  # until it is back, for the next test: the vendor's own health check says when
        try:
            well_known.get_well_known_health()
            break
        except Exception:
            time.sleep(0.05)
    else:
        raise AssertionError("the simulator did not come back within 10 s of its restart")


def test_pickers_return_the_scripted_paths(os_api: OSApi, control: httpx.Client) -> None:
    control.post(
        "/_simulator/state", json={"picked_files": SCRIPTED_FILES, "picked_folders": SCRIPTED_FOLDERS}
    ).raise_for_status()

    files = os_api.os_filesystem_pick_files(
        file_picker_input=FilePickerInput(allowMultiple=True, allowedExtensions=["md", "txt", "csv"])
    )
    one = os_api.os_filesystem_pick_files(file_picker_input=FilePickerInput(allowMultiple=False))
    folders = os_api.os_filesystem_pick_folders()

    assert files == SCRIPTED_FILES
    assert one == SCRIPTED_FILES[:1]
    assert folders == SCRIPTED_FOLDERS


def test_sign_in_returns_a_full_profile_the_vendor_model_accepts(os_api: OSApi) -> None:
    profile = os_api.sign_into_os()
    assert profile.id == "6f2c3f0e-9a4b-4c1d-8e7f-0a1b2c3d4e5f"
    assert profile.email == "ada.lovelace@example.com"
    assert profile.aesthetics.theme.dark is True
    # The planted credentials arrive where the vendor model keeps them.
    assert profile.api_keys and SECRET_MARKERS[0] in profile.api_keys[0]
    assert profile.auth0 is not None and profile.auth0.open_ai is not None and profile.auth0.open_ai.api_key
    assert profile.providers is not None and profile.providers.iterable[0].access_token


def test_sign_out_returns_the_known_users(os_api: OSApi) -> None:
    signed_in = os_api.sign_into_os()
    users = os_api.sign_out_of_os()
    assert users.iterable is not None
    assert [user.id for user in users.iterable] == [signed_in.id]


def test_link_provider_round_trips_the_profile(os_api: OSApi) -> None:
    signed_in = os_api.sign_into_os()
    returned = os_api.link_provider(
        seeded_external_provider=SeededExternalProvider(type=ExternalProviderTypeEnum.GITHUB)
    )
    assert returned.user is not None and returned.user.id == signed_in.id
    assert returned.user.providers is not None
    assert ExternalProviderTypeEnum.GITHUB in [provider.type for provider in returned.user.providers.iterable]


def test_link_provider_when_signed_out_is_a_vendor_401(os_api: OSApi) -> None:
    os_api.sign_out_of_os()
    with pytest.raises(ApiException) as raised:
        os_api.link_provider(seeded_external_provider=SeededExternalProvider(type=ExternalProviderTypeEnum.GITHUB))
    assert raised.value.status == 401


def test_well_known_health_and_version(well_known: WellKnownApi) -> None:
    assert well_known.get_well_known_health().startswith("OK:")
    assert well_known.get_well_known_version() == SIMULATOR_VERSION
    assert well_known.get_installation_path().startswith("/")
