"""The only module that knows the MCP SDK's API: the catalog served through the SDK's low-level `Server`.

Built on the low-level server's documented handlers (`on_list_tools`, `on_call_tool`, ...), which give
the project its own call path (`dispatch.py`) and the 2026-07-28 `InputRequiredResult` round trip without
reaching into `MCPServer`'s tool machinery.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
import traceback
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import anyio
import mcp_types as types
from mcp.server import NotificationOptions, Server, ServerRequestContext
from mcp.server.subscriptions import InMemorySubscriptionBus, ListenHandler, ResourceUpdated
from mcp.shared.exceptions import MCPError
from mcp_types.version import is_version_at_least
from pydantic import ValidationError

from pieces_mcp import SERVER_NAME, __version__
from pieces_mcp.catalog import LIVE, Endpoint, LiveResource
from pieces_mcp.client import PiecesOS, http_client
from pieces_mcp.config import Settings
from pieces_mcp.dispatch import Dispatcher, ToolOutcome, UnknownToolError
from pieces_mcp.errors import PiecesError
from pieces_mcp.guard import AuditLog, ClientAnswer, Guard, Policy
from pieces_mcp.live import Notify, Subscriptions, read_once
from pieces_mcp.stdio import stdio_streams

logger = logging.getLogger(__name__)

RESOURCE_SCHEME = "pieces-os"
# From this protocol revision on, a question to the person rides `input_required` round trips.
ROUND_TRIP_ERA = "2026-07-28"
CONFIRM_KEY = "confirm"
CONFIRM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "confirm": {"type": "boolean", "title": "Go ahead?", "description": "Yes runs it now; no stops it."}
    },
    "required": ["confirm"],
}
OPEN_QUESTIONS = 256  # round-trip questions awaiting an answer; the oldest is forgotten past this


def instructions(settings: Settings) -> str:
    read = ", ".join(endpoint.name for endpoint in Policy(settings).visible() if not endpoint.guarded)
    return (
        "Operate PiecesOS, the local service behind the Pieces apps, on this person's computer. "
        f"Read tools ({read}) are safe to call any time. "
        "The others act on the desktop or the account: call them only when the person wants that, expect them "
        "to ask the person to confirm, and never retry one the person declined. Calls that wait for the person "
        "(pickers, sign-in) can take minutes. An error result says what happened and what to do next."
    )


@dataclass
class Questions:
    """Questions sent in `input_required` round trips: each answer counts once, for the call it was asked for.

    The client echoes `request_state`, so it is signed with a key that never leaves this process and names
    the tool and its arguments; an answer without a live question (forged, or replayed) is not an answer.
    """

    key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    open: OrderedDict[str, float] = field(default_factory=OrderedDict)

    def _signature(self, nonce: str, name: str, arguments: Mapping[str, Any]) -> str:
        subject = json.dumps([nonce, name, arguments], sort_keys=True, default=str).encode()
        return hmac.new(self.key, subject, hashlib.sha256).hexdigest()

    def issue(self, name: str, arguments: Mapping[str, Any], lifetime: float) -> str:
        nonce = secrets.token_urlsafe(16)
        self.open[nonce] = time.monotonic() + lifetime
        while len(self.open) > OPEN_QUESTIONS:
            self.open.popitem(last=False)
        return f"{nonce}.{self._signature(nonce, name, arguments)}"

    def redeem(self, state: str | None, name: str, arguments: Mapping[str, Any]) -> bool:
        nonce, _, signature = (state or "").partition(".")
        if not hmac.compare_digest(signature, self._signature(nonce, name, arguments)):
            return False
        expiry = self.open.pop(nonce, None)
        return expiry is not None and time.monotonic() < expiry


@dataclass(frozen=True)
class Runtime:
    """What every request shares for the life of the server."""

    settings: Settings
    dispatcher: Dispatcher
    pieces: PiecesOS
    questions: Questions
    subscriptions: Subscriptions


class QuestionPending(Exception):
    """The person's answer must come back in a retried call: the result is `InputRequiredResult`."""

    def __init__(self, result: types.InputRequiredResult) -> None:
        super().__init__("input required")
        self.result = result


