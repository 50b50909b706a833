"""End to end, `--toolsets all`: every operation added after the seed, the user tool, the guard on each new
guarded tool, and the live resources in both protocol eras, through the real `pieces-mcp serve` over stdio."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import httpx
import mcp_types as types
import pytest
from mcp.client.context import ClientRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types import ElicitRequestParams, ElicitResult

from pieces_mcp.catalog import CATALOG
from pieces_mcp.models.files import FileContents
from pieces_mcp.simulator import SECRET_MARKERS
from tests.support import SimulatorProcess, serve, structured, text_of

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

EVERY_SET = {"PIECES_MCP_TOOLSETS": "all"}
ALLOW_ALL = {**EVERY_SET, "PIECES_MCP_CONFIRM": "allow"}
NEW = [endpoint for endpoint in CATALOG if endpoint.toolset != "os"]
NEW_GUARDED = [endpoint for endpoint in NEW if endpoint.guarded]
ERAS = ["legacy", "auto"]


def arguments_for(folder: Path) -> dict[str, dict[str, Any]]:
    """Each tool added after the seed with its catalog entry's first example, its files in `folder`."""
    return {endpoint.name: endpoint.examples[0].filled(str(folder)) for endpoint in NEW}


def give_files(simulator: SimulatorProcess, folder: Path) -> Path:
    (folder / "note.md").write_text("Ship the toolsets on Friday.\n", encoding="utf-8")
    simulator.control("files", {"root": str(folder)})
    return folder / "note.md"


def simulator_state(simulator: SimulatorProcess) -> dict[str, Any]:
    state: dict[str, Any] = httpx.get(f"{simulator.url}/_simulator/state", timeout=5).json()
    return state


async def test_the_default_list_is_the_seeds_ten_and_all_lists_every_tool(simulator: SimulatorProcess) -> None:
    async with serve(simulator.url) as served:
        default = [tool.name for tool in (await served.client.list_tools()).tools]
    async with serve(simulator.url, args=("--toolsets", "all")) as served:
        every = [tool.name for tool in (await served.client.list_tools()).tools]
    assert default == [endpoint.name for endpoint in CATALOG if endpoint.toolset == "os"]
    assert every == [endpoint.name for endpoint in CATALOG]


@pytest.mark.parametrize("mode", ERAS)
async def test_every_new_tool_answers_end_to_end(simulator: SimulatorProcess, mode: str, tmp_path: Path) -> None:
    note = give_files(simulator, tmp_path)
    results: dict[str, dict[str, Any]] = {}
    async with serve(simulator.url, mode=mode, **ALLOW_ALL) as served:
        for name, arguments in arguments_for(tmp_path).items():
            results[name] = structured(await served.client.call_tool(name, arguments))
            simulator.ensure_running()  # PiecesOS started again, if the tool quit it (os_terminate)

    assert results["os_filesystem_path_verify"] == {
        "path": str(note),
        "verified": True,
        "file": True,
        "directory": False,
        "bytes": {"value": 29, "readable": "29 B"},
    }
    assert results["os_filesystem_file_read_streamed"] == {
        "path": str(note),
        "status": "COMPLETED",
        "text": "Ship the toolsets on Friday.\n",
        "size": 29,
        "truncated": False,
    }
    assert results["os_settings_snapshot"] == {"autoboot": False}
    assert results["os_settings_update"] == {"autoboot": True}
    assert results["os_applet_launch"]["type"] == "COPILOT" and results["os_applet_launch"]["port"] > 0
    assert results["os_applet_restart"]["port"] == results["os_applet_launch"]["port"]
    assert results["user_snapshot"]["user"]["email"]
    for accepted in ("os_filesystem_file_open", "os_browser_url_open", "os_memory_optimize", "os_terminate"):
        assert results[accepted] == {"accepted": True}
    assert [call["body"] for call in simulator.os_calls("/os/filesystem/file/open")] == [str(note)]
    assert [call["body"] for call in simulator.os_calls("/os/browser/url/open")] == ["https://docs.pieces.app/"]
    assert simulator_state(simulator)["nano_models_prepared"] is True


async def test_a_file_past_the_cap_is_cut_and_the_answer_says_so(simulator: SimulatorProcess, tmp_path: Path) -> None:
    big = tmp_path / "big.log"
    big.write_bytes(b"x" * (FileContents.LIMIT + 5000))
    simulator.control("files", {"root": str(tmp_path)})
    async with serve(simulator.url, **ALLOW_ALL) as served:
        result = await served.client.call_tool("os_filesystem_file_read_streamed", {"path": str(big)})
    data = structured(result)
    assert data["truncated"] is True and data["size"] > FileContents.LIMIT
    assert len(data["text"]) == FileContents.LIMIT
    assert "the rest was cut" in text_of(result)


