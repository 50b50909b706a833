"""Run by a vendor client's own Python (pieces-os-client 2.2.0, 4.0.4 or 5.0.1, each in its own venv).

`python vendor_probe.py URL` calls the ten OS endpoints and the well-known ones of the simulator at URL
with that client's generated API, which parses every answer into its models, and prints one JSON
object summarising what it parsed. It imports nothing from pieces-mcp: the vendor venv has only the
vendor client in it.
"""

from __future__ import annotations

import importlib.metadata
import json
import sys
import time
from typing import Any

from pieces_os_client.api.os_api import OSApi
from pieces_os_client.api.well_known_api import WellKnownApi
from pieces_os_client.api_client import ApiClient
from pieces_os_client.configuration import Configuration
from pieces_os_client.exceptions import ApiException
from pieces_os_client.models.file_picker_input import FilePickerInput
from pieces_os_client.models.os_permissions import OSPermissions
from pieces_os_client.models.os_processing_permissions import OSProcessingPermissions
from pieces_os_client.models.seeded_external_provider import SeededExternalProvider


def value(item: Any) -> Any:
    """An enum's value, or the thing itself."""
    return getattr(item, "value", item)


def update_check(os_api: OSApi) -> Any:
    """The seed client sends UncheckedOSUpdate; later ones UncheckedOSServerUpdate."""
    try:
        from pieces_os_client.models.unchecked_os_server_update import UncheckedOSServerUpdate
    except ImportError:
        from pieces_os_client.models.unchecked_os_update import UncheckedOSUpdate

        return os_api.os_update_check(unchecked_os_update=UncheckedOSUpdate())
    return os_api.os_update_check(unchecked_os_server_update=UncheckedOSServerUpdate())


def hardware(info: Any) -> dict[str, Any]:
    hw = info.hardware
    if getattr(hw, "cpus", None) is not None:  # current
        return {"cpus": [cpu.name for cpu in hw.cpus], "gpus": [gpu.name for gpu in hw.gpus], "ram": hw.ram.memory}
    return {"cpu": [hw.cpu.name, hw.cpu.memory], "gpu": [hw.gpu.name, hw.gpu.capabilities.llm]}


def main(url: str) -> dict[str, Any]:
    with ApiClient(Configuration(host=url)) as client:
        os_api, well_known = OSApi(client), WellKnownApi(client)
        # The seed client names the pickers pick_files / pick_folders; later ones os_filesystem_pick_*.
        pick_files = getattr(os_api, "os_filesystem_pick_files", None) or os_api.pick_files
        pick_folders = getattr(os_api, "os_filesystem_pick_folders", None) or os_api.pick_folders
        info = os_api.os_device_information()
        summary: dict[str, Any] = {
            "health": well_known.get_well_known_health(),
            "version": well_known.get_well_known_version(),
            "device": {"name": info.name, "version": info.version, "hardware": hardware(info)},
            "permissions": os_api.os_permissions().processing.vision,
            "permissions_request": os_api.os_permissions_request(
                os_permissions=OSPermissions(processing=OSProcessingPermissions(vision=True))
            ).processing.vision,
            "update": value(update_check(os_api).status),
            "pick_files": pick_files(file_picker_input=FilePickerInput(allowedExtensions=["md"])),
            "pick_folders": pick_folders(),
            "sign_in": os_api.sign_into_os().id,
        }
        linked = os_api.link_provider(seeded_external_provider=SeededExternalProvider(type="github"))
        summary["link_provider"] = sorted(value(provider.type) for provider in linked.user.providers.iterable)
        summary["sign_out"] = [user.id for user in os_api.sign_out_of_os().iterable]
        try:
            os_api.link_provider(seeded_external_provider=SeededExternalProvider(type="github"))
            summary["link_signed_out"] = 200
        except ApiException as refused:
            summary["link_signed_out"] = refused.status
        summary["restart"] = os_api.os_restart()
        # Back after the restart: the vendor's own health check answers again.
        deadline = time.monotonic() + 10
        while True:
            try:
                summary["health_after_restart"] = well_known.get_well_known_health()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
    summary["client_version"] = importlib.metadata.version("pieces-os-client")  # the venv's, as installed
    return summary


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
