"""The only module that knows the MCP SDK's API: the catalog served through the SDK's low-level `Server`.

Built on the low-level server's documented handlers (`on_list_tools`, `on_call_tool`, ...), which give
the project its own call path (`dispatch.py`) and the 2026-07-28 `InputRequiredResult` round trip without
reaching into `MCPServer`'s tool machinery.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
import traceback
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, BinaryIO

import anyio
import mcp_types as types
from anyio.abc import TaskGroup
from mcp.server import NotificationOptions, Server, ServerRequestContext
from mcp.server.request_state import RequestStateBoundary, RequestStateSecurity
from mcp.server.subscriptions import InMemorySubscriptionBus, ListenHandler, ResourceUpdated
from mcp.shared.exceptions import MCPError
from mcp_types.version import is_version_at_least
from pydantic import ValidationError

from pieces_mcp import SERVER_NAME, __version__
from pieces_mcp.catalog import LIVE, Endpoint, LiveResource
from pieces_mcp.catalog.schemas import ToolSchemas, listed_schemas
from pieces_mcp.config import Settings
from pieces_mcp.errors import PiecesError
from pieces_mcp.guard import ClientAnswer, Guard
from pieces_mcp.stdio import stdio_streams

if TYPE_CHECKING:  # the call path, imported at the first request that needs PiecesOS (`Runtime.calls`)
    from pieces_mcp.client import PiecesOS
    from pieces_mcp.dispatch import Dispatcher, ToolOutcome
    from pieces_mcp.live import Notify, Subscriptions

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
SESSION_HEADER = "mcp-session-id"  # Streamable HTTP's session id (the spec's Mcp-Session-Id)
JSON = "application/json"
OPEN_QUESTIONS = 256  # round-trip questions awaiting an answer; the oldest is forgotten past this


class Questions:
    """Questions sent in `input_required` round trips: each answer counts once, for the call it was asked for.

    The SDK's `RequestStateBoundary` (installed by `PiecesAdapter.server`) seals the state under a key that
    never leaves this process and binds it to the tool and its arguments, so a forged or altered state never
    reaches a handler. What it cannot know is whether a state was already used: a sealed state stays valid
    until it expires. So the state is a nonce open here once, for that tool and those arguments, until it
    expires: a replayed answer finds it gone.
    """

    def __init__(self) -> None:  # not a dataclass: it would compile its methods at every start (issue 22)
        self.open: OrderedDict[str, tuple[float, str]] = OrderedDict()

    @staticmethod
    def _subject(name: str, arguments: Mapping[str, Any]) -> str:
        return json.dumps([name, arguments], sort_keys=True, default=str)

    def issue(self, name: str, arguments: Mapping[str, Any], lifetime: float) -> str:
        nonce = secrets.token_urlsafe(16)
        self.open[nonce] = (time.monotonic() + lifetime, self._subject(name, arguments))
        while len(self.open) > OPEN_QUESTIONS:
            self.open.popitem(last=False)
        return nonce

    def redeem(self, state: str | None, name: str, arguments: Mapping[str, Any]) -> bool:
        expiry, subject = self.open.get(state or "", (0.0, ""))
        if subject != self._subject(name, arguments):
            return False  # another call's answer: that call's question stays open
        del self.open[state or ""]
        return time.monotonic() < expiry


class Calls:
    """The PiecesOS side of a Runtime: the one HTTP client (inside `pieces`) and the dispatcher.

    A plain class: a dataclass costs its creation at import, and this module is imported at every start.
    """

    __slots__ = ("dispatcher", "pieces")

    def __init__(self, pieces: PiecesOS, dispatcher: Dispatcher) -> None:
        self.pieces = pieces
        self.dispatcher = dispatcher


class Runtime:
    """What every request shares for the life of the server (over stdio: of its one connection).

    The PiecesOS side (`Calls`) is made at the first request that needs it, not when the connection opens:
    `initialize` and `tools/list` import no HTTP client and none of the call path, about a fifth of what
    pieces-mcp adds to the SDK's start-up (issue 22; tests/unit/test_start_up_imports.py). It is made in one
    go without awaiting, so two first calls at once share one client, as every later call does.
    """

    def __init__(self, adapter: PiecesAdapter, feeds: TaskGroup) -> None:
        self.adapter = adapter
        self.settings = adapter.settings
        self.questions = Questions()
        self.feeds = feeds
        # 2026-07-28: change notifications ride `subscriptions/listen` streams. Each stream gets its own bus and
        # handler, so the changes it asked for reach it alone (a shared bus would hand every stream each event).
        self.listen_streams: set[ListenHandler] = set()
        self.opened: Calls | None = None
        # Made at the first subscription or change, so a session that only calls tools never imports `live`.
        self.followed: Subscriptions | None = None

    def calls(self) -> Calls:
        if self.opened is None:
            self.opened = open_calls(self.adapter)
        return self.opened

    @property
    def pieces(self) -> PiecesOS:
        return self.calls().pieces

    @property
    def dispatcher(self) -> Dispatcher:
        return self.calls().dispatcher

    @property
    def subscriptions(self) -> Subscriptions:
        if self.followed is None:
            from pieces_mcp.live import Subscriptions

            adapter = self.adapter
            self.followed = Subscriptions(self.pieces, self.feeds, adapter.streams, frozenset(adapter.readable))
        return self.followed

    async def aclose(self) -> None:
        if self.opened is not None:
            await self.opened.pieces.http.aclose()


def open_calls(adapter: PiecesAdapter) -> Calls:
    from pieces_mcp.client import PiecesOS
    from pieces_mcp.dispatch import Dispatcher
    from pieces_mcp.exchanges.connection import new_http_client
    from pieces_mcp.guard import AuditLog

    settings = adapter.settings
    pieces = PiecesOS(settings, new_http_client(settings))
    return Calls(pieces, Dispatcher(pieces, adapter.guard, AuditLog(settings.audit_log)))


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


def resource_uri(name: str) -> str:
    return f"{RESOURCE_SCHEME}://{name}"


def tool_definition(endpoint: Endpoint, schemas: ToolSchemas) -> types.Tool:
    return types.Tool(
        name=endpoint.name,
        title=endpoint.title,
        description=endpoint.description,
        input_schema=schemas["inputSchema"],
        output_schema=schemas["outputSchema"],
        annotations=types.ToolAnnotations(
            title=endpoint.title,
            read_only_hint=endpoint.read_only,
            destructive_hint=endpoint.destructive,
            idempotent_hint=endpoint.idempotent,
            open_world_hint=endpoint.open_world,
        ),
    )


def call_result(outcome: ToolOutcome) -> types.CallToolResult:
    content: list[types.ContentBlock] = [types.TextContent(type="text", text=text) for text in outcome.texts]
    return types.CallToolResult(content=content, structured_content=outcome.structured, is_error=outcome.is_error)


class PiecesServer(Server[Runtime]):
    """The SDK's server, announcing only what this one does.

    In the 2026-07-28 era the SDK derives `tools.listChanged` and `resources.listChanged` from serving
    `subscriptions/listen` (mcp/server/lowlevel/server.py, `get_capabilities`), but the tool and resource
    lists never change while this server runs: only `resources.subscribe` is true, in both eras.
    """

    def __init__(self, adapter: PiecesAdapter, name: str, **handlers: Any) -> None:
        super().__init__(name, **handlers)
        self.adapter = adapter

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


def subscriber_key(ctx: ServerRequestContext[Runtime]) -> str:
    """Which connection subscribes, in the handshake era (the only one with `resources/subscribe`).

    Over stdio (and the SDK's in-memory client) each connection runs its own lifespan, so its Runtime holds
    that one connection's subscriptions. Over HTTP the sessions share one Runtime: the session's id, from the
    `Mcp-Session-Id` header of the request (the SDK's `ServerRequestContext.request` is the HTTP request),
    tells them apart, and `PiecesServer.end_session` ends what a session followed.
    """
    headers = getattr(ctx.request, "headers", None)
    session_id = headers.get(SESSION_HEADER) if headers is not None else None
    return f"session {session_id}" if session_id else "this connection"


class PiecesAdapter:
    """The catalog served through the SDK's low-level `Server`: one object, its handlers bound methods.

    Everything it answers is built once from the settings: the offered tools (the guard's `Policy.offered`),
    the resources (the read tools that need no argument, then PiecesOS's streams) and which of them a stream
    keeps live. Per connection (the lifespan) it only adds the PiecesOS client and the subscriptions.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.guard = Guard(settings)
        offered = self.guard.policy.visible()
        # From the packaged schemas: no tool's models are built before its first call (`catalog.schemas`).
        schemas = listed_schemas(offered)
        self.tools = types.ListToolsResult(
            tools=[tool_definition(endpoint, schemas[endpoint.name]) for endpoint in offered]
        )
        # The read tools that need no argument are also resources: a client can attach them without a tool call.
        self.readable: dict[str, Endpoint] = {
            resource_uri(endpoint.name): endpoint
            for endpoint in offered
            if not endpoint.guarded and not schemas[endpoint.name]["inputSchema"].get("required")
        }
        self.live = {resource_uri(live.name): live for live in LIVE if live.toolset in settings.toolsets}
        listed: list[tuple[str, Endpoint | LiveResource]] = [*self.readable.items(), *self.live.items()]
        self.resources = types.ListResourcesResult(
            resources=[
                types.Resource(uri=uri, name=item.name, title=item.title, description=item.description, mime_type=JSON)
                for uri, item in listed
            ]
        )
        # Every listed resource can be subscribed to; a stream reports its own changes and its snapshot's.
        by_snapshot = {live.snapshot: live for live in self.live.values() if live.snapshot is not None}
        self.streams: dict[str, LiveResource | None] = {
            **{uri: by_snapshot.get(endpoint.name) for uri, endpoint in self.readable.items()},
            **self.live,
        }
        self.running: list[Runtime] = []

    def instructions(self) -> str:
        read = ", ".join(endpoint.name for endpoint in self.guard.policy.visible() if not endpoint.guarded)
        return (
            "Operate PiecesOS, the local service behind the Pieces apps, on this person's computer. "
            f"Read tools ({read}) are safe to call any time. "
            "The others act on the desktop or the account: call them only when the person wants that, expect them "
            "to ask the person to confirm, and never retry one the person declined. Calls that wait for the person "
            "(pickers, sign-in) can take minutes. An error result says what happened and what to do next."
        )

    @asynccontextmanager
    async def lifespan(self, server: Server[Runtime]) -> AsyncIterator[Runtime]:
        runtime: Runtime | None = None
        try:
            async with anyio.create_task_group() as feeds:
                runtime = Runtime(self, feeds)
                self.running.append(runtime)
                try:
                    yield runtime
                finally:
                    self.running.remove(runtime)
                    for handler in list(runtime.listen_streams):
                        handler.close()
                    feeds.cancel_scope.cancel()
        finally:
            if runtime is not None:
                await runtime.aclose()

    async def list_tools(
        self, ctx: ServerRequestContext[Runtime], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return self.tools

    async def call_tool(
        self, ctx: ServerRequestContext[Runtime], params: types.CallToolRequestParams
    ) -> types.CallToolResult | types.InputRequiredResult:
        async def progress(waited: float, message: str) -> None:
            await ctx.session.report_progress(waited, None, message)

        from pieces_mcp.dispatch import ToolOutcome, UnknownToolError

        runtime = ctx.lifespan_context
        try:
            outcome = await runtime.dispatcher.call(params.name, params.arguments, ClientAsker(ctx, params), progress)
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
        if not outcome.is_error:
            for changed in runtime.dispatcher.offered[params.name].changes:
                runtime.subscriptions.changed(resource_uri(changed))
        return call_result(outcome)

    async def list_resources(
        self, ctx: ServerRequestContext[Runtime], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        return self.resources

    async def list_resource_templates(
        self, ctx: ServerRequestContext[Runtime], params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        """None: every resource is listed by its URI. Clients ask anyway (Codex, on every connection)."""
        return types.ListResourceTemplatesResult(resource_templates=[])

    async def read_resource(
        self, ctx: ServerRequestContext[Runtime], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        from pieces_mcp.live import read_once

        uri = str(params.uri)
        endpoint = self.readable.get(uri)
        pieces = ctx.lifespan_context.pieces
        if endpoint is None and uri not in self.live:
            raise MCPError(types.INVALID_PARAMS, f"Unknown resource: {uri}; resources/list shows the resources.")
        try:
            if endpoint is not None:
                answer = await pieces.call(endpoint, endpoint.input_model())
            else:
                answer = await read_once(pieces, self.live[uri])
        except PiecesError as exc:
            raise MCPError(types.INTERNAL_ERROR, exc.message) from None
        text = answer.model_dump_json(exclude_unset=True)
        return types.ReadResourceResult(contents=[types.TextResourceContents(uri=uri, mime_type=JSON, text=text)])

    async def follow(self, ctx: ServerRequestContext[Runtime], key: object, notify: Notify, uri: str) -> None:
        from pieces_mcp.live import TooManySubscribersError

        if uri not in self.streams:
            offered = ", ".join(self.streams) or "none"
            raise MCPError(types.INVALID_PARAMS, f"{uri} cannot be subscribed to; the resources are: {offered}.")
        subscriptions = ctx.lifespan_context.subscriptions
        try:
            subscriptions.join(key, notify)
            await subscriptions.follow(key, uri)
        except TooManySubscribersError as exc:
            raise MCPError(types.INVALID_REQUEST, str(exc)) from None
        except PiecesError as exc:
            raise MCPError(types.INTERNAL_ERROR, f"Cannot follow {uri}: {exc.message}") from None

    async def subscribe(
        self, ctx: ServerRequestContext[Runtime], params: types.SubscribeRequestParams
    ) -> types.EmptyResult:
        """Handshake era: this connection is told of each change until it unsubscribes or ends."""
        session = ctx.session

        async def notify(uri: str) -> None:
            await session.send_resource_updated(uri)

        await self.follow(ctx, subscriber_key(ctx), notify, str(params.uri))
        return types.EmptyResult()

    async def unsubscribe(
        self, ctx: ServerRequestContext[Runtime], params: types.UnsubscribeRequestParams
    ) -> types.EmptyResult:
        ctx.lifespan_context.subscriptions.remove(subscriber_key(ctx), str(params.uri))
        return types.EmptyResult()

    async def listen(
        self, ctx: ServerRequestContext[Runtime], params: types.SubscriptionsListenRequestParams
    ) -> types.SubscriptionsListenResult:
        """2026-07-28: the resources this stream asks for are followed for as long as it is open."""
        from pieces_mcp.live import TooManySubscribersError

        bus = InMemorySubscriptionBus()
        handler = ListenHandler(bus, max_subscriptions=1)

        async def notify(uri: str) -> None:
            await bus.publish(ResourceUpdated(uri))

        subscriptions = ctx.lifespan_context.subscriptions
        ctx.lifespan_context.listen_streams.add(handler)
        try:
            try:
                subscriptions.join(handler, notify)
            except TooManySubscribersError as exc:
                raise MCPError(types.INVALID_REQUEST, str(exc)) from None
            for uri in params.notifications.resource_subscriptions or ():
                await self.follow(ctx, handler, notify, uri)
            return await handler(ctx, params)
        finally:
            ctx.lifespan_context.listen_streams.discard(handler)
            subscriptions.remove_all(handler)

    def later(self, delay: float, then: Callable[[], None]) -> None:
        """Call `then` after `delay` seconds, unless the server stops first (HTTP: one Runtime for all sessions)."""

        async def wait_then() -> None:
            await anyio.sleep(delay)
            then()

        for runtime in self.running[:1]:
            runtime.feeds.start_soon(wait_then)

    def end_session(self, session_id: str) -> None:
        """An HTTP session ended (deleted, or expired): what it followed stops."""
        for runtime in self.running:
            if runtime.followed is not None:  # nothing was followed before the first subscription
                runtime.followed.remove_all(f"session {session_id}")

    def server(self) -> PiecesServer:
        server = PiecesServer(
            self,
            SERVER_NAME,
            version=__version__,
            title="PiecesOS",
            instructions=self.instructions(),
            lifespan=self.lifespan,
            on_list_tools=self.list_tools,
            on_call_tool=self.call_tool,
            on_list_resources=self.list_resources,
            on_list_resource_templates=self.list_resource_templates,
            on_read_resource=self.read_resource,
            on_subscribe_resource=self.subscribe,
            on_unsubscribe_resource=self.unsubscribe,
            on_subscriptions_listen=self.listen,
        )
        # The SDK wraps every message in an OpenTelemetry span by default (`Server.middleware`, documented there
        # as the list to drop it from). pieces-mcp exports no traces, and the span cost ~5 % of a tool call.
        server.middleware.clear()
        # The 2026-07-28 round-trip state, sealed and checked by the SDK (mcp/server/request_state.py, the same
        # in 2.1.0); it lives as long as the question it carries. `Questions` adds the single use on top.
        security = RequestStateSecurity.ephemeral(ttl=self.settings.interactive_timeout)
        server.middleware.append(RequestStateBoundary(security, default_audience=SERVER_NAME))
        return server


def build_server(settings: Settings) -> PiecesServer:
    return PiecesAdapter(settings).server()


def tool_listing(settings: Settings) -> list[dict[str, Any]]:
    """`tools/list` as it goes on the wire, without a connection: for snapshots and the README."""
    tools = PiecesAdapter(settings).tools.tools
    return [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in tools]


async def run_stdio(server: Server[Runtime], stdin: BinaryIO, stdout: BinaryIO) -> None:
    """Serve MCP over `stdin` and `stdout`: the process's real ones, kept aside by the CLI."""
    async with stdio_streams(stdin, stdout) as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())
