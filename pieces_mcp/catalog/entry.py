"""What one catalog entry says about its operation; the toolset modules fill in the entries."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from enum import Enum
from functools import cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, TypeVar

from pieces_mcp.catalog.generations import FROM_SEED, Generation, Since

if TYPE_CHECKING:  # the models are imported when a tool of their set is used, not with the catalog
    from pieces_mcp.models.base import Answer, ToolInput


class Risk(str, Enum):
    READ = "read"
    # Side effects, or a window on the person's desktop: the person decides (see guard.py).
    GUARDED = "guarded"


class ArgumentKind(str, Enum):
    """What an argument names, so the guard can show what it acts on (`pieces_mcp/targets.py`)."""

    PATH = "path"  # a file or folder on this machine: made absolute, symlinks followed, network paths refused
    URL = "url"  # a web address: shown as the browser reads it, user info refused
    VALUE = "value"  # anything else (an applet, a setting, a provider): shown as PiecesOS receives it


class Wait(str, Enum):
    """Which limit a call's `Budget` gets (pieces_mcp/budget.py)."""

    ORDINARY = "ordinary"  # --timeout
    INTERACTIVE = "interactive"  # --interactive-timeout: waits for a person at the desktop
    COMEBACK = "comeback"  # --timeout plus --restart-timeout: PiecesOS goes down or starts, and the call waits


class Exchange(str, Enum):
    """How the call goes over the wire; `pieces_mcp.exchanges.EXCHANGES` holds the object for each."""

    REQUEST = "request"  # one HTTP request, its JSON answer
    FOLLOWED_DOWNLOAD = "followed download"  # the request, then (when asked) the update stream while it downloads
    STREAMED_READ = "streamed read"  # a WebSocket: the body is the first message, the answer gathered from many
    RESTART = "restart"  # the request, then PiecesOS goes down and the call waits for it to come back
    QUIT = "quit"  # the request, then the wait until PiecesOS's port refuses connections (the process ended)
    LAUNCH = "launch"  # open pieces://launch through the OS, then wait for PiecesOS to answer


_Model = TypeVar("_Model")


class ModelRef(NamedTuple):  # a NamedTuple, as every catalog record (`catalog.generations` says why)
    """A model class named by its module and name, imported on first use.

    The catalog lists every toolset's operations, but a session imports only the models of the sets it
    offers: building the pydantic models of all 25 operations cost about 70 ms of every start-up
    (`python -X importtime`, issue 22), though the default offers the `os` set alone.
    """

    module: str
    name: str

    def resolve(self, kind: type[_Model]) -> type[_Model]:
        found = _imported(self.module, self.name)
        if not (isinstance(found, type) and issubclass(found, kind)):
            raise TypeError(f"{self.module}.{self.name} is not a {kind.__name__}")
        return found


@cache
def _imported(module: str, name: str) -> object:
    return getattr(importlib.import_module(module), name)


class Models:
    """One toolset's models module: `Models("pieces_mcp.models.files").PathInput` names a class in it."""

    def __init__(self, module: str) -> None:
        self.module = module

    def __getattr__(self, name: str) -> ModelRef:
        if name.startswith("_"):
            raise AttributeError(name)
        return ModelRef(self.module, name)


BASE_MODELS = Models("pieces_mcp.models.base")


def _resolved(model: ModelRef | type[_Model], kind: type[_Model]) -> type[_Model]:
    return model if isinstance(model, type) else model.resolve(kind)


# Cached by the model's reference: an entry is a NamedTuple (no instance dictionary for a cached_property).
@cache
def _input_model(arguments: ModelRef | type[ToolInput]) -> type[ToolInput]:
    from pieces_mcp.models.base import ToolInput

    return _resolved(arguments, ToolInput)


@cache
def _output_model(answer: ModelRef | type[Answer]) -> type[Answer]:
    from pieces_mcp.models.base import Answer

    return _resolved(answer, Answer)


