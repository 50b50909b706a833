"""The confirmation guard: the person, not the model, decides whether a guarded call runs.

Nothing a model sends can influence it: the decision reads only the server's configuration and the
person's answer, through the client (elicitation) or a dialog on their desktop. Precedence: read-only beats
everything, then deny-tools, then allow-tools, then the confirm mode.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any

import anyio
from mcp.server.mcpserver import AcceptedElicitation, Context, Elicit, ElicitationResult
from mcp.shared.exceptions import MCPError
from mcp_types.version import is_version_at_least
from pydantic import BaseModel, Field

from pieces_mcp.catalog import CATALOG, Endpoint
from pieces_mcp.config import ConfirmMode, Settings
from pieces_mcp.desktop import ask_on_desktop, assistant_words
from pieces_mcp.models import ToolInput

logger = logging.getLogger(__name__)

# From this protocol revision on, elicitation rides `input_required` round trips (the SDK drives them).
_ROUND_TRIP_ERA = "2026-07-28"
# server.PROGRESS_INTERVAL_S too (under the 5 s some clients allow between progress notifications): one owner
# once the call path is one module.
DIALOG_PROGRESS_INTERVAL_S = 4.0


class Decision(str, Enum):
    ALLOWED_BY_POLICY = "allowed by policy"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    NO_ELICITATION = "refused: no elicitation"
    DENIED = "denied"


class Confirm(BaseModel):
    """The one-boolean form the person sees."""

    confirm: bool = Field(title="Go ahead?", description="Yes runs it now; no stops it.")


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    # Why it does not run, as one sentence the model can act on; empty when it runs.
    reason: str = ""
    # How the person was asked, for the audit log: "client" (elicitation), "desktop" (the dialog) or None.
    asked: str | None = None

    @property
    def runs(self) -> bool:
        return self.decision in (Decision.ALLOWED_BY_POLICY, Decision.CONFIRMED)


class Policy:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def offers(self, endpoint: Endpoint) -> bool:
        """Whether the tool is listed and callable at all."""
        if self.settings.read_only and endpoint.guarded:
            return False
        return endpoint.name not in self.settings.deny_tools

    def visible(self) -> tuple[Endpoint, ...]:
        return tuple(endpoint for endpoint in CATALOG if self.offers(endpoint))

    def settled(self, endpoint: Endpoint) -> Verdict | None:
        """The verdict the configuration alone gives, or None when the person must be asked."""
        if not endpoint.guarded or endpoint.name in self.settings.allow_tools:
            return Verdict(Decision.ALLOWED_BY_POLICY)
        if self.settings.confirm is ConfirmMode.ALLOW:
            return Verdict(Decision.ALLOWED_BY_POLICY)
        if self.settings.confirm is ConfirmMode.DENY:
            return Verdict(
                Decision.DENIED,
                f"{endpoint.name} did not run: this server refuses guarded tools (PIECES_MCP_CONFIRM=deny); "
                f"the person can allow it with PIECES_MCP_ALLOW_TOOLS={endpoint.name} "
                "in their MCP client configuration.",
            )
        return None

    def describe(self, endpoint: Endpoint) -> str:
        """How this tool is decided, for `pieces-mcp tools` and `doctor`."""
        if not self.offers(endpoint):
            return "hidden (read-only)" if self.settings.read_only and endpoint.guarded else "hidden (denied)"
        verdict = self.settled(endpoint)
        if verdict is None:
            return "asks the person"
        return "runs" if verdict.runs else "refused"


def plain_question(endpoint: Endpoint) -> str:
    """What the person is asked, in the server's own words: exactly what will happen."""
    return f"Your AI assistant wants to run “{endpoint.title}”. {endpoint.consequence} Allow it?"


def given_arguments(arguments: ToolInput) -> dict[str, Any]:
    """What the model sent (defaults it left out are not its words)."""
    return arguments.model_dump(mode="json", exclude_none=True, exclude_unset=True)


def question(endpoint: Endpoint, arguments: ToolInput) -> str:
    """The question with the model's arguments as JSON, set apart as the assistant's words (as on the desktop)."""
    return plain_question(endpoint) + assistant_words(given_arguments(arguments))


def _can_ask(ctx: Context[Any, Any]) -> bool:
    capabilities = ctx.client_capabilities
    elicitation = capabilities.elicitation if capabilities is not None else None
    # A bare `elicitation: {}` (from before modes existed) means form support; url-only does not.
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


