"""Quitting and starting PiecesOS: after os_terminate its port refuses connections, and open_pieces_os starts it
as every vendor client does (pieces://launch through the OS opener, then health), with nothing answering before."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pieces_mcp import discovery
from tests.launching import fake_opener
from tests.support import SimulatorProcess, serve, structured, text_of

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.timeout(90),
    pytest.mark.skipif(sys.platform != "linux", reason="the fake opener is Linux's xdg-open"),
]

EVERY_SET = ("--toolsets", "all")


async def test_open_pieces_os_starts_piecesos_when_nothing_answers_and_discovery_then_finds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))  # where the port file goes, as the server (HOME below) reads it
    opener = fake_opener(tmp_path / "bin", port_file=discovery.port_file())
    try:
        async with serve(
            None, env={**opener.env, "HOME": str(home)}, args=EVERY_SET, PIECES_MCP_CONFIRM="allow"
        ) as served:
            launched = structured(await served.client.call_tool("open_pieces_os", {}))
            after = await served.client.call_tool("os_device_information", {})
    finally:
        opener.stop_what_it_started()
    assert opener.opened == ["pieces://launch"]
    assert launched["running"] is True and launched["already_running"] is False
    assert launched["version"] and launched["base_url"].endswith(opener.env["FAKE_OPENER_PORT"])
    assert not after.is_error, text_of(after)


async def test_after_terminate_the_next_call_says_not_running_and_open_pieces_os_brings_it_back(
    simulator: SimulatorProcess, tmp_path: Path
) -> None:
    opener = fake_opener(tmp_path / "bin", wake_pid=simulator.process.pid)
    async with serve(simulator.url, env=opener.env, args=EVERY_SET, PIECES_MCP_CONFIRM="allow") as served:
        assert structured(await served.client.call_tool("os_terminate", {})) == {"accepted": True}
        gone = await served.client.call_tool("os_device_information", {})
        launched = structured(await served.client.call_tool("open_pieces_os", {}))
        back = await served.client.call_tool("os_device_information", {})
    assert gone.is_error and text_of(gone).startswith("PiecesOS is not running") and "open_pieces_os" in text_of(gone)
    assert opener.opened == ["pieces://launch"]
    assert launched["running"] is True and launched["version"]
    assert not back.is_error, text_of(back)


async def test_open_pieces_os_opens_nothing_when_piecesos_already_answers(
    simulator: SimulatorProcess, tmp_path: Path
) -> None:
    opener = fake_opener(tmp_path / "bin", wake_pid=simulator.process.pid)
    async with serve(simulator.url, env=opener.env, args=EVERY_SET, PIECES_MCP_CONFIRM="allow") as served:
        launched = structured(await served.client.call_tool("open_pieces_os", {}))
    assert launched["already_running"] is True and launched["running"] is True and launched["version"]
    assert opener.opened == []


@pytest.mark.parametrize(
    ("exit_status", "said"), [(3, "no application is registered for pieces:// links"), (1, "exit status 1")]
)
async def test_an_opener_that_cannot_open_the_link_is_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exit_status: int, said: str
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    opener = fake_opener(tmp_path / "bin", port_file=discovery.port_file(), exit_status=exit_status)
    async with serve(None, env={**opener.env, "HOME": str(home)}, args=EVERY_SET, PIECES_MCP_CONFIRM="allow") as served:
        result = await served.client.call_tool("open_pieces_os", {})
    assert result.is_error and said in text_of(result) and "\n" not in text_of(result)
    assert text_of(result).startswith("PiecesOS could not be started")
    assert opener.opened == ["pieces://launch"]


async def test_no_opener_on_the_machine_is_one_sentence(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {"PATH": str(empty), "HOME": str(tmp_path / "home")}
    async with serve(None, env=env, args=EVERY_SET, PIECES_MCP_CONFIRM="allow") as served:
        result = await served.client.call_tool("open_pieces_os", {})
    assert result.is_error and "there is no `xdg-open` on this machine" in text_of(result)
