"""The `os` toolset in the simulator: the seed page's ten operations."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, get_args

from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from pieces_mcp.catalog import WIRE, Generation
from pieces_mcp.models.base import ProviderTypeValue
from pieces_mcp.simulator import profiles
from pieces_mcp.simulator.behaviours.base import Behaviour, json_object, optional
from pieces_mcp.simulator.state import Simulator

_PROVIDER_TYPES = frozenset(get_args(ProviderTypeValue))


async def _person_picks(sim: Simulator) -> None:
    """A picker answers only once the person has chosen."""
    await sim.clock.sleep(sim.state.pick_delay_ms / 1000)


def hardware(generation: Generation, today: dict[str, Any]) -> dict[str, Any]:
    """Today's `{cpus, gpus, ram}` as `generation` reports it.

    seed/v10 (`OSDeviceHardwareInformation` of client 2.2.0 and 4.0.4) have one `cpu` (`name`, `memory`)
    and one `gpu` (`name`, `memory`, `capabilities`), and no RAM object: the machine's memory is the CPU's.
    """
    if not WIRE[generation].single_hardware:
        return today
    cpu, gpu = today["cpus"][0], today["gpus"][0]
    return {
        "cpu": {"name": cpu["name"], "memory": today["ram"]["memory"]},
        "gpu": {"name": gpu["name"], "memory": gpu["memory"], "capabilities": gpu["capabilities"]},
    }


async def os_device_information(sim: Simulator, request: Request) -> Response:
    answer = profiles.device_information(sim.state.version)
    answer["hardware"] = hardware(sim.api, answer["hardware"])
    return JSONResponse(answer)


async def os_permissions(sim: Simulator, request: Request) -> Response:
    return JSONResponse(sim.state.permissions())


async def os_permissions_request(sim: Simulator, request: Request) -> Response:
    processing = optional(await json_object(request), "processing", dict) or {}
    # The simulated person grants whatever is asked for.
    if optional(processing, "vision", bool):
        sim.state.vision = True
    if optional(processing, "accessibility", bool):
        sim.state.accessibility = True
    return JSONResponse(sim.state.permissions())


async def os_update_check(sim: Simulator, request: Request) -> Response:
    await json_object(request)  # UncheckedOSServerUpdate: a placeholder, but it must be well-formed.
    return JSONResponse(sim.state.check_for_update(sim.api))


async def os_restart(sim: Simulator, request: Request) -> Response:
    # Stop accepting before answering: a client in another thread may otherwise reconnect between the
    # 204 being written and the listener closing, and think PiecesOS never went away.
    sim.begin_restart()

    async def go_away() -> None:
        # async, so Starlette runs it on the event loop (not a worker thread) right after the 204 is sent.
        sim.finish_restart()

    # `Connection: close` keeps a client from reusing the doomed connection for its next request.
    return Response(status_code=204, headers={"Connection": "close"}, background=BackgroundTask(go_away))


async def pick_files(sim: Simulator, request: Request) -> Response:
    body = await json_object(request)
    unknown = sorted(set(body or {}) - WIRE[sim.api].picker_keys)
    if unknown:
        # Strict, so a client sending a newer generation's body is caught; real PiecesOS may just ignore it.
        raise HTTPException(400, f"FilePickerInput of the {sim.api} API has no {', '.join(unknown)}.")
    allow_multiple = optional(body, "allowMultiple", bool)
    extensions = optional(body, "allowedExtensions", list)
    if extensions is not None and not all(isinstance(ext, str) for ext in extensions):
        raise HTTPException(400, "'allowedExtensions' must be a list of strings.")
    await _person_picks(sim)
    paths = list(sim.state.picked_files)
    # allowMultiple defaults to true in PiecesOS.
    return JSONResponse(paths if allow_multiple is not False else paths[:1])


async def pick_folders(sim: Simulator, request: Request) -> Response:
    await _person_picks(sim)
    return JSONResponse(list(sim.state.picked_folders))


# Signing in while signed in, and out while signed out: no public source says what PiecesOS answers (the
# official plugins read `GET /user` first and never ask; README "PiecesOS versions"). The simulator takes
# the idempotent reading: sign-in answers the signed-in user without a new browser window, sign-out
# answers the known users again.
async def sign_into_os(sim: Simulator, request: Request) -> Response:
    sim.state.signed_in = True
    return JSONResponse(sim.state.profile())


async def sign_out_of_os(sim: Simulator, request: Request) -> Response:
    sim.state.signed_in = False
    # PiecesOS still knows the user after sign-out, and hands the profile out whole.
    return JSONResponse({"iterable": [sim.state.profile()]})


async def link_provider(sim: Simulator, request: Request) -> Response:
    body = await json_object(request)
    if not sim.state.signed_in:
        return PlainTextResponse("Unauthorized: no user is signed in to PiecesOS.", status_code=401)
    kind = optional(body, "type", str)
    if kind is None or kind not in _PROVIDER_TYPES:
        raise HTTPException(400, f"'type' must be one of: {', '.join(sorted(_PROVIDER_TYPES))}.")
    now = datetime.now(timezone.utc)
    if kind not in (linked for linked, _ in sim.state.providers):
        sim.state.providers.append((kind, now))
        sim.state.profile_updated = now
    return JSONResponse({"user": sim.state.profile()})


BEHAVIOURS: Mapping[str, Behaviour] = {
    "os_device_information": os_device_information,
    "os_permissions": os_permissions,
    "os_permissions_request": os_permissions_request,
    "os_update_check": os_update_check,
    "os_restart": os_restart,
    "pick_files": pick_files,
    "pick_folders": pick_folders,
    "sign_into_os": sign_into_os,
    "sign_out_of_os": sign_out_of_os,
    "link_provider": link_provider,
}