async def test_reading_a_file_the_simulator_does_not_serve_says_why(simulator: SimulatorProcess) -> None:
    async with serve(simulator.url, **ALLOW_ALL) as served:
        result = await served.client.call_tool("os_filesystem_file_read_streamed", {"path": "/etc/hostname"})
    assert result.is_error and "serves no files" in text_of(result)


async def test_a_relative_path_is_refused_before_piecesos_is_asked(simulator: SimulatorProcess) -> None:
    async with serve(simulator.url, **ALLOW_ALL) as served:
        result = await served.client.call_tool("os_filesystem_path_verify", {"path": "notes.md"})
    assert result.is_error and "absolute path" in text_of(result)
    assert simulator.os_calls("/os/filesystem/path/verify") == []


async def test_only_web_addresses_can_be_opened(simulator: SimulatorProcess) -> None:
    async with serve(simulator.url, **ALLOW_ALL) as served:
        result = await served.client.call_tool("os_browser_url_open", {"url": "file:///etc/passwd"})
    assert result.is_error and "http:// or https://" in text_of(result)
    assert simulator.os_calls("/os/browser/url/open") == []


async def test_the_user_tool_and_resource_carry_identity_only(simulator: SimulatorProcess) -> None:
    async with serve(simulator.url, **EVERY_SET) as served:
        result = await served.client.call_tool("user_snapshot", {})
        resource = await served.client.read_resource("pieces-os://user_snapshot")
        simulator.state(signed_in=False)
        signed_out = structured(await served.client.call_tool("user_snapshot", {}))
    user = structured(result)["user"]
    assert set(user) <= {"id", "email", "name", "username", "vanityname", "picture", "created", "updated", "providers"}
    contents = resource.contents[0]
    assert isinstance(contents, types.TextResourceContents) and json.loads(contents.text)["user"] == user
    leaked = [marker for marker in SECRET_MARKERS if marker in text_of(result) or marker in contents.text]
    assert leaked == []
    assert signed_out == {}


async def test_after_terminate_piecesos_is_gone_until_it_is_started_again(simulator: SimulatorProcess) -> None:
    async with serve(simulator.url, **ALLOW_ALL) as served:
        assert structured(await served.client.call_tool("os_terminate", {})) == {"accepted": True}
        gone = await served.client.call_tool("os_settings_snapshot", {})
        simulator.launch()
        back = await served.client.call_tool("os_settings_snapshot", {})
    # A quit process refuses connections: "not running" at once, naming the tool that starts it.
    assert gone.is_error and "not running" in text_of(gone) and "open_pieces_os" in text_of(gone)
    assert structured(back) == {"autoboot": False}


# --- the guard on every new guarded tool --------------------------------------------------------


def declining(asked: list[str]) -> Callable[[ClientRequestContext, ElicitRequestParams], Any]:
    async def answer(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="decline")

    return answer


@pytest.mark.parametrize("endpoint", NEW_GUARDED, ids=lambda endpoint: endpoint.name)
async def test_a_declined_new_guarded_tool_never_reaches_piecesos(
    simulator: SimulatorProcess, endpoint: Any, tmp_path: Path
) -> None:
    give_files(simulator, tmp_path)
    asked: list[str] = []
    arguments = arguments_for(tmp_path)[endpoint.name]
    async with serve(simulator.url, elicitation_callback=declining(asked), **EVERY_SET) as served:
        result = await served.client.call_tool(endpoint.name, arguments)
    assert result.is_error and "declined" in text_of(result)
    assert simulator.os_calls(endpoint.path_for("current")) == []
    [question] = asked
    assert endpoint.consequence in question
    if "path" in arguments:  # the person sees which file before anything is opened or read
        assert arguments["path"] in question


# --- live resources -----------------------------------------------------------------------------

LIVE_CHANGES: dict[str, Callable[[SimulatorProcess], None]] = {
    "pieces-os://os_update_check_stream": lambda simulator: simulator.state(update_status="DOWNLOADING"),
    "pieces-os://stream_os_migration_status": lambda simulator: simulator.control(
        "migration", {"status": "MIGRATING", "overallProgressPercentage": 10}
    ),
    "pieces-os://os_settings_stream": lambda simulator: httpx.post(
        f"{simulator.url}/os/settings/update", json={"autoboot": True}, timeout=5
    ).raise_for_status(),
}


@pytest.mark.filterwarnings("ignore:resources/subscribe is removed as of 2026-07-28")  # it is this era's way
@pytest.mark.parametrize("uri", sorted(LIVE_CHANGES))
async def test_a_subscribed_live_resource_reports_a_change_in_the_handshake_era(
    simulator: SimulatorProcess, uri: str
) -> None:
    updated: list[str] = []
    arrived = anyio.Event()

    async def on_message(message: Any) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            updated.append(str(message.params.uri))
            arrived.set()

    async with serve(simulator.url, mode="legacy", message_handler=on_message, **EVERY_SET) as served:
        await served.client.subscribe_resource(uri)  # type: ignore[deprecated]
        LIVE_CHANGES[uri](simulator)
        with anyio.fail_after(10):
            await arrived.wait()
    assert updated == [uri]


