"""pieces-mcp: every PiecesOS OS endpoint as a typed MCP tool, behind a confirmation guard."""

SERVER_NAME = "pieces-os"  # the server's name in MCP and its key in every client configuration
LOOPBACK = "127.0.0.1"  # where PiecesOS listens, and the only address pieces-mcp serves HTTP on

# The same as pyproject.toml's `version` (tests/unit/test_server_json.py and test_start_up_imports.py check that
# it is the installed one): a constant, because `importlib.metadata.version` costs about 51 ms of every start
# (issue 22), and it is true from a source tree that was never installed too.
__version__ = "0.1.0"


def main() -> None:
    try:
        from pieces_mcp.cli import main as cli_main

        code = cli_main()
    except KeyboardInterrupt:  # a Ctrl-C that lands outside a command's own handling: no traceback
        code = 130
    raise SystemExit(code)
