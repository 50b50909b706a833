"""The PiecesOS client: a `Connection` that runs a catalog entry's exchange within the call's one `Budget`."""

from __future__ import annotations

import httpx

from pieces_mcp.budget import Budget
from pieces_mcp.catalog import Endpoint
from pieces_mcp.config import Settings
from pieces_mcp.exchanges import EXCHANGES, Call, Connection, http_client
from pieces_mcp.exchanges.translate import MAX_BODY_BYTES
from pieces_mcp.heartbeat import Progress
from pieces_mcp.models.base import Answer, ToolInput

__all__ = ["MAX_BODY_BYTES", "PiecesOS", "http_client"]


class PiecesOS(Connection):
    """Calls PiecesOS's OS endpoints; remembers where PiecesOS is and which API generation it speaks."""

    def __init__(self, settings: Settings, http: httpx.AsyncClient, *, mention_doctor: bool = True) -> None:
        super().__init__(settings, http, mention_doctor=mention_doctor)
        # The latest state each live stream reported to a feed: what a read of a stream that says nothing on
        # connect answers (see `live.read_once`).
        self.reported: dict[str, Answer] = {}

    async def call(
        self, endpoint: Endpoint, arguments: ToolInput, budget: Budget | None = None, progress: Progress | None = None
    ) -> Answer:
        """Run the entry's exchange within `budget` (the entry's own when none is given); a PiecesError on failure."""
        budget = budget or Budget.for_call(endpoint.wait, self.settings)
        with budget.bound(endpoint.name):
            return await EXCHANGES[endpoint.exchange].run(Call(self, endpoint, arguments, budget, progress))
