"""The confirmation guard: the person, not the model, decides whether a guarded call runs.

Nothing a model sends can influence it: the decision reads only the server's configuration and the
person's own answer: through the client when it can ask (elicitation), else with a dialog on their desktop.
Precedence, in one sentence: read-only beats everything, then deny-tools, then allow-tools, then the confirm mode;
toolsets only choose which tools are offered at all, and the other settings apply across them.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol

from pieces_mcp.budget import Budget
from pieces_mcp.catalog import CATALOG, TOOLSETS, Endpoint
from pieces_mcp.config import ConfirmMode, Settings
from pieces_mcp.heartbeat import Progress, with_heartbeat

if TYPE_CHECKING:  # the call path's, imported by the dispatcher: the guard's policy is built before any call
    from pieces_mcp.targets import EffectiveCall

logger = logging.getLogger(__name__)


class Decision(str, Enum):
    ALLOWED_BY_POLICY = "allowed by policy"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    NO_ELICITATION = "refused: no elicitation"
    DENIED = "denied"
    # The target itself was refused (a network path, a URL with user info, too long to show whole).
    REFUSED_TARGET = "refused: target"
    # Cancelled (by the client, or the server stopping) while the person was being asked.
    UNDECIDED = "undecided"


# "unfit": the client's reply did not fit the question's schema (say, confirm: "yes" instead of true).
ClientAnswer = Literal["yes", "no", "decline", "cancel", "timeout", "failed", "unfit"]
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


class Verdict(NamedTuple):  # not a dataclass: it would compile its methods at every start (issue 22)
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

    def not_offered(self, name: str) -> str:
        """Why `name` is not offered here and how the person can offer it: for MCP clients and `call` alike."""
        entry = next((entry for entry in CATALOG if entry.name == name), None)
        if entry is None:
            import difflib  # only for a misspelt name: not with every start-up

            nearest = difflib.get_close_matches(name, [entry.name for entry in CATALOG], n=1)
            hint = f"did you mean {nearest[0]}?" if nearest else "`pieces-mcp tools` lists every tool."
            return f"There is no tool named {name!r}; {hint}"
        if entry.toolset not in self.settings.toolsets:
            wanted = self.settings.toolsets | {entry.toolset}
            chosen = ",".join(toolset for toolset in TOOLSETS if toolset in wanted)
            return (
                f"{name} is in the `{entry.toolset}` toolset, which this server does not offer: add "
                f"`--toolsets {chosen}` (or PIECES_MCP_TOOLSETS={chosen}) to its arguments."
            )
        if self.settings.read_only and entry.guarded:
            return (
                f"{name} is hidden by --read-only (PIECES_MCP_READ_ONLY): it changes things on this computer; "
                "start the server without read-only to offer it."
            )
        return f"{name} is denied by PIECES_MCP_DENY_TOOLS (--deny-tools); take it out of that list to offer it."

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
        if verdict.runs and endpoint.side_effect:
            return f"runs, asking nobody; it {endpoint.side_effect}"
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


def question(endpoint: Endpoint, call: EffectiveCall) -> str:
    """The whole question, the same in the client and the desktop dialog: what happens, and to what."""
    return plain_question(endpoint) + call.block()


class Guard:
    """Decides one guarded call: from the configuration, else by asking the person."""

    def __init__(self, settings: Settings) -> None:
        self.policy = Policy(settings)
        self.mode = settings.confirm
        self.timeout = settings.interactive_timeout

    async def decide(
        self,
        endpoint: Endpoint,
        call: EffectiveCall,
        asker: Asker,
        progress: Progress | None = None,
        budget: Budget | None = None,
    ) -> Verdict:
        """The verdict; asking the person draws on the call's `budget` (how it is shared: `budget.py`)."""
        settled = self.policy.settled(endpoint)
        if settled is not None:
            return settled
        budget = budget or Budget.for_call(endpoint.wait, self.policy.settings)
        verdict = await self._ask(endpoint, call, asker, progress, budget.for_confirmation())
        budget.confirmed()
        return verdict

    async def _ask(
        self, endpoint: Endpoint, call: EffectiveCall, asker: Asker, progress: Progress | None, patience: float
    ) -> Verdict:
        if self.mode is ConfirmMode.DESKTOP or (self.mode is ConfirmMode.ELICIT and not asker.can_ask):

            async def ask() -> Verdict:
                return await self._ask_on_desktop(endpoint, call, patience, client_could_ask=asker.can_ask)

            return await with_heartbeat(ask, progress, "the person to answer the dialog on their desktop")
        if asker.can_ask:
            answer = await asker.ask(question(endpoint, call), patience)
            return self._from_client(endpoint, answer)
        return Verdict(
            Decision.NO_ELICITATION,
            f"{endpoint.name} did not run: it needs the person's confirmation, and this MCP client cannot ask "
            f"(it does not support elicitation); to let it run without asking, add "
            f"PIECES_MCP_ALLOW_TOOLS={endpoint.name} to this server's env in the client configuration.",
        )

    async def _ask_on_desktop(
        self, endpoint: Endpoint, call: EffectiveCall, patience: float, *, client_could_ask: bool
    ) -> Verdict:
        """Ask with a dialog on the person's desktop; nothing reaches PiecesOS before they choose "Allow"."""
        # The desktop module is imported when a dialog is needed, not at start: most sessions never ask (issue 22).
        from pieces_mcp.desktop import ask_on_desktop

        outcome = await ask_on_desktop(question(endpoint, call), patience)
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
        if answer == "unfit":
            return Verdict(
                Decision.NO_ELICITATION,
                f"{endpoint.name} did not run: the client's reply to the confirmation did not fit its question "
                "(it takes confirm: true or false), so it counts as no; this is the client's fault, not the person's "
                "answer: ask the person whether to try again.",
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


class AuditError(Exception):
    """The audit line could not be written; the message is one sentence without the path's contents."""


class AuditLog:
    """JSON lines for guarded calls: the decision, the effective target and how the person was asked.

    An allowed call writes a `started` line, flushed to disk, before it reaches PiecesOS (so a SIGKILL still
    leaves the approval on record), then one line with its outcome. A call that does not run writes one line.
    Never the person's answers or PiecesOS's; the target is what the person approved.
    """

    def __init__(self, path: str | None) -> None:
        self.path = Path(path).expanduser() if path else None

    def started(self, tool: str, verdict: Verdict, target: Mapping[str, str], call_id: str) -> None:
        """Record an allowed call before it runs; raises AuditError, and then the call must not run."""
        if self.path is None:
            return
        line = _line(tool, verdict, target, call_id, outcome="started")
        try:
            append_line(self.path, line, durable=True)
        except OSError as exc:
            raise AuditError(f"the audit log {str(self.path)!r} could not be written ({exc.strerror or exc})") from None

    def record(
        self, tool: str, verdict: Verdict, outcome: str, started: float, target: Mapping[str, str], call_id: str
    ) -> None:
        """Record how a call ended (or that it did not run); a failure here is a warning: it already ran."""
        if self.path is None:
            return
        line = _line(tool, verdict, target, call_id, outcome=outcome)
        line["duration_ms"] = round((time.monotonic() - started) * 1000, 1)
        try:
            append_line(self.path, line, durable=False)
        except OSError as exc:
            logger.warning("Could not write the audit log %s: %s", self.path, exc.strerror or exc)


def _line(tool: str, verdict: Verdict, target: Mapping[str, str], call_id: str, outcome: str) -> dict[str, Any]:
    return {
        "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
        "call": call_id,
        "tool": tool,
        "decision": verdict.decision.value,
        "asked": verdict.asked,
        "target": dict(target),
        "outcome": outcome,
    }


# O_NONBLOCK: a FIFO put where the log was is refused at once (ENXIO, or not a regular file below), never waited on.
OPEN_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


def append_line(path: Path, line: Mapping[str, Any], *, durable: bool) -> None:
    """Append one JSON line to a regular file, created 0600; with `durable`, on disk before returning."""
    descriptor = os.open(path, OPEN_FLAGS, 0o600)
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise OSError(0, "it is not a regular file")
        data = (json.dumps(line) + "\n").encode()
        while data:
            data = data[os.write(descriptor, data) :]
        if durable:
            os.fsync(descriptor)
    finally:
        os.close(descriptor)
