"""The one declarative list of PiecesOS operations that everything else is derived from.

Tool registration, the guard's policy, the simulator's routes, the README's tool table and the
schema snapshots all read `CATALOG`; adding an endpoint means adding one entry to its toolset's module.
Each module is one toolset (`--toolsets`): `os` (the seed's ten, the default), `files`, `settings`,
`process`, `models` and `user`. `LIVE` lists PiecesOS's WebSocket streams, served as live resources.
"""

from __future__ import annotations

from collections.abc import Mapping

from pieces_mcp.catalog import files, local_models, os_tools, process, settings, user
from pieces_mcp.catalog.entry import (
    CONFIRM_NOTE,
    EXAMPLE_FILES,
    ArgumentKind,
    Endpoint,
    Example,
    Exchange,
    ModelRef,
    Models,
    Risk,
    Wait,
)
from pieces_mcp.catalog.generations import GENERATIONS, WIRE, Generation, Since
from pieces_mcp.catalog.streams import LIVE, LiveResource

__all__ = [
    "BY_NAME",
    "CATALOG",
    "CONFIRM_NOTE",
    "DEFAULT_TOOLSETS",
    "EXAMPLE_FILES",
    "GENERATIONS",
    "LIVE",
    "TOOLSETS",
    "WIRE",
    "ArgumentKind",
    "Endpoint",
    "Example",
    "Exchange",
    "Generation",
    "LiveResource",
    "ModelRef",
    "Models",
    "Risk",
    "Since",
    "Wait",
]

_MODULES = (os_tools, files, settings, process, local_models, user)

CATALOG: tuple[Endpoint, ...] = tuple(endpoint for module in _MODULES for endpoint in module.ENDPOINTS)
BY_NAME: Mapping[str, Endpoint] = {endpoint.name: endpoint for endpoint in CATALOG}
# Toolset name → what it holds, in the order `--help` and the README show them.
TOOLSETS: Mapping[str, str] = {module.TOOLSET: module.ABOUT for module in _MODULES}
DEFAULT_TOOLSETS: frozenset[str] = frozenset({os_tools.TOOLSET})
