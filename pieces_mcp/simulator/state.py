"""Everything `/_simulator/` controls: the simulated PiecesOS's state, the fault queue and the call log.

One `Simulator` lives as long as its app; it survives a simulated restart (the state of a real
PiecesOS lives on disk) and only `reset()` brings it back to the defaults.
"""

from __future__ import annotations

import asyncio
import codecs
import json
import os
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Annotated, Any, Literal, Protocol, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pieces_mcp.catalog import WIRE, Generation
from pieces_mcp.models.os_tools import MigrationStatusValue, UpdatingStatusValue
from pieces_mcp.simulator import profiles
from pieces_mcp.simulator.clock import Clock

# A port number meaning "the generation's real PiecesOS ports, the first one free" (`WireGeneration.real_ports`).
REAL_PORTS = -1
_ALL_STATUSES = frozenset(get_args(UpdatingStatusValue))

# The folder file reads are served from, when the simulator is started with it; none by default.
FILES_ENV = "PIECES_SIMULATOR_FILES"
# How long a reset waits for the requests it ends to close.
_END_REQUESTS_TIMEOUT_S = 5.0


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _idle_migration() -> dict[str, Any]:
    """`OSMigrationStatusResponse` when nothing migrates."""
    return {"status": "IDLE", "overallProgressPercentage": 100, "activeMigrations": []}