# In an example's arguments, the folder the simulator serves files from (`POST /_simulator/files`): a test fills
# it in with a folder of its own; docs show it as it is.
EXAMPLE_FILES = "{files}"


class Example(NamedTuple):
    """One call a model might make, for tests and docs, and what its answer must keep to.

    Every entry's examples are called by the tests against the simulator (tests/unit/test_catalog_examples.py),
    through the MCP server, and each must then keep its entry's invariants: the arguments fit the tool's strict
    schema; the call reaches PiecesOS at the entry's own path and nowhere else; the answer fits the tool's output
    schema and has `answer_has`; a guarded call that is refused never reaches PiecesOS.
    """

    arguments: Mapping[str, Any] = MappingProxyType({})
    # Keys the structured answer always has (with the simulator's default state: someone signed in).
    answer_has: tuple[str, ...] = ()

    def filled(self, files: str) -> dict[str, Any]:
        """The arguments, with `EXAMPLE_FILES` replaced by the folder `files`."""
        return {
            key: value.replace(EXAMPLE_FILES, files) if isinstance(value, str) else value
            for key, value in self.arguments.items()
        }


class Endpoint(NamedTuple):
    name: str
    title: str
    description: str
    method: Literal["GET", "POST"]
    path: str | Mapping[Generation, str]
    # The tool's arguments and PiecesOS's answer: a `ModelRef` into the toolset's models module (imported when
    # first used), or the class itself.
    arguments: ModelRef | type[ToolInput]
    answer: ModelRef | type[Answer]
    risk: Risk
    # The named group (`--toolsets`) that offers this tool; the default list is the seed's `os` set.
    toolset: str
    wait: Wait
    destructive: bool = False
    idempotent: bool = False
    open_world: bool = False  # reaches beyond this machine (Pieces cloud, an identity provider)
    exchange: Exchange = Exchange.REQUEST
    # What happens, in plain words, for the person asked to confirm a guarded call.
    consequence: str = ""
    # What an unguarded tool may still set going, in plain words: such a tool is not annotated read-only,
    # though it asks nobody and `--read-only` still offers it (it installs or removes nothing).
    side_effect: str = ""
    # Every argument of `input_model` and what it names (a test holds each entry to all of them).
    targets: Mapping[str, ArgumentKind] = MappingProxyType({})
    # The first wire generation (and vendor client) with this operation (`catalog.generations`).
    since: Since = FROM_SEED
    # The catalog entries whose answer this call's success changes: their resources' subscribers are told.
    changes: tuple[str, ...] = ()
    # At least one; the first is what tests call the tool with (see `Example`).
    examples: tuple[Example, ...] = ()

    # Resolved once per model (`_input_model`, `_output_model`): every call reads both.
    @property
    def input_model(self) -> type[ToolInput]:
        return _input_model(self.arguments)

    @property
    def output_model(self) -> type[Answer]:
        return _output_model(self.answer)

    def path_for(self, generation: Generation) -> str:
        return self.path if isinstance(self.path, str) else self.path[generation]

    @property
    def moved_between_generations(self) -> bool:
        return not isinstance(self.path, str)

    @property
    def served_over_http(self) -> bool:
        """Whether PiecesOS serves the path itself (`open_pieces_os` opens a URL through the OS instead)."""
        return self.path_for("current").startswith("/")

    @property
    def guarded(self) -> bool:
        return self.risk is Risk.GUARDED

    @property
    def read_only(self) -> bool:
        """What the tool annotation `readOnlyHint` says: nothing changes on this machine or in the account."""
        return not self.guarded and not self.side_effect

    def input_schema(self) -> dict[str, Any]:
        return _tool_schema(self.input_model.model_json_schema())

    def output_schema(self) -> dict[str, Any]:
        return _tool_schema(self.output_model.model_json_schema(mode="serialization"))


def _tool_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A model's JSON schema as a tool shows it: the class name and docstring are for developers only."""
    schema.pop("title", None)
    schema.pop("description", None)
    return schema


CONFIRM_NOTE = " A person may be asked to confirm first; if they decline, do not retry unless they ask."