class ClientAsker:
    """The guard's way to the person through this request's client, in either protocol era."""

    def __init__(self, ctx: ServerRequestContext[Runtime], params: types.CallToolRequestParams) -> None:
        self.ctx = ctx
        self.params = params

    @property
    def can_ask(self) -> bool:
        capabilities = self.ctx.session.client_capabilities
        elicitation = capabilities.elicitation if capabilities is not None else None
        # A bare `elicitation: {}` (from before modes existed) means form support; url-only does not.
        return elicitation is not None and (elicitation.form is not None or elicitation.url is None)

    async def ask(self, question: str, patience: float) -> ClientAnswer:
        if is_version_at_least(self.ctx.protocol_version, ROUND_TRIP_ERA):
            return self._answer_from_round_trip(question, patience)
        with anyio.move_on_after(patience):
            try:
                result = await self.ctx.session.elicit_form(question, CONFIRM_SCHEMA, self.ctx.request_id)
            except MCPError as exc:
                logger.info("The client could not ask for a confirmation: %s", exc.error.message)
                return "failed"
            except ValidationError:  # the SDK checks the reply's shape: this one is not an elicitation result
                logger.info("The client's reply to a confirmation did not fit the question")
                return "unfit"
            return _client_answer(result)
        return "timeout"

    def _answer_from_round_trip(self, question: str, patience: float) -> ClientAnswer:
        questions = self.ctx.lifespan_context.questions
        name, arguments = self.params.name, self.params.arguments or {}
        answer = (self.params.input_responses or {}).get(CONFIRM_KEY)
        if answer is not None and questions.redeem(self.params.request_state, name, arguments):
            # Redeemed: the question was asked once and is answered now, fitting or not (never asked again).
            return _client_answer(answer) if isinstance(answer, types.ElicitResult) else "unfit"
        request = types.ElicitRequest(
            params=types.ElicitRequestFormParams(message=question, requested_schema=CONFIRM_SCHEMA)
        )
        state = questions.issue(name, arguments, patience)
        raise QuestionPending(types.InputRequiredResult(input_requests={CONFIRM_KEY: request}, request_state=state))


def _client_answer(result: types.ElicitResult) -> ClientAnswer:
    if result.action == "accept":
        confirm = (result.content or {}).get("confirm")
        if not isinstance(confirm, bool):  # the schema asks for a boolean: "yes", 1 or nothing is no answer
            return "unfit"
        return "yes" if confirm else "no"
    return "decline" if result.action == "decline" else "cancel"


def tool_definition(endpoint: Endpoint) -> types.Tool:
    return types.Tool(
        name=endpoint.name,
        title=endpoint.title,
        description=endpoint.description,
        input_schema=endpoint.input_schema(),
        output_schema=endpoint.output_schema(),
        annotations=types.ToolAnnotations(
            title=endpoint.title,
            read_only_hint=endpoint.read_only,
            destructive_hint=endpoint.destructive,
            idempotent_hint=endpoint.idempotent,
            open_world_hint=endpoint.open_world,
        ),
    )


def tool_listing(settings: Settings) -> list[dict[str, Any]]:
    """`tools/list` as it goes on the wire, without a connection: for snapshots and the README."""
    tools = [tool_definition(endpoint) for endpoint in Policy(settings).visible()]
    return [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in tools]


def call_result(outcome: ToolOutcome) -> types.CallToolResult:
    content: list[types.ContentBlock] = [types.TextContent(type="text", text=text) for text in outcome.texts]
    return types.CallToolResult(content=content, structured_content=outcome.structured, is_error=outcome.is_error)


