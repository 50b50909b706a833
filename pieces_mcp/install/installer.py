"""The install itself: plan (read-only, so tests can drive it), then apply under the lock, then report."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pieces_mcp import SERVER_NAME
from pieces_mcp.install.clients import CLIENT_LIST, CLIENTS, Client, Format, config_path
from pieces_mcp.install.entry import Merge, check_serve_arguments, is_temporary, launch_command, merge_entry
from pieces_mcp.install.errors import InstallError
from pieces_mcp.install.files import backup, locked, read_text, refuse_missing_folder, refuse_read_only, write_atomic


class Document(Protocol):
    @property
    def text(self) -> str: ...

    def get(self, keys: tuple[str, ...]) -> Any: ...

    def set(self, keys: tuple[str, ...], value: Any) -> None: ...


def open_document(client: Client, path: Path, text: str) -> Document:
    """The file's editor; each format's library is imported only when a file of that format is edited."""
    if client.format is Format.TOML:
        from pieces_mcp.install.toml_file import TomlDocument

        return TomlDocument(path, text)
    if client.format is Format.YAML:
        from pieces_mcp.install.yaml_file import YamlDocument

        return YamlDocument(path, text)
    from pieces_mcp.install.json_file import JsonDocument

    return JsonDocument(path, text, client.dialect, client.label)


@dataclass(frozen=True)
class InstallPlan:
    client: str
    path: Path
    original: str  # the file as read (for the check that nobody wrote it meanwhile)
    text: str  # the whole resulting file (the original when nothing changes)
    merge: Merge

    @property
    def changed(self) -> bool:
        return self.text != self.original


def plan_install(
    client_name: str,
    path: Path,
    command: str,
    args: list[str],
    *,
    reset: bool = False,
    serve_args: list[str] | None = None,
) -> InstallPlan:
    """What the install would write. `serve_args` None keeps the person's arguments after `serve`."""
    client = CLIENTS[client_name]
    original = read_text(path)
    document = open_document(client, path, original)
    servers = document.get(client.servers)
    if servers is not None and not isinstance(servers, dict):
        where = ".".join(client.servers)
        raise InstallError(f'{path}: "{where}" is not an object/table. It was not changed.')
    existing = None if servers is None else servers.get(SERVER_NAME)
    merge = merge_entry(client, existing, command, args, reset=reset, serve_args=serve_args)
    entry_keys = (*client.servers, SERVER_NAME)
    if merge.whole:
        document.set(entry_keys, merge.updates)
    else:
        for key, value in merge.updates.items():
            document.set((*entry_keys, key), value)
    text = document.text if merge.updates else original
    return InstallPlan(client_name, path, original, text, merge)


def apply(plan: InstallPlan) -> Path | None:
    """Write the plan, after a dated backup of a non-empty file; returns the backup. Call under `locked(path)`."""
    if not plan.changed:
        return None
    refuse_read_only(plan.path)
    if read_text(plan.path) != plan.original:
        raise _MovedError
    saved = backup(plan.path) if plan.original.strip() else None
    write_atomic(plan.path, plan.text)
    return saved


class _MovedError(Exception):
    """The file changed between reading and writing (a client saving it, without our lock): plan again."""


def run_install(
    client_name: str,
    config: str | None,
    *,
    dry_run: bool = False,
    reset: bool = False,
    serve_args: list[str] | None = None,
) -> int:
    """The `install` sub-command; returns the exit code. Messages go to stderr; a dry run's file goes to stdout.

    `serve_args` (what followed `--`) replace the arguments after `serve`; None keeps the person's."""
    client = CLIENTS.get(client_name)
    if client is None:
        print(f"pieces-mcp: unknown client {client_name!r}; choose one of {', '.join(CLIENTS)}.", file=sys.stderr)
        return 2
    command, args = launch_command()
    try:
        check_serve_arguments(serve_args or [])
    except InstallError as exc:
        print(f"pieces-mcp: {exc}", file=sys.stderr)
        return 2
    if client.format is Format.MANUAL:
        from pieces_mcp.install.manual import print_manual_steps

        return print_manual_steps(client, command, args + (serve_args or []), open_link=not dry_run)
    path = Path(config).expanduser().absolute() if config else config_path(client_name)
    try:
        if config:
            refuse_missing_folder(path)
        if dry_run:
            plan = plan_install(client_name, path, command, args, reset=reset, serve_args=serve_args)
            sys.stdout.write(plan.text)
            _report(plan, None, dry_run=True)
            return 0
        plan, saved = _plan_and_apply_under_lock(client_name, path, command, args, reset=reset, serve_args=serve_args)
    except InstallError as exc:
        print(f"pieces-mcp: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"pieces-mcp: cannot write {path}: {exc.strerror or exc}. It was not changed.", file=sys.stderr)
        return 1
    except RecursionError:  # a format library's parser on a file nested deeper than Python's stack allows
        print(f"pieces-mcp: {path} is nested too deeply to read. It was not changed.", file=sys.stderr)
        return 1
    _report(plan, saved, dry_run=False)
    if is_temporary(command):
        print(
            f"Note: {command} is in uv's cache (a uvx run) and goes when the cache is cleaned; for a lasting entry "
            "run install from `uv tool install pieces-mcp` or a virtual environment.",
            file=sys.stderr,
        )
    return 0


def _plan_and_apply_under_lock(
    client_name: str, path: Path, command: str, args: list[str], *, reset: bool, serve_args: list[str] | None
) -> tuple[InstallPlan, Path | None]:
    """The plan written, and its backup; planned again when the file changed between reading and writing."""
    with locked(path):
        for _attempt in range(3):
            plan = plan_install(client_name, path, command, args, reset=reset, serve_args=serve_args)
            try:
                return plan, apply(plan)
            except _MovedError:
                continue
        raise InstallError(f"{path} kept changing while pieces-mcp tried to edit it. It was not changed.")


def _report(plan: InstallPlan, saved: Path | None, *, dry_run: bool) -> None:
    label = CLIENTS[plan.client].label
    err = sys.stderr
    if not plan.changed:
        print(f"{SERVER_NAME} is already configured in {plan.path}; nothing changed.", file=err)
        return
    if dry_run:
        head = f"Dry run: nothing was written to {plan.path}. It would change:"
    else:
        verb = f"Added {SERVER_NAME} to" if plan.merge.new else f"Updated {SERVER_NAME} in"
        head = f"{verb} {plan.path}" + (f" (backup: {saved})" if saved else "") + ":"
    print(head, file=err)
    for change in plan.merge.changes:
        print(f"  {change}", file=err)
    if plan.merge.kept:
        print(f"  kept as you had them: {', '.join(plan.merge.kept)}", file=err)
    if not dry_run:
        print(f"Restart {label} to load it.", file=err)


def configured_clients(home: Path | None = None) -> list[tuple[str, Path]]:
    """Known clients whose file already has a pieces-os entry. Never raises: broken files are skipped."""
    found: list[tuple[str, Path]] = []
    for client in CLIENT_LIST:
        if client.format is Format.MANUAL:
            continue
        try:
            path = config_path(client.name, home=home)
            if not path.is_file():
                continue
            servers = open_document(client, path, read_text(path)).get(client.servers)
            if isinstance(servers, dict) and SERVER_NAME in servers:
                found.append((client.name, path))
        except (InstallError, OSError, ValueError, RuntimeError):
            continue
    return found