@dataclass
class SimState:
    """What a person and a machine would have done to PiecesOS; the defaults are a signed-in user."""

    signed_in: bool = True
    picked_files: list[str] = field(default_factory=lambda: list(profiles.DEFAULT_PICKED_FILES))
    picked_folders: list[str] = field(default_factory=lambda: list(profiles.DEFAULT_PICKED_FOLDERS))
    update_status: UpdatingStatusValue = "UP_TO_DATE"
    # How long an update takes to download once a check has found it (AVAILABLE -> DOWNLOADING -> READY).
    update_download_ms: int = 1000
    restart_downtime_ms: int = 300
    # Where PiecesOS comes back after the next restart: None for the same port, REAL_PORTS for the first
    # free of its generation's real ports; PiecesOS 11 may come back on another port of its range.
    restart_port: int | None = None
    # 0 by default so tests stay fast; a person takes seconds to minutes.
    pick_delay_ms: int = 0
    vision: bool = False
    accessibility: bool = True
    providers: list[tuple[str, datetime]] = field(
        default_factory=lambda: [(kind, _now()) for kind in profiles.DEFAULT_PROVIDERS]
    )
    profile_created: datetime = field(default_factory=lambda: datetime(2023, 9, 26, 14, 3, tzinfo=timezone.utc))
    profile_updated: datetime = field(default_factory=_now)
    update_checked: datetime = field(default_factory=_now)
    # `clock.now_ns()` when the download began; None when nothing is downloading.
    download_started: int | None = None
    restarts: int = 0
    # The version PiecesOS reports; an installed update raises it. Set per generation by `Simulator`.
    version: str = profiles.SIMULATOR_VERSION
    # `OSServerSettings` (the settings toolset).
    autoboot: bool = False
    # After `os_terminate` (or a restart that did not come back), until PiecesOS is launched again.
    terminated: bool = False
    # Whether the next restarts come back by themselves; False: PiecesOS stays down until it is launched, as
    # people report after some updates (pieces-app/support#449; the vendor CLI then opens pieces://launch).
    restart_comes_back: bool = True
    # Whether a restart signs the person out, as some updates have (pieces-app/support#1001, #685).
    restart_signs_out: bool = False
    # Per stream (its LIVE name): whether it sends the current state when a client connects. The vendor says so
    # only for the update stream; the settings stream says nothing until a change, the migration stream speaks.
    snapshot_on_connect: dict[str, bool] = field(
        default_factory=lambda: {"os_settings_stream": False, "stream_os_migration_status": True}
    )
    files_root: str | None = field(default_factory=lambda: os.environ.get(FILES_ENV) or None)
    # Applet name -> the port it serves on (the process toolset).
    applets: dict[str, int] = field(default_factory=dict)
    # `OSMigrationStatusResponse`, pushed on the migration stream when `/_simulator/migration` changes it.
    migration: dict[str, Any] = field(default_factory=_idle_migration)
    nano_models_prepared: bool = False
    memory_optimizations: int = 0
    # The simulator's time (a test can hold it): downloads progress on it.
    clock: Clock = field(default_factory=Clock)

    def permissions(self) -> dict[str, Any]:
        """`OSPermissions`."""
        return {"processing": {"vision": self.vision, "accessibility": self.accessibility}}

    def settings(self) -> dict[str, Any]:
        """`OSServerSettings`."""
        return {"autoboot": self.autoboot}

    def download_progress(self) -> float | None:
        """How far the download is (0-1), moving the status to READY_TO_RESTART once it is done."""
        if self.update_status != "DOWNLOADING":
            return None
        if self.download_started is None:  # scripted straight to DOWNLOADING: the download starts now
            self.download_started = self.clock.now_ns()
        elapsed_ms = (self.clock.now_ns() - self.download_started) / 1e6
        if elapsed_ms >= self.update_download_ms:
            self.update_status, self.download_started = "READY_TO_RESTART", None
            return None
        return elapsed_ms / self.update_download_ms

    def check_for_update(self, generation: Generation) -> dict[str, Any]:
        """Answer an update check the way every official client sees it move: a check that finds AVAILABLE
        starts the download (DOWNLOADING, rising percentage, for `update_download_ms`), then READY_TO_RESTART.

        The seed answers `CheckedOSUpdate` (`status` only); v10 and current `OSServerUpdateStatus`.
        """
        self.update_checked = _now()
        progress = self.download_progress()
        answer: dict[str, Any] = {"status": self.update_status}
        if self.update_status == "AVAILABLE":
            self.update_status, self.download_started = "DOWNLOADING", self.clock.now_ns()
        if WIRE[generation].update_has_progress:
            # PiecesOS only reports progress while it downloads.
            answer["percentage"] = None if progress is None else min(99, int(progress * 100))
            answer["updated"] = profiles.grouped_timestamp(self.update_checked)
        return answer

    def install_update(self) -> None:
        """A restart installs a downloaded update: up to date, with a higher version."""
        self.download_progress()
        if self.update_status == "READY_TO_RESTART":
            self.update_status = "UP_TO_DATE"
            self.version = profiles.next_version(self.version)

    def profile(self) -> dict[str, Any]:
        """The user's full `UserProfile`, credentials included, as PiecesOS hands it out."""
        return profiles.user_profile(self.providers, self.profile_created, self.profile_updated)

    def public(self) -> dict[str, Any]:
        """The controllable part, as `GET /_simulator/state` shows it."""
        self.download_progress()  # a download that has finished by now shows as READY_TO_RESTART
        return {
            "signed_in": self.signed_in,
            "picked_files": self.picked_files,
            "picked_folders": self.picked_folders,
            "update_status": self.update_status,
            "update_download_ms": self.update_download_ms,
            "version": self.version,
            "restart_downtime_ms": self.restart_downtime_ms,
            "restart_port": "real" if self.restart_port == REAL_PORTS else self.restart_port,
            "pick_delay_ms": self.pick_delay_ms,
            "permissions": {"vision": self.vision, "accessibility": self.accessibility},
            "linked_providers": [kind for kind, _ in self.providers],
            "restarts": self.restarts,
            "settings": self.settings(),
            "terminated": self.terminated,
            "restart_comes_back": self.restart_comes_back,
            "restart_signs_out": self.restart_signs_out,
            "snapshot_on_connect": dict(self.snapshot_on_connect),
            "files_root": self.files_root,
            "applets": dict(self.applets),
            "migration": self.migration,
            "nano_models_prepared": self.nano_models_prepared,
            "memory_optimizations": self.memory_optimizations,
        }


MIGRATION_STATUSES = frozenset(get_args(MigrationStatusValue))


class Hub:
    """Open WebSocket streams by kind; outlives a reset, as open connections do."""

    def __init__(self) -> None:
        self.listeners: dict[str, set[asyncio.Queue[dict[str, Any] | None]]] = {}

    def join(self, kind: str) -> asyncio.Queue[dict[str, Any] | None]:
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self.listeners.setdefault(kind, set()).add(queue)
        return queue

    def leave(self, kind: str, queue: asyncio.Queue[dict[str, Any] | None]) -> None:
        self.listeners.get(kind, set()).discard(queue)

    def publish(self, kind: str, payload: dict[str, Any]) -> None:
        for queue in self.listeners.get(kind, set()):
            queue.put_nowait(payload)

    def close_all(self) -> None:
        """PiecesOS went away: every stream ends."""
        for queues in self.listeners.values():
            for queue in queues:
                queue.put_nowait(None)