class PiecesServer(Server[Runtime]):
    """The SDK's server, announcing only what this one does.

    In the 2026-07-28 era the SDK derives `tools.listChanged` and `resources.listChanged` from serving
    `subscriptions/listen` (mcp/server/lowlevel/server.py, `get_capabilities`), but the tool and resource
    lists never change while this server runs: only `resources.subscribe` is true, in both eras.
    """

    def get_capabilities(
        self,
        notification_options: NotificationOptions | None = None,
        experimental_capabilities: dict[str, dict[str, Any]] | None = None,
        extensions: dict[str, dict[str, Any]] | None = None,
        *,
        protocol_version: str | None = None,
    ) -> types.ServerCapabilities:
        capabilities = super().get_capabilities(
            notification_options, experimental_capabilities, extensions, protocol_version=protocol_version
        )
        if capabilities.tools is not None:
            capabilities.tools.list_changed = False
        if capabilities.resources is not None:
            capabilities.resources.list_changed = False
        return capabilities


def live_resources(settings: Settings) -> dict[str, LiveResource]:
    """The streams offered as subscribable resources: those of the chosen toolsets."""
    return {f"{RESOURCE_SCHEME}://{live.name}": live for live in LIVE if live.toolset in settings.toolsets}


def connection_of(ctx: ServerRequestContext[Runtime]) -> int:
    """Who subscribed, for as long as the connection lives.

    `ctx.session` is a new view for each request in mcp 2.x, so it cannot say that an unsubscribe comes from
    the connection that subscribed; the connection's `initialize` parameters are the one public object that
    lives exactly as long as the connection (they exist in the handshake era, the only one with subscribe).
    """
    params = ctx.session.client_params
    return id(params if params is not None else ctx.session)


