"""The one path every tool call takes: catalog entry → strict arguments → guard → PiecesOS → result → audit.

Nothing here knows MCP: the adapter (`mcp_adapter.py`) turns a `ToolOutcome` into a `tools/call` answer,
and supplies the `Asker` and the progress callback of the request at hand.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio
from pydantic import ValidationError

from pieces_mcp.budget import Budget
from pieces_mcp.catalog import Endpoint, Wait
from pieces_mcp.client import PiecesOS
from pieces_mcp.errors import BadStatusError, PiecesError
from pieces_mcp.guard import Asker, AuditError, AuditLog, Decision, Guard, Verdict
from pieces_mcp.heartbeat import Progress, with_heartbeat
from pieces_mcp.models.base import Answer, ToolInput
from pieces_mcp.targets import EffectiveCall, TargetRefusedError, effective_call

logger = logging.getLogger(__name__)


class UnknownToolError(LookupError):
    """The name is not a tool this server offers (never was, denied, or hidden by read-only): `str()` says
    why and how to offer it (`Policy.not_offered`)."""


@dataclass(frozen=True)
class ToolOutcome:
    """A tool's answer: structured data (with the same JSON as the first text) or an error sentence."""

    texts: list[str]
    structured: dict[str, Any] | None = None
    is_error: bool = False
    # How the call ended, for the audit log: ok, or the failure's class (and HTTP status).
    audit: str = field(default="ok", compare=False)


def failure(message: str, audit: str = "not run") -> ToolOutcome:
    return ToolOutcome([message], is_error=True, audit=audit)


class Dispatcher:
    def __init__(self, pieces: PiecesOS, guard: Guard, audit: AuditLog) -> None:
        self.pieces = pieces
        self.guard = guard
        self.audit = audit
        self.offered: Mapping[str, Endpoint] = guard.policy.offered

    async def call(
        self, name: str, arguments: Mapping[str, Any] | None, asker: Asker, progress: Progress | None = None
    ) -> ToolOutcome:
        endpoint = self.offered.get(name)
        if endpoint is None:
            raise UnknownToolError(self.guard.policy.not_offered(name))
        try:
            validated = parse_arguments(endpoint, arguments or {})
        except ValidationError as exc:
            return failure(argument_problem(endpoint, exc))
        try:
            call = effective_call(endpoint, validated)
        except TargetRefusedError as exc:
            if endpoint.guarded:
                refused = Verdict(Decision.REFUSED_TARGET, str(exc))
                self.audit.record(endpoint.name, refused, "not run", time.monotonic(), {}, secrets.token_hex(6))
            return failure(str(exc))
        # The call's one budget: the confirmation, the person at a picker and PiecesOS all draw on it (budget.py).
        budget = Budget.for_call(endpoint.wait, self.pieces.settings)
        if not endpoint.guarded:
            return await self._run(endpoint, call.arguments, progress, budget)
        return await self._guarded(endpoint, call, asker, progress, budget)

    async def _guarded(
        self, endpoint: Endpoint, call: EffectiveCall, asker: Asker, progress: Progress | None, budget: Budget
    ) -> ToolOutcome:
        """Decide, then run an allowed call: its audit line is on disk before PiecesOS hears of it (fail closed)."""
        started, call_id, target = time.monotonic(), secrets.token_hex(6), call.audit()
        try:
            verdict = await self.guard.decide(endpoint, call, asker, progress, budget)
        except anyio.get_cancelled_exc_class():
            self.audit.record(endpoint.name, Verdict(Decision.UNDECIDED), "cancelled", started, target, call_id)
            raise
        if not verdict.runs:
            self.audit.record(endpoint.name, verdict, "not run", started, target, call_id)
            return failure(verdict.reason)
        try:
            self.audit.started(endpoint.name, verdict, target, call_id)
        except AuditError as exc:
            return failure(f"{endpoint.name} did not run: {exc}; nothing runs unaudited. Tell the person.")
        outcome = "failed"
        try:
            result = await self._run(endpoint, call.arguments, progress, budget)
            outcome = result.audit
            return result
        except anyio.get_cancelled_exc_class():
            outcome = "cancelled"
            raise
        finally:
            self.audit.record(endpoint.name, verdict, outcome, started, target, call_id)

    async def _run(
        self, endpoint: Endpoint, arguments: ToolInput, progress: Progress | None, budget: Budget
    ) -> ToolOutcome:
        try:
            if endpoint.wait is not Wait.INTERACTIVE:
                answer = await self.pieces.call(endpoint, arguments, budget, progress)
            else:
                answer = await self._with_heartbeat(endpoint, arguments, progress, budget)
        except PiecesError as exc:
            status = f" {exc.status}" if isinstance(exc, BadStatusError) else ""
            return failure(exc.message, audit=f"error: {type(exc).__name__}{status}")
        return shape(answer)

    async def _with_heartbeat(
        self, endpoint: Endpoint, arguments: ToolInput, progress: Progress | None, budget: Budget
    ) -> Answer:
        """A call that waits for the person at their desktop, with progress while it waits."""

        async def call() -> Answer:
            return await self.pieces.call(endpoint, arguments, budget, progress)

        return await with_heartbeat(call, progress, "the person at their desktop")


def parse_arguments(endpoint: Endpoint, arguments: Mapping[str, Any]) -> ToolInput:
    """Strict validation; some clients send a list argument JSON-encoded as a string, so that gets a second try."""
    try:
        return endpoint.input_model.model_validate(arguments)
    except ValidationError:
        decoded = {key: _json_container(value) for key, value in arguments.items()}
        if decoded == dict(arguments):
            raise
        return endpoint.input_model.model_validate(decoded)


def _json_container(value: Any) -> Any:
    if isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def shape(answer: Answer) -> ToolOutcome:
    """PiecesOS's answer as structured content and the same JSON as text (the client made lone surrogates printable)."""
    data = answer.model_dump(mode="json", exclude_unset=True)
    # The same serialiser writes the text (compact, non-ASCII as itself), in half the time of json.dumps on `data`.
    return ToolOutcome([answer.model_dump_json(exclude_unset=True), *answer.notes()], data)


def argument_problem(endpoint: Endpoint, exc: ValidationError) -> str:
    """A validation failure as one sentence naming each bad argument and what the tool takes."""
    accepted = ", ".join(endpoint.input_model.model_fields) or "no arguments"
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in error["loc"])[:64]
        if error["type"] == "extra_forbidden":
            problems.append(f"unknown argument {where!r}")
        else:
            problems.append(f"{where}: {error['msg']}" if where else error["msg"].removeprefix("Value error, "))
    return (
        f"Invalid arguments for {endpoint.name}: {'; '.join(problems)} "
        f"(it takes: {accepted}); fix them and call it again."
    )
