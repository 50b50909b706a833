"""The one declarative list of PiecesOS OS endpoints that everything else is derived from.

Tool registration, the guard's policy, the simulator's routes, the README's tool table and the
schema snapshots all read `CATALOG`; adding an endpoint means adding one entry here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

from pieces_mcp import models

# The three wire generations PiecesOS has spoken (README "PiecesOS versions" has the evidence):
# `seed` (client 2.2.0), `v10` (clients 2.3.0-4.0.x, PiecesOS 10), `current` (client 4.1.0 on, PiecesOS 11+).
# Newest first: the order a client tries them in when it does not yet know.
Generation = Literal["current", "v10", "seed"]
GENERATIONS: tuple[Generation, ...] = ("current", "v10", "seed")


class Risk(str, Enum):
    READ = "read"
    # Side effects, or a window on the person's desktop: the person decides (see guard.py).
    GUARDED = "guarded"


class Wait(str, Enum):
    ORDINARY = "ordinary"  # --timeout
    INTERACTIVE = "interactive"  # --interactive-timeout: waits for a person at the desktop


@dataclass(frozen=True)
class Endpoint:
    name: str
    title: str
    description: str
    method: Literal["GET", "POST"]
    path: str | Mapping[Generation, str]
    input_model: type[models.ToolInput]
    output_model: type[models.Answer]
    risk: Risk
    wait: Wait
    destructive: bool = False
    idempotent: bool = False
    open_world: bool = False  # reaches beyond this machine (Pieces cloud, an identity provider)
    restarts: bool = False  # PiecesOS goes away after answering; the call waits for it to come back
    # What happens, in plain words, for the person asked to confirm a guarded call.
    consequence: str = ""

    def path_for(self, generation: Generation) -> str:
        return self.path if isinstance(self.path, str) else self.path[generation]

    @property
    def moved_between_generations(self) -> bool:
        return not isinstance(self.path, str)

    @property
    def guarded(self) -> bool:
        return self.risk is Risk.GUARDED

    def input_schema(self) -> dict[str, Any]:
        return _tool_schema(self.input_model.model_json_schema())

    def output_schema(self) -> dict[str, Any]:
        return _tool_schema(self.output_model.model_json_schema(mode="serialization"))


def _tool_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A model's JSON schema as a tool shows it: the class name and docstring are for developers only."""
    schema.pop("title", None)
    schema.pop("description", None)
    return schema


_CONFIRM_NOTE = " A person may be asked to confirm first; if they decline, do not retry unless they ask."

