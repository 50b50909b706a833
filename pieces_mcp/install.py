"""`pieces-mcp install`: add this server to an MCP client's JSON configuration, keeping everything else.

The core (`config_path`, `server_entry`, `merge_config`, `plan_install`) is pure or read-only so tests can drive
it with a temporary home; only `apply` and `run_install` write.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SERVER_NAME = "pieces-os"

# (home, %APPDATA%) -> path, one per sys.platform family.
Locator = Callable[[Path, Path], Path]


@dataclass(frozen=True)
class ClientSpec:
    name: str
    label: str  # how the person knows the application: "Restart {label} to load it."
    servers_key: str
    stdio_type: bool  # VS Code wants `"type": "stdio"` on each entry
    darwin: Locator
    linux: Locator
    win32: Locator


def _home(*parts: str) -> Locator:
    return lambda home, _appdata: home.joinpath(*parts)


def _appdata(*parts: str) -> Locator:
    return lambda _home, appdata: appdata.joinpath(*parts)


_MAC_SUPPORT = ("Library", "Application Support")

CLIENTS: Mapping[str, ClientSpec] = {
    spec.name: spec
    for spec in (
        ClientSpec(
            "claude-desktop",
            "Claude Desktop",
            "mcpServers",
            False,
            darwin=_home(*_MAC_SUPPORT, "Claude", "claude_desktop_config.json"),
            linux=_home(".config", "Claude", "claude_desktop_config.json"),
            win32=_appdata("Claude", "claude_desktop_config.json"),
        ),
        ClientSpec(
            "claude-code",
            "Claude Code",
            "mcpServers",
            False,
            darwin=_home(".claude.json"),
            linux=_home(".claude.json"),
            win32=_home(".claude.json"),
        ),
        ClientSpec(
            "cursor",
            "Cursor",
            "mcpServers",
            False,
            darwin=_home(".cursor", "mcp.json"),
            linux=_home(".cursor", "mcp.json"),
            win32=_home(".cursor", "mcp.json"),
        ),
        ClientSpec(
            "vscode",
            "VS Code",
            "servers",
            True,
            darwin=_home(*_MAC_SUPPORT, "Code", "User", "mcp.json"),
            linux=_home(".config", "Code", "User", "mcp.json"),
            win32=_appdata("Code", "User", "mcp.json"),
        ),
        ClientSpec(
            "windsurf",
            "Windsurf",
            "mcpServers",
            False,
            darwin=_home(".codeium", "windsurf", "mcp_config.json"),
            linux=_home(".codeium", "windsurf", "mcp_config.json"),
            win32=_home(".codeium", "windsurf", "mcp_config.json"),
        ),
    )
}


class InstallError(Exception):
    """A configuration file we refuse to touch; the message is for the person."""


@dataclass(frozen=True)
class InstallPlan:
    client: str
    path: Path
    text: str  # the whole resulting file (the current text when nothing changes)
    changed: bool
    backup: Path | None  # where the current content goes before writing, if it is worth keeping
    replaced_entry: bool  # an older pieces-os entry is being replaced
    dropped_comments: bool  # JSONC comments/trailing commas cannot survive a rewrite; they stay in the backup


def config_path(
    client: str, *, home: Path | None = None, platform: str | None = None, environ: Mapping[str, str] | None = None
) -> Path:
    """The client's usual configuration file. An overridden `home` also ignores the real %APPDATA% (hermetic tests)."""
    spec = CLIENTS[client]
    if environ is None:
        environ = os.environ if home is None else {}
    home = Path.home() if home is None else home
    platform = sys.platform if platform is None else platform
    appdata = Path(environ["APPDATA"]) if environ.get("APPDATA") else home / "AppData" / "Roaming"
    if platform == "darwin":
        return spec.darwin(home, appdata)
    if platform == "win32":
        return spec.win32(home, appdata)
    return spec.linux(home, appdata)  # Linux and the other Unixes follow the XDG-style layout


def default_command(which: Callable[[str], str | None] = shutil.which) -> tuple[str, list[str]]:
    """`pieces-mcp serve` when it is on PATH; otherwise this interpreter, so an install from a venv still works."""
    if which("pieces-mcp"):
        return "pieces-mcp", ["serve"]
    return sys.executable, ["-m", "pieces_mcp", "serve"]


def server_entry(client_name: str, command: str, args: list[str]) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": "stdio"} if CLIENTS[client_name].stdio_type else {}
    entry["command"] = command
    entry["args"] = list(args)
    return entry


_CLOSER_AHEAD = re.compile(r"[ \t\r\n]*[}\]]")


def strip_jsonc(text: str) -> str:
    """JSON from JSONC: comments and trailing commas become spaces, so JSON error positions still match the file."""
    out = list(text)
    i, n, in_string = 0, len(text), False
    while i < n:
        char = text[i]
        if in_string:
            if char == "\\":
                i += 1  # the escaped character cannot end the string
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif text.startswith("//", i) or text.startswith("/*", i):
            if text[i + 1] == "/":
                end = text.find("\n", i)
                end = n if end < 0 else end
            else:
                end = text.find("*/", i + 2)
                end = n if end < 0 else end + 2
            out[i:end] = [c if c in "\r\n" else " " for c in text[i:end]]
            i = end
            continue
        i += 1
    # A second pass over the comment-free text, so `1, // note\n}` counts as a trailing comma too.
    blanked, in_string, escaped = "".join(out), False, False
    for i, char in enumerate(blanked):
        if in_string:
            in_string = escaped or char != '"'
            escaped = not escaped and char == "\\"
        elif char == '"':
            in_string = True
        elif char == "," and _CLOSER_AHEAD.match(blanked, i + 1):
            out[i] = " "
    return "".join(out)


