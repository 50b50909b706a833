"""MCP wiring: every offered catalog entry becomes one tool on an `MCPServer`."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any, BinaryIO, cast

import anyio
from mcp.server.mcpserver import Context, ElicitationResult, MCPServer, Resolve
from mcp.server.mcpserver.exceptions import ResourceError, UnexpectedToolError
from mcp.server.mcpserver.resources import FunctionResource
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, CallToolResult, ContentBlock, TextContent, ToolAnnotations
from pydantic import ValidationError

from pieces_mcp import __version__
from pieces_mcp.catalog import Endpoint, Wait
from pieces_mcp.client import PiecesOS, http_client
from pieces_mcp.config import Settings
from pieces_mcp.errors import BadStatus, PiecesError
from pieces_mcp.guard import AuditLog, Confirm, Decision, Policy, Verdict, confirmation_resolver, verdict_from
from pieces_mcp.models import Answer, PickedPaths, ToolInput
from pieces_mcp.stdio import stdio_streams

logger = logging.getLogger(__name__)

SERVER_NAME = "pieces-os"
RESOURCE_SCHEME = "pieces-os"
PROGRESS_INTERVAL_S = 4.0  # under the 5 s some clients allow between progress notifications
INSTRUCTIONS = (
    "Operate PiecesOS, the local service behind the Pieces apps, on this person's computer. "
    "Read tools (os_device_information, os_permissions, os_update_check) are safe to call any time. "
    "The others act on the desktop or the account (restart, sign in/out, link a provider, permission "
    "prompts, file and folder pickers): call them only when the person wants that, expect them to ask the "
    "person to confirm, and never retry one the person declined. Pickers and sign-in wait for the person, "
    "so they can take minutes. An error result says what happened and what to do next."
)


@dataclass(frozen=True)
class Runtime:
    """What every tool call shares for the life of the server."""

    pieces: PiecesOS
    audit: AuditLog


class PiecesServer(MCPServer[Runtime]):
    """`MCPServer` with strict arguments: unknown names and extra keys are refused before anything runs."""

    def __init__(self, offered: Mapping[str, Endpoint], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.offered = offered
        # Set by the lifespan; resources read through it (the SDK gives static resources no Context).
        self.runtime: Runtime | None = None

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Runtime, Any] | None = None
    ) -> Any:
        endpoint = self.offered.get(name)
        tool = self._tool_manager.get_tool(name)
        if endpoint is None or tool is None:
            raise MCPError(INVALID_PARAMS, f"Unknown tool: {name}; tools/list shows the tools this server offers.")
        try:
            # The SDK's pre-parse turns a JSON-encoded list sent as a string (some clients do) into the list.
            validated = endpoint.input_model.model_validate(tool.fn_metadata.pre_parse_json(arguments))
        except ValidationError as exc:
            return error_result(argument_problem(endpoint, exc))
        if endpoint.guarded or context is None:
            # The SDK's tool machinery runs the confirmation resolver first.
            return await super().call_tool(name, arguments, context)
        # A read tool has nothing to resolve: run it straight away, without the SDK's second validation and
        # its layers of tool machinery (the hot path of tools/bench.py).
        try:
            return await run_tool(endpoint, validated, context, Verdict(Decision.ALLOWED_BY_POLICY))
        except Exception as exc:  # what the SDK's path answers for a bug: no internals in the result
            raise UnexpectedToolError(f"Error executing tool {name}") from exc

    async def run_stdio(self, stdin: BinaryIO, stdout: BinaryIO) -> None:
        """Serve MCP over `stdin` and `stdout`: the process's real ones, kept aside by the CLI."""
        async with stdio_streams(stdin, stdout) as (read_stream, write_stream):
            lowlevel = self._lowlevel_server
            await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())


def build_server(settings: Settings) -> PiecesServer:
    policy = Policy(settings)

    @asynccontextmanager
    async def lifespan(server: MCPServer[Runtime]) -> AsyncIterator[Runtime]:
        async with http_client(settings) as http:
            runtime = Runtime(PiecesOS(settings, http), AuditLog(settings.audit_log))
            cast(PiecesServer, server).runtime = runtime
            yield runtime

    offered = {endpoint.name: endpoint for endpoint in policy.visible()}
    server = PiecesServer(
        offered,
        name=SERVER_NAME,
        title="PiecesOS",
        version=__version__,
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
        tools=[make_tool(endpoint, policy) for endpoint in offered.values()],
        log_level=cast(Any, settings.log_level),
    )
    for endpoint in offered.values():
        if not endpoint.guarded:
            server.add_resource(make_resource(endpoint, server))
    return server


def make_resource(endpoint: Endpoint, server: PiecesServer) -> FunctionResource:
    """A read tool's answer as a resource, so a client can attach it as context without a tool call."""

    async def read() -> str:
        if server.runtime is None:
            raise ResourceError("The server is still starting; read the resource again in a moment.")
        try:
            answer = await server.runtime.pieces.call(endpoint, endpoint.input_model())
        except PiecesError as exc:
            raise ResourceError(exc.message) from None
        return answer.model_dump_json(exclude_unset=True)

    return FunctionResource.from_function(
        read,
        uri=f"{RESOURCE_SCHEME}://{endpoint.name}",
        name=endpoint.name,
        title=endpoint.title,
        description=endpoint.description,
        mime_type="application/json",
    )


