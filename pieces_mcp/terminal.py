"""`pieces-mcp call`: one tool call through a real child `serve`, the same path an MCP client takes."""

from __future__ import annotations

import itertools
import json
import sys
from collections.abc import Mapping
from typing import Any

import anyio
from mcp import Client, StdioServerParameters
from mcp.client.context import ClientRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, ElicitRequestParams, ElicitResult, TextContent

SPIN_INTERVAL_S = 0.15


async def call_through_child(
    command: list[str], env: Mapping[str, str], tool: str, arguments: dict[str, Any], assume_yes: bool
) -> int:
    """Call `tool`; print the structured result on stdout, or the error sentence on stderr. Exit code 0/1."""

    async def confirm(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        if assume_yes:
            print(f"{params.message}\n→ yes (--yes)", file=sys.stderr)
            return ElicitResult(action="accept", content={"confirm": True})
        if not sys.stdin.isatty():
            print(f"{params.message}\n→ no (not a terminal; pass --yes to accept)", file=sys.stderr)
            return ElicitResult(action="decline")
        answer = await anyio.to_thread.run_sync(lambda: input(f"{params.message} [y/N] ").strip().lower())
        return ElicitResult(action="accept", content={"confirm": answer in ("y", "yes")})

    server = StdioServerParameters(command=command[0], args=command[1:], env=dict(env))
    refusal: str | None = None
    result: CallToolResult | None = None
    try:
        async with (
            Client(server, elicitation_callback=confirm, mode="legacy") as client,
            anyio.create_task_group() as group,
        ):
            group.start_soon(_spin, f"calling {tool}")
            try:
                result = await client.call_tool(tool, arguments)
            except MCPError as exc:
                # Caught inside the task group: raised through it, it would arrive wrapped in an ExceptionGroup.
                refusal = exc.message
            finally:
                group.cancel_scope.cancel()
    except MCPError as exc:
        refusal = exc.message
    if refusal is not None:
        print(f"pieces-mcp: {refusal}", file=sys.stderr)
        return 1
    assert result is not None
    if result.is_error:
        text = " ".join(block.text for block in result.content if isinstance(block, TextContent))
        print(f"pieces-mcp: {text}", file=sys.stderr)
        return 1
    print(json.dumps(result.structured_content, indent=2, ensure_ascii=False))
    return 0


async def _spin(label: str) -> None:
    """A spinner on stderr, only for a person watching: a call may wait minutes for a picker or sign-in."""
    if not sys.stderr.isatty():
        return
    try:
        for frame in itertools.cycle("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"):
            sys.stderr.write(f"\r{frame} {label}")
            sys.stderr.flush()
            await anyio.sleep(SPIN_INTERVAL_S)
    finally:
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()
