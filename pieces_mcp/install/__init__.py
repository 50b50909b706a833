"""`pieces-mcp install`: add this server to an MCP client's configuration without losing a setting.

clients.py is the table (where, which format, what an entry looks like); entry.py decides what an install may
change in an existing entry; json_file.py, toml_file.py and yaml_file.py edit each format in place; files.py
locks, backs up and writes; installer.py plans, applies and reports; manual.py prints the steps for clients
configured in their own window.

This module stays light: the CLI builds its parser (client names, help) from it on every start, `serve` included,
so the format libraries and the lock are imported only when something is installed.
"""

from __future__ import annotations

from pathlib import Path

from pieces_mcp import SERVER_NAME
from pieces_mcp.install.clients import CLIENT_LIST, CLIENTS, Format, config_path, describe_clients
from pieces_mcp.install.errors import InstallError

__all__ = [
    "CLIENTS",
    "CLIENT_LIST",
    "SERVER_NAME",
    "Format",
    "InstallError",
    "config_path",
    "configured_clients",
    "describe_clients",
    "run_install",
]


def run_install(
    client: str,
    config: str | None,
    *,
    dry_run: bool = False,
    reset: bool = False,
    serve_args: list[str] | None = None,
) -> int:
    """The `install` sub-command; returns the exit code. `serve_args` None keeps the entry's own."""
    from pieces_mcp.install.installer import run_install as run

    return run(client, config, dry_run=dry_run, reset=reset, serve_args=serve_args)


def configured_clients(home: Path | None = None) -> list[tuple[str, Path]]:
    """Known clients whose file already has a pieces-os entry (for `doctor`). Never raises."""
    from pieces_mcp.install.installer import configured_clients as find

    return find(home)
