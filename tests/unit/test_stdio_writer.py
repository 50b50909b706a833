"""The stdio writer fails the one message it cannot write, never the session (issue 18, item 2)."""

from __future__ import annotations

import json
import os
from typing import Any

import anyio
import pytest
from mcp.shared.message import SessionMessage
from mcp_types import JSONRPCNotification, JSONRPCResponse

from pieces_mcp.stdio import stdio_streams


def _nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


TOOL_RESULT = {"content": [{"type": "text", "text": "name: \ud800"}]}
UNWRITABLE = {
    "lone surrogate in a tool result": (TOOL_RESULT, "not valid Unicode"),
    "lone surrogate in another answer": ({"resources": [{"name": "\udfff"}]}, "not valid Unicode"),
    "nested too deeply": ({"content": [], "structuredContent": {"a": _nested(20_000)}}, ""),
}


async def _written(*messages: SessionMessage) -> list[dict[str, Any]]:
    """What the stdio transport writes for `messages`, one JSON object per line."""
    server_reads, client_writes = os.pipe()
    client_reads, server_writes = os.pipe()
    with (
        os.fdopen(server_reads, "rb", buffering=0) as stdin,
        os.fdopen(client_writes, "wb", buffering=0),
        os.fdopen(server_writes, "wb", buffering=0) as stdout,
        os.fdopen(client_reads, "rb") as reader,
    ):
        async with stdio_streams(stdin, stdout) as (_, write_stream):
            for message in messages:
                await write_stream.send(message)
        # Every line arrived: the transport closed its end, so the reader's end of file comes.
        written = await anyio.to_thread.run_sync(reader.read)
        return [json.loads(line) for line in written.splitlines()]


@pytest.mark.parametrize("case", list(UNWRITABLE))
def test_an_answer_that_cannot_be_written_fails_alone_and_the_next_one_is_sent(case: str) -> None:
    result, problem = UNWRITABLE[case]
    unwritable = SessionMessage(JSONRPCResponse(jsonrpc="2.0", id=7, result=result))
    dropped = SessionMessage(JSONRPCNotification(jsonrpc="2.0", method="notifications/message", params={"x": "\ud800"}))
    next_answer = SessionMessage(JSONRPCResponse(jsonrpc="2.0", id=8, result={"content": []}))
    lines = anyio.run(_written, unwritable, dropped, next_answer)
    assert [line["id"] for line in lines] == [7, 8]  # the notification that cannot be written is left out
    failed = lines[0]
    sentence = failed["result"]["content"][0]["text"] if "result" in failed else failed["error"]["message"]
    assert sentence.startswith("The answer could not be sent: ") and problem in sentence
    assert failed.get("result", {}).get("isError", True)  # a tool's result becomes an error result
    assert lines[1] == {"jsonrpc": "2.0", "id": 8, "result": {"content": []}}