def confirmation_resolver(endpoint: Endpoint, policy: Policy) -> Callable[..., Any]:
    """A resolver for `Resolve(...)`: settles the call from policy, or asks the person.

    In the 2026-07-28 era it returns `Elicit`, and the SDK carries the question in `input_required`
    round trips. In the handshake era it sends `elicitation/create` itself, so it can bound the wait
    by the interactive timeout: an unanswered question must not hold the call open forever.
    """
    timeout = policy.settings.interactive_timeout

    async def confirm_with_person(ctx: Context[Any, Any], arguments: ToolInput) -> Elicit[Confirm] | Verdict:
        settled = policy.settled(endpoint)
        if settled is not None:
            return settled
        mode = policy.settings.confirm
        if mode is ConfirmMode.DESKTOP or (mode is ConfirmMode.ELICIT and not _can_ask(ctx)):
            return await _with_progress(
                ctx, confirm_on_desktop(endpoint, arguments, timeout, client_could_ask=_can_ask(ctx))
            )
        if not _can_ask(ctx):
            return Verdict(
                Decision.NO_ELICITATION,
                f"{endpoint.name} did not run: it needs the person's confirmation, and this MCP client cannot ask "
                f"(it does not support elicitation); to let it run without asking, add "
                f"PIECES_MCP_ALLOW_TOOLS={endpoint.name} to this server's env in the client configuration.",
            )
        message = question(endpoint, arguments)
        version = ctx.protocol_version
        if version is not None and is_version_at_least(version, _ROUND_TRIP_ERA):
            return Elicit(message, Confirm)
        with anyio.move_on_after(timeout):
            try:
                outcome = await ctx.elicit(message, Confirm)
            except (MCPError, ValueError) as exc:
                logger.info("Confirmation request for %s failed: %s", endpoint.name, exc)
                return Verdict(
                    Decision.NO_ELICITATION,
                    f"{endpoint.name} did not run: the client could not ask the person to confirm; "
                    f"to let it run without asking, set PIECES_MCP_ALLOW_TOOLS={endpoint.name}.",
                )
            return verdict_from(endpoint, outcome)
        return Verdict(
            Decision.DECLINED,
            f"{endpoint.name} did not run: nobody answered the confirmation within {timeout:g} s; "
            "do not retry unless the person asks for it again.",
            asked="client",
        )

    return confirm_with_person


async def _with_progress(ctx: Context[Any, Any], waiting: Awaitable[Verdict]) -> Verdict:
    """Progress notifications while the person reads the dialog, so a client that resets its request timeout
    on progress does not give up on a person who takes a minute (the same beat as server.call_with_progress).
    """

    async def heartbeat() -> None:
        started = time.monotonic()
        while True:
            await anyio.sleep(DIALOG_PROGRESS_INTERVAL_S)
            waited = time.monotonic() - started
            await ctx.report_progress(
                waited, None, f"Waiting for the person to answer the dialog on their desktop ({waited:.0f} s)"
            )

    async with anyio.create_task_group() as group:
        group.start_soon(heartbeat)
        verdict = await waiting  # returns, never raises but for cancellation: nothing to unwrap from a group
        group.cancel_scope.cancel()
    return verdict


async def confirm_on_desktop(
    endpoint: Endpoint, arguments: ToolInput, interactive_timeout: float, *, client_could_ask: bool
) -> Verdict:
    """Ask with a dialog on the person's desktop; nothing reaches PiecesOS before they choose "Allow"."""
    outcome = await ask_on_desktop(plain_question(endpoint), given_arguments(arguments), interactive_timeout)
    if outcome.allowed:
        return Verdict(Decision.CONFIRMED, asked="desktop")
    if outcome.asked:
        return Verdict(
            Decision.DECLINED,
            f"{endpoint.name} did not run: asked in a dialog on their desktop, {outcome.detail}; "
            "do not retry unless the person asks for it again.",
            asked="desktop",
        )
    client = "" if client_could_ask else ", this MCP client cannot ask (it does not support elicitation)"
    return Verdict(
        Decision.NO_ELICITATION,
        f"{endpoint.name} did not run: it needs the person's confirmation{client}, and no dialog could be shown "
        f"on their desktop ({outcome.detail}); to let it run without asking, add "
        f"PIECES_MCP_ALLOW_TOOLS={endpoint.name} to this server's env in the client configuration.",
    )


def verdict_from(endpoint: Endpoint, outcome: ElicitationResult[Any]) -> Verdict:
    """The verdict of a resolver outcome: a settled Verdict, or the person's answer."""
    if isinstance(outcome, AcceptedElicitation):
        if isinstance(outcome.data, Verdict):
            return outcome.data
        if isinstance(outcome.data, Confirm) and outcome.data.confirm:
            return Verdict(Decision.CONFIRMED, asked="client")
        how = "answered no"
    else:
        how = "declined" if outcome.action == "decline" else "dismissed the question"
    return Verdict(
        Decision.DECLINED,
        f"{endpoint.name} did not run: the person {how} when asked to confirm; "
        "do not retry unless they ask for it again.",
        asked="client",
    )


class AuditLog:
    """One JSON line per guarded call: time, tool, decision, how the person was asked, outcome, duration.

    Never arguments or answers."""

    def __init__(self, path: str | None) -> None:
        self.path = Path(path).expanduser() if path else None

    def record(self, tool: str, verdict: Verdict, outcome: str, started: float) -> None:
        if self.path is None:
            return
        line = {
            "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            "tool": tool,
            "decision": verdict.decision.value,
            "asked": verdict.asked,
            "outcome": outcome,
            "duration_ms": round((time.monotonic() - started) * 1000, 1),
        }
        try:
            with self.path.open("a", encoding="utf-8") as file:
                file.write(json.dumps(line) + "\n")
        except OSError as exc:
            logger.warning("Could not write the audit log %s: %s", self.path, exc.strerror)