@pytest.mark.parametrize("uri", sorted(LIVE_CHANGES))
async def test_a_listened_live_resource_reports_a_change_in_the_2026_era(simulator: SimulatorProcess, uri: str) -> None:
    async with (
        serve(simulator.url, mode="auto", **EVERY_SET) as served,
        served.client.listen(resource_subscriptions=[uri]) as subscription,
    ):
        LIVE_CHANGES[uri](simulator)
        with anyio.fail_after(10):
            event = await subscription.__anext__()
    assert getattr(event, "uri", None) == uri


@pytest.mark.parametrize("mode", ERAS)
async def test_a_live_resource_reads_its_current_state(simulator: SimulatorProcess, mode: str) -> None:
    simulator.control("migration", {"status": "MIGRATING", "overallProgressPercentage": 55})
    async with serve(simulator.url, mode=mode, **EVERY_SET) as served:
        migration = await served.client.read_resource("pieces-os://stream_os_migration_status")
        settings = await served.client.read_resource("pieces-os://os_settings_stream")
    first, second = migration.contents[0], settings.contents[0]
    assert isinstance(first, types.TextResourceContents) and isinstance(second, types.TextResourceContents)
    assert json.loads(first.text)["overallProgressPercentage"] == 55
    assert json.loads(second.text) == {"autoboot": False}


# --- a download followed through progress notifications ------------------------------------------


@pytest.mark.parametrize("mode", ERAS)
async def test_update_check_can_follow_a_download_reporting_its_progress(
    simulator: SimulatorProcess, mode: str
) -> None:
    simulator.state(update_status="DOWNLOADING", update_download_ms=60_000)  # it stays under way until told
    reported: list[tuple[float, str | None]] = []
    first_report = anyio.Event()

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        reported.append((progress, message))
        first_report.set()

    async def finish_the_download() -> None:
        await first_report.wait()
        await anyio.to_thread.run_sync(lambda: simulator.state(update_status="READY_TO_RESTART"))

    async with serve(simulator.url, mode=mode, PIECES_MCP_TIMEOUT="20") as served, anyio.create_task_group() as tasks:
        tasks.start_soon(finish_the_download)
        result = await served.client.call_tool(
            "os_update_check", {"follow_download": True}, progress_callback=on_progress
        )
    assert structured(result)["status"] == "READY_TO_RESTART"
    progress, message = reported[0]
    assert 0 <= progress < 100 and message == f"Downloading the PiecesOS update: {progress:.0f}%"
    assert [value for value, _ in reported] == sorted({value for value, _ in reported})  # rising, no repeats


async def test_update_check_without_following_answers_at_once(simulator: SimulatorProcess) -> None:
    simulator.state(update_status="DOWNLOADING")
    async with serve(simulator.url) as served:
        result = await served.client.call_tool("os_update_check", {})
    assert structured(result)["status"] == "DOWNLOADING"


@pytest.mark.filterwarnings("ignore:resources/")
async def test_after_unsubscribing_no_more_updates_come(simulator: SimulatorProcess) -> None:
    updated: list[str] = []
    migration_seen = anyio.Event()
    settings_uri, migration_uri = "pieces-os://os_settings_stream", "pieces-os://stream_os_migration_status"

    async def on_message(message: Any) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            updated.append(str(message.params.uri))
            if str(message.params.uri) == migration_uri:
                migration_seen.set()

    async with serve(simulator.url, mode="legacy", message_handler=on_message, **EVERY_SET) as served:
        await served.client.subscribe_resource(settings_uri)  # type: ignore[deprecated]
        await served.client.unsubscribe_resource(settings_uri)  # type: ignore[deprecated]
        LIVE_CHANGES[settings_uri](simulator)
        # A later change on another resource arrives: the settings change, pushed before it, would have too.
        await served.client.subscribe_resource(migration_uri)  # type: ignore[deprecated]
        LIVE_CHANGES[migration_uri](simulator)
        with anyio.fail_after(10):
            await migration_seen.wait()
    assert updated == [migration_uri]


@pytest.mark.filterwarnings("ignore:resources/")
async def test_only_listed_resources_can_be_subscribed_to(simulator: SimulatorProcess) -> None:
    async with serve(simulator.url, mode="legacy", **EVERY_SET) as served:
        with pytest.raises(MCPError, match="cannot be subscribed to"):
            await served.client.subscribe_resource("pieces-os://os_nothing_here")  # type: ignore[deprecated]
