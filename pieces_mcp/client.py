"""The PiecesOS client: a `Connection` that runs a catalog entry's exchange within the call's one `Budget`."""

from __future__ import annotations

import httpx

from pieces_mcp import discovery
from pieces_mcp.budget import Budget
from pieces_mcp.catalog import Endpoint
from pieces_mcp.catalog.generations import FROM_SEED, Since, absent_sentence
from pieces_mcp.config import Settings
from pieces_mcp.errors import AbsentOperationError, BadStatusError
from pieces_mcp.exchanges import EXCHANGES, Call, Connection, http_client
from pieces_mcp.exchanges.connection import POOL_LIMITS, probe_generation
from pieces_mcp.exchanges.translate import MAX_BODY_BYTES
from pieces_mcp.heartbeat import Progress
from pieces_mcp.models.base import Answer, ToolInput

__all__ = ["MAX_BODY_BYTES", "POOL_LIMITS", "PiecesOS", "http_client", "probe_generation"]


class PiecesOS(Connection):
    """Calls PiecesOS's OS endpoints; remembers where PiecesOS is and which API generation it speaks."""

    def __init__(
        self,
        settings: Settings,
        http: httpx.AsyncClient,
        *,
        mention_doctor: bool = True,
        machine: discovery.Machine | None = None,
    ) -> None:
        super().__init__(settings, http, mention_doctor=mention_doctor, machine=machine)
        # The latest state each live stream reported to a feed: what a read of a stream that says nothing on
        # connect answers (see `live.read_once`).
        self.reported: dict[str, Answer] = {}

    async def call(
        self, endpoint: Endpoint, arguments: ToolInput, budget: Budget | None = None, progress: Progress | None = None
    ) -> Answer:
        """Run the entry's exchange within `budget` (the entry's own when none is given); a PiecesError on failure."""
        budget = budget or Budget.for_call(endpoint.wait, self.settings)
        try:
            with budget.bound(endpoint.name):
                return await EXCHANGES[endpoint.exchange].run(Call(self, endpoint, arguments, budget, progress))
        except BadStatusError as exc:
            # Every path of every generation answered 404 (`send_endpoint` tried them): an operation newer than
            # this PiecesOS is absent, and the person is told which PiecesOS has it rather than "HTTP 404".
            if exc.status != 404 or endpoint.since == FROM_SEED:
                raise
            raise await self.absent(endpoint.name, endpoint.since) from None

    async def absent(self, name: str, since: Since) -> AbsentOperationError:
        """The error for an operation this PiecesOS answered 404, naming its generation when a probe tells it."""
        generation = await probe_generation(self.http, self.base_url) if self.base_url else None
        return AbsentOperationError(absent_sentence(name, since, generation))