CATALOG: tuple[Endpoint, ...] = (
    Endpoint(
        name="os_device_information",
        title="Device information",
        description=(
            "Describe the computer PiecesOS runs on: device name, PiecesOS version, CPUs, GPUs (and whether "
            "they can run local LLMs), RAM and whether Vulkan is present. Use it to answer questions about "
            "this machine or to decide whether a local model can run. Read-only."
        ),
        method="GET",
        path="/os/device/information",
        input_model=models.NoArguments,
        output_model=models.DeviceInformation,
        risk=Risk.READ,
        wait=Wait.ORDINARY,
        idempotent=True,
    ),
    Endpoint(
        name="os_permissions",
        title="OS permissions",
        description=(
            "Report whether PiecesOS has the operating-system permissions its features need "
            "(processing.vision: screen recording; processing.accessibility: reading other apps). "
            "Works on macOS and Windows only. Read-only."
        ),
        method="GET",
        path="/os/permissions",
        input_model=models.NoArguments,
        output_model=models.Permissions,
        risk=Risk.READ,
        wait=Wait.ORDINARY,
        idempotent=True,
    ),
    Endpoint(
        name="os_update_check",
        title="Check for a PiecesOS update",
        description=(
            "Ask PiecesOS whether an update exists. status is one of UP_TO_DATE, AVAILABLE (found; checking "
            "starts the download), DOWNLOADING (percentage shows progress), READY_TO_RESTART (downloaded: "
            "os_restart installs it), REINSTALL_REQUIRED, CONTACT_SUPPORT, UPDATE_VIA_MICROSOFT_STORE or UNKNOWN "
            "(status_raw then holds what PiecesOS said). To update: check; while AVAILABLE or DOWNLOADING, check "
            "again every few seconds to follow the download; at READY_TO_RESTART, ask the person, and only with "
            "their confirmation call os_restart to install. This tool itself never installs anything."
        ),
        method="POST",
        path="/os/update/check",
        input_model=models.EmptyBodyInput,
        output_model=models.UpdateStatus,
        risk=Risk.READ,
        wait=Wait.ORDINARY,
        idempotent=True,
        open_world=True,
    ),
    Endpoint(
        name="os_permissions_request",
        title="Request OS permissions",
        description=(
            "Make the operating system show its permission prompt for PiecesOS (vision: screen recording; "
            "accessibility). The person answers the prompt on their desktop; the result is the permissions "
            "afterwards. macOS and Windows only." + _CONFIRM_NOTE
        ),
        method="POST",
        path="/os/permissions/request",
        input_model=models.PermissionsRequestInput,
        output_model=models.Permissions,
        risk=Risk.GUARDED,
        wait=Wait.INTERACTIVE,
        idempotent=True,
        consequence="Your operating system will show a permission prompt for PiecesOS on your desktop.",
    ),
    Endpoint(
        name="os_restart",
        title="Restart PiecesOS",
        description=(
            "Restart PiecesOS (also how a downloaded update is installed). Waits until PiecesOS answers "
            "again and reports how long it was down. Only when the person asked for a restart." + _CONFIRM_NOTE
        ),
        method="GET",
        path="/os/restart",
        input_model=models.NoArguments,
        output_model=models.RestartOutcome,
        risk=Risk.GUARDED,
        wait=Wait.ORDINARY,
        destructive=True,
        restarts=True,
        consequence=(
            "PiecesOS will restart: the Pieces apps connected to it lose it for a few seconds, and anything "
            "it is doing now is interrupted."
        ),
    ),
    Endpoint(
        name="pick_files",
        title="Ask the person to pick files",
        description=(
            "Open the native file picker on the person's desktop and return the paths they choose "
            "(empty if they close it). Use it when you need the person to point at files." + _CONFIRM_NOTE
        ),
        method="POST",
        path={"current": "/os/filesystem/files/pick", "v10": "/os/filesystem/files/pick", "seed": "/os/files/pick"},
        input_model=models.FilePickerInput,
        output_model=models.PickedPaths,
        risk=Risk.GUARDED,
        wait=Wait.INTERACTIVE,
        consequence=(
            "A file picker window will open on your desktop; the files you choose are shared with the assistant."
        ),
    ),
    Endpoint(
        name="pick_folders",
        title="Ask the person to pick folders",
        description=(
            "Open the native folder picker on the person's desktop and return the paths they choose "
            "(empty if they close it)." + _CONFIRM_NOTE
        ),
        method="POST",
        path={
            "current": "/os/filesystem/folders/pick",
            "v10": "/os/filesystem/folders/pick",
            "seed": "/os/folders/pick",
        },
        input_model=models.NoArguments,
        output_model=models.PickedPaths,
        risk=Risk.GUARDED,
        wait=Wait.INTERACTIVE,
        consequence=(
            "A folder picker window will open on your desktop; the folders you choose are shared with the assistant."
        ),
    ),
    Endpoint(
        name="sign_into_os",
        title="Sign in to Pieces",
        description=(
            "Start the Pieces sign-in flow: a browser window opens for the person to sign in. Returns who is "
            "signed in afterwards (id, email, name, username; never keys or tokens)." + _CONFIRM_NOTE
        ),
        method="POST",
        path="/os/sign_in",
        input_model=models.NoArguments,
        output_model=models.UserIdentity,
        risk=Risk.GUARDED,
        wait=Wait.INTERACTIVE,
        open_world=True,
        consequence="A browser window will open so you can sign in to your Pieces account.",
    ),
    Endpoint(
        name="sign_out_of_os",
        title="Sign out of Pieces",
        description=(
            "Sign the person out of their Pieces account in PiecesOS. Cloud features stop until they sign in "
            "again. Afterwards nobody is signed in; the result lists the accounts PiecesOS still remembers on "
            "this machine (signed out). Only when the person asked for it." + _CONFIRM_NOTE
        ),
        method="POST",
        path="/os/sign_out",
        input_model=models.NoArguments,
        output_model=models.SignedInUsers,
        risk=Risk.GUARDED,
        wait=Wait.ORDINARY,
        destructive=True,
        idempotent=True,
        consequence="You will be signed out of your Pieces account; cloud features stop until you sign in again.",
    ),
    Endpoint(
        name="link_provider",
        title="Link an identity provider",
        description=(
            "Link an identity provider (github, google-oauth2, gitlab, ...) to the signed-in Pieces account; "
            "the provider's authorisation page may open. Fails when nobody is signed in (use sign_into_os "
            "first). Returns the user's identity with their linked providers." + _CONFIRM_NOTE
        ),
        method="POST",
        path="/os/link_provider",
        input_model=models.LinkProviderInput,
        output_model=models.SignedInUser,
        risk=Risk.GUARDED,
        wait=Wait.INTERACTIVE,
        open_world=True,
        consequence="Your Pieces account will be linked to the identity provider you are about to authorise.",
    ),
)

BY_NAME: Mapping[str, Endpoint] = {endpoint.name: endpoint for endpoint in CATALOG}
