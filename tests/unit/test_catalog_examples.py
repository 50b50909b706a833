"""Every catalog entry's examples, called through the MCP server (in memory) against the simulator: each keeps the
invariants `pieces_mcp.catalog.Example` states. No list of tool names here: a new entry is tested by being added.
"""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from pieces_mcp.catalog import CATALOG, Endpoint
from pieces_mcp.dispatch import parse_arguments
from tests.support import SimulatorProcess, serve, structured, text_of

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

EVERY_SET = {"PIECES_MCP_TOOLSETS": "all"}


def by_name(endpoint: Endpoint) -> str:
    return endpoint.name


def files_for(simulator: SimulatorProcess, folder: Path) -> str:
    """The folder the simulator serves files from, with the file every example names in it."""
    (folder / "note.md").write_text("Ship the toolsets on Friday.\n", encoding="utf-8")
    simulator.control("files", {"root": str(folder)})
    return str(folder)


@pytest.mark.parametrize("endpoint", CATALOG, ids=by_name)
def test_every_entry_has_examples_that_fit_its_strict_arguments(endpoint: Endpoint) -> None:
    assert endpoint.examples, f"{endpoint.name} has no examples: give its catalog entry `examples=(Example(...),)`"
    for example in endpoint.examples:
        parse_arguments(endpoint, example.filled("/tmp"))  # raises on an argument the tool does not take


@pytest.mark.parametrize("endpoint", CATALOG, ids=by_name)
async def test_each_example_reaches_its_own_path_and_answers_what_it_promises(
    endpoint: Endpoint, simulator: SimulatorProcess, tmp_path: Path
) -> None:
    files = files_for(simulator, tmp_path)
    simulator.state(restart_downtime_ms=0)
    async with serve(simulator.url, PIECES_MCP_CONFIRM="allow", **EVERY_SET) as served:
        listed = {tool.name: tool for tool in (await served.client.list_tools()).tools}
        results = [await served.client.call_tool(endpoint.name, example.filled(files)) for example in endpoint.examples]
    simulator.ensure_running()  # a call that quit PiecesOS (os_terminate) closed its port: start it again
    for example, result in zip(endpoint.examples, results, strict=True):
        answer = structured(result)
        jsonschema.validate(answer, listed[endpoint.name].output_schema or {})
        missing = [key for key in example.answer_has if key not in answer]
        assert not missing, f"{endpoint.name}'s answer lacks {missing}: {answer}"
    reached = {call["path"] for call in simulator.calls()}
    assert reached <= {endpoint.path_for("current")}, f"{endpoint.name} reached {reached}"
    if endpoint.path_for("current").startswith("/os/"):  # the simulator logs its OS paths
        assert reached == {endpoint.path_for("current")}


@pytest.mark.parametrize("endpoint", [endpoint for endpoint in CATALOG if endpoint.guarded], ids=by_name)
async def test_a_refused_guarded_example_never_reaches_piecesos(
    endpoint: Endpoint, simulator: SimulatorProcess, tmp_path: Path
) -> None:
    files = files_for(simulator, tmp_path)
    async with serve(simulator.url, PIECES_MCP_CONFIRM="deny", **EVERY_SET) as served:
        result = await served.client.call_tool(endpoint.name, endpoint.examples[0].filled(files))
    assert result.is_error and f"{endpoint.name} did not run" in text_of(result), text_of(result)
    assert simulator.calls() == []
