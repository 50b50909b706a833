"""Write server.json, the MCP registry's description of this server, from the one source of each fact:
the version, name and description from pyproject.toml, the environment variables from pieces_mcp.config.

python tools/server_json.py          # rewrite server.json
python tools/server_json.py --check  # exit 1 when server.json is out of date (a test runs this)

Format: modelcontextprotocol/registry docs/reference/server-json/server.schema.json (2025-12-11) and
docs/reference/server-json/generic-server-json.md; no package carries that schema, so
tests/unit/test_server_json.py checks the documented fields.
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Any

import tomlkit

from pieces_mcp.config import LOG_LEVELS, ConfirmMode, default_of, options

ROOT = Path(__file__).resolve().parents[1]
SERVER_JSON = ROOT / "server.json"
SCHEMA = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
# The registry's namespace must be one the publisher proves: io.github.<account> for a GitHub login. Change it
# to the account that publishes (and the `mcp-name:` line in README.md with it).
NAME = "io.github.pieces-mcp/pieces-mcp"


def environment_variables() -> list[dict[str, Any]]:
    variables = []
    for dest, option in options():
        entry: dict[str, Any] = {"name": option.env, "description": option.help, "isRequired": False, "isSecret": False}
        default = default_of(dest)
        if isinstance(default, bool):
            entry["format"] = "boolean"
        elif isinstance(default, (int, float)):
            entry["format"] = "number"
            entry["default"] = f"{default:g}"
        elif isinstance(default, Enum):
            entry["default"] = str(default.value)
        if dest == "confirm":
            entry["choices"] = [mode.value for mode in ConfirmMode]
        if dest == "log_level":
            entry["choices"] = list(LOG_LEVELS)
            entry["default"] = str(default)
        variables.append(entry)
    return variables


def render() -> str:
    project = tomlkit.parse((ROOT / "pyproject.toml").read_text(encoding="utf-8")).unwrap()["project"]
    document = {
        "$schema": SCHEMA,
        "name": NAME,
        "description": project["description"][:100],
        "version": project["version"],
        "packages": [
            {
                "registryType": "pypi",
                "registryBaseUrl": "https://pypi.org",
                "identifier": project["name"],
                "version": project["version"],
                "runtimeHint": "uvx",
                "transport": {"type": "stdio"},
                "environmentVariables": environment_variables(),
            }
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    text = render()
    if "--check" in sys.argv[1:]:
        if not SERVER_JSON.exists() or SERVER_JSON.read_text(encoding="utf-8") != text:
            print("server.json is out of date: run python tools/server_json.py", file=sys.stderr)
            return 1
        return 0
    SERVER_JSON.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
