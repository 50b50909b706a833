"""Settings: each flag has an environment variable, and the flag wins (CONTRACT.md)."""

from __future__ import annotations

import argparse
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from urllib.parse import urlsplit

from pieces_mcp.catalog import BY_NAME


class ConfigError(ValueError):
    """A setting a person must fix; the message says how."""


class ConfirmMode(str, Enum):
    ELICIT = "elicit"  # ask the person through the client
    DENY = "deny"  # refuse guarded calls
    ALLOW = "allow"  # run guarded calls without asking


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass(frozen=True)
class Settings:
    base_url: str | None = None  # None: discover PiecesOS
    timeout: float = 10.0
    interactive_timeout: float = 300.0
    confirm: ConfirmMode = ConfirmMode.ELICIT
    allow_tools: frozenset[str] = field(default_factory=frozenset)
    deny_tools: frozenset[str] = field(default_factory=frozenset)
    read_only: bool = False
    allow_remote: bool = False
    log_level: str = "INFO"
    audit_log: str | None = None


# (flag dest, environment variable, help); the flag's default is None so "not given" is visible.
OPTIONS: tuple[tuple[str, str, str], ...] = (
    ("base_url", "PIECES_OS_URL", "PiecesOS base URL; no discovery when set (default: discovered)"),
    ("timeout", "PIECES_MCP_TIMEOUT", "seconds for an ordinary call (default 10)"),
    (
        "interactive_timeout",
        "PIECES_MCP_INTERACTIVE_TIMEOUT",
        "seconds for calls that wait for a person: pickers, sign-in, permission requests (default 300)",
    ),
    ("confirm", "PIECES_MCP_CONFIRM", "elicit | deny | allow: how guarded calls are decided (default elicit)"),
    ("allow_tools", "PIECES_MCP_ALLOW_TOOLS", "comma-separated guarded tools that run without asking"),
    ("deny_tools", "PIECES_MCP_DENY_TOOLS", "comma-separated tools that are neither listed nor callable"),
    ("read_only", "PIECES_MCP_READ_ONLY", "only read tools; wins over everything else"),
    ("allow_remote", "PIECES_MCP_ALLOW_REMOTE", "permit a base URL that is not loopback"),
    ("log_level", "PIECES_MCP_LOG_LEVEL", "stderr log level (default INFO)"),
    ("audit_log", "PIECES_MCP_AUDIT_LOG", "JSON-lines file: one line per guarded call, no secrets"),
)
_BOOLEAN_OPTIONS = frozenset({"read_only", "allow_remote"})


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add every setting as a flag; `load` then merges flags over the environment."""
    for dest, env, help_text in OPTIONS:
        flag = "--" + dest.replace("_", "-")
        text = f"{help_text} [env {env}]"
        if dest in _BOOLEAN_OPTIONS:
            parser.add_argument(flag, dest=dest, action="store_const", const=True, default=None, help=text)
        else:
            parser.add_argument(flag, dest=dest, default=None, metavar=dest.split("_")[-1].upper(), help=text)


def load(args: argparse.Namespace | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from flags over environment over defaults; raises ConfigError with the fix."""
    environ = os.environ if environ is None else environ
    raw: dict[str, str | bool] = {}
    for dest, env, _ in OPTIONS:
        flag_value = getattr(args, dest, None) if args is not None else None
        if flag_value is not None:
            raw[dest] = flag_value
        elif environ.get(env, "").strip():
            raw[dest] = environ[env].strip()

    def seconds(name: str, default: float) -> float:
        value = raw.get(name)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            number = -1.0
        if not 0 < number <= 86_400:
            raise ConfigError(f"--{name.replace('_', '-')} must be a number of seconds above 0, not {value!r}")
        return number

    def flag(name: str) -> bool:
        value = raw.get(name, False)
        if isinstance(value, bool):
            return value
        return value.lower() in ("1", "true", "yes", "on")

    def tools(name: str) -> frozenset[str]:
        value = raw.get(name)
        names = frozenset(part.strip() for part in str(value or "").split(",") if part.strip())
        unknown = sorted(names - BY_NAME.keys())
        if unknown:
            raise ConfigError(
                f"--{name.replace('_', '-')} names unknown tools {', '.join(unknown)}; "
                f"known tools: {', '.join(BY_NAME)}"
            )
        return names

    confirm_text = str(raw.get("confirm", ConfirmMode.ELICIT.value)).lower()
    try:
        confirm = ConfirmMode(confirm_text)
    except ValueError:
        raise ConfigError(f"--confirm must be elicit, deny or allow, not {confirm_text!r}") from None

    log_level = str(raw.get("log_level", "INFO")).upper()
    if log_level not in LOG_LEVELS:
        raise ConfigError(f"--log-level must be one of {', '.join(LOG_LEVELS)}, not {log_level!r}")

    settings = Settings(
        base_url=_normalise_url(str(raw["base_url"])) if "base_url" in raw else None,
        timeout=seconds("timeout", 10.0),
        interactive_timeout=seconds("interactive_timeout", 300.0),
        confirm=confirm,
        allow_tools=tools("allow_tools"),
        deny_tools=tools("deny_tools"),
        read_only=flag("read_only"),
        allow_remote=flag("allow_remote"),
        log_level=log_level,
        audit_log=str(raw["audit_log"]) if "audit_log" in raw else None,
    )
    if settings.audit_log is not None:
        # Checked at start: found at the first guarded call, a bad path would only be a warning in the log.
        target = Path(settings.audit_log).expanduser()
        if target.is_dir() or not target.parent.is_dir():
            problem = "is a folder" if target.is_dir() else f"is in a folder that does not exist ({target.parent})"
            raise ConfigError(f"--audit-log {settings.audit_log} {problem}; give a file in an existing folder")
    if settings.base_url and not settings.allow_remote and not is_loopback_url(settings.base_url):
        raise ConfigError(
            f"PiecesOS URL {settings.base_url} is not on this machine; PiecesOS listens on loopback. "
            "Use http://localhost:<port>, or pass --allow-remote (PIECES_MCP_ALLOW_REMOTE=1) if you really mean it."
        )
    return settings


def _normalise_url(url: str) -> str:
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"PiecesOS URL {url!r} is not an http(s) URL like http://localhost:39300")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
