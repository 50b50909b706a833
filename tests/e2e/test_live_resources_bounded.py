"""Live resources are bounded and tied to their session (issue 18 item 4).

In memory (the SDK's `Client(server)`) where the MCP layer is the subject; a real `pieces-mcp serve` process where
the process's own descriptors or memory are. PiecesOS is the simulator, or a hostile one (tests/hostile_streams.py).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from websockets.asyncio.server import ServerConnection

from pieces_mcp.catalog import TOOLSETS
from pieces_mcp.config import Settings
from pieces_mcp.http_transport import PATH, listen, serve_http
from pieces_mcp.live import MAX_SUBSCRIBERS, NOTIFY_INTERVAL_S, STREAM_MESSAGE_BYTES
from pieces_mcp.mcp_adapter import build_server
from tests.hostile_streams import hostile_piecesos, migration, stay_silent
from tests.support import SERVER_COMMAND, RawServer, SimulatorProcess, Updates, server_env

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.timeout(120),
    pytest.mark.filterwarnings("ignore:resources/"),  # subscribe/unsubscribe: the handshake era's way
]

SETTINGS_URI = "pieces-os://os_settings_stream"
MIGRATION_URI = "pieces-os://stream_os_migration_status"
MiB = 1024 * 1024


def every_toolset(base_url: str) -> Settings:
    return Settings(base_url=base_url, toolsets=frozenset(TOOLSETS))


def open_descriptors(pid: int | str = "self") -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def descriptors_back_to(pid: int, baseline: int, timeout: float = 30) -> None:
    """Wait until the process holds no more descriptors than `baseline` (uvicorn closes a client's sockets
    once the client has closed them); fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while (now := open_descriptors(pid)) > baseline:
        assert time.monotonic() < deadline, f"{now} descriptors open, {baseline} before the session"
        time.sleep(0.05)


async def test_two_subscribes_sent_together_make_one_feed_and_unsubscribe_stops_it(
    simulator: SimulatorProcess,
) -> None:
    updates = Updates()
    async with Client(build_server(every_toolset(simulator.url)), mode="legacy", message_handler=updates) as client:
        async with anyio.create_task_group() as together:
            for _ in range(2):
                together.start_soon(client.subscribe_resource, SETTINGS_URI)  # type: ignore[deprecated]
        await client.unsubscribe_resource(SETTINGS_URI)  # type: ignore[deprecated]
        async with httpx.AsyncClient() as http:
            (await http.post(f"{simulator.url}/os/settings/update", json={"autoboot": True})).raise_for_status()
        # A later change on another resource arrives: the settings change, made before it, would have too.
        await client.subscribe_resource(MIGRATION_URI)  # type: ignore[deprecated]
        simulator.control("migration", {"status": "MIGRATING", "overallProgressPercentage": 10})
        with anyio.fail_after(20):
            await updates.event(MIGRATION_URI).wait()
    assert updates.uris == [MIGRATION_URI]


async def test_listen_streams_share_one_feed_and_one_past_the_cap_is_refused_with_a_sentence(
    simulator: SimulatorProcess,
) -> None:
    async with Client(build_server(every_toolset(simulator.url))) as client, anyio.create_task_group() as streams:
        opened: list[int] = []
        release = anyio.Event()

        async def listen(ready: anyio.Event) -> None:
            async with client.listen(resource_subscriptions=[MIGRATION_URI]):
                ready.set()
                await release.wait()

        for _ in range(MAX_SUBSCRIBERS):
            ready = anyio.Event()
            streams.start_soon(listen, ready)
            with anyio.fail_after(20):
                await ready.wait()
            opened.append(open_descriptors())
        with pytest.raises(MCPError, match=f"already follows {MAX_SUBSCRIBERS} subscribers .*its limit; end one"):
            async with client.listen(resource_subscriptions=[MIGRATION_URI]):
                pass
        release.set()
    # One WebSocket to PiecesOS for the first stream; none for each stream after it.
    assert opened[1:] == [opened[0]] * (MAX_SUBSCRIBERS - 1)


async def test_a_stream_that_changes_on_every_message_makes_a_few_notifications() -> None:
    flood = 5_000
    sent = threading.Event()

    async def send(connection: ServerConnection) -> None:
        if sent.is_set():  # the reconnection after the flood: every message of it was read
            return
        for index in range(flood):
            await connection.send(migration(index / flood))
        sent.set()
        await connection.close()

    updates = Updates()
    with hostile_piecesos(send) as hostile:
        server = build_server(Settings(base_url=hostile.url))
        async with Client(server, mode="legacy", message_handler=updates) as client:
            await client.subscribe_resource(MIGRATION_URI)  # type: ignore[deprecated]
            await anyio.to_thread.run_sync(hostile.wait_for, lambda seen: seen.opened >= 2)
            with anyio.fail_after(20):
                await updates.event(MIGRATION_URI).wait()
            told = len(updates.uris)
    # One notification per NOTIFY_INTERVAL_S at most: reading 5,000 messages takes seconds, not 50 intervals.
    assert 1 <= told <= flood // 100, (told, NOTIFY_INTERVAL_S)


