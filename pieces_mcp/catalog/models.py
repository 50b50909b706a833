"""The `models` toolset: the small local models PiecesOS runs itself."""

from __future__ import annotations

from pieces_mcp import models_os
from pieces_mcp.catalog.entry import CONFIRM_NOTE, ArgumentKind, Endpoint, Risk, Wait

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
        input_model=models_os.NanoModelsInput,
        arguments={"conversation": ArgumentKind.VALUE},
        output_model=models_os.Accepted,
        risk=Risk.GUARDED,
        toolset=TOOLSET,
        wait=Wait.ORDINARY,
        idempotent=True,
        open_world=True,
        consequence=(
            "PiecesOS will download (if missing) and load small AI models on this computer: this uses network, "
            "disk space and memory."
        ),
    ),
)
