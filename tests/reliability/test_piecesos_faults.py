"""PiecesOS slow, erroring, answering garbage, restarting or gone: one clear sentence each, and serving goes on."""

from __future__ import annotations

import time
from pathlib import Path

import anyio
import pytest

from pieces_mcp import heartbeat
from pieces_mcp.discovery import Machine
from pieces_mcp.simulator import SECRET_MARKERS
from tests.support import (
    SimulatorProcess,
    free_ports,
    refused_ports,
    serve,
    simulator_in_this_process,
    structured,
    text_of,
)

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]

DEVICE = "/os/device/information"
ALLOW = {"PIECES_MCP_CONFIRM": "allow"}


async def test_a_slow_call_gives_up_at_the_timeout_and_the_next_call_works(simulator: SimulatorProcess) -> None:
    simulator.hold_clock()  # the delayed answer never comes: only the server's own limit can end the call
    simulator.fault(DEVICE, delay_ms=5000, status=200, body="{}", content_type="application/json")
    async with serve(simulator.url, PIECES_MCP_TIMEOUT="1") as served:
        slow = await served.client.call_tool("os_device_information", {})
        after = await served.client.call_tool("os_device_information", {})
    assert slow.is_error and "within 1 s, the --timeout limit" in text_of(slow)
    assert not after.is_error


async def test_a_person_who_takes_too_long_hits_the_interactive_timeout(simulator: SimulatorProcess) -> None:
    simulator.hold_clock()  # the person never picks
    simulator.state(pick_delay_ms=5000)
    async with serve(simulator.url, PIECES_MCP_INTERACTIVE_TIMEOUT="0.5", **ALLOW) as served:
        result = await served.client.call_tool("pick_folders", {})
    assert result.is_error and "--interactive-timeout" in text_of(result) and "desktop" in text_of(result)


async def test_a_cancelled_call_is_aborted_and_the_server_keeps_serving(simulator: SimulatorProcess) -> None:
    simulator.hold_clock()  # the person never picks: only the cancellation ends the call
    simulator.state(pick_delay_ms=10_000)
    async with serve(simulator.url, **ALLOW) as served:
        async with anyio.create_task_group() as calling:
            calling.start_soon(served.client.call_tool, "pick_files", {})
            await simulator.until_a_delay_begins()  # the picker is open: the call is under way
            calling.cancel_scope.cancel()
        with anyio.fail_after(3):
            await served.client.send_ping()
            after = await served.client.call_tool("os_permissions", {})
    assert not after.is_error