def build_server(settings: Settings) -> Server[Runtime]:
    visible = Policy(settings).visible()
    tools = types.ListToolsResult(tools=[tool_definition(endpoint) for endpoint in visible])
    # The read tools that need no argument are also resources: a client can attach them without a tool call.
    readable = {
        f"{RESOURCE_SCHEME}://{endpoint.name}": endpoint
        for endpoint in visible
        if not endpoint.guarded and not any(field.is_required() for field in endpoint.input_model.model_fields.values())
    }
    # PiecesOS's streams: resources a client can subscribe to, told of each change PiecesOS reports.
    live = live_resources(settings)
    listed: list[tuple[str, Endpoint | LiveResource]] = [*readable.items(), *live.items()]
    resources = types.ListResourcesResult(
        resources=[
            types.Resource(
                uri=uri,
                name=item.name,
                title=item.title,
                description=item.description,
                mime_type="application/json",
            )
            for uri, item in listed
        ]
    )
    # 2026-07-28: change notifications ride `subscriptions/listen` streams. Each stream gets its own bus and
    # handler, so the feeds it asked for reach it alone (a shared bus would hand every stream each feed's events).
    open_streams: set[ListenHandler] = set()

    @asynccontextmanager
    async def lifespan(server: Server[Runtime]) -> AsyncIterator[Runtime]:
        async with http_client(settings) as http, anyio.create_task_group() as feeds:
            pieces = PiecesOS(settings, http)
            dispatcher = Dispatcher(pieces, Guard(settings), AuditLog(settings.audit_log))
            yield Runtime(settings, dispatcher, pieces, Questions(), Subscriptions(pieces, feeds))
            for handler in list(open_streams):
                handler.close()
            feeds.cancel_scope.cancel()

    async def list_tools(
        ctx: ServerRequestContext[Runtime], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return tools

    async def call_tool(
        ctx: ServerRequestContext[Runtime], params: types.CallToolRequestParams
    ) -> types.CallToolResult | types.InputRequiredResult:
        async def progress(waited: float, message: str) -> None:
            await ctx.session.report_progress(waited, None, message)

        try:
            outcome = await ctx.lifespan_context.dispatcher.call(
                params.name, params.arguments, ClientAsker(ctx, params), progress
            )
        except UnknownToolError as exc:
            raise MCPError(types.INVALID_PARAMS, str(exc)) from None
        except QuestionPending as pending:
            return pending.result
        except Exception as exc:  # a bug: its text may hold anything, so the client and the log get no message
            logger.error(
                "Tool %s failed with %s:\n%s",
                params.name,
                type(exc).__name__,
                "".join(traceback.format_tb(exc.__traceback__)),
            )
            return call_result(ToolOutcome([f"Error executing tool {params.name}"], is_error=True))
        return call_result(outcome)

    async def list_resources(
        ctx: ServerRequestContext[Runtime], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        return resources

    async def read_resource(
        ctx: ServerRequestContext[Runtime], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        uri = str(params.uri)
        endpoint = readable.get(uri)
        pieces = ctx.lifespan_context.pieces
        if endpoint is None and uri not in live:
            raise MCPError(types.INVALID_PARAMS, f"Unknown resource: {uri}; resources/list shows the resources.")
        try:
            if endpoint is not None:
                answer = await pieces.call(endpoint, endpoint.input_model())
            else:
                answer = await read_once(pieces, live[uri])
        except PiecesError as exc:
            raise MCPError(types.INTERNAL_ERROR, exc.message) from None
        text = answer.model_dump_json(exclude_unset=True)
        return types.ReadResourceResult(
            contents=[types.TextResourceContents(uri=uri, mime_type="application/json", text=text)]
        )

    def live_resource(uri: str) -> LiveResource:
        if uri not in live:
            offered = ", ".join(live) or "none with the chosen toolsets"
            raise MCPError(types.INVALID_PARAMS, f"{uri} cannot be subscribed to; the live resources are: {offered}.")
        return live[uri]

    async def follow(ctx: ServerRequestContext[Runtime], subscriber: object, uri: str, notify: Notify) -> None:
        try:
            await ctx.lifespan_context.subscriptions.add(subscriber, live_resource(uri), uri, notify)
        except PiecesError as exc:
            raise MCPError(types.INTERNAL_ERROR, f"Cannot follow {uri}: {exc.message}") from None

    async def subscribe(ctx: ServerRequestContext[Runtime], params: types.SubscribeRequestParams) -> types.EmptyResult:
        """Handshake era: this session is told of each change until it unsubscribes."""
        session = ctx.session

        async def notify(uri: str) -> None:
            await session.send_resource_updated(uri)

        await follow(ctx, connection_of(ctx), str(params.uri), notify)
        return types.EmptyResult()

    async def unsubscribe(
        ctx: ServerRequestContext[Runtime], params: types.UnsubscribeRequestParams
    ) -> types.EmptyResult:
        ctx.lifespan_context.subscriptions.remove(connection_of(ctx), str(params.uri))
        return types.EmptyResult()

    async def listen(
        ctx: ServerRequestContext[Runtime], params: types.SubscriptionsListenRequestParams
    ) -> types.SubscriptionsListenResult:
        """2026-07-28: the live resources this stream asks for are followed for as long as it is open."""
        bus = InMemorySubscriptionBus()
        handler = ListenHandler(bus, max_subscriptions=1)

        async def notify(uri: str) -> None:
            await bus.publish(ResourceUpdated(uri))

        open_streams.add(handler)
        try:
            for uri in params.notifications.resource_subscriptions or ():
                await follow(ctx, handler, uri, notify)
            return await handler(ctx, params)
        finally:
            open_streams.discard(handler)
            ctx.lifespan_context.subscriptions.remove_all(handler)

    server = PiecesServer(
        SERVER_NAME,
        version=__version__,
        title="PiecesOS",
        instructions=instructions(settings),
        lifespan=lifespan,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_read_resource=read_resource,
        on_subscribe_resource=subscribe,
        on_unsubscribe_resource=unsubscribe,
        on_subscriptions_listen=listen,
    )
    # The SDK wraps every message in an OpenTelemetry span by default (`Server.middleware`, documented there
    # as the list to drop it from). pieces-mcp exports no traces, and the span cost ~5 % of a tool call.
    server.middleware.clear()
    return server


async def run_stdio(server: Server[Runtime], stdin: BinaryIO, stdout: BinaryIO) -> None:
    """Serve MCP over `stdin` and `stdout`: the process's real ones, kept aside by the CLI."""
    async with stdio_streams(stdin, stdout) as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())