class Restarter(Protocol):
    """What the server does when PiecesOS restarts or quits; the app alone (in-process tests) has none."""

    def go_away(self) -> None:
        """Stop serving and come back after `restart_downtime_ms` on the same port with the same state."""

    def quit(self) -> None:
        """Stop serving and close the socket, as a quit process does, until `launch`."""

    def launch(self) -> None:
        """Come back after `quit`, on the same port with the same state (pieces://launch)."""


class ControlError(ValueError):
    """A `/_simulator/` request the simulator cannot apply; the message says why."""


class _Strict(BaseModel):
    # strict: "true" is not a bool and "5" is not an int; a test that sends them has a bug.
    model_config = ConfigDict(extra="forbid", strict=True)


class PermissionsPatch(_Strict):
    vision: bool | None = None
    accessibility: bool | None = None


class StatePatch(_Strict):
    """Body of `POST /_simulator/state`: only the keys present change.

    `picked_files_count: N` scripts N generated paths (e.g. 20,000) without sending them all.
    """

    signed_in: bool | None = None
    picked_files: list[str] | None = None
    picked_files_count: int | None = Field(default=None, ge=0, le=1_000_000)
    picked_folders: list[str] | None = None
    update_status: UpdatingStatusValue | None = None
    update_download_ms: int | None = Field(default=None, ge=0, le=3_600_000)
    restart_downtime_ms: int | None = Field(default=None, ge=0, le=600_000)
    # A port, or "real": the first free of the generation's real PiecesOS ports.
    restart_port: Annotated[int, Field(ge=1, le=65535)] | Literal["real"] | None = None
    pick_delay_ms: int | None = Field(default=None, ge=0, le=3_600_000)
    permissions: PermissionsPatch | None = None
    restart_comes_back: bool | None = None
    restart_signs_out: bool | None = None
    snapshot_on_connect: dict[Literal["os_settings_stream", "stream_os_migration_status"], bool] | None = None


class ClockPatch(_Strict):
    """Body of `POST /_simulator/clock`: `hold` stops time (false lets it run again), `advance_ms` moves it on."""

    hold: bool | None = None
    advance_ms: int = Field(default=0, ge=0, le=86_400_000)


