"""Text from PiecesOS in any encoding it declares, and text no encoding can carry, never ends a call badly.

Each case plants one class of text with the simulator's fault injection (a body in a `charset`, a declared
`content_type`, a stream's `frames`) or, for reason phrases the simulator cannot send (ASGI has no field for
one), a raw socket server; the real server then answers the call, and the next call too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from pieces_mcp.catalog import BY_NAME, LIVE
from pieces_mcp.simulator.profiles import device_information
from tests.support import SimulatorProcess, control_http, raw_http, serve, structured, text_of

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]

DEVICE = BY_NAME["os_device_information"].path_for("current")
FILE_READ = BY_NAME["os_filesystem_file_read_streamed"].path_for("current")
MIGRATION = next(live.path for live in LIVE if live.name == "stream_os_migration_status")
# Outside Latin-1 and outside the BMP: a wrong decoding cannot get this name right by chance.
NAME = "Adas Rechner – ünïcødé ✓ 𝄞 数据"
ANSWER = json.dumps({**device_information(), "name": NAME}, ensure_ascii=False)

# name: (the codec the body is sent in, the Content-Type declared); each must read back as NAME.
ENCODINGS = {
    "utf-8": ("utf-8", "application/json; charset=utf-8"),
    "utf-8-undeclared": ("utf-8", "application/json"),
    "utf-8-bom": ("utf-8-sig", "application/json; charset=utf-8"),
    "utf-16-bom": ("utf-16", "application/json; charset=utf-16"),
    "utf-16le-no-bom": ("utf-16-le", "application/json; charset=UTF-16LE"),
    "utf-16be-no-bom": ("utf-16-be", 'application/json; charset="utf-16"'),
    "utf-16le-no-bom-declared-utf-16": ("utf-16-le", "application/json; charset=utf-16"),
    "utf-32-bom": ("utf-32", "application/json; charset=utf-32"),
    "utf-32be-no-bom": ("utf-32-be", "application/json; charset=utf-32be"),
    "utf-32le-undeclared": ("utf-32-le", "application/json"),
    # Declarations that lie, or name no charset we read: the bytes decide.
    "utf-8-declared-utf-16": ("utf-8", "application/json; charset=utf-16"),
    "utf-8-declared-utf-32": ("utf-8", "application/json; charset=utf-32"),
    "utf-16-bom-declared-utf-8": ("utf-16", "application/json; charset=utf-8"),
    "utf-8-declared-latin-1": ("utf-8", "application/json; charset=iso-8859-1"),
    "unknown-charset": ("utf-8", "application/json; charset=x-klingon-9"),
    "codec-that-is-no-charset": ("utf-8", "application/json; charset=rot13"),
    "quadratic-codec": ("utf-8", "application/json; charset=punycode"),
    "empty-charset": ("utf-8", "application/json; charset="),
    "header-not-ascii": ("utf-8", "application/json; charset=utf-8; note=\u00fcber"),
}


def fault(simulator: SimulatorProcess, path: str, **spec: Any) -> None:
    """`simulator.fault`, sent as ASCII JSON: a lone surrogate in the body travels as its `\\u` escape."""
    payload = json.dumps({"path": path, **spec})
    response = control_http().post(f"{simulator.url}/_simulator/faults", content=payload, timeout=30)
    response.raise_for_status()


async def assert_next_call_is_answered(served: Any) -> None:
    result = await served.client.call_tool("os_permissions", {})
    assert not result.is_error, text_of(result)


@pytest.mark.parametrize("case", list(ENCODINGS))
async def test_a_body_in_any_declared_encoding_reads_right(simulator: SimulatorProcess, case: str) -> None:
    charset, content_type = ENCODINGS[case]
    simulator.fault(DEVICE, status=200, body=ANSWER, charset=charset, content_type=content_type)
    async with serve(simulator.url) as served:
        answer = structured(await served.client.call_tool("os_device_information", {}))
        await assert_next_call_is_answered(served)
    assert answer["name"] == NAME


# name: (body, charset, content type); each carries text no encoding of the answer can hold as sent.
HOSTILE = {
    "json-escaped-lone-high": ('{"name": "a\\ud800b"}', "utf-8", "application/json"),
    "json-escaped-lone-low": ('{"name": "a\\udc80b"}', "utf-8", "application/json"),
    "json-escaped-reversed-pair": ('{"name": "a\\udc00\\ud800b"}', "utf-8", "application/json"),
    "raw-surrogate-utf-8": ('{"name": "a\ud800b"}', "utf-8", "application/json; charset=utf-8"),
    "raw-surrogate-utf-16": ('{"name": "a\ud800b"}', "utf-16", "application/json; charset=utf-16"),
    "raw-surrogate-utf-32": ('{"name": "a\udfffb"}', "utf-32", "application/json; charset=utf-32"),
    "latin-1-declared-utf-8": ('{"name": "a\u00e9b"}', "latin-1", "application/json; charset=utf-8"),
    "surrogate-in-a-key": ('{"name": "a\\ufffdb", "\\ud800": 1}', "utf-8", "application/json"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
async def test_text_no_encoding_can_carry_becomes_the_replacement_character(
    simulator: SimulatorProcess, case: str
) -> None:
    body, charset, content_type = HOSTILE[case]
    fault(simulator, DEVICE, status=200, body=body, charset=charset, content_type=content_type)
    async with serve(simulator.url) as served:
        result = await served.client.call_tool("os_device_information", {})
        await assert_next_call_is_answered(served)
    name = structured(result)["name"]
    assert name.startswith("a") and name.endswith("b") and "\ufffd" in name, name
    assert not any("\ud800" <= char <= "\udfff" for char in name)


ERROR_TEXT = "база данных заблокирована ✓"


@pytest.mark.parametrize(
    ("charset", "content_type"),
    [("utf-16", "text/plain; charset=utf-16"), ("utf-32-be", "text/plain; charset=utf-32be"), ("utf-8", "text/plain")],
)
async def test_an_error_body_says_what_piecesos_said_in_its_encoding(
    simulator: SimulatorProcess, charset: str, content_type: str
) -> None:
    simulator.fault(DEVICE, status=500, body=ERROR_TEXT, charset=charset, content_type=content_type)
    async with serve(simulator.url) as served:
        result = await served.client.call_tool("os_device_information", {})
        await assert_next_call_is_answered(served)
    assert result.is_error and "HTTP 500" in text_of(result) and ERROR_TEXT in text_of(result), text_of(result)


@contextmanager
def scripted_http(first: bytes) -> Iterator[str]:
    """A loopback server answering its first request with the raw bytes `first`, every later one normally.

    For text the simulator cannot send: ASGI has no field for a reason phrase (simulator/fault_answers.py).
    """
    body = json.dumps({"processing": {"vision": False, "accessibility": True}}).encode()
    normal = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
    with raw_http(first, then=normal) as url:
        yield url


# name: (the reason phrase's bytes, what the error must say)
REASONS = {
    "utf-8": ("Échec ✓ de la base".encode(), "Échec ✓ de la base"),
    "latin-1": ("\u00c9chec de la base".encode("latin-1"), "\u00c9chec de la base"),
    "raw-surrogate": (b"bad \xed\xa0\x80 base", "bad"),
    "invalid-utf-8": (b"bad \xff\xfe base", "bad"),
}


@pytest.mark.parametrize("case", list(REASONS))
async def test_a_reason_phrase_in_any_bytes_is_quoted_as_text(case: str) -> None:
    reason, shown = REASONS[case]
    answer = b"HTTP/1.1 503 " + reason + b"\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    with scripted_http(answer) as url:
        async with serve(url) as served:
            result = await served.client.call_tool("os_permissions", {})
            await assert_next_call_is_answered(served)
    text = text_of(result)
    assert result.is_error and "HTTP 503" in text and shown in text, text
    assert not any("\ud800" <= char <= "\udfff" for char in text)


FRAME = {"id": "0d3c7a52-5b8e-4f61-9a0e-2c4b6d8f1a3e", "status": "COMPLETED", "percentage": 100}
# name: (frames, binary_frames, charset); each carries a file read whose echoed path must read back right.
FRAMES: dict[str, tuple[list[Any], bool, str | None]] = {
    "text-json": ([{**FRAME, "path": f"/home/ada/{NAME}.md"}], False, None),
    "binary-utf-8": ([{**FRAME, "path": f"/home/ada/{NAME}.md"}], True, "utf-8"),
    "binary-utf-8-bom": ([{**FRAME, "path": f"/home/ada/{NAME}.md"}], True, "utf-8-sig"),
    "binary-utf-16-bom": ([{**FRAME, "path": f"/home/ada/{NAME}.md"}], True, "utf-16"),
    "binary-utf-32-bom": ([{**FRAME, "path": f"/home/ada/{NAME}.md"}], True, "utf-32"),
}


@pytest.mark.parametrize("case", list(FRAMES))
async def test_a_file_read_message_in_any_encoding_reads_right(
    simulator: SimulatorProcess, tmp_path: Path, case: str
) -> None:
    frames, binary, charset = FRAMES[case]
    frames = [{**frames[0], "bytes": {"raw": list("héllo".encode())}}]
    simulator.fault(FILE_READ, frames=frames, binary_frames=binary, charset=charset)
    async with serve(simulator.url, PIECES_MCP_CONFIRM="allow", PIECES_MCP_TOOLSETS="all") as served:
        result = await served.client.call_tool("os_filesystem_file_read_streamed", {"path": str(tmp_path / "x.md")})
        await assert_next_call_is_answered(served)
    answer = structured(result)
    assert answer["path"] == f"/home/ada/{NAME}.md" and answer["text"] == "héllo"


@pytest.mark.parametrize(
    "frame",
    [
        '{"path": "/home/ada/a\\ud800b.md", "status": "COMPLETED", "bytes": {"raw": [104, 105]}}',
        '{"path": "/home/ada/a\\udc80b.md", "status": "COMPLETED", "bytes": {"raw": [104, 105]}}',
    ],
    ids=["lone-high", "lone-low"],
)
async def test_a_lone_surrogate_in_a_stream_message_becomes_the_replacement_character(
    simulator: SimulatorProcess, tmp_path: Path, frame: str
) -> None:
    fault(simulator, FILE_READ, frames=[frame])
    async with serve(simulator.url, PIECES_MCP_CONFIRM="allow", PIECES_MCP_TOOLSETS="all") as served:
        result = await served.client.call_tool("os_filesystem_file_read_streamed", {"path": str(tmp_path / "x.md")})
        await assert_next_call_is_answered(served)
    assert structured(result)["path"] == "/home/ada/a\ufffdb.md"


@pytest.mark.parametrize("charset", ["utf-16", "utf-32-be", "utf-8-sig"])
async def test_a_live_stream_message_in_any_encoding_reads_right(simulator: SimulatorProcess, charset: str) -> None:
    migration = {"status": "MIGRATING", "overallProgressPercentage": 40, "activeMigrations": []}
    message = {
        **migration,
        "activeMigrations": [{"id": "m1", "name": NAME, "phase": "p", "status": "MIGRATING", "progressPercentage": 40}],
    }
    simulator.fault(MIGRATION, frames=[message], binary_frames=True, charset=charset)
    async with serve(simulator.url) as served:
        read = await served.client.read_resource("pieces-os://stream_os_migration_status")
        await assert_next_call_is_answered(served)
    content = json.loads(read.contents[0].text)  # type: ignore[union-attr]
    assert content["activeMigrations"][0]["name"] == NAME
