"""One MCP session over stdio with a server started by the given command: handshake, tools/list, one tool call.

    python tools/smoke_stdio.py COMMAND [ARG ...]      e.g. ... .venv-wheel/bin/pieces-mcp serve --simulate

CI runs it against the installed wheel and against `uvx --from` the wheel; it needs only `mcp`, a dependency of
pieces-mcp. Exit 0 and one line of JSON on success; exit 1 with the reason otherwise.
"""

from __future__ import annotations

import json
import os
import sys

import anyio
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client


async def session(command: list[str]) -> dict[str, object]:
    # The whole environment, as a client passes it: the SDK's default keeps only a few variables, and uvx needs
    # the rest (certificate bundles, proxies, UV_* settings) to reach the index.
    params = StdioServerParameters(command=command[0], args=command[1:], env=dict(os.environ))
    with anyio.fail_after(120):
        async with Client(stdio_client(params), mode="legacy") as client:
            tools = sorted(tool.name for tool in (await client.list_tools()).tools)
            result = await client.call_tool("os_device_information", {})
    if result.is_error or not result.structured_content:
        raise SystemExit(f"os_device_information failed: {result.content}")
    return {"tools": len(tools), "device": result.structured_content.get("name")}


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(anyio.run(session, sys.argv[1:])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
