"""Every listed resource can be subscribed to, and is told of its changes (issue 21 item 6).

The server knows a resource changed after its own calls (each catalog entry names what its success changes),
and when a PiecesOS stream says so; the signed-in user is live through `/user/stream`. In memory, the SDK's
`Client(server)` against the simulator.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.shared.subscriptions import ResourceUpdated

from pieces_mcp.catalog import CATALOG, LIVE, TOOLSETS, Endpoint
from pieces_mcp.config import ConfirmMode, Settings
from pieces_mcp.mcp_adapter import RESOURCE_SCHEME, build_server
from tests.support import SimulatorProcess, Updates

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.timeout(90),
    pytest.mark.filterwarnings("ignore:resources/"),  # subscribe/unsubscribe: the handshake era's way
]

CHANGING = [endpoint for endpoint in CATALOG if endpoint.changes]


def every_toolset(base_url: str) -> Settings:
    return Settings(base_url=base_url, toolsets=frozenset(TOOLSETS), confirm=ConfirmMode.ALLOW)


def uri(name: str) -> str:
    return f"{RESOURCE_SCHEME}://{name}"


def arguments(endpoint: Endpoint) -> dict[str, Any]:
    """Arguments the tool accepts, from its own schema: every flag on, each choice its first value."""
    chosen: dict[str, Any] = {}
    for name, field in endpoint.input_schema().get("properties", {}).items():
        types_of = {option.get("type") for option in field.get("anyOf", [field])}
        if "enum" in field:
            chosen[name] = field["enum"][0]
        elif "boolean" in types_of:
            chosen[name] = True
    return chosen


async def test_every_listed_resource_can_be_subscribed_to_in_the_handshake_era(
    any_simulator: SimulatorProcess,
) -> None:
    """In every generation; a stream that generation lacks says so, and its snapshot is still followed."""
    lacking = {uri(live.name) for live in LIVE if not live.since.exists_in(any_simulator.api)}  # type: ignore[arg-type]
    refused: list[str] = []
    async with Client(build_server(every_toolset(any_simulator.url)), mode="legacy") as client:
        listed = [str(resource.uri) for resource in (await client.list_resources()).resources]
        for each in listed:
            try:
                await client.subscribe_resource(each)  # type: ignore[deprecated]
            except MCPError as error:
                assert "update PiecesOS" in error.error.message, error.error.message
                refused.append(each)
    assert sorted(refused) == sorted(lacking) and len(listed) == len({*listed})


async def test_every_listed_resource_can_be_followed_by_one_listen_stream(simulator: SimulatorProcess) -> None:
    async with Client(build_server(every_toolset(simulator.url))) as client:
        listed = [str(resource.uri) for resource in (await client.list_resources()).resources]
        async with client.listen(resource_subscriptions=listed) as subscription:
            assert sorted(subscription.honored.resource_subscriptions or ()) == sorted(listed)


@pytest.mark.parametrize("endpoint", CHANGING, ids=[endpoint.name for endpoint in CHANGING])
async def test_a_successful_call_tells_the_subscribers_of_what_its_entry_changes(
    simulator: SimulatorProcess, endpoint: Endpoint
) -> None:
    updates = Updates()
    server = build_server(every_toolset(simulator.url))
    async with Client(server, mode="legacy", message_handler=updates) as client:
        for changed in endpoint.changes:
            await client.subscribe_resource(uri(changed))  # type: ignore[deprecated]
        result = await client.call_tool(endpoint.name, arguments(endpoint))
        assert not result.is_error, result.content
        await updates.wait_for(*(uri(changed) for changed in endpoint.changes))


async def test_a_call_that_fails_tells_nobody(simulator: SimulatorProcess) -> None:
    """link_provider fails while nobody is signed in: who is signed in did not change."""
    simulator.state(signed_in=False)
    updates = Updates()
    async with Client(build_server(every_toolset(simulator.url)), mode="legacy", message_handler=updates) as client:
        await client.subscribe_resource(uri("user_snapshot"))  # type: ignore[deprecated]
        await client.subscribe_resource(uri("stream_os_migration_status"))  # type: ignore[deprecated]
        link = next(endpoint for endpoint in CHANGING if endpoint.name == "link_provider")
        assert (await client.call_tool(link.name, arguments(link))).is_error
        simulator.control("migration", {"status": "MIGRATING", "overallProgressPercentage": 10})
        await updates.wait_for(uri("stream_os_migration_status"))  # told later than the call's would have been
    assert updates.uris == [uri("stream_os_migration_status")]


def signed_in_user(text: str) -> Any:
    return json.loads(text).get("user")


@pytest.mark.parametrize("era", ["legacy", "listen"])
async def test_the_signed_in_user_is_live_from_the_user_stream_in_every_generation(
    any_simulator: SimulatorProcess, era: str
) -> None:
    """Signing out outside this server (another Pieces app, an update): PiecesOS's user stream tells it."""
    user = next(live for live in LIVE if live.path == "/user/stream")
    followed = [uri("user_snapshot"), uri(user.name)]
    updates = Updates()
    server = build_server(every_toolset(any_simulator.url))
    async with Client(server, mode="legacy" if era == "legacy" else "auto", message_handler=updates) as client:

        async def follow_and_sign_out() -> None:
            read = await client.read_resource(uri("user_snapshot"))
            assert isinstance(read.contents[0], types.TextResourceContents)
            assert signed_in_user(read.contents[0].text) is not None
            any_simulator.state(signed_in=False)
            await updates.wait_for(*followed)

        if era == "legacy":
            for each in followed:
                await client.subscribe_resource(each)  # type: ignore[deprecated]
            await follow_and_sign_out()
        else:
            async with (
                client.listen(resource_subscriptions=followed) as subscription,
                anyio.create_task_group() as relay,
            ):

                async def relay_events() -> None:
                    async for event in subscription:
                        if isinstance(event, ResourceUpdated):
                            updates.record(event.uri)

                relay.start_soon(relay_events)
                await follow_and_sign_out()
                relay.cancel_scope.cancel()
        read = await client.read_resource(uri("user_snapshot"))
    assert isinstance(read.contents[0], types.TextResourceContents)
    assert signed_in_user(read.contents[0].text) is None
