"""pieces-mcp: every PiecesOS OS endpoint as a typed MCP tool, behind a confirmation guard."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pieces-mcp")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"


def main() -> None:
    from pieces_mcp.cli import main as cli_main

    raise SystemExit(cli_main())
