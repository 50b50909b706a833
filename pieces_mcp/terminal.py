"""`pieces-mcp call`: one tool call through a real child `serve`, the same path an MCP client takes."""

from __future__ import annotations

import itertools
import json
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import anyio
from mcp import Client, StdioServerParameters
from mcp.client.context import ClientRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types import CONNECTION_CLOSED, CallToolResult, ElicitRequestParams, ElicitResult, TextContent

SPIN_INTERVAL_S = 0.15
# In `call` the person typed the tool and its arguments: the server's question speaks of an assistant
# (guard.plain_question, targets.Target.lines), which would not be true here.
FOR_THE_PERSON = (
    ("Your AI assistant wants to run", "You asked to run"),
    ("the assistant asked for", "you typed"),
    ("the assistant chose it", "you typed it"),
)


class Spinner:
    """A spinner on stderr, only for a person watching: a call may wait minutes for a picker or sign-in.

    It stops drawing while the person is asked something, so it never writes over the question.
    """

    def __init__(self, label: str) -> None:
        self.label = label
        self.shown = sys.stderr.isatty()
        self.held = False

    async def run(self) -> None:
        if not self.shown:
            return
        try:
            for frame in itertools.cycle("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"):
                if not self.held:
                    sys.stderr.write(f"\r{frame} {self.label}")
                    sys.stderr.flush()
                await anyio.sleep(SPIN_INTERVAL_S)
        finally:
            self._clear()

    @contextmanager
    def hold(self) -> Iterator[None]:
        """No spinner while the body writes to or reads from the terminal."""
        self.held = True
        self._clear()
        try:
            yield
        finally:
            self.held = False

    def _clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


async def read_answer(prompt: str) -> str | None:
    """One line typed by the person (None at end of input), with the prompt on stderr: stdout is the result's.

    The read runs on a daemon thread, so a Ctrl-C during the question ends the program at once instead of
    waiting for a line that will never come.
    """
    lines: list[str] = []
    answered = threading.Event()

    def read() -> None:
        try:
            lines.append(sys.stdin.readline())
        finally:
            answered.set()

    sys.stderr.write(prompt)
    sys.stderr.flush()
    threading.Thread(target=read, name="pieces-mcp answer", daemon=True).start()
    try:
        await anyio.to_thread.run_sync(answered.wait, abandon_on_cancel=True)
    finally:
        answered.set()  # frees the waiting worker thread when the question is abandoned
    line = lines[0] if lines else ""
    return line.strip() if line else None


class PersonAtTerminal:
    """The server's confirmation request, put to the person at this terminal (or answered by `--yes`)."""

    def __init__(self, spinner: Spinner, assume_yes: bool) -> None:
        self.spinner = spinner
        self.assume_yes = assume_yes
        self.nobody_to_ask = False

    async def __call__(self, context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        message = params.message
        for theirs, yours in FOR_THE_PERSON:
            message = message.replace(theirs, yours)
        with self.spinner.hold():
            if self.assume_yes:
                print(f"{message}\n→ yes (--yes)", file=sys.stderr)
                return ElicitResult(action="accept", content={"confirm": True})
            if not sys.stdin.isatty():
                # Nobody was asked, so the server's "the person declined" would not be true: say why instead.
                self.nobody_to_ask = True
                return ElicitResult(action="cancel")
            answer = await read_answer(f"{message}\n[y/N] ")
        if answer is None:  # end of input (Ctrl-D): the person closed the question
            return ElicitResult(action="cancel")
        return ElicitResult(action="accept", content={"confirm": answer.lower() in ("y", "yes")})


async def call_through_child(
    command: list[str], env: Mapping[str, str], tool: str, arguments: dict[str, Any], assume_yes: bool
) -> int:
    """Call `tool`; print the structured result on stdout, or the error sentence on stderr. Exit code 0/1."""
    spinner = Spinner(f"calling {tool}")
    person = PersonAtTerminal(spinner, assume_yes)
    server = StdioServerParameters(command=command[0], args=command[1:], env=dict(env))
    refusal: str | None = None
    result: CallToolResult | None = None
    try:
        async with (
            Client(server, elicitation_callback=person, mode="legacy") as client,
            anyio.create_task_group() as group,
        ):
            group.start_soon(spinner.run)
            try:
                result = await client.call_tool(tool, arguments)
            except MCPError as exc:
                # Caught inside the task group: raised through it, it would arrive wrapped in an ExceptionGroup.
                refusal = exc.message
            finally:
                group.cancel_scope.cancel()
    except Exception as exc:  # the SDK raises the child's end wrapped in its task groups' ExceptionGroups
        refusal = _sentence_for(exc, tool)
    if refusal is not None:
        print(f"pieces-mcp: {refusal}", file=sys.stderr)
        return 1
    assert result is not None
    if result.is_error:
        print(f"pieces-mcp: {_tool_error_sentence(result, tool, nobody_to_ask=person.nobody_to_ask)}", file=sys.stderr)
        return 1
    print(json.dumps(result.structured_content, indent=2, ensure_ascii=False))
    return 0


def _tool_error_sentence(result: CallToolResult, tool: str, *, nobody_to_ask: bool) -> str:
    """The tool's error answer reworded for the person who typed the call."""
    if nobody_to_ask:
        return (
            f"{tool} did not run: it needs your confirmation, and there is no terminal to ask on "
            "(stdin is not a terminal); pass --yes to allow it."
        )
    text = " ".join(block.text for block in result.content if isinstance(block, TextContent))
    text = text.replace("; do not retry unless they ask for it again.", ".")  # advice for a model, not you
    return text.replace("the person answered no", "you answered no")


def _sentence_for(exc: BaseException, tool: str) -> str:
    """One line for the person from what ended the call: the child's own refusal, or that the child died."""
    found = _mcp_error_in(exc)
    if found is None:
        raise exc
    if found.code == CONNECTION_CLOSED:
        return (
            f"the server (a child `pieces-mcp serve`) ended before it answered {tool}; "
            "what it printed, if anything, is above."
        )
    return found.message


def _mcp_error_in(exc: BaseException) -> MCPError | None:
    if isinstance(exc, MCPError):
        return exc
    for inner in getattr(exc, "exceptions", ()):  # an ExceptionGroup (the `exceptiongroup` backport on 3.10)
        found = _mcp_error_in(inner)
        if found is not None:
            return found
    return None
