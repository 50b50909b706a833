"""pieces-mcp: every PiecesOS OS endpoint as a typed MCP tool, behind a confirmation guard."""

from importlib.metadata import PackageNotFoundError, version

SERVER_NAME = "pieces-os"  # the server's name in MCP and its key in every client configuration
LOOPBACK = "127.0.0.1"  # where PiecesOS listens, and the only address pieces-mcp serves HTTP on

try:
    __version__ = version("pieces-mcp")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"


def main() -> None:
    try:
        from pieces_mcp.cli import main as cli_main

        code = cli_main()
    except KeyboardInterrupt:  # a Ctrl-C that lands outside a command's own handling: no traceback
        code = 130
    raise SystemExit(code)
