"""What every toolset's models share: lenient reading, `<field>_raw` for unknown enum values, profiles cut
to identity.

Answers keep PiecesOS's JSON names (read off `pieces-os-client` 5.0.1) and are read leniently: an
enum value PiecesOS adds tomorrow becomes `UNKNOWN` with the text it sent kept beside it in
`<field>_raw` (e.g. `status: "UNKNOWN", status_raw: "NEW_THING"`); an unknown field is ignored. User
profiles are read through an allow-list of identity fields, so a credential has no field to land in
(the `os` set's sign-in and sign-out and the `user` set's snapshot all answer profiles).

Arguments are strict and flat: nothing extra is accepted. Each toolset's models are a module beside this
one, imported only when a tool of that set is offered (the catalog names them, `catalog.entry.ModelRef`).
"""

from __future__ import annotations

import weakref
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from pieces_mcp.catalog.generations import Generation
from pieces_mcp.redact import drop_secrets, is_secret_key

Number = int | float


def lenient(literal: Any) -> BeforeValidator:
    """Map a value outside `literal`'s choices to "UNKNOWN", as the vendor's client does."""
    known = frozenset(get_args(literal))

    def coerce(value: object) -> object:
        return value if value in known else "UNKNOWN"

    return BeforeValidator(coerce)


def keep_raw(data: Any, field: str, literal: Any) -> Any:
    """Before an enum field is made `UNKNOWN`, copy what PiecesOS sent into `<field>_raw`."""
    if isinstance(data, dict):
        value = data.get(field)
        if value is not None and value not in get_args(literal):
            return {**data, f"{field}_raw": value if isinstance(value, str) else repr(value)}
    return data


RAW_HELP = "What PiecesOS sent when the value above is UNKNOWN because pieces-mcp does not know it yet."

# What a person can link; UNKNOWN is only ever read, never asked for.
LinkableProvider = Literal[
    "github",
    "google-oauth2",
    "bitbucket",
    "linkedin",
    "twitter",
    "facebook",
    "waad",
    "discord",
    "gitlab",
    "apple",
    "username_email",
    "slack",
    "microsoft",
]

ProviderTypeValue = Literal["UNKNOWN", LinkableProvider]

ProviderType = Annotated[ProviderTypeValue, lenient(ProviderTypeValue)]


# Tool arguments: flat, snake_case, nothing extra accepted.


class ToolInput(BaseModel):
    """Arguments of one tool; `body()` is the JSON PiecesOS expects, or None for no body."""

    # defer_build (here and on `Answer`): a class's validator and serialiser are built at its first use, not when
    # its toolset's module is imported; a session calls a few of the module's tools (the `os` module alone has
    # 18 classes: importing it took 0.46 MiB of RSS with them built, 0.14 MiB deferred).
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    def body(self) -> Any:
        """The request body as JSON data (an object, or a bare string for some endpoints); None for none."""
        return None

    @classmethod
    def body_for_generation(cls, body: dict[str, Any] | None, generation: Generation) -> dict[str, Any] | None:
        """`body()` as an older wire generation takes it; the same JSON unless the input model changed."""
        return body


class NoArguments(ToolInput):
    """Tools that take nothing."""


class EmptyBodyInput(ToolInput):
    """Tools whose endpoint wants a (placeholder) JSON object as body."""

    def body(self) -> dict[str, Any] | None:
        return {}


class Answer(BaseModel):
    """A PiecesOS answer as a tool result; `from_wire` turns the decoded JSON body into one."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True)

    @classmethod
    def from_wire(cls, payload: Any) -> Answer:
        return cls.model_validate(payload)

    def with_note(self, note: str) -> Answer:
        if id(self) not in _NOTES:
            _NOTES[id(self)] = []
            weakref.finalize(self, _NOTES.pop, id(self), None)  # gone with the answer, before its id is reused
        _NOTES[id(self)].append(note)
        return self

    def notes(self) -> list[str]:
        """Sentences for the person or model beyond the data itself (e.g. that a list was cut)."""
        return list(_NOTES.get(id(self), ()))


# What the exchange that made an answer said beside its data, not in it (e.g. that this PiecesOS cannot report a
# download's progress), by answer. Not a pydantic private attribute: pydantic initialises those for every
# instance of the class, and every nested part of every answer is an `Answer` (reading a device-information
# answer took 17 µs with one, 6 µs without; cProfile: 20 `init_private_attributes` calls per tool call).
_NOTES: dict[int, list[str]] = {}


class GroupedTimestamp(Answer):
    value: str
    readable: str | None = None


class Accepted(Answer):
    """An operation PiecesOS answers with 204 and no body."""

    accepted: bool = Field(description="PiecesOS accepted the request (it answers with no data).")

    @classmethod
    def from_wire(cls, payload: Any) -> Accepted:
        return cls(accepted=True)


class Identity(Answer):
    """Part of a user profile: an allow-list of fields, read only after every secret-named key is dropped."""

    @model_validator(mode="before")
    @classmethod
    def _without_credentials(cls, payload: Any) -> Any:
        return drop_secrets(payload)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        # The allow-list and the secret key list must never meet: a field named like a credential is a bug.
        kept = [name for name in cls.model_fields if is_secret_key(name)]
        if kept:
            raise TypeError(f"{cls.__name__} would keep credential fields: {', '.join(kept)}")


class ExternalProviderIdentity(Identity):
    """`ExternalProvider` without `access_token`, `expires_in` and `profileData`."""

    type: ProviderType
    type_raw: str | None = Field(default=None, description=RAW_HELP)
    user_id: str | None = None
    connection: str | None = None
    isSocial: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _unknown_type(cls, data: Any) -> Any:
        return keep_raw(data, "type", ProviderTypeValue)


class ExternalProviders(Answer):
    iterable: list[ExternalProviderIdentity]


class UserIdentity(Identity):
    """`UserProfile` cut to who the person is: no API keys, no auth0/descope metadata, no tokens."""

    id: str
    email: str | None = None
    name: str | None = None
    username: str | None = None
    vanityname: str | None = None
    picture: str | None = None
    created: GroupedTimestamp | None = None
    updated: GroupedTimestamp | None = None
    providers: ExternalProviders | None = None


class SignedInUser(Answer):
    """`ReturnedUserProfile`: `user` is absent when nobody is signed in."""

    user: UserIdentity | None = None


class SignedInUsers(Answer):
    """`Users`: the profiles PiecesOS still knows after signing out."""

    iterable: list[UserIdentity] = Field(default_factory=list)


def require_list(payload: Any) -> list[Any]:
    if not isinstance(payload, list):
        raise ValueError(f"expected a JSON list, got {type(payload).__name__}")
    return payload
