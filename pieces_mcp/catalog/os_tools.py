"""The `os` toolset: the seed page's ten operations, the default tool list."""

from __future__ import annotations

from pieces_mcp.catalog.entry import (
    BASE_MODELS,
    CONFIRM_NOTE,
    ArgumentKind,
    Endpoint,
    Example,
    Exchange,
    Models,
    Risk,
    Wait,
)

OS_MODELS = Models("pieces_mcp.models.os_tools")

TOOLSET = "os"
ABOUT = "the seed's ten: device, permissions, updates, restart, pickers, sign-in and providers"

ENDPOINTS: tuple[Endpoint, ...] = (
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
        arguments=BASE_MODELS.NoArguments,
        answer=OS_MODELS.DeviceInformation,
        risk=Risk.READ,
        toolset=TOOLSET,
        wait=Wait.ORDINARY,
        idempotent=True,
        examples=(Example(answer_has=("name", "version", "hardware")),),
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
        arguments=BASE_MODELS.NoArguments,
        answer=OS_MODELS.Permissions,
        risk=Risk.READ,
        toolset=TOOLSET,
        wait=Wait.ORDINARY,
        idempotent=True,
        examples=(Example(answer_has=("processing",)),),
    ),
    Endpoint(
        name="os_update_check",
        title="Check for a PiecesOS update",
        description=(
            "Ask PiecesOS whether an update exists. Not read-only: when one is found, the check makes PiecesOS "
            "start downloading it (network and disk; nothing is installed). status is one of UP_TO_DATE, "
            "AVAILABLE (found; the download starts), DOWNLOADING (percentage shows progress), READY_TO_RESTART "
            "(downloaded: os_restart installs it), REINSTALL_REQUIRED, CONTACT_SUPPORT, UPDATE_VIA_MICROSOFT_STORE "
            "or UNKNOWN (status_raw then holds what PiecesOS said). To update: check; while AVAILABLE or "
            "DOWNLOADING, check again every few seconds to follow the download; at READY_TO_RESTART, ask the "
            "person, and only with their confirmation call os_restart to install. This tool never installs."
        ),
        method="POST",
        path="/os/update/check",
        arguments=OS_MODELS.UpdateCheckInput,
        targets={"follow_download": ArgumentKind.VALUE},
        answer=OS_MODELS.UpdateStatus,
        risk=Risk.READ,
        toolset=TOOLSET,
        wait=Wait.ORDINARY,
        idempotent=True,
        open_world=True,
        exchange=Exchange.FOLLOWED_DOWNLOAD,
        # The vendor has no other call that starts the download: its CLI (pieces-app/cli-agent,
        # src/pieces/core/update_pieces_os.py) and its Raycast extension drive a whole update with repeated
        # POST /os/update/check until READY_TO_RESTART, then os_restart; the SDK's OSApi has only the check and
        # its stream, and UpdatingStatusEnum's AVAILABLE means "available (but not downloaded)"
        # (pieces-os-client-sdk-for-python docs/UpdatingStatusEnum.md). So the tool keeps the vendor's one call
        # and says what it does: not annotated read-only, asked of nobody (it installs nothing; os_restart,
        # guarded, installs), offered in read-only mode for the same reason.
        side_effect="may start downloading a PiecesOS update it finds (installs nothing)",
        examples=(Example(answer_has=("status",)),),
    ),
    Endpoint(
        name="os_permissions_request",
        title="Request OS permissions",
        description=(
            "Make the operating system show its permission prompt for PiecesOS (vision: screen recording; "
            "accessibility). The person answers the prompt on their desktop; the result is the permissions "
            "afterwards. macOS and Windows only." + CONFIRM_NOTE
        ),
        method="POST",
        path="/os/permissions/request",
        arguments=OS_MODELS.PermissionsRequestInput,
        targets={"vision": ArgumentKind.VALUE, "accessibility": ArgumentKind.VALUE},
        answer=OS_MODELS.Permissions,
        risk=Risk.GUARDED,
        toolset=TOOLSET,
        wait=Wait.INTERACTIVE,
        idempotent=True,
        consequence="Your operating system will show a permission prompt for PiecesOS on your desktop.",
        changes=("os_permissions",),
        examples=(Example({"vision": True}, answer_has=("processing",)),),
    ),
    Endpoint(
        name="os_restart",
        title="Restart PiecesOS",
        description=(
            "Restart PiecesOS (also how a downloaded update is installed). Waits until PiecesOS answers "
            "again and reports how long it was down, or that it did not come back (then open_pieces_os starts "
            "it), and whether the person is still signed in. Only when the person asked for a restart." + CONFIRM_NOTE
        ),
        method="GET",
        path="/os/restart",
        arguments=BASE_MODELS.NoArguments,
        answer=OS_MODELS.RestartOutcome,
        risk=Risk.GUARDED,
        toolset=TOOLSET,
        wait=Wait.COMEBACK,
        destructive=True,
        exchange=Exchange.RESTART,
        consequence=(
            "PiecesOS will restart: the Pieces apps connected to it lose it for a few seconds, and anything "
            "it is doing now is interrupted."
        ),
        changes=("os_device_information", "os_update_check"),
        examples=(Example(answer_has=("restarted", "back_online", "downtime_ms")),),
    ),
    Endpoint(
        name="pick_files",
        title="Ask the person to pick files",
        description=(
            "Open the native file picker on the person's desktop and return the paths they choose "
            "(empty if they close it). Use it when you need the person to point at files." + CONFIRM_NOTE
        ),
        method="POST",
        path={"current": "/os/filesystem/files/pick", "v10": "/os/filesystem/files/pick", "seed": "/os/files/pick"},
        arguments=OS_MODELS.FilePickerInput,
        targets={"allow_multiple": ArgumentKind.VALUE, "allowed_extensions": ArgumentKind.VALUE},
        answer=OS_MODELS.PickedPaths,
        risk=Risk.GUARDED,
        toolset=TOOLSET,
        wait=Wait.INTERACTIVE,
        consequence=(
            "A file picker window will open on your desktop; the files you choose are shared with the assistant."
        ),
        examples=(
            Example({"allow_multiple": True, "allowed_extensions": ["md"]}, answer_has=("paths", "total", "truncated")),
        ),
    ),
    Endpoint(
        name="pick_folders",
        title="Ask the person to pick folders",
        description=(
            "Open the native folder picker on the person's desktop and return the paths they choose "
            "(empty if they close it)." + CONFIRM_NOTE
        ),
        method="POST",
        path={
            "current": "/os/filesystem/folders/pick",
            "v10": "/os/filesystem/folders/pick",
            "seed": "/os/folders/pick",
        },
        arguments=BASE_MODELS.NoArguments,
        answer=OS_MODELS.PickedPaths,
        risk=Risk.GUARDED,
        toolset=TOOLSET,
        wait=Wait.INTERACTIVE,
        consequence=(
            "A folder picker window will open on your desktop; the folders you choose are shared with the assistant."
        ),
        examples=(Example(answer_has=("paths", "total", "truncated")),),
    ),
    Endpoint(
        name="sign_into_os",
        title="Sign in to Pieces",
        description=(
            "Start the Pieces sign-in flow: a browser window opens for the person to sign in. Returns who is "
            "signed in afterwards (id, email, name, username; never keys or tokens)." + CONFIRM_NOTE
        ),
        method="POST",
        path="/os/sign_in",
        arguments=BASE_MODELS.NoArguments,
        answer=BASE_MODELS.UserIdentity,
        risk=Risk.GUARDED,
        toolset=TOOLSET,
        wait=Wait.INTERACTIVE,
        open_world=True,
        consequence="A browser window will open so you can sign in to your Pieces account.",
        changes=("user_snapshot",),
        examples=(Example(answer_has=("id", "email")),),
    ),
    Endpoint(
        name="sign_out_of_os",
        title="Sign out of Pieces",
        description=(
            "Sign the person out of their Pieces account in PiecesOS. Cloud features stop until they sign in "
            "again. Afterwards nobody is signed in; the result lists the accounts PiecesOS still remembers on "
            "this machine (signed out). Only when the person asked for it." + CONFIRM_NOTE
        ),
        method="POST",
        path="/os/sign_out",
        arguments=BASE_MODELS.NoArguments,
        answer=BASE_MODELS.SignedInUsers,
        risk=Risk.GUARDED,
        toolset=TOOLSET,
        wait=Wait.ORDINARY,
        destructive=True,
        idempotent=True,
        consequence="You will be signed out of your Pieces account; cloud features stop until you sign in again.",
        changes=("user_snapshot",),
        examples=(Example(),),
    ),
    Endpoint(
        name="link_provider",
        title="Link an identity provider",
        description=(
            "Link an identity provider (github, google-oauth2, gitlab, ...) to the signed-in Pieces account; "
            "the provider's authorisation page may open. Fails when nobody is signed in (use sign_into_os "
            "first). Returns the user's identity with their linked providers." + CONFIRM_NOTE
        ),
        method="POST",
        path="/os/link_provider",
        arguments=OS_MODELS.LinkProviderInput,
        targets={"type": ArgumentKind.VALUE},
        answer=BASE_MODELS.SignedInUser,
        risk=Risk.GUARDED,
        toolset=TOOLSET,
        wait=Wait.INTERACTIVE,
        open_world=True,
        consequence="Your Pieces account will be linked to the identity provider you are about to authorise.",
        changes=("user_snapshot",),
        examples=(Example({"type": "gitlab"}, answer_has=("user",)),),
    ),
)
