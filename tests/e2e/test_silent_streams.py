"""Streams as PiecesOS may send them: the vendor never says whether the settings and migration streams send the
current state on connect, so the simulator does either per stream, and reading and following work with both."""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx
import mcp_types as types
import pytest

from tests.support import SimulatorProcess, serve

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.timeout(90),
    pytest.mark.filterwarnings("ignore:resources/"),  # subscribe is this era's way
]

EVERY_SET = ("--toolsets", "all")
MIGRATION = "pieces-os://stream_os_migration_status"
SETTINGS = "pieces-os://os_settings_stream"
STREAM_OF = {MIGRATION: "stream_os_migration_status", SETTINGS: "os_settings_stream"}


def change(simulator: SimulatorProcess, uri: str) -> None:
    if uri == MIGRATION:
        simulator.control("migration", {"status": "MIGRATING", "overallProgressPercentage": 10})
    else:
        httpx.post(f"{simulator.url}/os/settings/update", json={"autoboot": True}, timeout=5).raise_for_status()


def text_of_resource(result: types.ReadResourceResult) -> dict[str, Any]:
    contents = result.contents[0]
    assert isinstance(contents, types.TextResourceContents)
    read: dict[str, Any] = json.loads(contents.text)
    return read


@pytest.mark.parametrize("snapshot", [False, True], ids=["silent on connect", "snapshot on connect"])
async def test_reading_the_migration_stream_answers_within_the_limit(
    simulator: SimulatorProcess, snapshot: bool
) -> None:
    simulator.state(snapshot_on_connect={"stream_os_migration_status": snapshot})
    async with serve(simulator.url, args=EVERY_SET, PIECES_MCP_TIMEOUT="2") as served:
        # An answer within --timeout, not an error at it ("did not finish within 2 s").
        read = text_of_resource(await served.client.read_resource(MIGRATION))
    if snapshot:
        assert read["status"] and "overallProgressPercentage" in read
    else:
        assert read["reported"] is False and read["note"].startswith("no status reported yet")


@pytest.mark.parametrize("snapshot", [False, True], ids=["silent on connect", "snapshot on connect"])
@pytest.mark.parametrize("uri", [MIGRATION, SETTINGS])
async def test_a_feed_reports_the_first_change_and_nothing_before_it(
    simulator: SimulatorProcess, uri: str, snapshot: bool
) -> None:
    simulator.state(snapshot_on_connect={STREAM_OF[uri]: snapshot})
    updated: list[str] = []
    arrived = anyio.Event()

    async def on_message(message: Any) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            updated.append(str(message.params.uri))
            arrived.set()

    async with serve(
        simulator.url, mode="legacy", message_handler=on_message, args=EVERY_SET, PIECES_MCP_TIMEOUT="2"
    ) as served:
        await served.client.subscribe_resource(uri)  # type: ignore[deprecated]
        before = list(updated)  # what came from subscribing alone: a snapshot on connect is not a change
        change(simulator, uri)
        with anyio.fail_after(10):
            await arrived.wait()
        read = text_of_resource(await served.client.read_resource(uri))
    assert before == [] and updated[0] == uri
    assert read.get("status") == "MIGRATING" if uri == MIGRATION else read == {"autoboot": True}
