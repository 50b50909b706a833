"""What differs between the three wire generations PiecesOS has spoken: the one table client and simulator read.

Read off the vendor's generated Python client of each generation (pieces-os-client on PyPI, the same
code as pieces-app/pieces-os-client-sdk-for-python): `api/os_api.py` for paths and answer types,
`models/` for the shapes. The README's "PiecesOS versions" table lists the evidence row by row.

- seed (client 2.2.0): pickers at /os/files/pick and /os/folders/pick; FilePickerInput is
  `allowedExtensions` only; the update check answers CheckedOSUpdate (`schema`, `status`); hardware is
  `{cpu, gpu}`; PiecesOS listens on 1000 (macOS, Windows) or 5323 (Linux); only the seed page's ten OS
  operations (and `GET /user`), no WebSocket streams.
- v10 (clients 2.3.0-4.0.x, PiecesOS 10 up to 10.1.15): pickers at /os/filesystem/...; `allowMultiple`;
  OSServerUpdateStatus (`status`, `percentage`, `updated`); still `{cpu, gpu}` and 1000 / 5323; the fifteen
  further operations and the update and settings streams, but not `os_nano_models_prepare` (client 4.3.0)
  nor the migration-status stream (client 5.0.0).
- current (4.1.0 on, PiecesOS 11+): `{cpus, gpus, ram}`; ports 39300-39333; UPDATE_VIA_MICROSOFT_STORE
  from 5.0.0.

Each catalog entry and stream says from which generation (and vendor client) it exists (`Since`); a
PiecesOS of an older generation answers its path with 404 "Route not found" (support#597, #474).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Literal, NamedTuple

# Newest first: the order a client tries them in when it does not yet know.
Generation = Literal["current", "v10", "seed"]
GENERATIONS: tuple[Generation, ...] = ("current", "v10", "seed")

# PiecesOS 10.1.15 and earlier: 1000 on macOS and Windows, 5323 on Linux (C# client PiecesClient.cs).
_OLDER_PORTS = (5323,) if sys.platform.startswith("linux") else (1000,)


# The catalog's records are NamedTuples, not frozen dataclasses: a dataclass compiles its methods from source at
# every import (0.3-1 ms a class here, about half of what pieces-mcp's own modules cost a start; issue 22).
class WireGeneration(NamedTuple):
    name: Generation
    # The PiecesOS releases and the vendor clients that speak it, as a person would name them.
    piecesos: str
    clients: str
    # Keys a FilePickerInput may carry: the client sends no other, the simulator answers any other with 400.
    picker_keys: frozenset[str]
    # `UpdatingStatusEnum` values this generation does not have.
    statuses_missing: frozenset[str]
    # `{cpu, gpu}` single objects (seed, v10) or `{cpus, gpus, ram}` (current).
    single_hardware: bool
    # The seed's CheckedOSUpdate has `schema` and `status` only.
    update_has_progress: bool
    # Where this generation's PiecesOS listens, in the order a simulator on "real ports" tries them.
    real_ports: tuple[int, ...]


WIRE: Mapping[Generation, WireGeneration] = {
    "seed": WireGeneration(
        name="seed",
        piecesos="PiecesOS before 10",
        clients="client 2.2.0",
        picker_keys=frozenset({"schema", "allowedExtensions"}),
        statuses_missing=frozenset({"UPDATE_VIA_MICROSOFT_STORE"}),
        single_hardware=True,
        update_has_progress=False,
        real_ports=_OLDER_PORTS,
    ),
    "v10": WireGeneration(
        name="v10",
        piecesos="PiecesOS 10",
        clients="clients 2.3.0-4.0.x",
        picker_keys=frozenset({"schema", "allowedExtensions", "allowMultiple"}),
        # UPDATE_VIA_MICROSOFT_STORE arrived with client 5.0.0 (models/updating_status_enum.py).
        statuses_missing=frozenset({"UPDATE_VIA_MICROSOFT_STORE"}),
        single_hardware=True,
        update_has_progress=True,
        real_ports=_OLDER_PORTS,
    ),
    "current": WireGeneration(
        name="current",
        piecesos="PiecesOS 11 or later",
        clients="clients 4.1.0 on",
        picker_keys=frozenset({"schema", "allowedExtensions", "allowMultiple"}),
        statuses_missing=frozenset(),
        single_hardware=False,
        update_has_progress=True,
        real_ports=tuple(range(39300, 39334)),
    ),
}


class Since(NamedTuple):
    """The generation an operation first exists in, and the first vendor client that has it."""

    generation: Generation
    client: str

    def exists_in(self, generation: Generation) -> bool:
        # GENERATIONS is newest first: a generation has what came with it or before it.
        return GENERATIONS.index(generation) <= GENERATIONS.index(self.generation)

    def came_with(self) -> str:
        """Which PiecesOS has it, for the sentence that tells a person to update."""
        return f"{WIRE[self.generation].piecesos} (client {self.client})"


# The vendor's wheels and SDK tags (pieces-os-client 2.2.0, 2.3.0, 4.3.0, 5.0.0: `api/os_api.py`).
FROM_SEED = Since("seed", "2.2.0")
FROM_V10 = Since("v10", "2.3.0")


def absent_sentence(name: str, since: Since, generation: Generation | None) -> str:
    """One sentence for an operation this PiecesOS does not have, naming the PiecesOS that does."""
    this = "This PiecesOS" if generation is None else f"This PiecesOS (API generation {generation})"
    return f"{this} has no {name}; it came with {since.came_with()}: update PiecesOS."
