"""The command line's parser: its sub-commands and their flags.

Apart from `cli.py` so that `install` can check the arguments it writes after `serve` with serve's own parser
without importing the command line that runs `install`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from pieces_mcp import __version__
from pieces_mcp.config import add_arguments

DEFAULT_HTTP_PORT = 39350
# `add_parser` of the sub-commands: makes one sub-command's parser.
AddParser = Callable[..., argparse.ArgumentParser]


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; or, for a known `command`, the top level with that one sub-command.

    Parsing a sub-command's arguments needs no other sub-command, and its errors and `--help` show its own parser
    alone, so `serve` does not build `install`'s (which reads the table of every MCP client) at every start.
    """
    parser = argparse.ArgumentParser(
        prog="pieces-mcp",
        description="MCP server for PiecesOS: every OS endpoint as a typed tool, behind a confirmation guard.",
        epilog="With no command, runs `serve`. Each option also has an environment variable; the flag wins.",
    )
    parser.add_argument("--version", action="version", version=f"pieces-mcp {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, add in COMMANDS.items():
        if command not in COMMANDS or name == command:
            add(commands.add_parser)
    return parser


def _serve(add_parser: AddParser) -> None:
    _serve_arguments(add_parser("serve", help="run the stdio MCP server (the default)"))


def _simulator(add_parser: AddParser) -> None:
    _simulator_arguments(add_parser("simulator", help="run the PiecesOS simulator alone; prints its URL first"))


def _tools(add_parser: AddParser) -> None:
    add_arguments(add_parser("tools", help="list the tools, their risk class and what the policy does with them"))


def _call(add_parser: AddParser) -> None:
    _call_arguments(add_parser("call", help="call one tool through a real child `serve` over stdio"))


def _doctor(add_parser: AddParser) -> None:
    _doctor_arguments(add_parser("doctor", help="check the PiecesOS connection and print what was found"))


def _install(add_parser: AddParser) -> None:
    _install_arguments(
        add_parser(
            "install",
            help="add this server to an MCP client's configuration, keeping your settings",
            description="Add pieces-os to an MCP client. An existing entry keeps its env, your arguments after "
            "`serve` (unless new ones follow `--`) and every other key; only the command and the launcher arguments "
            "up to `serve` are updated. The file gets a dated backup; a file the client could not parse is refused, "
            "not edited.",
            epilog=_install_epilog(),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    )


# In the order `--help` lists them.
COMMANDS: dict[str, Callable[[AddParser], None]] = {
    "serve": _serve,
    "simulator": _simulator,
    "tools": _tools,
    "call": _call,
    "doctor": _doctor,
    "install": _install,
}


def _serve_arguments(serve: argparse.ArgumentParser) -> None:
    _add_simulate(serve, "run against a PiecesOS simulator started inside the process")
    serve.add_argument(
        "--transport",
        choices=("stdio", "http"),
        default="stdio",
        help="stdio (default), or Streamable HTTP on 127.0.0.1 with a bearer token printed to stderr",
    )
    serve.add_argument(
        "--port", type=int, default=None, help=f"HTTP port for --transport http (default {DEFAULT_HTTP_PORT})"
    )
    add_arguments(serve)


def _simulator_arguments(simulator: argparse.ArgumentParser) -> None:
    from pieces_mcp.catalog import GENERATIONS  # here: importing the catalog loads pydantic (~0.1 s)

    simulator.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    simulator.add_argument(
        "--port",
        type=_simulator_port,
        default=0,
        help="port to listen on; 0 picks a free one; 'real' the first free of the generation's real PiecesOS "
        "ports (39300-39333 for current; 1000, or 5323 on Linux, for v10 and seed) (default 0)",
    )
    simulator.add_argument(
        "--api",
        choices=GENERATIONS,
        default="current",
        help="API generation to serve: seed (client 2.2.0), v10 (PiecesOS 10), current (PiecesOS 11+)",
    )


def _call_arguments(call: argparse.ArgumentParser) -> None:
    call.add_argument("tool", help="tool name, e.g. os_device_information")
    call.add_argument("--json", dest="arguments", default="{}", help="the tool's arguments as a JSON object")
    call.add_argument("--yes", action="store_true", help="answer a confirmation request with yes")
    _add_simulate(call, "call against a simulator started by the child server")
    add_arguments(call)


def _doctor_arguments(doctor: argparse.ArgumentParser) -> None:
    _add_simulate(doctor, "check a PiecesOS simulator started inside the process")
    add_arguments(doctor)


def _install_arguments(install: argparse.ArgumentParser) -> None:
    install.add_argument("--client", required=True, choices=_client_names(), help="which MCP client (see below)")
    install.add_argument("--config", help="the configuration file to edit (default: the client's usual place)")
    install.add_argument("--dry-run", action="store_true", help="print the resulting file instead of writing it")
    install.add_argument("--reset", action="store_true", help="replace the whole pieces-os entry, env included")
    install.add_argument(
        "serve_args",
        nargs="*",
        metavar="-- SERVE-ARGS",
        help="after `--`: the arguments that follow `serve` in the entry (e.g. -- --toolsets all --read-only); "
        "without `--` a re-install keeps the entry's own, and a bare `--` removes them",
    )


def _simulator_port(text: str) -> int:
    from pieces_mcp.simulator.state import REAL_PORTS

    if text == "real":
        return REAL_PORTS
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number nor 'real'") from None
    if not 0 <= port < 65536:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (0-65535)")
    return port


def _install_epilog() -> str:
    from pieces_mcp.install.clients import describe_clients

    return "clients (name, label: format and file on this machine):\n" + describe_clients()


def _add_simulate(parser: argparse.ArgumentParser, text: str) -> None:
    parser.add_argument("--simulate", action="store_true", help=text)


def _client_names() -> list[str]:
    from pieces_mcp.install.clients import CLIENTS

    return list(CLIENTS)
