"""The `pieces-mcp` command line. Only `serve` speaks MCP on stdout; every other command is for people."""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, BinaryIO

import anyio

from pieces_mcp.cli_parser import DEFAULT_HTTP_PORT, build_parser
from pieces_mcp.config import ConfigError, Settings, http_header_timeout, http_token, load, to_environment
from pieces_mcp.logs import configure_logging
from pieces_mcp.stopping import Stopped, run_until_stopped

logger = logging.getLogger("pieces_mcp")


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments or (arguments[0].startswith("-") and arguments[0] not in ("-h", "--help", "--version")):
        arguments.insert(0, "serve")
    parser = build_parser(arguments[0])
    args = parser.parse_args(arguments)
    try:
        if args.command == "simulator":
            return run_simulator(args.host, args.port, args.api)
        if args.command == "install":
            from pieces_mcp.install import run_install

            serve_args = args.serve_args if "--" in arguments else None  # `--` alone: no arguments after serve
            return run_install(args.client, args.config, dry_run=args.dry_run, reset=args.reset, serve_args=serve_args)
        settings = load(args)
        if args.command == "serve" and args.port is not None and args.transport != "http":
            raise ConfigError("--port only applies to the HTTP transport: add --transport http, or leave --port out")
        listener, token, header_timeout_s = None, None, 0.0
        if args.command == "serve" and args.transport == "http":
            from pieces_mcp.http_transport import listen

            token, header_timeout_s = http_token(), http_header_timeout()
            listener = listen(DEFAULT_HTTP_PORT if args.port is None else args.port)
    except ConfigError as exc:
        from pieces_mcp.redact import mask_text

        print(f"pieces-mcp: {mask_text(str(exc))}", file=sys.stderr)  # it may quote a URL with credentials
        return 2
    configure_logging(settings.log_level)
    if listener is not None:
        return serve_http(
            settings, simulate=args.simulate, listener=listener, token=token, header_timeout_s=header_timeout_s
        )
    if args.command == "serve":
        from pieces_mcp.stdio import reserve_for_mcp

        return serve(settings, *reserve_for_mcp(), simulate=args.simulate)
    if args.command == "tools":
        return list_tools(settings)
    if args.command == "call":
        return call_tool(args, settings)
    if args.command == "doctor":
        from pieces_mcp.doctor import run_doctor

        with _simulated(settings, args.simulate) as effective:
            ended = run_until_stopped(lambda: run_doctor(effective))
        return ended.exit_code if isinstance(ended, Stopped) else ended
    parser.error(f"unknown command {args.command!r}")
    return 2


@contextmanager
def _simulated(settings: Settings, simulate: bool) -> Iterator[Settings]:
    """`settings` pointed at a simulator on a background thread, when asked for."""
    if not simulate:
        yield settings
        return
    from dataclasses import replace

    from pieces_mcp.simulator import start_in_thread

    simulator = start_in_thread()
    logger.info("PiecesOS simulator at %s", simulator.url)
    try:
        yield replace(settings, base_url=simulator.url)
    finally:
        simulator.stop()


TERMINAL_NOTICE = (
    "pieces-mcp: this is an MCP server; it waits for an MCP client on stdin (JSON-RPC messages, one per line). "
    "Add it to your client with `pieces-mcp install --client NAME`, or try one tool with `pieces-mcp call TOOL`. "
    "Ctrl-C stops it."
)


def _notice_in_terminal() -> None:
    print(TERMINAL_NOTICE, file=sys.stderr, flush=True)


def serve(settings: Settings, stdin: BinaryIO, stdout: BinaryIO, *, simulate: bool = False) -> int:
    from pieces_mcp.mcp_adapter import build_server, run_stdio
    from pieces_mcp.stdio import client_pipes

    with _simulated(settings, simulate) as effective:
        server = build_server(effective)
        with client_pipes(stdin, stdout) as (server_stdin, server_stdout):
            # The notice promises that Ctrl-C stops it: shown only once that holds (stopping.py).
            ended = run_until_stopped(
                lambda: run_stdio(server, server_stdin, server_stdout),
                ready=_notice_in_terminal if stdin.isatty() else lambda: None,
            )
    return ended.exit_code if isinstance(ended, Stopped) else 0


