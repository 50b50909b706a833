"""The confirmation guard: the person, not the model, decides whether a guarded call runs.

Nothing a model sends can influence it: the decision reads only the server's configuration and the
person's own answer: through the client when it can ask (elicitation), else with a dialog on their desktop.
Precedence, in one sentence: read-only beats everything, then deny-tools, then allow-tools, then the confirm mode;
toolsets only choose which tools are offered at all, and the other settings apply across them.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any, Literal, Protocol

from pieces_mcp.catalog import CATALOG, Endpoint
from pieces_mcp.config import ConfirmMode, Settings
from pieces_mcp.desktop import ask_on_desktop, assistant_words
from pieces_mcp.heartbeat import Progress, with_heartbeat
from pieces_mcp.models.base import ToolInput

logger = logging.getLogger(__name__)


class Decision(str, Enum):
    ALLOWED_BY_POLICY = "allowed by policy"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    NO_ELICITATION = "refused: no elicitation"
    DENIED = "denied"


ClientAnswer = Literal["yes", "no", "decline", "cancel", "timeout", "failed"]
Channel = Literal["client", "desktop"]


class Asker(Protocol):
    """How one request can reach the person through its MCP client; the MCP adapter implements it."""

    @property
    def can_ask(self) -> bool:
        """Whether the client declared form elicitation."""
        ...

    async def ask(self, question: str, patience: float) -> ClientAnswer:
        """The person's answer. May raise the adapter's own exception to carry the question in a round trip."""
        ...


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    # Why it does not run, as one sentence the model can act on; empty when it runs.
    reason: str = ""
    asked: Channel | None = None

    @property
    def runs(self) -> bool:
        return self.decision in (Decision.ALLOWED_BY_POLICY, Decision.CONFIRMED)


class Policy:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # The offered set, built once: listing, calling and the resources all read this one mapping.
        self.offered: Mapping[str, Endpoint] = {entry.name: entry for entry in CATALOG if self.offers(entry)}

    def offers(self, endpoint: Endpoint) -> bool:
        """Whether the tool is listed and callable at all."""
        if endpoint.toolset not in self.settings.toolsets:
            return False
        if self.settings.read_only and endpoint.guarded:
            return False
        return endpoint.name not in self.settings.deny_tools

    def visible(self) -> tuple[Endpoint, ...]:
        """The offered tools in catalog order."""
        return tuple(self.offered.values())

    def settled(self, endpoint: Endpoint) -> Verdict | None:
        """The verdict the configuration alone gives a guarded tool, or None when the person must be asked.

        Read tools never reach the guard (`Dispatcher.call` runs them at once); `describe` still asks here.
        """
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
            if endpoint.toolset not in self.settings.toolsets:
                return f"hidden (toolset {endpoint.toolset} not chosen)"
            return "hidden (read-only)" if self.settings.read_only and endpoint.guarded else "hidden (denied)"
        verdict = self.settled(endpoint)
        if verdict is None:
            return "asks the person"
        return "runs" if verdict.runs else "refused"

    def table(self) -> list[str]:
        """Every tool, its set, its risk and what this policy does with it: for `pieces-mcp tools` and `doctor`."""
        rows = [("TOOL", "SET", "RISK", "POLICY")]
        rows += [(entry.name, entry.toolset, entry.risk.value, self.describe(entry)) for entry in CATALOG]
        width = max(len(name) for name, *_ in rows)
        return [f"{name:<{width}}  {toolset:<8}  {risk:<7}  {decision}" for name, toolset, risk, decision in rows]


def plain_question(endpoint: Endpoint) -> str:
    """What the person is asked, in the server's own words: exactly what will happen."""
    return f"Your AI assistant wants to run “{endpoint.title}”. {endpoint.consequence} Allow it?"


def given_arguments(arguments: ToolInput) -> dict[str, Any]:
    """What the model sent (defaults it left out are not its words)."""
    return arguments.model_dump(mode="json", exclude_none=True, exclude_unset=True)


def question(endpoint: Endpoint, arguments: ToolInput) -> str:
    """The question with the model's arguments as JSON, set apart as the assistant's words (as on the desktop)."""
    return plain_question(endpoint) + assistant_words(given_arguments(arguments))


class Guard:
    """Decides one guarded call: from the configuration, else by asking the person."""

    def __init__(self, settings: Settings) -> None:
        self.policy = Policy(settings)
        self.mode = settings.confirm
        self.timeout = settings.interactive_timeout

    async def decide(
        self, endpoint: Endpoint, arguments: ToolInput, asker: Asker, progress: Progress | None = None
    ) -> Verdict:
        settled = self.policy.settled(endpoint)
        if settled is not None:
            return settled
        if self.mode is ConfirmMode.DESKTOP or (self.mode is ConfirmMode.ELICIT and not asker.can_ask):

            async def ask() -> Verdict:
                return await self._ask_on_desktop(endpoint, arguments, client_could_ask=asker.can_ask)

            return await with_heartbeat(ask, progress, "the person to answer the dialog on their desktop")
        if asker.can_ask:
            answer = await asker.ask(question(endpoint, arguments), self.timeout)
            return self._from_client(endpoint, answer)
        return Verdict(
            Decision.NO_ELICITATION,
            f"{endpoint.name} did not run: it needs the person's confirmation, and this MCP client cannot ask "
            f"(it does not support elicitation); to let it run without asking, add "
            f"PIECES_MCP_ALLOW_TOOLS={endpoint.name} to this server's env in the client configuration.",
        )

    async def _ask_on_desktop(self, endpoint: Endpoint, arguments: ToolInput, *, client_could_ask: bool) -> Verdict:
        """Ask with a dialog on the person's desktop; nothing reaches PiecesOS before they choose "Allow"."""
        outcome = await ask_on_desktop(plain_question(endpoint), given_arguments(arguments), self.timeout)
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

    def _from_client(self, endpoint: Endpoint, answer: ClientAnswer) -> Verdict:
        if answer == "yes":
            return Verdict(Decision.CONFIRMED, asked="client")
        if answer == "failed":
            return Verdict(
                Decision.NO_ELICITATION,
                f"{endpoint.name} did not run: the client could not ask the person to confirm; "
                f"to let it run without asking, set PIECES_MCP_ALLOW_TOOLS={endpoint.name}.",
                asked="client",
            )
        if answer == "timeout":
            return Verdict(
                Decision.DECLINED,
                f"{endpoint.name} did not run: nobody answered the confirmation within {self.timeout:g} s; "
                "do not retry unless the person asks for it again.",
                asked="client",
            )
        how = {"no": "answered no", "decline": "declined", "cancel": "dismissed the question"}[answer]
        return Verdict(
            Decision.DECLINED,
            f"{endpoint.name} did not run: the person {how} when asked to confirm; "
            "do not retry unless they ask for it again.",
            asked="client",
        )


class AuditLog:
    """One JSON line per guarded call: time, tool, decision, how the person was asked, outcome, duration.

    Never arguments or answers: they may hold paths or identities the log's readers should not see.
    """

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
