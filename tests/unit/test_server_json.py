"""server.json for the MCP registry: made from the one source of each fact, and shaped as the registry documents.

No package carries the registry's schema, so the checks follow its documented fields: modelcontextprotocol/registry
docs/reference/server-json/server.schema.json (the Server, Package, KeyValueInput and Input definitions) and
docs/reference/server-json/official-registry-requirements.md (PyPI ownership: `mcp-name:` in the README).
"""

from __future__ import annotations

import json
import re
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import tomlkit

import pieces_mcp
from pieces_mcp.config import options

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import server_json  # noqa: E402

DOCUMENT: dict[str, Any] = json.loads((ROOT / "server.json").read_text(encoding="utf-8"))
PROJECT = tomlkit.parse((ROOT / "pyproject.toml").read_text(encoding="utf-8")).unwrap()["project"]
PACKAGE_FIELDS = {
    "registryType",
    "registryBaseUrl",
    "identifier",
    "version",
    "fileSha256",
    "runtimeHint",
    "transport",
    "runtimeArguments",
    "packageArguments",
    "environmentVariables",
}
INPUT_FIELDS = {"name", "description", "isRequired", "format", "value", "isSecret", "default", "placeholder", "choices"}


def test_server_json_is_up_to_date_with_its_sources() -> None:
    assert (ROOT / "server.json").read_text(encoding="utf-8") == server_json.render(), "run python tools/server_json.py"


def test_one_version_everywhere() -> None:
    assert DOCUMENT["version"] == PROJECT["version"]
    assert [package["version"] for package in DOCUMENT["packages"]] == [PROJECT["version"]]
    assert pieces_mcp.__version__ == version("pieces-mcp") == PROJECT["version"]


def test_server_fields_as_documented() -> None:
    assert DOCUMENT["$schema"].startswith("https://static.modelcontextprotocol.io/schemas/")
    assert re.fullmatch(r"[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+", DOCUMENT["name"]) and 3 <= len(DOCUMENT["name"]) <= 200
    assert 1 <= len(DOCUMENT["description"]) <= 100
    assert not re.search(r"[\^~<>=*x]|\.x", DOCUMENT["version"])  # a version, never a range


def test_package_is_the_pypi_distribution_over_stdio() -> None:
    (package,) = DOCUMENT["packages"]
    assert set(package) <= PACKAGE_FIELDS  # Package has additionalProperties: false
    assert {"registryType", "identifier", "version", "transport"} <= set(package)
    assert package["registryType"] == "pypi" and package["identifier"] == PROJECT["name"]
    assert package["version"] != "latest"
    assert package["transport"] == {"type": "stdio"}
    assert package["runtimeHint"] == "uvx"


def test_every_setting_is_an_environment_variable_with_a_description() -> None:
    variables = DOCUMENT["packages"][0]["environmentVariables"]
    assert [variable["name"] for variable in variables] == [option.env for _, option in options()]
    for variable in variables:
        assert set(variable) <= INPUT_FIELDS, variable
        assert variable["description"].strip()
        assert variable.get("format", "string") in ("string", "number", "boolean", "filepath")
        assert all(isinstance(choice, str) for choice in variable.get("choices", []))
        assert isinstance(variable.get("default", ""), str)
        if "choices" in variable and "default" in variable:
            assert variable["default"] in variable["choices"]
        assert variable["isSecret"] is False  # no setting is a secret


def test_readme_names_the_registry_entry_for_pypi_ownership() -> None:
    assert f"mcp-name: {DOCUMENT['name']}" in (ROOT / "README.md").read_text(encoding="utf-8")
