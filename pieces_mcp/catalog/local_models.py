"""The `models` toolset: the small local models PiecesOS runs itself."""

from __future__ import annotations

from pieces_mcp.catalog.entry import BASE_MODELS, CONFIRM_NOTE, ArgumentKind, Endpoint, Example, Models, Risk, Wait
from pieces_mcp.catalog.generations import Since

LOCAL_MODELS = Models("pieces_mcp.models.local_models")

# pieces-os-client 4.3.0 is the first with `OSApi.os_nano_models_prepare`: a `current` PiecesOS only.
NANO_MODELS_SINCE = Since("current", "4.3.0")

TOOLSET = "models"
ABOUT = "prepare (download and load) PiecesOS's small local models"

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        name="os_nano_models_prepare",
        title="Prepare local models",
        description=(
            "Make PiecesOS download (when missing) and load the small local models a task group needs "
            "(conversation). Returns once PiecesOS accepted; the download may continue after." + CONFIRM_NOTE
        ),
        method="POST",
        path="/os/nano_models/prepare",
        arguments=LOCAL_MODELS.NanoModelsInput,
        targets={"conversation": ArgumentKind.VALUE},
        answer=BASE_MODELS.Accepted,
        risk=Risk.GUARDED,
        toolset=TOOLSET,
        since=NANO_MODELS_SINCE,
        wait=Wait.ORDINARY,
        idempotent=True,
        open_world=True,
        consequence=(
            "PiecesOS will download (if missing) and load small AI models on this computer: this uses network, "
            "disk space and memory."
        ),
        examples=(Example(answer_has=("accepted",)),),
    ),
)