def peak_memory(pid: int) -> int:
    """The process's peak resident memory so far (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc/<pid>/status")


def test_a_stream_of_huge_messages_keeps_the_server_within_a_hundred_mib() -> None:
    """Messages just under the old 8 MiB limit, costly to read, as fast as the socket takes them."""
    huge = migration(0.5, padding=(8 * MiB - 4096) // 2)
    assert STREAM_MESSAGE_BYTES < len(huge) < 8 * MiB

    async def send(connection: ServerConnection) -> None:
        for _ in range(40):
            await connection.send(huge)

    with hostile_piecesos(send) as hostile:
        server = RawServer(hostile.url)
        try:
            server.initialize()
            baseline = peak_memory(server.process.pid)
            answer = server.request("resources/subscribe", {"uri": MIGRATION_URI})
            assert "result" in answer, answer
            # Until the first connection's 40 messages were all taken, or refused.
            hostile.wait_for(lambda seen: seen.sent >= 1, timeout=60)
            grown = peak_memory(server.process.pid) - baseline
            assert server.call("os_device_information", {}).get("result") is not None  # and it still answers
        finally:
            server.close()
    assert grown < 100 * MiB, f"peak memory grew {grown / MiB:.0f} MiB"


def served_over_http(base_url: str) -> tuple[subprocess.Popen[str], str, str]:
    """`pieces-mcp serve --transport http` on a free port; its process, URL and token."""
    token = "t" * 40
    process = subprocess.Popen(
        [*SERVER_COMMAND, "serve", "--transport", "http", "--port", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=server_env(base_url, PIECES_MCP_HTTP_TOKEN=token),
    )
    assert process.stderr is not None
    for line in process.stderr:
        if "Streamable HTTP on " in line:
            return process, line.split("Streamable HTTP on ", 1)[1].strip(), token
    raise AssertionError("the HTTP server never said where it listens")


async def test_a_deleted_http_session_closes_what_it_followed_and_descriptors_return_to_baseline() -> None:
    with hostile_piecesos(stay_silent) as hostile:
        process, url, token = served_over_http(hostile.url)
        try:
            assert process.stderr is not None
            threading.Thread(target=process.stderr.read, daemon=True).start()  # keep its pipe from filling
            baseline = open_descriptors(process.pid)
            headers = {"Authorization": f"Bearer {token}"}
            async with (
                httpx2.AsyncClient(headers=headers) as http,
                Client(streamable_http_client(url, http_client=http), mode="legacy") as client,
            ):
                await client.subscribe_resource(MIGRATION_URI)  # type: ignore[deprecated]
                await anyio.to_thread.run_sync(hostile.wait_for, lambda seen: seen.open_now == 1)
            # Leaving the client deleted its session (DELETE with its Mcp-Session-Id).
            await anyio.to_thread.run_sync(hostile.wait_for, lambda seen: seen.open_now == 0)
            await anyio.to_thread.run_sync(descriptors_back_to, process.pid, baseline)
        finally:
            process.terminate()
            process.wait(timeout=10)


async def test_an_http_session_left_without_a_delete_expires_and_closes_what_it_followed() -> None:
    """In process, with a short idle timeout: a client that goes away without deleting its session."""
    idle_s = 1.0  # long enough for the client's requests to follow one another without a pause that long
    with hostile_piecesos(stay_silent) as hostile:
        listener = listen(0)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}{PATH}"
        token = "t" * 40
        async with anyio.create_task_group() as serving:
            serving.start_soon(serve_http, build_server(Settings(base_url=hostile.url)), listener, token, idle_s)
            async with (
                httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http,
                Client(
                    streamable_http_client(url, http_client=http, terminate_on_close=False), mode="legacy"
                ) as client,
            ):
                await client.subscribe_resource(MIGRATION_URI)  # type: ignore[deprecated]
                await anyio.to_thread.run_sync(hostile.wait_for, lambda seen: seen.open_now == 1)
            await anyio.to_thread.run_sync(hostile.wait_for, lambda seen: seen.open_now == 0)
            serving.cancel_scope.cancel()


async def test_a_closed_connection_leaves_no_descriptor_open(simulator: SimulatorProcess) -> None:
    baseline = open_descriptors()
    async with Client(build_server(every_toolset(simulator.url)), mode="legacy") as client:
        for resource in (await client.list_resources()).resources:
            await client.subscribe_resource(str(resource.uri))  # type: ignore[deprecated]
        assert open_descriptors() > baseline
    assert open_descriptors() <= baseline