def parse_config(path: Path, text: str, servers_key: str) -> dict[str, Any]:
    """The file's top-level object; raises InstallError when it is not JSON(C) or not shaped like a config."""
    if not text.strip():
        return {}
    try:
        data = json.loads(strip_jsonc(text))
    except json.JSONDecodeError as exc:
        raise InstallError(
            f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}. "
            "It was not changed; fix it or pass --config with another file."
        ) from None
    if not isinstance(data, dict):
        raise InstallError(f"{path} does not hold a JSON object at the top level. It was not changed.")
    if not isinstance(data.get(servers_key, {}), dict):
        raise InstallError(f'{path}: "{servers_key}" is not a JSON object. It was not changed.')
    return data


def merge_config(client: str, path: Path, text: str, entry: dict[str, Any]) -> tuple[str, bool, bool]:
    """(new text, changed, replaced an older entry): only our entry is set; every other key keeps its place."""
    key = CLIENTS[client].servers_key
    data = parse_config(path, text, key)
    servers: dict[str, Any] = data.setdefault(key, {})
    previous = servers.get(SERVER_NAME)
    if previous == entry:
        return text, False, False
    servers[SERVER_NAME] = entry
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n", True, previous is not None


def read_text(path: Path) -> str:
    """'' for a missing file; utf-8-sig because some Windows editors write a BOM."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return ""
    except UnicodeDecodeError as exc:
        raise InstallError(f"{path} is not UTF-8 text ({exc.reason}). It was not changed.") from None
    except OSError as exc:
        raise InstallError(f"cannot read {path}: {exc.strerror or exc}. It was not changed.") from None


def plan_install(client: str, path: Path, command: str, args: list[str]) -> InstallPlan:
    text = read_text(path)
    new_text, changed, replaced = merge_config(client, path, text, server_entry(client, command, args))
    return InstallPlan(
        client=client,
        path=path,
        text=new_text,
        changed=changed,
        backup=path.with_name(path.name + ".bak") if text.strip() else None,
        replaced_entry=replaced,
        dropped_comments=bool(text.strip()) and strip_jsonc(text) != text,
    )


def apply(plan: InstallPlan) -> bool:
    """Write the plan (backup first); True when an older backup was overwritten. Atomic so a crash never truncates."""
    if not plan.changed:
        return False
    # Write through a symlink (dotfile managers) instead of replacing the link with a plain file.
    target = plan.path.resolve() if plan.path.is_symlink() else plan.path
    target.parent.mkdir(parents=True, exist_ok=True)
    overwrote = False
    if plan.backup is not None:
        overwrote = plan.backup.exists()
        shutil.copy2(target, plan.backup)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(plan.text)
        if target.exists():
            shutil.copymode(target, temp)  # e.g. ~/.claude.json is private (0600); keep it so
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return overwrote


def run_install(client: str, config: str | None, *, dry_run: bool = False) -> int:
    """The `install` sub-command; returns the exit code. Messages go to stderr, a dry run's file to stdout."""
    if client not in CLIENTS:
        print(f"pieces-mcp: unknown client {client!r}; choose one of {', '.join(CLIENTS)}.", file=sys.stderr)
        return 2
    path = Path(config).expanduser() if config else config_path(client)
    command, args = default_command()
    try:
        plan = plan_install(client, path, command, args)
    except InstallError as exc:
        print(f"pieces-mcp: {exc}", file=sys.stderr)
        return 1
    label = CLIENTS[client].label
    if dry_run:
        sys.stdout.write(plan.text)
        state = "already configured" if not plan.changed else "dry run"
        print(f"pieces-mcp: {state}; nothing was written to {path}.", file=sys.stderr)
        return 0
    if not plan.changed:
        print(f"{SERVER_NAME} is already configured in {path}; nothing changed.", file=sys.stderr)
        return 0
    try:
        overwrote = apply(plan)
    except OSError as exc:
        print(f"pieces-mcp: cannot write {path}: {exc.strerror or exc}. It was not changed.", file=sys.stderr)
        return 1
    verb = f"Updated {SERVER_NAME} in" if plan.replaced_entry else f"Added {SERVER_NAME} to"
    backup = ""
    if plan.backup is not None:
        backup = f" (backup: {plan.backup}{', replacing the previous backup' if overwrote else ''})"
    print(f"{verb} {path}{backup}. Restart {label} to load it.", file=sys.stderr)
    if plan.dropped_comments:
        print("Note: the file's comments could not be kept; the backup still has them.", file=sys.stderr)
    return 0


def configured_clients(home: Path | None = None) -> list[tuple[str, Path]]:
    """Known clients whose config file already has a pieces-os entry. Never raises: broken files are skipped."""
    found: list[tuple[str, Path]] = []
    for name, spec in CLIENTS.items():
        try:
            path = config_path(name, home=home)
            if not path.is_file():
                continue
            servers = parse_config(path, read_text(path), spec.servers_key).get(spec.servers_key, {})
            if SERVER_NAME in servers:
                found.append((name, path))
        except (InstallError, OSError, ValueError, RuntimeError):
            continue
    return found
