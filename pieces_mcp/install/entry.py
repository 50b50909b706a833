"""What an install may change in an existing entry: only what pieces-mcp owns.

pieces-mcp owns the command, the launcher arguments up to `serve`, and a client's fixed keys (`type: stdio`).
Everything else is the person's: `env` (PIECES_MCP_READ_ONLY, PIECES_MCP_DENY_TOOLS ...), arguments after `serve`
(`--read-only`, `--confirm deny`), `disabled`, `autoApprove`, comments. `--reset` replaces the entry whole.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pieces_mcp.install.clients import Client
from pieces_mcp.install.errors import InstallError


def launch_command(executable: str | None = None) -> tuple[str, list[str]]:
    """The absolute command for this environment, so a client started from the desktop (with a bare PATH) finds it.

    This environment's `pieces-mcp` script (beside its interpreter: venv/bin, Scripts\\ on Windows) when there is
    one; otherwise its Python with `-m pieces_mcp`, which works wherever this package is importable.
    """
    python = Path(executable or sys.executable).absolute()  # not resolved: a venv's python is a symlink out of it
    script = python.parent / ("pieces-mcp.exe" if os.name == "nt" else "pieces-mcp")
    if script.is_file():
        return str(script), ["serve"]
    return str(python), ["-m", "pieces_mcp", "serve"]


def is_temporary(command: str) -> bool:
    """A `uvx` run lives in uv's cache (…/uv/archive-v0/…), which `uv cache clean` removes with the command."""
    parts = Path(command).parts
    return any(part.startswith("archive-v") for part in parts) and any(part == "uv" for part in parts)


def person_arguments(args: Any) -> list[str]:
    """The person's own arguments in an existing entry: what follows `serve`, or with no `serve` (it is the default
    command) whatever follows the `-m pieces_mcp` launcher."""
    if not isinstance(args, list) or not all(isinstance(arg, str) for arg in args):
        return []
    if "serve" in args:
        return args[args.index("serve") + 1 :]
    return args[2:] if args[:2] == ["-m", "pieces_mcp"] else list(args)


@dataclass(frozen=True)
class Merge:
    updates: dict[str, Any]  # key -> new value, only the keys that change (a whole new entry when `whole`)
    whole: bool  # the entry is new or replaced whole (--reset, or it was not an object)
    changes: list[str]  # one line per change, for the person
    kept: list[str]  # the person's keys left as they were
    new: bool = False  # there was no entry before


def show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 100 else text[:97] + "..."


def merge_entry(
    client: Client,
    existing: Any,
    command: str,
    launcher: list[str],
    *,
    reset: bool,
    serve_args: list[str] | None = None,
) -> Merge:
    """The edit that brings `existing` (None when absent) up to date.

    `serve_args` None keeps the person's arguments after `serve` (a re-install after an upgrade must not undo
    their `--read-only`); a list, even empty, replaces them: it is what they just asked for."""
    if existing is None or reset or not isinstance(existing, Mapping):
        entry = client.new_entry(command, launcher + (serve_args or []))
        why = "replaced whole (--reset)" if existing is not None and reset else "added"
        if existing is not None and not isinstance(existing, Mapping):
            why = "replaced (the old entry was not an object)"
        return Merge(entry, True, [f"entry {why}: {show(entry)}"], [], new=existing is None)
    given = serve_args is not None
    person = serve_args if serve_args is not None else person_arguments(existing.get(client.args_key))
    owned = client.owned(command, launcher + person)
    updates = {key: value for key, value in owned.items() if existing.get(key, _MISSING) != value}
    changes = [
        f"{key}: {show(existing[key])} -> {show(value)}" if key in existing else f"{key}: added {show(value)}"
        for key, value in updates.items()
    ]
    extra = owned[client.args_key][len(launcher) :]
    if extra and updates and not given:
        changes.append(f"kept your arguments after serve: {show(extra)}")
    kept = [str(key) for key in existing if key not in owned]
    return Merge(updates, False, changes, kept)


_MISSING = object()


def check_serve_arguments(serve_args: list[str]) -> None:
    """Refuse, with serve's own sentence, arguments that `serve` would reject: the client would only show the
    server as failed, far from the typo."""
    import argparse
    import io
    from contextlib import redirect_stderr, redirect_stdout

    from pieces_mcp.cli_parser import build_parser
    from pieces_mcp.config import ConfigError, load

    if not serve_args:
        return
    said = io.StringIO()
    try:
        with redirect_stderr(said), redirect_stdout(said):
            parsed = build_parser().parse_args(["serve", *serve_args])
    except SystemExit:
        lines = [line for line in said.getvalue().splitlines() if line.strip()]
        reason = lines[-1].split("error: ", 1)[-1] if lines else "not arguments of serve"
        raise InstallError(f"the arguments after -- are not serve's: {reason}. Nothing was changed.") from None
    if not isinstance(parsed, argparse.Namespace):
        return
    try:
        load(parsed, environ={})
    except ConfigError as exc:
        raise InstallError(f"the arguments after -- are not serve's: {exc}. Nothing was changed.") from None
