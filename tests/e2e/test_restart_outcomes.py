"""Updates as they go wrong: os_restart says whether PiecesOS came back (else how to start it) and whether the
person is still signed in (support#449: it does not come back; support#1001, #685: the update signs them out)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.launching import fake_opener
from tests.support import SimulatorProcess, serve, structured, text_of

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]

EVERY_SET = ("--toolsets", "all")


async def test_a_restart_that_keeps_the_person_signed_in_says_so(simulator: SimulatorProcess) -> None:
    async with serve(simulator.url, args=EVERY_SET, PIECES_MCP_CONFIRM="allow") as served:
        result = await served.client.call_tool("os_restart", {})
    outcome = structured(result)
    assert outcome["back_online"] is True
    assert (outcome["signed_in_before"], outcome["signed_in_after"]) == (True, True)
    assert text_of(result).count("sign_into_os") == 0


async def test_a_restart_that_signs_the_person_out_says_so_and_how_to_sign_in(simulator: SimulatorProcess) -> None:
    simulator.state(restart_signs_out=True)
    async with serve(simulator.url, args=EVERY_SET, PIECES_MCP_CONFIRM="allow") as served:
        result = await served.client.call_tool("os_restart", {})
        user = structured(await served.client.call_tool("user_snapshot", {}))
    outcome = structured(result)
    assert outcome["back_online"] is True
    assert (outcome["signed_in_before"], outcome["signed_in_after"]) == (True, False)
    assert "signed the person out" in text_of(result) and "sign_into_os" in text_of(result)
    assert user.get("user") is None


@pytest.mark.skipif(sys.platform != "linux", reason="the fake opener is Linux's xdg-open")
async def test_a_restart_that_never_comes_back_says_to_open_pieces_os_which_does(
    simulator: SimulatorProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulator.state(restart_comes_back=False)
    opener = fake_opener(tmp_path / "bin", wake_pid=simulator.process.pid)
    for key, value in opener.env.items():  # the server runs in this process: its opener comes from our PATH
        monkeypatch.setenv(key, value)
    async with serve(
        simulator.url, args=EVERY_SET, PIECES_MCP_CONFIRM="allow", PIECES_MCP_RESTART_TIMEOUT="1"
    ) as served:
        result = await served.client.call_tool("os_restart", {})
        gone = await served.client.call_tool("os_device_information", {})
    async with serve(simulator.url, args=EVERY_SET, PIECES_MCP_CONFIRM="allow") as served:
        launched = structured(await served.client.call_tool("open_pieces_os", {}))
        back = await served.client.call_tool("os_device_information", {})
    outcome = structured(result)
    assert outcome["back_online"] is False and outcome["signed_in_before"] is True
    assert outcome["signed_in_after"] is None
    assert "open_pieces_os" in text_of(result)
    assert gone.is_error and "not running" in text_of(gone)
    assert opener.opened == ["pieces://launch"] and launched["running"] is True
    assert not back.is_error, text_of(back)
