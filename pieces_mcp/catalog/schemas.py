"""Each tool's input and output schema as `tools/list` shows them, read from a file made from the models.

Building a toolset's pydantic models and generating their JSON schemas was the largest part of what pieces-mcp
did before it could answer `tools/list` (`python -X importtime`, issue 22). So the schemas are generated once,
by `python tools/update_snapshots.py`, into `tool_schemas.json` beside this module; the tests hold that file to
the models (tests/unit/test_snapshots.py), and a session builds a toolset's models at its first call. An entry
the file does not have yet (an operation just added) gets its schemas from its models, as before.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pieces_mcp.catalog.entry import Endpoint

SCHEMAS_FILE = Path(__file__).with_name("tool_schemas.json")

# A tool's two schemas, by their names in `tools/list`: {"inputSchema": ..., "outputSchema": ...}.
ToolSchemas = dict[str, dict[str, Any]]


def model_schemas(endpoint: Endpoint) -> ToolSchemas:
    """The schemas made from the entry's models (imports and builds them)."""
    return {"inputSchema": endpoint.input_schema(), "outputSchema": endpoint.output_schema()}


def listed_schemas(endpoints: Iterable[Endpoint]) -> dict[str, ToolSchemas]:
    """The schemas of `endpoints`, by tool name, from the file; only what is asked for is kept."""
    stored: dict[str, ToolSchemas] = json.loads(SCHEMAS_FILE.read_text(encoding="utf-8"))
    return {endpoint.name: stored.get(endpoint.name) or model_schemas(endpoint) for endpoint in endpoints}


def render(endpoints: Iterable[Endpoint]) -> str:
    """The file's content for `endpoints`, made from their models."""
    return (
        json.dumps({endpoint.name: model_schemas(endpoint) for endpoint in endpoints}, indent=1, sort_keys=True) + "\n"
    )
