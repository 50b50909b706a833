"""End to end: the MCP server through the SDK's in-memory client, a real simulator over loopback HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pieces_os_client.models.os_device_information_returnable import OSDeviceInformationReturnable
from pieces_os_client.models.os_permissions import OSPermissions
from pieces_os_client.models.os_server_update_status import OSServerUpdateStatus

from pieces_mcp.catalog import CATALOG as EVERY_TOOL
from pieces_mcp.discovery import Machine
from pieces_mcp.simulator import SECRET_MARKERS
from tests.support import SimulatorProcess, refused_ports, serve, structured, text_of

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

ALLOW_ALL = {"PIECES_MCP_CONFIRM": "allow"}
# The seed's ten, the default toolset; the others are exercised in test_full_api.py.
CATALOG = [endpoint for endpoint in EVERY_TOOL if endpoint.toolset == "os"]
# Arguments for each tool in a complete run: its catalog entry's first example.
ARGUMENTS: dict[str, dict[str, Any]] = {endpoint.name: endpoint.examples[0].filled("/tmp") for endpoint in CATALOG}


async def test_tools_list_has_schemas_titles_and_annotations(simulator: SimulatorProcess) -> None:
    async with serve(simulator.url, **ALLOW_ALL) as served:
        tools = {tool.name: tool for tool in (await served.client.list_tools()).tools}
    assert sorted(tools) == sorted(endpoint.name for endpoint in CATALOG)
    for endpoint in CATALOG:
        tool = tools[endpoint.name]
        assert tool.title == endpoint.title and tool.description == endpoint.description
        assert tool.input_schema["type"] == "object"
        assert tool.input_schema["additionalProperties"] is False
        assert tool.output_schema is not None and tool.output_schema["type"] == "object"
        annotations = tool.annotations
        assert annotations is not None
        assert annotations.read_only_hint is endpoint.read_only
        assert annotations.destructive_hint is endpoint.destructive
        assert annotations.idempotent_hint is endpoint.idempotent
        assert annotations.open_world_hint is endpoint.open_world
    assert tools["pick_files"].input_schema["properties"]["allowed_extensions"]["anyOf"][0]["type"] == "array"
    assert "type" in tools["link_provider"].input_schema["required"]


async def test_server_describes_itself(simulator: SimulatorProcess) -> None:
    async with serve(simulator.url) as served:
        assert served.client.server_info is not None and served.client.server_info.name == "pieces-os"
        assert served.client.instructions is not None and "PiecesOS" in served.client.instructions


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_every_tool_answers_in_every_api_generation(any_simulator: SimulatorProcess, mode: str) -> None:
    any_simulator.state(picked_files=["/home/ada/notes.py"], picked_folders=["/home/ada/src"], restart_downtime_ms=200)
    results: dict[str, dict[str, Any]] = {}
    async with serve(any_simulator.url, mode=mode, **ALLOW_ALL) as served:
        for name, arguments in ARGUMENTS.items():
            results[name] = structured(await served.client.call_tool(name, arguments))
            any_simulator.state(signed_in=True)  # whatever the tool did (sign_out_of_os), the next finds a user

    assert results["os_device_information"]["name"]
    # One normalised shape whichever generation answered: CPUs, GPUs and RAM are always there.
    hardware = results["os_device_information"]["hardware"]
    assert set(hardware) == {"cpus", "gpus", "ram"}
    assert hardware["cpus"][0]["name"] and hardware["gpus"][0]["name"] and hardware["ram"]["memory"] == 65536
    assert results["os_permissions_request"]["processing"]["vision"] is True
    assert results["os_update_check"]["status"] == "UP_TO_DATE"
    assert results["pick_files"] == {"paths": ["/home/ada/notes.py"], "total": 1, "truncated": False}
    assert results["pick_folders"]["paths"] == ["/home/ada/src"]
    assert results["sign_into_os"]["id"]
    assert any(p["type"] == "gitlab" for p in results["link_provider"]["user"]["providers"]["iterable"])
    assert isinstance(results["sign_out_of_os"]["iterable"], list)
    restart = results["os_restart"]
    assert restart["restarted"] and restart["back_online"] and restart["downtime_ms"] >= 150

    # What reached PiecesOS used its API names and the generation's own paths.
    picks = [call for call in any_simulator.calls() if call["path"].endswith("files/pick")]
    seed = picks[-1]["path"] == "/os/files/pick"
    extensions = ARGUMENTS["pick_files"]["allowed_extensions"]
    assert picks[-1]["body"] == {"allowedExtensions": extensions, **({} if seed else {"allowMultiple": True})}
    for secret in SECRET_MARKERS:
        assert secret not in repr(results)


async def test_read_results_parse_with_the_vendor_models(simulator: SimulatorProcess) -> None:
    async with serve(simulator.url) as served:
        device = structured(await served.client.call_tool("os_device_information", {}))
        permissions = structured(await served.client.call_tool("os_permissions", {}))
        update = structured(await served.client.call_tool("os_update_check", {}))
    assert OSDeviceInformationReturnable.from_dict(device).name == device["name"]  # type: ignore[union-attr]
    assert OSPermissions.from_dict(permissions) is not None
    assert OSServerUpdateStatus.from_dict(update).status.value == update["status"]  # type: ignore[union-attr]


async def test_a_bad_argument_is_a_plain_sentence(simulator: SimulatorProcess) -> None:
    async with serve(simulator.url, **ALLOW_ALL) as served:
        extra = await served.client.call_tool("pick_files", {"allow_multiple": True, "confirm": True})
        wrong = await served.client.call_tool("link_provider", {"type": "myspace"})
        missing = await served.client.call_tool("link_provider", {})
        good = await served.client.call_tool("os_permissions", {})
    assert extra.is_error and "unknown argument 'confirm'" in text_of(extra)
    assert wrong.is_error and text_of(wrong).startswith("Invalid arguments for link_provider: type:")
    assert missing.is_error and "type: Field required" in text_of(missing)
    assert not good.is_error
    assert simulator.os_calls("/os/filesystem/files/pick") == [] and simulator.os_calls("/os/link_provider") == []


async def test_serve_finds_a_piecesos_announced_only_by_its_port_file(
    simulator: SimulatorProcess, tmp_path: Path
) -> None:
    # The session simulator listens on a port the machine's discovery does not scan: only the port file can
    # point at it (the newest documented place on Linux, under XDG_DATA_HOME).
    with refused_ports(2) as ports:
        machine = Machine(tmp_path, {"XDG_DATA_HOME": str(tmp_path / "data")}, "linux", ports[:1], ports[1:])
        port_file = machine.port_files()[0]
        port_file.parent.mkdir(parents=True)
        port_file.write_text(simulator.url.rsplit(":", 1)[1])
        async with serve(None, machine=machine) as served:
            found = await served.client.call_tool("os_device_information", {})
    assert not found.is_error, text_of(found)
    assert simulator.os_calls("/os/device/information")