class FaultSpec(_Strict):
    """Body of `POST /_simulator/faults`: how the next `times` requests to `path` are answered.

    An answer (`status`, default 500, with `body`) replaces the endpoint's behaviour; `drop` closes
    the connection before a usable answer (see `app.drop_connection`); a `delay_ms` alone delays the
    normal answer. `times: 0` lasts until reset. `content_encoding` (e.g. "gzip", "gzip, gzip", "deflate")
    compresses the body so and says so, unless `raw_body` (the header with the body as given: a corrupt
    compressed answer); `repeat` sends the body that many times over. `charset` is the codec the body's text
    is sent in (default utf-8; "utf-16", "utf-32-be", "utf-8-sig" for a BOM, "latin-1" for any byte values;
    lone surrogates pass as such), whatever `content_type` declares.

    On a WebSocket path, `frames` replaces the stream: each item is sent as one message (an object or list as
    JSON text, a string as it is), as binary messages in `charset` when `binary_frames`; then the stream stays
    open until the client leaves, as PiecesOS's do.
    """

    path: str = Field(pattern=r"^/")
    status: int | None = Field(default=None, ge=100, le=599)
    body: str | dict[str, Any] | list[Any] | None = None
    content_type: str | None = None
    delay_ms: int = Field(default=0, ge=0, le=3_600_000)
    drop: bool = False
    times: int = Field(default=1, ge=0)
    # See `pieces_mcp.simulator.fault_answers`: how the answer is put on the wire.
    content_encoding: str | None = Field(default=None, pattern=r"^[A-Za-z0-9 ,_-]+$")
    raw_body: bool = False
    repeat: int = Field(default=1, ge=1, le=1 << 32)
    charset: str | None = None
    frames: list[str | dict[str, Any] | list[Any]] | None = None
    binary_frames: bool = False

    @field_validator("charset")
    @classmethod
    def _known_charset(cls, charset: str | None) -> str | None:
        if charset is not None:
            try:
                codecs.lookup(charset)
            except LookupError:
                raise ValueError(f"Python has no codec {charset!r}") from None
        return charset

    @model_validator(mode="after")
    def _compressible(self) -> FaultSpec:
        codings = {coding.strip().lower() for coding in (self.content_encoding or "").split(",")} - {""}
        if not self.raw_body and not codings <= {"gzip", "x-gzip", "deflate"}:
            raise ValueError(
                "content_encoding: the simulator compresses with gzip and deflate; set raw_body for others"
            )
        return self

    @property
    def answers(self) -> bool:
        """Whether this fault answers in the endpoint's place (rather than only delaying it)."""
        return not self.drop and (self.status is not None or self.body is not None or self.delay_ms == 0)

    def answer(self) -> tuple[int, bytes, str]:
        """Status, body and content type of the fault's answer."""
        status = 500 if self.status is None else self.status
        if isinstance(self.body, str):
            body, content_type = self.body, "text/plain"
        elif self.body is None:
            body, content_type = f"Simulated fault: status {status}", "text/plain"
        else:
            body, content_type = json.dumps(self.body), "application/json"
        return status, self.encoded(body), self.content_type or content_type

    def encoded(self, text: str) -> bytes:
        """`text` in the fault's charset; a lone surrogate goes out as its own bytes where the codec has them."""
        charset = self.charset or "utf-8"
        errors = "surrogatepass" if codecs.lookup(charset).name.startswith("utf") else "strict"
        return text.encode(charset, errors)

    def frame_messages(self) -> list[str | bytes]:
        """The WebSocket messages of a `frames` fault, as they go on the wire."""
        texts = [frame if isinstance(frame, str) else json.dumps(frame) for frame in self.frames or []]
        return [self.encoded(text) for text in texts] if self.binary_frames else list(texts)


@dataclass
class _ActiveFault:
    spec: FaultSpec
    remaining: int | None  # None: until reset


def _validation_message(error: ValidationError, allowed: list[str]) -> str:
    problems: list[str] = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "body"
        if item["type"] == "extra_forbidden":
            problems.append(f"unknown key '{where}' (allowed: {', '.join(allowed)})")
        else:
            problems.append(f"{where}: {item['msg']}")
    return "; ".join(problems)


_Control = TypeVar("_Control", StatePatch, FaultSpec, ClockPatch)


def parse_control(model: type[_Control], payload: Any) -> _Control:
    """Validate a control body, turning pydantic's report into one readable ControlError."""
    if not isinstance(payload, dict):
        raise ControlError("the body must be a JSON object")
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        raise ControlError(_validation_message(error, list(model.model_fields))) from None


