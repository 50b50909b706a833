"""A PiecesOS without the update stream (the seed, before client 2.3.0): following a download answers the check's
status with a note that its progress cannot be followed there, instead of failing the whole call."""

from __future__ import annotations

import pytest

from pieces_mcp.exchanges.download import NO_STREAM_NOTE
from tests.support import SimulatorProcess, serve, structured

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def test_following_a_download_on_the_seed_answers_the_status_and_says_why_there_is_no_progress(
    _simulator_seed: SimulatorProcess,
) -> None:
    _simulator_seed.reset()
    _simulator_seed.state(update_status="DOWNLOADING", update_download_ms=60_000)
    async with serve(_simulator_seed.url) as served:
        result = await served.client.call_tool("os_update_check", {"follow_download": True})
    assert structured(result)["status"] == "DOWNLOADING"
    assert [block.text for block in result.content[1:]] == [NO_STREAM_NOTE]  # type: ignore[union-attr]
