"""The exchanges entries name, the one failure translator, and the one budget a call carries (budget.py)."""

from __future__ import annotations

import ast
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from pieces_mcp.budget import Budget
from pieces_mcp.catalog import BY_NAME, CATALOG, Exchange, Wait
from pieces_mcp.client import PiecesOS
from pieces_mcp.config import Settings
from pieces_mcp.errors import BadStatusError, NotRunningError
from pieces_mcp.exchanges import EXCHANGES
from pieces_mcp.exchanges.download import NO_STREAM_NOTE
from pieces_mcp.exchanges.streams import open_stream
from pieces_mcp.models.os_tools import UpdateCheckInput, UpdateStatus
from tests.support import raw_http_answer

pytestmark = pytest.mark.anyio
PACKAGE = Path(__file__).resolve().parents[2] / "pieces_mcp"


def test_every_exchange_an_entry_can_name_has_its_object() -> None:
    assert set(EXCHANGES) == set(Exchange)
    assert {entry.exchange for entry in CATALOG} <= set(EXCHANGES)


def imported_by(module: Path) -> set[str]:
    """The pieces_mcp modules `module` imports, at any depth of its code (TYPE_CHECKING blocks included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pieces_mcp"):
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names if alias.name.startswith("pieces_mcp")}
    return names


def test_the_exchanges_sit_below_the_client_and_the_client_below_live() -> None:
    above = {"pieces_mcp.client", "pieces_mcp.live", "pieces_mcp.dispatch", "pieces_mcp.mcp_adapter"}
    for module in sorted((PACKAGE / "exchanges").glob("*.py")):
        assert not imported_by(module) & above, f"{module.name} imports a module above the exchanges"
    assert "pieces_mcp.live" not in imported_by(PACKAGE / "client.py")


@pytest.mark.parametrize("module", ["client.py", "dispatch.py"])
def test_the_generic_path_never_asks_which_tool_it_runs(module: str) -> None:
    source = (PACKAGE / module).read_text(encoding="utf-8")
    named = [entry.name for entry in CATALOG if entry.name in source]
    models = [entry.input_model.__name__ for entry in CATALOG if entry.input_model.__name__ in source]
    assert named == [] and [model for model in models if model not in ("ToolInput",)] == []
    assert "isinstance(arguments" not in source and ".restarts" not in source and ".websocket" not in source


# --- one translator --------------------------------------------------------------------------------------


async def test_http_and_websocket_refusals_are_the_same_sentence() -> None:
    with raw_http_answer(200, "OK") as url:
        closed = url  # the listener closes when the block ends: nothing answers there any more
    settings = Settings(base_url=closed)
    async with httpx.AsyncClient() as http:
        pieces = PiecesOS(settings, http)
        with pytest.raises(NotRunningError) as over_http:
            await pieces.call(BY_NAME["os_permissions"], BY_NAME["os_permissions"].input_model())
        with pytest.raises(NotRunningError) as over_websocket:
            await open_stream(pieces, "/os/settings/stream", "the os_settings_stream stream", 2)
    assert over_http.value.message == over_websocket.value.message
    assert "open_pieces_os" in over_http.value.message


async def test_http_and_websocket_statuses_are_the_same_sentence() -> None:
    with raw_http_answer(404, "Not Found", b"Route not found") as url:
        async with httpx.AsyncClient() as http:
            pieces = PiecesOS(Settings(base_url=url), http)
            with pytest.raises(BadStatusError) as over_http:
                await pieces.send("GET", "/os/settings", None, "the stream")
            with pytest.raises(BadStatusError) as over_websocket:
                await open_stream(pieces, "/os/settings", "the stream", 2)
    assert over_http.value.status == over_websocket.value.status == 404
    assert over_http.value.message == over_websocket.value.message


# --- a PiecesOS without the update stream (the seed, before client 2.3.0) ------------------------------


async def test_following_a_download_where_there_is_no_update_stream_answers_the_status_with_a_note() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"status": "DOWNLOADING"})

    with raw_http_answer(404, "Not Found", b"Route not found") as url:  # where the WebSocket goes
        http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
        pieces = PiecesOS(Settings(base_url=url), http)
        result = await pieces.call(BY_NAME["os_update_check"], UpdateCheckInput(follow_download=True))
    assert isinstance(result, UpdateStatus) and result.status == "DOWNLOADING"
    assert result.notes() == [NO_STREAM_NOTE]


# --- one budget per call ---------------------------------------------------------------------------------


def settings(**values: Any) -> Settings:
    return Settings(**values)


def test_a_picker_shares_one_interactive_timeout_between_confirming_and_picking() -> None:
    budget = Budget.for_call(Wait.INTERACTIVE, settings(interactive_timeout=300))
    deadline = budget.deadline
    assert budget.for_confirmation() <= 300
    budget.confirmed()  # the person answered: picking goes on with what is left, not a fresh 300 s
    assert budget.deadline == deadline and budget.which == "--interactive-timeout"


def test_an_ordinary_guarded_call_gets_its_own_limit_after_the_person_answered() -> None:
    budget = Budget.for_call(Wait.ORDINARY, settings(timeout=10, interactive_timeout=300))
    assert budget.for_confirmation() == 300  # the person's time, not the call's 10 s
    before = time.monotonic()
    budget.confirmed()
    assert before + 10 <= budget.deadline and budget.which == "--timeout"


def test_a_restart_or_a_launch_gets_the_timeout_plus_the_restart_timeout() -> None:
    budget = Budget.for_call(Wait.COMEBACK, settings(timeout=10, restart_timeout=60))
    assert budget.seconds == 70 and budget.which == "--timeout plus --restart-timeout"
    assert "may still be at the window" not in budget.expired("os_restart").message
    assert "may still be at the window" in Budget.for_call(Wait.INTERACTIVE, settings()).expired("pick").message