class Simulator:
    """The state of one simulated PiecesOS plus the machinery tests drive it with."""

    def __init__(self, api: Generation) -> None:
        self.api = api
        self.clock = Clock()
        self.state = self._fresh_state()
        # What `/.well-known/health` answers after "OK": one id per simulated PiecesOS.
        self.instance_id = str(uuid.uuid4())
        self.calls: list[dict[str, Any]] = []
        self._faults: dict[str, deque[_ActiveFault]] = {}
        # False from the moment a restart is asked for until the server is back: requests get no answer.
        self.accepting = True
        # The requests being served, so a restart can end them (a picker waiting for its person).
        self.in_flight: set[asyncio.Task[Any]] = set()
        self.restarter: Restarter | None = None
        # The WebSocket streams open now: they outlive a reset, as open connections do.
        self.hub = Hub()

    def _fresh_state(self) -> SimState:
        return SimState(version=profiles.SIMULATED_VERSIONS[self.api], clock=self.clock)

    async def reset(self) -> None:
        """A fresh simulator: requests an earlier client left waiting (a picker, a delayed answer) end unanswered
        first, so nothing of theirs waits on the clock or lands in the new call log."""
        await self.end_requests_in_flight_and_wait()
        self.clock.release()
        self.state = self._fresh_state()
        self.calls.clear()
        self._faults.clear()

    def apply(self, patch: StatePatch) -> None:
        state = self.state
        if patch.update_status is not None and patch.update_status in WIRE[self.api].statuses_missing:
            raise ControlError(f"update_status {patch.update_status} does not exist in the {self.api} generation")
        if patch.signed_in is not None:
            state.signed_in = patch.signed_in
        if patch.picked_files_count is not None:
            state.picked_files = profiles.sample_paths(patch.picked_files_count)
        if patch.picked_files is not None:
            state.picked_files = list(patch.picked_files)
        if patch.picked_folders is not None:
            state.picked_folders = list(patch.picked_folders)
        if patch.update_download_ms is not None:
            state.update_download_ms = patch.update_download_ms
        if patch.update_status is not None:
            state.update_status, state.download_started = patch.update_status, None
        if patch.restart_downtime_ms is not None:
            state.restart_downtime_ms = patch.restart_downtime_ms
        if patch.restart_port is not None:
            state.restart_port = REAL_PORTS if patch.restart_port == "real" else patch.restart_port
        if patch.pick_delay_ms is not None:
            state.pick_delay_ms = patch.pick_delay_ms
        if patch.restart_comes_back is not None:
            state.restart_comes_back = patch.restart_comes_back
        if patch.restart_signs_out is not None:
            state.restart_signs_out = patch.restart_signs_out
        if patch.snapshot_on_connect is not None:
            state.snapshot_on_connect.update(patch.snapshot_on_connect.items())
        if patch.permissions is not None:
            if patch.permissions.vision is not None:
                state.vision = patch.permissions.vision
            if patch.permissions.accessibility is not None:
                state.accessibility = patch.permissions.accessibility

    def add_fault(self, spec: FaultSpec) -> None:
        # Faults on one path queue up: the first is used up before the second applies.
        remaining = None if spec.times == 0 else spec.times
        self._faults.setdefault(spec.path, deque()).append(_ActiveFault(spec, remaining))

    def faults(self) -> list[dict[str, Any]]:
        return [
            {**active.spec.model_dump(), "remaining": active.remaining}
            for queue in self._faults.values()
            for active in queue
        ]

    def take_fault(self, path: str) -> FaultSpec | None:
        """The fault that applies to this request to `path`, counting it as used."""
        queue = self._faults.get(path)
        if not queue:
            return None
        active = queue[0]
        if active.remaining is not None:
            active.remaining -= 1
            if active.remaining == 0:
                queue.popleft()
        return active.spec

    def record(self, method: str, path: str, body: Any) -> None:
        self.calls.append({"method": method, "path": path, "body": body})

    def end_requests_in_flight(self) -> None:
        """Cancel every request still being served but the caller's: each then closes unanswered."""
        this = asyncio.current_task()
        for task in list(self.in_flight):
            if task is not this:
                task.cancel()

    async def end_requests_in_flight_and_wait(self) -> None:
        """`end_requests_in_flight`, returning once each has closed (bounded: a request that ignores its
        cancellation is left to finish on its own)."""
        this = asyncio.current_task()
        ending = {task for task in self.in_flight if task is not this}
        self.end_requests_in_flight()
        if ending:
            await asyncio.wait(ending, timeout=_END_REQUESTS_TIMEOUT_S)

    def begin_restart(self) -> None:
        """Before the 204: from now on no request is answered, a downloaded update is installed, and the person
        is signed out when the simulator was told so."""
        self.state.restarts += 1
        self.state.install_update()
        if self.state.restart_signs_out:
            self.state.signed_in = False
        if self.restarter is not None:
            self.accepting = False

    def finish_restart(self) -> None:
        """After the 204 went out: PiecesOS goes away, and comes back unless told it does not."""
        if self.restarter is None:
            return
        self.end_requests_in_flight()
        if self.state.restart_comes_back:
            self.restarter.go_away()
        else:
            self.state.terminated = True
            self.restarter.quit()

    def quit(self) -> None:
        """`os_terminate`, after its 204: the process is gone; over a socket, the port refuses connections."""
        self.state.terminated = True
        self.hub.close_all()
        if self.restarter is not None:
            self.accepting = False
            self.end_requests_in_flight()
            self.restarter.quit()

    def launched(self) -> None:
        """PiecesOS was started again after it quit."""
        self.state.terminated = False
