"""Clients configured in their own window rather than through a file we should edit: print the exact steps.

Raycast installs a server from a `raycast://mcp/install?<JSON>` link, and Warp from JSON pasted into its
settings; this is how the vendor's own setup does it (pieces-app/cli-agent src/pieces/mcp/handler.py
`handle_raycast`, src/pieces/mcp/integrations.py `warp_instructions` and `warp_stdio_json`).
"""

from __future__ import annotations

import json
import sys
import urllib.parse
import webbrowser
from typing import Any

from pieces_mcp import SERVER_NAME
from pieces_mcp.install.clients import Client
from pieces_mcp.install.json_file import dump_value


def raycast_link(command: str, args: list[str]) -> str:
    config = {"name": SERVER_NAME, "type": "stdio", "command": command, "args": args}
    return "raycast://mcp/install?" + urllib.parse.quote(json.dumps(config))


def warp_json(command: str, args: list[str]) -> str:
    entry: dict[str, Any] = {
        "command": command,
        "args": args,
        "env": {},
        "working_directory": None,
        "start_on_launch": True,
    }
    return dump_value({SERVER_NAME: entry}, "", "  ")


def print_manual_steps(client: Client, command: str, args: list[str], *, open_link: bool) -> int:
    """The steps on stdout (they are the result); 0. The Raycast link is opened on macOS unless --dry-run."""
    if client.name == "raycast":
        link = raycast_link(command, args)
        print("Raycast adds MCP servers from an install link. Open this link on this Mac, then confirm in Raycast:")
        print()
        print(link)
        if open_link and sys.platform == "darwin" and webbrowser.open(link):
            print("\nOpened it; finish in the Raycast window.", file=sys.stderr)
        return 0
    print("Warp keeps MCP servers in its own settings:")
    print("  1. Open Settings > AI > Manage MCP servers.")
    print("  2. Click + Add.")
    print("  3. Paste this JSON and save:")
    print()
    print(warp_json(command, args))
    return 0
