"""What every toolset's simulated behaviours share: their signature, and reading request bodies (400 for bad ones)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from pieces_mcp.simulator.state import Simulator

# What one catalog operation does in the simulator, keyed by the entry's name in each toolset's `BEHAVIOURS`.
Behaviour = Callable[[Simulator, Request], Awaitable[Response]]


def decode_body(raw: bytes) -> Any:
    """The request body as JSON; None when empty. Raises ValueError when it is not JSON."""
    if not raw.strip():
        return None
    return json.loads(raw)


async def json_body(request: Request) -> Any:
    try:
        return decode_body(await request.body())
    except ValueError:
        raise HTTPException(400, "The request body is not valid JSON.") from None


async def json_string(request: Request, what: str) -> str:
    """Bodies the vendor's client sends as a bare JSON string (a path, a URL)."""
    body = await json_body(request)
    if not isinstance(body, str) or not body:
        raise HTTPException(400, f"The request body must be the {what} as a JSON string.")
    return body


async def json_object(request: Request) -> dict[str, Any]:
    """The JSON object body a POST endpoint takes ({} when empty); 400 for anything else."""
    body = await json_body(request)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise HTTPException(400, "The request body must be a JSON object.")
    return body


def optional(body: dict[str, Any] | None, key: str, kind: type[Any]) -> Any:
    value = None if body is None else body.get(key)
    if value is not None and not isinstance(value, kind):
        raise HTTPException(400, f"'{key}' must be a {kind.__name__}.")
    return value


def no_content() -> Response:
    return Response(status_code=204)