def make_tool(endpoint: Endpoint, policy: Policy) -> Tool:
    """One catalog entry as an SDK tool: the entry's strict input model, output schema and annotations."""

    if endpoint.guarded:

        async def handler(
            arguments: ToolInput, ctx: Context[Runtime, Any], confirmation: ElicitationResult[Confirm]
        ) -> CallToolResult:
            return await run_tool(endpoint, arguments, ctx, verdict_from(endpoint, confirmation))

        resolver = Resolve(confirmation_resolver(endpoint, policy))
        # Set as objects, not strings: the SDK reads these hints, and the resolver is a closure.
        handler.__annotations__ = {
            "arguments": ToolInput,
            "ctx": Context,
            "confirmation": Annotated[ElicitationResult[Confirm], resolver],
            "return": CallToolResult,
        }
    else:

        async def handler(arguments: ToolInput, ctx: Context[Runtime, Any]) -> CallToolResult:  # type: ignore[misc]
            return await run_tool(endpoint, arguments, ctx, Verdict(Decision.ALLOWED_BY_POLICY))

        handler.__annotations__ = {"arguments": ToolInput, "ctx": Context, "return": CallToolResult}

    tool = Tool.from_function(
        handler,
        name=endpoint.name,
        title=endpoint.title,
        description=endpoint.description,
        annotations=ToolAnnotations(
            title=endpoint.title,
            read_only_hint=not endpoint.guarded,
            destructive_hint=endpoint.destructive,
            idempotent_hint=endpoint.idempotent,
            open_world_hint=endpoint.open_world,
        ),
        structured_output=False,
    )
    # The SDK validates with `arg_model` and passes `model_dump_one_level()` (`{"arguments": model}`) on.
    tool.fn_metadata.arg_model = cast(type[ArgModelBase], endpoint.input_model)
    tool.parameters = input_schema(endpoint)
    tool.fn_metadata.output_schema = output_schema(endpoint)
    return tool


async def run_tool(
    endpoint: Endpoint, arguments: ToolInput, ctx: Context[Runtime, Any], verdict: Verdict
) -> CallToolResult:
    """One tool call once the guard has decided: PiecesOS's answer as structured content and as JSON text."""
    runtime = ctx.request_context.lifespan_context
    started = time.monotonic()
    if not verdict.runs:
        runtime.audit.record(endpoint.name, verdict, "not run", started)
        return error_result(verdict.reason)
    try:
        answer = await call_with_progress(runtime.pieces, endpoint, arguments, ctx)
    except PiecesError as exc:
        if endpoint.guarded:
            status = f" {exc.status}" if isinstance(exc, BadStatus) else ""
            runtime.audit.record(endpoint.name, verdict, f"error: {type(exc).__name__}{status}", started)
        return error_result(exc.message)
    if endpoint.guarded:
        runtime.audit.record(endpoint.name, verdict, "ok", started)
    data = answer.model_dump(mode="json", exclude_unset=True)
    content: list[ContentBlock] = [
        TextContent(type="text", text=json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    ]
    if isinstance(answer, PickedPaths) and answer.truncated:
        note = f"Only the first {len(answer.paths)} of {answer.total} chosen paths are listed."
        content.append(TextContent(type="text", text=note))
    return CallToolResult(content=content, structured_content=data)


def input_schema(endpoint: Endpoint) -> dict[str, Any]:
    schema = endpoint.input_model.model_json_schema()
    schema.pop("title", None)
    schema.pop("description", None)
    return schema


def output_schema(endpoint: Endpoint) -> dict[str, Any]:
    schema = endpoint.output_model.model_json_schema(mode="serialization")
    schema.pop("title", None)
    schema.pop("description", None)  # the class docstring is for developers; the tool describes itself
    return schema


async def call_with_progress(
    pieces: PiecesOS, endpoint: Endpoint, arguments: ToolInput, ctx: Context[Runtime, Any]
) -> Answer:
    """Call PiecesOS; while a person is awaited, tell the client we are alive so it does not give up."""
    if endpoint.wait is not Wait.INTERACTIVE:
        return await pieces.call(endpoint, arguments)

    async def heartbeat() -> None:
        started = time.monotonic()
        while True:
            await anyio.sleep(PROGRESS_INTERVAL_S)
            waited = time.monotonic() - started
            await ctx.report_progress(waited, None, f"Waiting for the person at their desktop ({waited:.0f} s)")

    outcome: Answer | PiecesError
    async with anyio.create_task_group() as group:
        group.start_soon(heartbeat)
        try:
            outcome = await pieces.call(endpoint, arguments)
        except PiecesError as exc:
            outcome = exc  # raised below, outside the task group, which would wrap it in an ExceptionGroup
        group.cancel_scope.cancel()
    if isinstance(outcome, PiecesError):
        raise outcome
    return outcome


def error_result(message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)


def argument_problem(endpoint: Endpoint, exc: ValidationError) -> str:
    """A validation failure as one sentence naming each bad argument and what the tool takes."""
    accepted = ", ".join(endpoint.input_model.model_fields) or "no arguments"
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in error["loc"])
        if error["type"] == "extra_forbidden":
            problems.append(f"unknown argument {where!r}")
        else:
            problems.append(f"{where}: {error['msg']}" if where else error["msg"].removeprefix("Value error, "))
    return (
        f"Invalid arguments for {endpoint.name}: {'; '.join(problems)} "
        f"(it takes: {accepted}); fix them and call it again."
    )


def tool_listing(settings: Settings) -> list[dict[str, Any]]:
    """`tools/list` as it goes on the wire, without a connection: for snapshots and the README."""
    server = build_server(settings)
    tools = anyio.run(server.list_tools)
    return [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in tools]
