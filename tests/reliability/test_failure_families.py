"""Answers that break HTTP's rules or the text's encoding, through the real server over stdio against the simulator."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from tests.support import RawServer, SimulatorProcess, serve, structured, text_of

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]

DEVICE = "/os/device/information"
PICK_FILES = "/os/filesystem/files/pick"


def one_sentence(message: str) -> None:
    assert "\n" not in message and len(message) < 500 and "Error executing tool" not in message, message


@pytest.mark.parametrize(
    "fault",
    [
        {"content_encoding": "gzip", "raw_body": True, "body": '{"name": "not compressed at all"}'},
        {"content_encoding": "deflate", "raw_body": True, "body": "nor this"},
        {"content_encoding": "br", "raw_body": True, "body": "a coding pieces-mcp does not read"},
    ],
    ids=["corrupt-gzip", "corrupt-deflate", "unsupported-coding"],
)
async def test_an_answer_that_cannot_be_decoded_is_one_sentence_and_the_next_call_works(
    simulator: SimulatorProcess, fault: dict[str, object]
) -> None:
    simulator.fault(DEVICE, status=200, content_type="application/json", **fault)
    async with serve(simulator.url) as served:
        bad = await served.client.call_tool("os_device_information", {})
        good = await served.client.call_tool("os_device_information", {})
        stderr = served.stderr()
    assert bad.is_error and "could not be decoded" in text_of(bad)
    one_sentence(text_of(bad))
    assert not good.is_error and "Traceback" not in stderr


def peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the peak RSS from /proc")
@pytest.mark.parametrize("encoding", ["gzip", "deflate", "gzip, gzip"])
def test_a_compression_bomb_is_refused_before_it_inflates(simulator: SimulatorProcess, encoding: str) -> None:
    """200 MB of JSON whitespace, a few hundred KB (or, compressed twice, a few hundred bytes) on the wire."""
    server = RawServer(simulator.url)
    try:
        server.initialize()
        assert "result" in server.call("os_device_information", {})  # warm: everything imported and allocated
        before = peak_rss_kib(server.process.pid)
        simulator.fault(DEVICE, status=200, content_type="application/json", content_encoding=encoding,
                        body=" " * 1024, repeat=200 * 1024)  # fmt: skip
        answer = server.call("os_device_information", {}, timeout=60)
        grew_mib = (peak_rss_kib(server.process.pid) - before) / 1024
        after = server.call("os_device_information", {})
    finally:
        server.close()
    result = answer["result"]
    assert result["isError"] and "larger than 8 MB" in result["content"][0]["text"]
    assert grew_mib < 50, f"the server's peak memory grew by {grew_mib:.0f} MiB reading a capped answer"
    assert not after["result"].get("isError")


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_redirect_is_an_error_not_an_answer(simulator: SimulatorProcess, status: int) -> None:
    simulator.fault(DEVICE, status=status, body="")
    async with serve(simulator.url) as served:
        result = await served.client.call_tool("os_device_information", {})
    assert result.is_error and f"redirect (HTTP {status})" in text_of(result)
    one_sentence(text_of(result))


@pytest.mark.parametrize(
    "body",
    ['["/home/ada/\\udc80.txt", "/home/ada/ok.txt"]', '["/home/ada/\\ud800\\ud800.txt", "/home/ada/ok.txt"]'],
    ids=["lone-low", "two-high"],
)
async def test_a_path_that_cannot_be_encoded_still_reaches_the_client(simulator: SimulatorProcess, body: str) -> None:
    simulator.fault(PICK_FILES, status=200, content_type="application/json", body=body)
    async with serve(simulator.url, PIECES_MCP_CONFIRM="allow") as served:
        with anyio.fail_after(20):
            result = await served.client.call_tool("pick_files", {})
            after = await served.client.call_tool("os_device_information", {})
    data = structured(result)
    assert data["total"] == 2 and data["paths"][1] == "/home/ada/ok.txt"
    assert "\ufffd" in data["paths"][0] and data["paths"][0].startswith("/home/ada/")
    assert not after.is_error
