"""The `os` toolset's models: the seed page's ten operations and the os set's streams.

Every wire generation is read (`seed`: client 2.2.0, `v10`: clients 2.3.0-4.0.x, `current`: 4.1.0 on;
README "PiecesOS versions"), and older shapes are normalised into today's, next to the model they
feed: `Hardware` turns the singular `cpu`/`gpu` into one-item `cpus`/`gpus`; `UpdateStatus` reads the
seed's `CheckedOSUpdate`.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field, model_validator

from pieces_mcp.catalog.generations import WIRE, Generation
from pieces_mcp.models.base import (
    RAW_HELP,
    Answer,
    EmptyBodyInput,
    GroupedTimestamp,
    LinkableProvider,
    Number,
    ToolInput,
    keep_raw,
    lenient,
    require_list,
)
from pieces_mcp.redact import display_url

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

UpdatingStatus = Annotated[UpdatingStatusValue, lenient(UpdatingStatusValue)]

RamTypeValue = Literal["UNKNOWN", "DDR2", "DDR3", "DDR4", "DDR5", "GDDR6"]

RamType = Annotated[RamTypeValue, lenient(RamTypeValue)]

MigrationStatusValue = Literal["UNKNOWN", "IDLE", "MIGRATING", "COMPLETED", "FAILED"]

MigrationStatus = Annotated[MigrationStatusValue, lenient(MigrationStatusValue)]


class UpdateCheckInput(EmptyBodyInput):
    """`UncheckedOSServerUpdate` (a placeholder body), and whether to follow a download under way."""

    follow_download: bool = Field(
        default=False,
        description=(
            "When an update is AVAILABLE or DOWNLOADING, follow it and report its percentage as progress until it "
            "is READY_TO_RESTART, for at most the call's time limit; the answer is the latest status."
        ),
    )


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

    @classmethod
    def body_for_generation(cls, body: dict[str, Any] | None, generation: Generation) -> dict[str, Any] | None:
        # The seed's FilePickerInput is `allowedExtensions` only (pieces-os-client 2.2.0,
        # models/file_picker_input.py); `allowMultiple` came with v10. The seed picker decides alone.
        if body is None:
            return None
        keys = WIRE[generation].picker_keys
        return {key: value for key, value in body.items() if key in keys}


class LinkProviderInput(ToolInput):
    type: LinkableProvider = Field(description="The identity provider to link to the signed-in Pieces account.")

    def body(self) -> dict[str, Any] | None:
        return {"type": self.type}


# Answers: PiecesOS's JSON names, lenient reading.


class CPU(Answer):
    name: str | None = None
    cores: Number | None = None
    clock_cycle_speed: Number | None = None
    l1_cache: Number | None = None
    l2_cache: Number | None = None
    l3_cache: Number | None = None
    shared_memory: bool | None = None
    # seed and v10 only: their `OSDeviceCPUHardwareInformation` is just `name` and `memory`.
    memory: Number | None = None


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
    type_raw: str | None = Field(default=None, description=RAW_HELP)

    @model_validator(mode="before")
    @classmethod
    def _unknown_type(cls, data: Any) -> Any:
        return keep_raw(data, "type", RamTypeValue)


class Hardware(Answer):
    """`OSDeviceHardwareInformation`: `{cpus, gpus, ram}` today; `{cpu, gpu}` in seed and v10."""

    cpus: list[CPU] | None = None
    gpus: list[GPU] | None = None
    ram: RAM | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_older_generations(cls, data: Any) -> Any:
        """seed/v10 (pieces-os-client 2.2.0-4.0.x) report one `cpu` and one `gpu` object and no `ram`.

        They become one-item lists; the CPU's `memory`, the only memory figure those versions report,
        is kept on the CPU and also shown as `ram.memory` (an assumption: the vendor never documented it).
        """
        if not isinstance(data, dict) or not ({"cpu", "gpu"} & data.keys()):
            return data
        data = dict(data)
        cpu, gpu = data.pop("cpu", None), data.pop("gpu", None)
        if data.get("cpus") is None and cpu is not None:
            data["cpus"] = [cpu]
        if data.get("gpus") is None and gpu is not None:
            data["gpus"] = [gpu]
        memory = cpu.get("memory") if isinstance(cpu, dict) else None
        if data.get("ram") is None and memory is not None:
            data["ram"] = {"memory": memory}
        return data


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
    """`OSServerUpdateStatus` (v10, current) and the seed's `CheckedOSUpdate` (`schema` and `status` only:
    no `percentage`, no `updated`), read into one answer."""

    status: UpdatingStatus
    status_raw: str | None = Field(default=None, description=RAW_HELP)
    percentage: Number | None = None
    updated: GroupedTimestamp | None = None

    @model_validator(mode="before")
    @classmethod
    def _unknown_status(cls, data: Any) -> Any:
        return keep_raw(data, "status", UpdatingStatusValue)


class PickedPaths(Answer):
    """A picker's `List[str]`, wrapped, and cut so a client's context is not flooded."""

    LIMIT: ClassVar[int] = 1000

    paths: list[str] = Field(description="The paths the person chose; empty when they closed the picker.")
    total: int = Field(description="How many paths the person chose.")
    truncated: bool = Field(description=f"True when more than {LIMIT} were chosen and only the first {LIMIT} are here.")

    @classmethod
    def from_wire(cls, payload: Any) -> PickedPaths:
        paths = [str(path) for path in require_list(payload)]
        return cls(paths=paths[: cls.LIMIT], total=len(paths), truncated=len(paths) > cls.LIMIT)

    def notes(self) -> list[str]:
        return [f"Only the first {len(self.paths)} of {self.total} chosen paths are listed."] if self.truncated else []


class RestartOutcome(Answer):
    """`os_restart` answers 204; the tool then waits for PiecesOS to come back, and reads who is signed in."""

    restarted: bool = Field(description="PiecesOS accepted the restart.")
    back_online: bool = Field(description="PiecesOS answered its health check again within the restart's bound (60 s).")
    downtime_ms: int | None = Field(description="How long PiecesOS was unreachable; null when it did not come back.")
    base_url: Annotated[str | None, AfterValidator(lambda url: url and display_url(url))] = Field(
        description="Where PiecesOS answers after the restart."
    )
    signed_in_before: bool | None = Field(
        default=None, description="Whether someone was signed in to Pieces before the restart; null when unknown."
    )
    signed_in_after: bool | None = Field(
        default=None,
        description="Whether someone is signed in after it; null when PiecesOS did not come back or cannot say.",
    )

    def notes(self) -> list[str]:
        said = []
        if not self.back_online:
            # PiecesOS may not come back by itself after an update (pieces-app/support#449); the vendor CLI then
            # opens pieces://launch, which is what open_pieces_os does.
            said.append(
                "PiecesOS did not come back within the restart's bound: start it with open_pieces_os "
                "(or the Pieces desktop app), then try again."
            )
        if self.signed_in_before and self.signed_in_after is False:
            # Updates have signed people out (pieces-app/support#1001, #685).
            said.append("The restart signed the person out of Pieces: they can sign in again with sign_into_os.")
        return said


class MigrationInformation(Answer):
    """`OSMigrationInformation`."""

    id: str
    name: str
    phase: str
    status: MigrationStatus
    progressPercentage: Number
    currentCollection: str | None = None
    processedDocuments: int | None = None
    totalDocuments: int | None = None
    errorCount: int | None = None
    estimatedTimeRemaining: int | None = None


class MigrationStatusAnswer(Answer):
    """`OSMigrationStatusResponse`: PiecesOS moving its data to a new format after an update."""

    status: MigrationStatus
    overallProgressPercentage: Number
    activeMigrations: list[MigrationInformation] = Field(default_factory=list)
