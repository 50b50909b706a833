"""The `models` toolset in the simulator: preparing the small local models is remembered, nothing downloaded."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from pieces_mcp.simulator.behaviours.base import Behaviour, json_object, no_content
from pieces_mcp.simulator.state import Simulator


async def os_nano_models_prepare(sim: Simulator, request: Request) -> Response:
    tasks = (await json_object(request)).get("tasks") or {}
    if not isinstance(tasks, dict) or not isinstance(tasks.get("conversation", False), bool):
        raise HTTPException(400, "'tasks.conversation' must be a bool.")
    if tasks.get("conversation"):
        sim.state.nano_models_prepared = True
    return no_content()


BEHAVIOURS: Mapping[str, Behaviour] = {"os_nano_models_prepare": os_nano_models_prepare}
