"""The `user` toolset in the simulator: who is signed in, the profile whole as PiecesOS hands it out."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from pieces_mcp.simulator.behaviours.base import Behaviour
from pieces_mcp.simulator.state import Simulator


async def user_snapshot(sim: Simulator, request: Request) -> Response:
    """`ReturnedUserProfile`: the whole profile, credentials included, as PiecesOS hands it out."""
    return JSONResponse({"user": sim.state.profile()} if sim.state.signed_in else {})


BEHAVIOURS: Mapping[str, Behaviour] = {"user_snapshot": user_snapshot}
