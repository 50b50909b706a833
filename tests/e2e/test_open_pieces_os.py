"""Quitting and starting PiecesOS: after os_terminate its port refuses connections, and open_pieces_os starts it
as every vendor client does (pieces://launch through the OS opener, then health), with nothing answering before."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pieces_mcp.discovery import Machine
from tests.launching import FakeOpener, fake_opener
from tests.support import SimulatorProcess, refused_ports, serve, structured, text_of

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.timeout(90),
    pytest.mark.skipif(sys.platform != "linux", reason="the fake opener is Linux's xdg-open"),
]

EVERY_SET = ("--toolsets", "all")


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Machine]:
    """A machine whose home is the test's and whose scanned ports refuse: nothing answers until a launch."""
    with refused_ports(3) as ports:
        yield Machine(tmp_path / "home", {}, "linux", scan_ports=ports[:2], legacy_ports=ports[2:])


def on_path(opener: FakeOpener, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake opener first on the server's PATH (the server runs in this process and inherits it)."""
    for key, value in opener.env.items():
        monkeypatch.setenv(key, value)


async def test_open_pieces_os_starts_piecesos_when_nothing_answers_and_discovery_then_finds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, home: Machine
) -> None:
    # The simulator it starts announces its port where PiecesOS does: the newest port file discovery reads.
    opener = fake_opener(tmp_path / "bin", port_file=home.port_files()[0])
    on_path(opener, monkeypatch)
    try:
        async with serve(None, machine=home, args=EVERY_SET, PIECES_MCP_CONFIRM="allow") as served:
            launched = structured(await served.client.call_tool("open_pieces_os", {}))
            after = await served.client.call_tool("os_device_information", {})
    finally:
        opener.stop_what_it_started()
    assert opener.opened == ["pieces://launch"]
    assert launched["running"] is True and launched["already_running"] is False
    assert launched["version"] and launched["base_url"].endswith(opener.env["FAKE_OPENER_PORT"])
    assert not after.is_error, text_of(after)


async def test_after_terminate_the_next_call_says_not_running_and_open_pieces_os_brings_it_back(
    simulator: SimulatorProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opener = fake_opener(tmp_path / "bin", wake_pid=simulator.process.pid)
    on_path(opener, monkeypatch)
    async with serve(simulator.url, args=EVERY_SET, PIECES_MCP_CONFIRM="allow") as served:
        assert structured(await served.client.call_tool("os_terminate", {})) == {"accepted": True}
        gone = await served.client.call_tool("os_device_information", {})
        launched = structured(await served.client.call_tool("open_pieces_os", {}))
        back = await served.client.call_tool("os_device_information", {})
    assert gone.is_error and text_of(gone).startswith("PiecesOS is not running") and "open_pieces_os" in text_of(gone)
    assert opener.opened == ["pieces://launch"]
    assert launched["running"] is True and launched["version"]
    assert not back.is_error, text_of(back)


async def test_open_pieces_os_opens_nothing_when_piecesos_already_answers(
    simulator: SimulatorProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opener = fake_opener(tmp_path / "bin", wake_pid=simulator.process.pid)
    on_path(opener, monkeypatch)
    async with serve(simulator.url, args=EVERY_SET, PIECES_MCP_CONFIRM="allow") as served:
        launched = structured(await served.client.call_tool("open_pieces_os", {}))
    assert launched["already_running"] is True and launched["running"] is True and launched["version"]
    assert opener.opened == []


@pytest.mark.parametrize(
    ("exit_status", "said"), [(3, "no application is registered for pieces:// links"), (1, "exit status 1")]
)
async def test_an_opener_that_cannot_open_the_link_is_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, home: Machine, exit_status: int, said: str
) -> None:
    opener = fake_opener(tmp_path / "bin", port_file=home.port_files()[0], exit_status=exit_status)
    on_path(opener, monkeypatch)
    async with serve(None, machine=home, args=EVERY_SET, PIECES_MCP_CONFIRM="allow") as served:
        result = await served.client.call_tool("open_pieces_os", {})
    assert result.is_error and said in text_of(result) and "\n" not in text_of(result)
    assert text_of(result).startswith("PiecesOS could not be started")
    assert opener.opened == ["pieces://launch"]


async def test_no_opener_on_the_machine_is_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, home: Machine
) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    async with serve(None, machine=home, args=EVERY_SET, PIECES_MCP_CONFIRM="allow") as served:
        result = await served.client.call_tool("open_pieces_os", {})
    assert result.is_error and "there is no `xdg-open` on this machine" in text_of(result)
