"""pieces-mcp: every PiecesOS OS endpoint as a typed MCP tool, behind a confirmation guard."""

import sys
from importlib.metadata import PackageNotFoundError, version

# httpx imports its command-line tool (click, rich, pygments: about 40 ms, a twentieth of start-up) whenever
# those happen to be installed; a None entry makes that import fail at once, and httpx then goes without.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

try:
    __version__ = version("pieces-mcp")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"


def main() -> None:
    from pieces_mcp.cli import main as cli_main

    raise SystemExit(cli_main())
