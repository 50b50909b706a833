"""What differs between the three wire generations the simulator can speak (`--api seed|v10|current`).

Read off the vendor's generated Python client of each generation (pieces-os-client on PyPI, the same
code as pieces-app/pieces-os-client-sdk-for-python): `api/os_api.py` for paths and answer types,
`models/` for the shapes. The README's "PiecesOS versions" table lists the evidence row by row.

- seed (client 2.2.0): pickers at /os/files/pick and /os/folders/pick; FilePickerInput is
  `allowedExtensions` only; the update check answers CheckedOSUpdate (`schema`, `status`); hardware is
  `{cpu, gpu}`; PiecesOS listens on 1000 (macOS, Windows) or 5323 (Linux).
- v10 (clients 2.3.0-4.0.x, PiecesOS 10 up to 10.1.15): pickers at /os/filesystem/...; `allowMultiple`;
  OSServerUpdateStatus (`status`, `percentage`, `updated`); still `{cpu, gpu}` and 1000 / 5323.
- current (4.1.0 on, PiecesOS 11+): `{cpus, gpus, ram}`; ports 39300-39333; UPDATE_VIA_MICROSOFT_STORE
  from 5.0.0.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, get_args

from pieces_mcp.catalog import Generation
from pieces_mcp.models.os_tools import UpdatingStatusValue
from pieces_mcp.simulator.profiles import SIMULATOR_VERSION

# A port number meaning "the generation's real PiecesOS ports, the first one free" (`WireGeneration.real_ports`).
REAL_PORTS = -1

_ALL_STATUSES = frozenset(get_args(UpdatingStatusValue))
# UPDATE_VIA_MICROSOFT_STORE arrived with client 5.0.0 (models/updating_status_enum.py).
_OLDER_STATUSES = _ALL_STATUSES - {"UPDATE_VIA_MICROSOFT_STORE"}
# PiecesOS 10.1.15 and earlier: 1000 on macOS and Windows, 5323 on Linux (C# client PiecesClient.cs).
_OLDER_PORTS = (5323,) if sys.platform.startswith("linux") else (1000,)


@dataclass(frozen=True)
class WireGeneration:
    name: Generation
    # The version the simulated PiecesOS reports (the last of its line, for the older ones).
    version: str
    # Keys a FilePickerInput may carry; any other key is a 400, so a client sending a newer body is caught.
    picker_keys: frozenset[str]
    update_statuses: frozenset[str]
    # `{cpu, gpu}` single objects (seed, v10) or `{cpus, gpus, ram}` (current).
    single_hardware: bool
    # The seed's CheckedOSUpdate has `schema` and `status` only.
    update_has_progress: bool
    # Where this generation's PiecesOS listens, in the order a simulator on "real ports" tries them.
    real_ports: tuple[int, ...]


WIRE: Mapping[Generation, WireGeneration] = {
    "seed": WireGeneration(
        name="seed",
        version="9.0.5-simulator",
        picker_keys=frozenset({"schema", "allowedExtensions"}),
        update_statuses=_OLDER_STATUSES,
        single_hardware=True,
        update_has_progress=False,
        real_ports=_OLDER_PORTS,
    ),
    "v10": WireGeneration(
        name="v10",
        version="10.1.15-simulator",
        picker_keys=frozenset({"schema", "allowedExtensions", "allowMultiple"}),
        update_statuses=_OLDER_STATUSES,
        single_hardware=True,
        update_has_progress=True,
        real_ports=_OLDER_PORTS,
    ),
    "current": WireGeneration(
        name="current",
        version=SIMULATOR_VERSION,
        picker_keys=frozenset({"schema", "allowedExtensions", "allowMultiple"}),
        update_statuses=_ALL_STATUSES,
        single_hardware=False,
        update_has_progress=True,
        real_ports=tuple(range(39300, 39334)),
    ),
}


def hardware(generation: Generation, today: dict[str, Any]) -> dict[str, Any]:
    """Today's `{cpus, gpus, ram}` as `generation` reports it.

    seed/v10 (`OSDeviceHardwareInformation` of client 2.2.0 and 4.0.4) have one `cpu` (`name`, `memory`)
    and one `gpu` (`name`, `memory`, `capabilities`), and no RAM object: the machine's memory is the CPU's.
    """
    if not WIRE[generation].single_hardware:
        return today
    cpu, gpu = today["cpus"][0], today["gpus"][0]
    return {
        "cpu": {"name": cpu["name"], "memory": today["ram"]["memory"]},
        "gpu": {"name": gpu["name"], "memory": gpu["memory"], "capabilities": gpu["capabilities"]},
    }
