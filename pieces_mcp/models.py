"""Pydantic models of the tool arguments and of PiecesOS's answers.

Answers keep PiecesOS's JSON names (read off `pieces-os-client` 5.0.1) and are read leniently: an
enum value PiecesOS adds tomorrow becomes `UNKNOWN`, an unknown field is ignored. User profiles are
read through an allow-list of identity fields, so a credential has no field to land in.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

Number = int | float


def _lenient(literal: Any) -> BeforeValidator:
    """Map a value outside `literal`'s choices to "UNKNOWN", as the vendor's client does."""
    known = frozenset(get_args(literal))

    def coerce(value: object) -> object:
        return value if value in known else "UNKNOWN"

    return BeforeValidator(coerce)


UpdatingStatusValue = Literal[
    "UNKNOWN",
    "READY_TO_RESTART",
    "AVAILABLE",
    "DOWNLOADING",
    "UP_TO_DATE",
    "REINSTALL_REQUIRED",
    "CONTACT_SUPPORT",
    "UPDATE_VIA_MICROSOFT_STORE",
]
UpdatingStatus = Annotated[UpdatingStatusValue, _lenient(UpdatingStatusValue)]
RamTypeValue = Literal["UNKNOWN", "DDR2", "DDR3", "DDR4", "DDR5", "GDDR6"]
RamType = Annotated[RamTypeValue, _lenient(RamTypeValue)]
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
ProviderType = Annotated[ProviderTypeValue, _lenient(ProviderTypeValue)]


# ---------------------------------------------------------------------------------------------
# Tool arguments: flat, snake_case, nothing extra accepted.


class ToolInput(BaseModel):
    """Arguments of one tool; `body()` is the JSON PiecesOS expects, or None for no body."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def body(self) -> Any:
        """The request body as JSON data (an object, or a bare string for some endpoints); None for none."""
        return None


class NoArguments(ToolInput):
    """Tools that take nothing."""


class EmptyBodyInput(ToolInput):
    """Tools whose endpoint wants a (placeholder) JSON object as body."""

    def body(self) -> dict[str, Any] | None:
        return {}


class PermissionsRequestInput(ToolInput):
    vision: bool | None = Field(
        default=None, description="Ask for the screen-recording permission PiecesOS needs for its vision features."
    )
    accessibility: bool | None = Field(
        default=None, description="Ask for the accessibility permission PiecesOS needs to read other apps' windows."
    )

    @model_validator(mode="after")
    def _asks_for_something(self) -> PermissionsRequestInput:
        if not (self.vision or self.accessibility):
            raise ValueError("set vision or accessibility (or both) to true: there is nothing to request")
        return self

    def body(self) -> dict[str, Any] | None:
        processing = {key: True for key in ("vision", "accessibility") if getattr(self, key)}
        return {"processing": processing}


class FilePickerInput(ToolInput):
    allow_multiple: bool = Field(default=True, description="Let the person choose more than one file.")
    allowed_extensions: list[Annotated[str, Field(max_length=32)]] | None = Field(
        default=None,
        max_length=64,
        description='Only offer files with these extensions, without the dot, e.g. ["py", "md"]. Omit for any file.',
    )

    def body(self) -> dict[str, Any] | None:
        body: dict[str, Any] = {"allowMultiple": self.allow_multiple}
        if self.allowed_extensions is not None:
            body["allowedExtensions"] = [ext.lstrip(".") for ext in self.allowed_extensions]
        return body


class LinkProviderInput(ToolInput):
    type: LinkableProvider = Field(description="The identity provider to link to the signed-in Pieces account.")

    def body(self) -> dict[str, Any] | None:
        return {"type": self.type}


# ---------------------------------------------------------------------------------------------
# Answers: PiecesOS's JSON names, lenient reading.


class Answer(BaseModel):
    """A PiecesOS answer as a tool result; `from_wire` turns the decoded JSON body into one."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    @classmethod
    def from_wire(cls, payload: Any) -> Answer:
        return cls.model_validate(payload)

    def notes(self) -> list[str]:
        """Sentences for the person or model beyond the data itself (e.g. that a list was cut)."""
        return []


class GroupedTimestamp(Answer):
    value: str
    readable: str | None = None


class CPU(Answer):
    name: str | None = None
    cores: Number | None = None
    clock_cycle_speed: Number | None = None
    l1_cache: Number | None = None
    l2_cache: Number | None = None
    l3_cache: Number | None = None
    shared_memory: bool | None = None


class GPUCapabilities(Answer):
    llm: bool | None = None


class GPU(Answer):
    name: str | None = None
    memory: Number | None = None
    shared_memory: bool | None = None
    capabilities: GPUCapabilities | None = None


class RAM(Answer):
    memory: Number | None = None
    speed: Number | None = None
    type: RamType | None = None


class Hardware(Answer):
    cpus: list[CPU] | None = None
    gpus: list[GPU] | None = None
    ram: RAM | None = None


class Dependencies(Answer):
    vulkan: bool


class DeviceInformation(Answer):
    """`OSDeviceInformationReturnable`."""

    name: str | None = None
    version: str | None = None
    hardware: Hardware | None = None
    dependencies: Dependencies | None = None


class ProcessingPermissions(Answer):
    vision: bool | None = None
    accessibility: bool | None = None


class Permissions(Answer):
    """`OSPermissions`."""

    processing: ProcessingPermissions | None = None


class UpdateStatus(Answer):
    """`OSServerUpdateStatus` (today) and `CheckedOSUpdate` (seed): the same JSON."""

    status: UpdatingStatus
    percentage: Number | None = None
    updated: GroupedTimestamp | None = None


class PickedPaths(Answer):
    """A picker's `List[str]`, wrapped, and cut so a client's context is not flooded."""

    LIMIT: ClassVar[int] = 1000

    paths: list[str] = Field(description="The paths the person chose; empty when they closed the picker.")
    total: int = Field(description="How many paths the person chose.")
    truncated: bool = Field(description=f"True when more than {LIMIT} were chosen and only the first {LIMIT} are here.")

    @classmethod
    def from_wire(cls, payload: Any) -> PickedPaths:
        paths = [str(path) for path in _require_list(payload)]
        return cls(paths=paths[: cls.LIMIT], total=len(paths), truncated=len(paths) > cls.LIMIT)

    def notes(self) -> list[str]:
        return [f"Only the first {len(self.paths)} of {self.total} chosen paths are listed."] if self.truncated else []


class RestartOutcome(Answer):
    """`os_restart` answers 204; the tool then waits for PiecesOS to come back."""

    restarted: bool = Field(description="PiecesOS accepted the restart.")
    back_online: bool = Field(description="PiecesOS answered its health check again within the timeout.")
    downtime_ms: int | None = Field(description="How long PiecesOS was unreachable; null when it did not come back.")
    base_url: str | None = Field(description="Where PiecesOS answers after the restart.")


class ExternalProviderIdentity(Answer):
    """`ExternalProvider` without `access_token`, `expires_in` and `profileData`."""

    type: ProviderType
    user_id: str | None = None
    connection: str | None = None
    isSocial: bool | None = None


class ExternalProviders(Answer):
    iterable: list[ExternalProviderIdentity]


class UserIdentity(Answer):
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


def _require_list(payload: Any) -> list[Any]:
    if not isinstance(payload, list):
        raise ValueError(f"expected a JSON list, got {type(payload).__name__}")
    return payload
