"""The PiecesOS client against `httpx.MockTransport`: generations, error mapping, limits."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import httpx
import pytest

from pieces_mcp.catalog import BY_NAME
from pieces_mcp.client import MAX_BODY_BYTES, PiecesOS
from pieces_mcp.config import Settings
from pieces_mcp.errors import BadAnswerError, BadStatusError, ConnectionLostError, NotRunningError, TimedOutError
from pieces_mcp.models.base import EmptyBodyInput, NoArguments
from pieces_mcp.models.os_tools import FilePickerInput, PickedPaths, RestartOutcome, UpdateStatus

pytestmark = pytest.mark.anyio
BASE = "http://127.0.0.1:39300"


def pieces_with(handler: Callable[[httpx.Request], httpx.Response], **settings: float) -> PiecesOS:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return PiecesOS(Settings(base_url=BASE, **settings), http)  # type: ignore[arg-type]


async def test_moved_paths_fall_back_to_the_seed_generation_and_remember_it() -> None:
    seen: list[str] = []

    bodies: list[object] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        bodies.append(json.loads(request.content))
        if request.url.path == "/os/files/pick":
            return httpx.Response(200, json=["/tmp/a.py"])
        return httpx.Response(404, text="Not Found")

    pieces = pieces_with(handler)
    answer = await pieces.call(BY_NAME["pick_files"], FilePickerInput(allowed_extensions=["py"]))
    assert isinstance(answer, PickedPaths) and answer.paths == ["/tmp/a.py"]
    # v10 shares today's path: one try for both, then the seed's, with the seed's body (no allowMultiple).
    assert seen == ["/os/filesystem/files/pick", "/os/files/pick"]
    assert bodies == [{"allowMultiple": True, "allowedExtensions": ["py"]}, {"allowedExtensions": ["py"]}]
    await pieces.call(BY_NAME["pick_files"], FilePickerInput())
    assert seen[2:] == ["/os/files/pick"]  # remembered: no second 404
    assert pieces.generation == "seed"


async def test_request_bodies_use_the_api_names() -> None:
    bodies: list[object] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json=[])

    await pieces_with(handler).call(
        BY_NAME["pick_files"], FilePickerInput(allow_multiple=False, allowed_extensions=["md"])
    )
    assert bodies == [{"allowMultiple": False, "allowedExtensions": ["md"]}]


async def test_a_server_error_carries_status_and_piecesos_message() -> None:
    pieces = pieces_with(lambda request: httpx.Response(500, text="database is locked"))
    with pytest.raises(BadStatusError) as raised:
        await pieces.call(BY_NAME["os_update_check"], EmptyBodyInput())
    assert raised.value.status == 500
    assert "HTTP 500 (database is locked)" in raised.value.message and "try again" in raised.value.message


async def test_unauthorised_says_to_sign_in() -> None:
    pieces = pieces_with(lambda request: httpx.Response(401, text="Unauthorized"))
    with pytest.raises(BadStatusError, match="sign_into_os"):
        await pieces.call(BY_NAME["os_permissions"], NoArguments())


async def test_long_error_text_is_cut_and_key_like_strings_masked() -> None:
    body = "failure with key sk-live-abcdefghijklmnop " + "x" * 5000
    pieces = pieces_with(lambda request: httpx.Response(500, text=body))
    with pytest.raises(BadStatusError) as raised:
        await pieces.call(BY_NAME["os_permissions"], NoArguments())
    assert "sk-live" not in raised.value.message and len(raised.value.message) < 400


async def test_garbage_is_not_json() -> None:
    pieces = pieces_with(lambda request: httpx.Response(200, text="<html>oops</html>"))
    with pytest.raises(BadAnswerError, match="not JSON"):
        await pieces.call(BY_NAME["os_permissions"], NoArguments())


async def test_a_wrong_shape_names_the_field() -> None:
    pieces = pieces_with(lambda request: httpx.Response(200, json={"percentage": 5}))
    with pytest.raises(BadAnswerError, match="status"):
        await pieces.call(BY_NAME["os_update_check"], EmptyBodyInput())


async def test_an_oversized_body_is_refused() -> None:
    pieces = pieces_with(lambda request: httpx.Response(200, content=b"[" + b" " * (MAX_BODY_BYTES + 10) + b"]"))
    with pytest.raises(BadAnswerError, match="larger than 8 MB"):
        await pieces.call(BY_NAME["pick_folders"], NoArguments())


async def test_a_dropped_connection_says_so() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)

    with pytest.raises(ConnectionLostError, match="closed before it answered"):
        await pieces_with(handler).call(BY_NAME["os_permissions"], NoArguments())


async def test_a_restart_whose_connection_drops_waits_for_piecesos_instead_of_failing() -> None:
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        if request.url.path == "/os/restart":
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
        return httpx.Response(200, text="OK:5f0c")

    outcome = await pieces_with(handler).call(BY_NAME["os_restart"], NoArguments())
    assert isinstance(outcome, RestartOutcome) and outcome.back_online and outcome.downtime_ms is not None
    assert asked.count("/os/restart") == 1


async def test_a_restart_that_never_comes_back_says_so_at_the_restart_bound() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/os/restart":
            return httpx.Response(204)
        raise httpx.ConnectError("connection refused", request=request)

    started = time.monotonic()
    outcome = await pieces_with(handler, timeout=0.2, restart_timeout=0.5).call(BY_NAME["os_restart"], NoArguments())
    # An outcome, not the call's own time-out (its limit is 0.2 + 0.5 s): the restart's bound ended the wait,
    # inside the call's limit, and not before that bound.
    assert outcome == RestartOutcome(restarted=True, back_online=False, downtime_ms=None, base_url=None)
    assert time.monotonic() - started >= 0.5


async def test_refused_connection_with_a_configured_url_is_not_running() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(
        NotRunningError, match=r"PiecesOS is not running: nothing answered at http://127\.0\.0\.1:39300"
    ):
        await pieces_with(handler).call(BY_NAME["os_permissions"], NoArguments())


async def test_the_timeout_names_the_limit() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(TimedOutError, match="stopped answering"):
        await pieces_with(handler).call(BY_NAME["os_permissions"], NoArguments())


async def test_a_good_answer_parses() -> None:
    pieces = pieces_with(lambda request: httpx.Response(200, json={"status": "AVAILABLE", "percentage": None}))
    answer = await pieces.call(BY_NAME["os_update_check"], EmptyBodyInput())
    assert isinstance(answer, UpdateStatus) and answer.status == "AVAILABLE"


async def test_a_redirect_is_never_followed() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"Location": "http://198.51.100.7/steal"})

    with pytest.raises(BadAnswerError):
        await pieces_with(handler).call(BY_NAME["os_permissions"], NoArguments())
    assert seen == [f"{BASE}/os/permissions"]