async def test_waiting_for_a_person_reports_progress_at_least_every_5_s(
    simulator: SimulatorProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The beat's interval is under the 5 s clients allow between progress notifications; here it is cut to
    50 ms (the heartbeat reads it on every beat), and the person is held at the picker on the simulator's clock
    until beat after beat has arrived: no wall-clock window decides the outcome."""
    assert heartbeat.INTERVAL_S < 5
    monkeypatch.setattr(heartbeat, "INTERVAL_S", 0.05)
    simulator.hold_clock()
    simulator.state(pick_delay_ms=9_000)
    progress: list[tuple[float, str | None]] = []
    several = anyio.Event()

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, message))
        if len(progress) >= 3:
            several.set()

    results = []
    async with serve(simulator.url, **ALLOW) as served, anyio.create_task_group() as calling:

        async def pick() -> None:
            results.append(await served.client.call_tool("pick_files", {}, progress_callback=on_progress))

        calling.start_soon(pick)
        with anyio.fail_after(20):
            await several.wait()  # three beats while the person has not picked yet
        simulator.advance(9_000)  # the person picks
    [result] = results
    assert not result.is_error, text_of(result)
    waited = [done for done, _ in progress]
    assert waited == sorted(waited) and waited[0] > 0, waited
    assert all(message and message.startswith("Waiting for the person at their desktop") for _, message in progress)


async def test_piecesos_not_running_is_said_within_2_s(simulator: SimulatorProcess) -> None:
    with simulator_in_this_process() as closed:
        pass  # a port that was just served and is now closed
    async with serve(closed.url) as served:
        started = time.monotonic()
        result = await served.client.call_tool("os_device_information", {})
        elapsed = time.monotonic() - started
    assert result.is_error and "PiecesOS is not running" in text_of(result) and "start the Pieces" in text_of(result)
    assert elapsed < 2, elapsed


async def test_piecesos_found_again_after_it_moves_ports(tmp_path: Path) -> None:
    """Discovery mode: nothing running, then PiecesOS on one port of the scanned ones, then on another."""
    first, second, spare = free_ports(3)
    machine = Machine(tmp_path, {}, "linux", scan_ports=(first, second), legacy_ports=(spare,))
    async with serve(None, machine=machine) as served:
        absent = await served.client.call_tool("os_permissions", {})
        assert absent.is_error and f"on ports {first}, {second}, {spare}" in text_of(absent)
        for port in (second, first):
            with simulator_in_this_process(port=port) as moved:
                found = await served.client.call_tool("os_permissions", {})
                assert not found.is_error, text_of(found)
                assert moved.os_calls("/os/permissions")


async def test_restart_reports_how_long_piecesos_was_down(simulator: SimulatorProcess) -> None:
    simulator.state(restart_downtime_ms=300)
    async with serve(simulator.url, **ALLOW) as served:
        outcome = structured(await served.client.call_tool("os_restart", {}))
        after = await served.client.call_tool("os_device_information", {})
    assert outcome["back_online"] is True and outcome["downtime_ms"] >= 300  # down at least as long as it was
    assert not after.is_error


async def test_a_restart_that_does_not_come_back_in_time_says_so_within_its_bound() -> None:
    # Its own simulator, as it stays down after the test, where the shared one must not: its clock is held, so
    # the downtime never ends (and its control API, on the closed port, cannot move it on).
    with simulator_in_this_process() as simulator:
        simulator.hold_clock()
        simulator.state(restart_downtime_ms=1000)
        async with serve(simulator.url, PIECES_MCP_TIMEOUT="1", PIECES_MCP_RESTART_TIMEOUT="1.5", **ALLOW) as served:
            started = time.monotonic()
            outcome = structured(await served.client.call_tool("os_restart", {}))
            waited = time.monotonic() - started
    assert outcome == {
        "restarted": True,
        "back_online": False,
        "downtime_ms": None,
        "base_url": None,
        "signed_in_before": True,
        "signed_in_after": None,
    }
    assert waited >= 1.5  # it waited out --restart-timeout, not --timeout


async def test_a_restart_longer_than_the_timeout_is_waited_for(simulator: SimulatorProcess) -> None:
    simulator.state(restart_downtime_ms=1500)
    async with serve(simulator.url, PIECES_MCP_TIMEOUT="1", **ALLOW) as served:
        outcome = await served.client.call_tool("os_restart", {})
        after = await served.client.call_tool("os_device_information", {})
    assert not outcome.is_error, text_of(outcome)
    assert structured(outcome)["back_online"] is True and structured(outcome)["downtime_ms"] >= 1500
    assert not after.is_error


async def test_a_restart_whose_connection_drops_is_a_restart_not_an_error(simulator: SimulatorProcess) -> None:
    simulator.fault("/os/restart", drop=True)
    async with serve(simulator.url, **ALLOW) as served:
        outcome = await served.client.call_tool("os_restart", {})
    assert not outcome.is_error, text_of(outcome)
    assert structured(outcome)["back_online"] is True and isinstance(structured(outcome)["downtime_ms"], int)
    assert len(simulator.os_calls("/os/restart")) == 1  # asked once: no second restart


async def test_a_restart_that_comes_back_on_another_port_is_found_there(tmp_path: Path) -> None:
    [elsewhere] = free_ports(1)
    with simulator_in_this_process() as piecesos, refused_ports(2) as refused:  # its own simulator: it moves
        machine = Machine(tmp_path, {}, "linux", scan_ports=(refused[0], elsewhere), legacy_ports=refused[1:])
        port_file = machine.port_files()[0]  # announced only by its port file, as PiecesOS does
        port_file.parent.mkdir(parents=True)
        port_file.write_text(piecesos.url.rsplit(":", 1)[1])
        piecesos.state(restart_port=elsewhere, restart_downtime_ms=0)
        async with serve(None, machine=machine, **ALLOW) as served:
            outcome = structured(await served.client.call_tool("os_restart", {}))
            after = await served.client.call_tool("os_permissions", {})
    assert outcome["back_online"] is True
    assert outcome["base_url"] == f"http://127.0.0.1:{elsewhere}"
    assert not after.is_error, text_of(after)


async def test_an_update_goes_from_available_to_installed_through_the_tools(simulator: SimulatorProcess) -> None:
    """On the simulator's held clock the download moves only when the test moves time: a loaded machine (two
    workers on two cores) can no longer let the whole download pass between two checks, which made this test
    fail under `-n 2` when it downloaded for 600 ms of wall-clock time."""
    simulator.hold_clock()
    simulator.state(update_status="AVAILABLE", update_download_ms=600, restart_downtime_ms=200)
    async with serve(simulator.url, **ALLOW) as served:
        before = structured(await served.client.call_tool("os_device_information", {}))["version"]
        checks = [structured(await served.client.call_tool("os_update_check", {}))]
        while checks[-1]["status"] != "READY_TO_RESTART":
            simulator.advance(200)
            checks.append(structured(await served.client.call_tool("os_update_check", {})))
        simulator.control("clock", {"hold": False})  # a restarting simulator cannot be reached to move its clock
        restart = structured(await served.client.call_tool("os_restart", {}))
        after = structured(await served.client.call_tool("os_update_check", {}))
        version = structured(await served.client.call_tool("os_device_information", {}))["version"]
    progress = [check["percentage"] for check in checks if check["status"] == "DOWNLOADING"]
    assert checks[0]["status"] == "AVAILABLE" and progress == [33, 66]
    assert restart["back_online"] is True
    assert after["status"] == "UP_TO_DATE" and version != before


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ({"status": 500, "body": "database is locked"}, "HTTP 500 (database is locked)"),
        ({"status": 503, "body": "x" * 5000}, "HTTP 503"),
        ({"status": 200, "body": "{not json", "content_type": "application/json"}, "not JSON"),
        ({"status": 200, "body": '{"hardware": {"cpus": 3}}', "content_type": "application/json"}, "unexpected shape"),
        ({"drop": True}, "closed before it answered"),
        ({"status": 200, "body": "[" + " " * 10_000_000 + "]", "content_type": "application/json"}, "larger than 8 MB"),
        ({"status": 307, "body": ""}, "redirect (HTTP 307)"),
    ],
    ids=["500", "long-503", "malformed-json", "wrong-shape", "dropped", "10MB", "redirect"],
)
async def test_a_bad_answer_is_one_clear_sentence_and_the_next_call_works(
    simulator: SimulatorProcess, fault: dict[str, object], expected: str
) -> None:
    simulator.fault(DEVICE, **fault)
    async with serve(simulator.url) as served:
        bad = await served.client.call_tool("os_device_information", {})
        good = await served.client.call_tool("os_device_information", {})
        stderr = served.stderr()
    message = text_of(bad)
    assert bad.is_error and expected in message
    assert len(message) < 500 and "\n" not in message and "Traceback" not in message
    assert not good.is_error
    assert "Traceback" not in stderr


async def test_twenty_thousand_picked_paths_are_cut_with_a_note(simulator: SimulatorProcess) -> None:
    simulator.state(picked_files=[f"/home/ada/data/file-{index:05}.csv" for index in range(20_000)])
    async with serve(simulator.url, **ALLOW) as served:
        result = await served.client.call_tool("pick_files", {})
    data = structured(result)
    assert data["total"] == 20_000 and data["truncated"] is True and len(data["paths"]) == 1000
    assert "Only the first 1000 of 20000" in text_of(result)


async def test_no_credential_reaches_a_result_an_error_a_log_or_the_audit_log(
    simulator: SimulatorProcess, tmp_path: object
) -> None:
    from pathlib import Path

    audit = Path(str(tmp_path)) / "audit.jsonl"
    simulator.fault("/os/permissions", status=500, body=f"token {SECRET_MARKERS[0]} rejected")
    written: list[str] = []
    async with serve(simulator.url, PIECES_MCP_LOG_LEVEL="DEBUG", PIECES_MCP_AUDIT_LOG=audit, **ALLOW) as served:
        for tool, arguments in (
            ("sign_into_os", {}),
            ("link_provider", {"type": "github"}),
            ("sign_out_of_os", {}),
            ("link_provider", {"type": "gitlab"}),  # signed out now: a 401
            ("os_permissions", {}),  # a 500 whose text carries a secret
        ):
            result = await served.client.call_tool(tool, arguments)
            written.append(result.model_dump_json())
        written.append(served.stderr())
    written.append(audit.read_text())
    everything = "\n".join(written)
    assert "sign_into_os" in everything and "HTTP 500" in everything  # the calls really happened
    for secret in SECRET_MARKERS:
        assert secret not in everything, secret
