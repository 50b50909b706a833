"""The `user` toolset: who is signed in to Pieces, without side effects."""

from __future__ import annotations

from pieces_mcp.catalog.entry import BASE_MODELS, Endpoint, Example, Risk, Wait

TOOLSET = "user"
ABOUT = "who is signed in to Pieces (identity fields only)"

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        # The vendor's `UserApi.user_snapshot` (GET /user), not an OS operation, but the question "am I signed
        # in?" belongs with sign-in; the answer is cut to identity fields like every profile.
        name="user_snapshot",
        title="Who is signed in",
        description=(
            "Tell who is signed in to Pieces in PiecesOS: the user's identity (id, email, name, username, linked "
            "providers; never keys or tokens), or no user when nobody is signed in. Read-only."
        ),
        method="GET",
        path="/user",
        arguments=BASE_MODELS.NoArguments,
        answer=BASE_MODELS.SignedInUser,
        risk=Risk.READ,
        toolset=TOOLSET,
        wait=Wait.ORDINARY,
        idempotent=True,
        examples=(Example(answer_has=("user",)),),
    ),
)
