"""The OpenAPI document the generic bridge baseline is made from (`python tools/bench.py --write-openapi`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
API_DIR = ROOT / "tools" / "pieces-os-api"  # the reference API description (its README says where it is from)
# The bridge's OpenAPI document, made from API_DIR by `--write-openapi` and kept here, so a clone runs alone.
OPENAPI_PATH = ROOT / "tools" / "pieces-os-openapi.json"


def openapi_document() -> dict[str, Any]:
    """OpenAPI 3.0 for the ten OS endpoints, from the reference facts a bridge user would start from."""
    endpoints = json.loads((API_DIR / "endpoints.json").read_text(encoding="utf-8"))
    models = json.loads((API_DIR / "models.json").read_text(encoding="utf-8"))
    by_module = {model.get("x-python-module"): name for name, model in models.items()}

    def schema_of(kind: str | None) -> dict[str, Any] | None:
        if kind in (None, "None"):
            return None
        if kind == "str":
            return {"type": "string"}
        if kind == "List[str]":
            return {"type": "array", "items": {"type": "string"}}
        return {"$ref": f"#/components/schemas/{kind}"}

    paths: dict[str, Any] = {}
    for operation_id, endpoint in endpoints.items():
        if not endpoint["path"].startswith("/os/"):
            continue  # the three /.well-known/ endpoints are not tools
        responses: dict[str, Any] = {}
        for status, kind in endpoint["responses"].items():
            schema = schema_of(kind)
            media = "text/plain" if kind == "str" else "application/json"
            responses[status] = {
                "description": f"HTTP {status}",
                **({"content": {media: {"schema": schema}}} if schema else {}),
            }
        operation: dict[str, Any] = {
            "operationId": operation_id,
            "summary": endpoint["doc"][:300],
            "responses": responses,
        }
        if endpoint["body_param"]:
            model = by_module[endpoint["body_param"]]
            operation["requestBody"] = {
                "required": False,
                "content": {"application/json": {"schema": schema_of(model)}},
            }
        paths.setdefault(endpoint["path"], {})[endpoint["method"].lower()] = operation
    return {
        "openapi": "3.0.3",
        "info": {"title": "PiecesOS OS API", "version": "5.0.1"},
        "paths": paths,
        "components": {"schemas": {name: refs_to_components(model) for name, model in models.items()}},
    }


def refs_to_components(node: Any) -> Any:
    """models.json as OpenAPI 3.0 schemas: `$ref` as a JSON pointer, no vendor keys, no empty lists."""
    if isinstance(node, dict):
        return {
            key: f"#/components/schemas/{value}" if key == "$ref" else refs_to_components(value)
            for key, value in node.items()
            if not key.startswith("x-") and value != []  # OpenAPI 3.0: `required` lists at least one name
        }
    if isinstance(node, list):
        return [refs_to_components(value) for value in node]
    return node