def serve_http(
    settings: Settings, *, simulate: bool, listener: socket.socket, token: str | None, header_timeout_s: float
) -> int:
    from pieces_mcp.http_transport import serve_http as serve_over_http
    from pieces_mcp.mcp_adapter import build_server

    with _simulated(settings, simulate) as effective:
        server = build_server(effective)
        ended = run_until_stopped(lambda: serve_over_http(server, listener, token, header_timeout_s=header_timeout_s))
    return ended.exit_code if isinstance(ended, Stopped) else 0


def run_simulator(host: str, port: int, api: Any) -> int:
    from pieces_mcp.simulator import serve as serve_simulator

    def ready(url: str) -> None:
        print(url, flush=True)

    configure_logging("WARNING")
    try:
        ended = run_until_stopped(lambda: serve_simulator(host, port, api, ready))
    except OSError as exc:  # the port is taken, or none of the real ports is free
        print(f"pieces-mcp simulator: cannot listen on {host}: {exc}", file=sys.stderr)
        return 1
    return ended.exit_code if isinstance(ended, Stopped) else 0


def list_tools(settings: Settings) -> int:
    from pieces_mcp.doctor import cannot_do_here
    from pieces_mcp.guard import Policy

    print("\n".join(Policy(settings).table()))
    # What this PiecesOS lacks of the offered tools (an older generation: catalog.generations).
    for line in anyio.run(cannot_do_here, settings):
        print(f"cannot do here: {line}")
    return 0


def call_tool(args: argparse.Namespace, settings: Settings) -> int:
    from pieces_mcp.terminal import call_through_child

    try:
        arguments = json.loads(args.arguments)
    except json.JSONDecodeError as exc:
        print(f"pieces-mcp: --json is not valid JSON ({exc.msg}); {arguments_hint(args.tool)}", file=sys.stderr)
        return 2
    if not isinstance(arguments, dict):
        print(f"pieces-mcp: --json must be a JSON object; {arguments_hint(args.tool)}", file=sys.stderr)
        return 2
    env = to_environment(settings)
    if args.log_level is None and not os.environ.get("PIECES_MCP_LOG_LEVEL", "").strip():
        # The child's INFO lines would land between the question and the result on the person's terminal.
        env["PIECES_MCP_LOG_LEVEL"] = "WARNING"
    command = [sys.executable, "-m", "pieces_mcp", "serve", *(["--simulate"] if args.simulate else [])]
    ended = run_until_stopped(
        lambda: call_through_child(command, {**os.environ, **env}, args.tool, arguments, args.yes)
    )
    if isinstance(ended, Stopped):
        print("\npieces-mcp: interrupted.", file=sys.stderr)
        return ended.exit_code
    return ended


def arguments_hint(tool: str) -> str:
    """How to pass `tool`'s own arguments, from its input model (another tool's example would mislead)."""
    from pieces_mcp.catalog import CATALOG

    entry = next((entry for entry in CATALOG if entry.name == tool), None)
    if entry is None:
        return "pass an object, like '{}'."
    properties: dict[str, Any] = entry.input_model.model_json_schema().get("properties", {})
    if not properties:
        return f"{tool} takes no arguments: leave --json out."
    first, schema = next(iter(properties.items()))
    example = {"boolean": "false", "integer": "0", "number": "0", "array": "[]", "object": "{}"}.get(
        str(schema.get("type")), '"..."'
    )
    named = ", ".join(f'"{field}"' for field in properties)
    return f"{tool} takes an object with {named}, like '{{\"{first}\": {example}}}'."
