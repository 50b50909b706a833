"""Models: PiecesOS's JSON read leniently, arguments strict, profiles cut to identity."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from pieces_mcp.models import base
from pieces_mcp.models import os_tools as os_models


def test_unknown_enum_values_read_as_unknown_with_the_raw_text_beside() -> None:
    status = os_models.UpdateStatus.from_wire({"status": "INSTALLING_FROM_THE_FUTURE"})
    assert (status.status, status.status_raw) == ("UNKNOWN", "INSTALLING_FROM_THE_FUTURE")
    ram = os_models.RAM.from_wire({"type": "DDR7"})
    assert (ram.type, ram.type_raw) == ("UNKNOWN", "DDR7")
    provider = base.ExternalProviderIdentity.from_wire({"type": "myspace"})
    assert (provider.type, provider.type_raw) == ("UNKNOWN", "myspace")


def test_a_known_enum_value_has_no_raw_text() -> None:
    status = os_models.UpdateStatus.from_wire({"status": "UP_TO_DATE"})
    assert status.model_dump(mode="json", exclude_unset=True) == {"status": "UP_TO_DATE"}


OLDER_HARDWARE = {
    "cpu": {"name": "Apple M2", "memory": 16384},
    "gpu": {"name": "Apple M2", "memory": 16384, "capabilities": {"llm": True}},
}


def test_older_single_cpu_and_gpu_become_one_item_lists_and_ram() -> None:
    info = os_models.DeviceInformation.from_wire({"name": "mac", "hardware": OLDER_HARDWARE})
    hardware = info.model_dump(mode="json", exclude_unset=True)["hardware"]
    assert hardware == {
        "cpus": [{"name": "Apple M2", "memory": 16384}],
        "gpus": [{"name": "Apple M2", "memory": 16384, "capabilities": {"llm": True}}],
        "ram": {"memory": 16384},
    }


def test_the_seeds_checked_os_update_is_the_status_answer() -> None:
    status = os_models.UpdateStatus.from_wire(
        {"schema": {"migration": 0, "semantic": "MAJOR_0_MINOR_0_PATCH_1"}, "status": "AVAILABLE"}
    )
    assert status.model_dump(mode="json", exclude_unset=True) == {"status": "AVAILABLE"}


def test_only_the_seed_picker_body_drops_allow_multiple() -> None:
    body = os_models.FilePickerInput(allow_multiple=False, allowed_extensions=["md"]).body()
    assert os_models.FilePickerInput.body_for_generation(body, "seed") == {"allowedExtensions": ["md"]}
    assert os_models.FilePickerInput.body_for_generation(body, "v10") == body


def test_known_enum_values_are_kept() -> None:
    assert os_models.UpdateStatus.from_wire({"status": "DOWNLOADING", "percentage": 42}).percentage == 42


def test_unknown_fields_are_ignored() -> None:
    info = os_models.DeviceInformation.from_wire({"name": "desk", "futureField": {"x": 1}})
    assert info.model_dump(exclude_unset=True) == {"name": "desk"}


def test_a_wrong_shape_is_an_error() -> None:
    with pytest.raises(ValidationError):
        os_models.UpdateStatus.from_wire({"percentage": 3})
    with pytest.raises(ValueError, match="expected a JSON list"):
        os_models.PickedPaths.from_wire({"paths": []})


def test_picked_paths_are_wrapped_and_cut() -> None:
    few = os_models.PickedPaths.from_wire(["/a", "/b"])
    assert few.model_dump() == {"paths": ["/a", "/b"], "total": 2, "truncated": False}
    many = os_models.PickedPaths.from_wire([f"/f{i}" for i in range(20_000)])
    assert len(many.paths) == os_models.PickedPaths.LIMIT and many.total == 20_000 and many.truncated


SECRET = "sk-TEST-SECRET-0123456789"


def full_profile() -> dict[str, Any]:
    timestamp = {"value": "2026-01-01T00:00:00Z"}
    return {
        "id": "u1",
        "email": "ada@example.com",
        "name": "Ada",
        "username": "ada",
        "aesthetics": {"font": {"size": 12}, "theme": {"dark": True}},
        "apiKeys": [SECRET],
        "auth0": {"global_id": "g", "cloud_key": SECRET, "open_AI": {"api_key": SECRET, "organization_key": SECRET}},
        "descope": {"descope_id": "d", "global_id": "g", "open_AI": {"api_key": SECRET}},
        "providers": {
            "iterable": [
                {"type": "github", "user_id": "7", "access_token": SECRET, "created": timestamp, "updated": timestamp}
            ]
        },
    }


def test_profiles_keep_identity_and_drop_every_credential() -> None:
    user = base.UserIdentity.from_wire(full_profile())
    dumped = user.model_dump_json()
    assert SECRET not in dumped
    assert user.id == "u1" and user.email == "ada@example.com"
    assert user.providers is not None and user.providers.iterable[0].type == "github"
    for wrapper, payload in (
        (base.SignedInUser, {"user": full_profile()}),
        (base.SignedInUsers, {"iterable": [full_profile()]}),
    ):
        assert SECRET not in wrapper.from_wire(payload).model_dump_json()


def test_arguments_are_strict_and_mapped_to_api_names() -> None:
    picker = os_models.FilePickerInput(allow_multiple=False, allowed_extensions=[".py", "md"])
    assert picker.body() == {"allowMultiple": False, "allowedExtensions": ["py", "md"]}
    with pytest.raises(ValidationError):
        os_models.FilePickerInput.model_validate({"allowMultiple": False})
    assert os_models.LinkProviderInput(type="github").body() == {"type": "github"}
    with pytest.raises(ValidationError):
        os_models.LinkProviderInput.model_validate({"type": "UNKNOWN"})


def test_a_permission_request_must_ask_for_something() -> None:
    assert os_models.PermissionsRequestInput(vision=True).body() == {"processing": {"vision": True}}
    with pytest.raises(ValidationError, match="nothing to request"):
        os_models.PermissionsRequestInput()
    with pytest.raises(ValidationError, match="nothing to request"):
        os_models.PermissionsRequestInput(vision=False)
