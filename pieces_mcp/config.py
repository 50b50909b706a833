"""Settings, declared once: each field of `Settings` carries its flag, environment variable, help and parser.

The CLI's flags, `load()`, the environment of a child `serve` (`to_environment`) and the README's
configuration table are all derived from the fields below. The flag wins over the environment (README, "Configuration").
"""

from __future__ import annotations

import argparse
import dataclasses
import ipaddress
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from pieces_mcp.catalog import BY_NAME, DEFAULT_TOOLSETS, TOOLSETS


class ConfigError(ValueError):
    """A setting a person must fix; the message names where it came from and how to fix it."""


class ConfirmMode(str, Enum):
    ELICIT = "elicit"  # through the client when it can ask, else a dialog on the person's desktop
    CLIENT = "client"  # through the client only
    DESKTOP = "desktop"  # always the desktop dialog
    DENY = "deny"  # refuse guarded calls
    ALLOW = "allow"  # run guarded calls without asking


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})


class Option(NamedTuple):  # not a dataclass: it would compile its methods at every start (`catalog.generations`)
    """How one setting reaches the program: its flag, environment variable, help, and text conversions."""

    env: str
    help: str
    # text -> value; `where` ("--timeout" or "PIECES_MCP_TIMEOUT=abc") goes into the ConfigError.
    parse: Callable[[str, str], Any]
    # value -> the environment text that parses back to it.
    unparse: Callable[[Any], str] = str
    switch: bool = False  # a flag without a value, like --read-only
    metavar: str | None = None
    show_default: bool = True


def setting(default: Any, option: Option) -> Any:
    return field(default=default, metadata={"option": option})


# -- parsers: each raises ConfigError naming where the bad value came from ------------------------------


def _seconds(text: str, where: str) -> float:
    try:
        number = float(text)
    except ValueError:
        number = -1.0
    if not 0 < number <= 86_400:
        raise ConfigError(f"{where} must be a number of seconds above 0 (at most a day), not {text!r}")
    return number


def _switch(text: str, where: str) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    # A safety switch must not fail open: "y" or "enabled" is an error, not silently "off".
    raise ConfigError(f"{where} must be one of 1, true, yes, on or 0, false, no, off, not {text!r}")


def _confirm_mode(text: str, where: str) -> ConfirmMode:
    try:
        return ConfirmMode(text.strip().lower())
    except ValueError:
        choices = ", ".join(mode.value for mode in ConfirmMode)
        raise ConfigError(f"{where} must be one of {choices}, not {text!r}") from None


def _log_level(text: str, where: str) -> str:
    level = text.strip().upper()
    if level not in LOG_LEVELS:
        raise ConfigError(f"{where} must be one of {', '.join(LOG_LEVELS)}, not {text!r}")
    return level


def _tool_names(text: str, where: str) -> frozenset[str]:
    names = frozenset(part.strip() for part in text.split(",") if part.strip())
    unknown = sorted(names - BY_NAME.keys())
    if unknown:
        raise ConfigError(f"{where} names unknown tools {', '.join(unknown)}; known tools: {', '.join(BY_NAME)}")
    return names


def _toolsets(text: str, where: str) -> frozenset[str]:
    names = frozenset(part.strip().lower() for part in text.split(",") if part.strip())
    if "all" in names:
        return frozenset(TOOLSETS)
    unknown = sorted(names - TOOLSETS.keys())
    if unknown or not names:
        raise ConfigError(
            f"{where} names unknown toolsets {', '.join(unknown) or '(none)'}; "
            f"choose from {', '.join(TOOLSETS)}, or all"
        )
    return names


def _toolset_names(value: frozenset[str]) -> str:
    return "all" if value == frozenset(TOOLSETS) else ",".join(name for name in TOOLSETS if name in value)


def _url(text: str, where: str) -> str:
    """An http(s) URL with a host and, if given, a port 1-65535: anything else is refused here, at start, in
    one sentence naming the variable (urlsplit raises on `http://[::1` only when asked for the port)."""
    text = text.strip()
    like = "an http(s) URL like http://localhost:39300"
    try:
        parts = urlsplit(text if "://" in text else f"http://{text}")
        port = parts.port
    except ValueError as exc:  # an unclosed IPv6 bracket, a port that is not a number or over 65535
        raise ConfigError(f"{where} is not {like} ({_url_problem(str(exc))})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{where} is not {like}" + ("" if parts.hostname else " (it has no host)"))
    if port == 0:
        raise ConfigError(f"{where} is not {like} (port 0 is not a port PiecesOS can listen on)")
    if parts.username is not None or parts.password is not None:
        # Never echoed: the value is a credential. PiecesOS takes none in its URL.
        raise ConfigError(f"{where} must not carry a user name or password; PiecesOS takes none")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def _url_problem(error: str) -> str:
    """urlsplit's reason, in words for a person (its messages name no value, so nothing secret is echoed)."""
    if "IPv6" in error:
        return "an IPv6 address needs its closing ]"
    if "range" in error:
        return "the port is over 65535"
    return "the port is not a number"


def _audit_path(text: str, where: str) -> str:
    path = Path(text).expanduser()
    if not path.parent.is_dir():
        raise ConfigError(f"{where}: the folder {str(path.parent)!r} does not exist; create it or choose another path")
    if path.is_dir():
        raise ConfigError(f"{where} is a folder; name a file such as {str(path / 'pieces-mcp-audit.jsonl')!r}")
    if path.exists() and not path.is_file():
        # A FIFO here froze the server at its first guarded call; a device would swallow the lines.
        raise ConfigError(f"{where} is not a regular file (a pipe, socket or device); name a plain file")
    return str(path)


def _names(value: frozenset[str]) -> str:
    return ",".join(sorted(value))


def _enum_value(value: Enum) -> str:
    return str(value.value)


def _switch_text(value: bool) -> str:
    return "1" if value else "0"


@dataclass(frozen=True)
class Settings:
    base_url: str | None = setting(
        None,
        Option(
            "PIECES_OS_URL",
            "PiecesOS base URL; no discovery when set (default: discovered)",
            _url,
            metavar="URL",
            show_default=False,
        ),
    )
    timeout: float = setting(10.0, Option("PIECES_MCP_TIMEOUT", "seconds for an ordinary call", _seconds, metavar="S"))
    interactive_timeout: float = setting(
        300.0,
        Option(
            "PIECES_MCP_INTERACTIVE_TIMEOUT",
            "seconds for calls that wait for a person: pickers, sign-in, permission requests, and the confirmation",
            _seconds,
            metavar="S",
        ),
    )
    restart_timeout: float = setting(
        60.0,
        Option(
            "PIECES_MCP_RESTART_TIMEOUT",
            "seconds os_restart and open_pieces_os wait for PiecesOS to answer (again)",
            _seconds,
            metavar="S",
        ),
    )
    confirm: ConfirmMode = setting(
        ConfirmMode.ELICIT,
        Option(
            "PIECES_MCP_CONFIRM",
            "how guarded calls are decided: elicit (through the client when it can ask, else a dialog on the "
            "desktop), client (through the client only), desktop (always the desktop dialog), deny, allow",
            _confirm_mode,
            _enum_value,
            metavar="MODE",
        ),
    )
    toolsets: frozenset[str] = setting(
        DEFAULT_TOOLSETS,
        Option(
            "PIECES_MCP_TOOLSETS",
            "comma-separated groups of tools to offer, or all: "
            + "; ".join(f"{name} ({about})" for name, about in TOOLSETS.items())
            + f" (default {_toolset_names(DEFAULT_TOOLSETS)})",
            _toolsets,
            _toolset_names,
            metavar="A,B",
            show_default=False,
        ),
    )
    allow_tools: frozenset[str] = setting(
        frozenset(),
        Option(
            "PIECES_MCP_ALLOW_TOOLS",
            "comma-separated guarded tools that run without asking",
            _tool_names,
            _names,
            metavar="A,B",
            show_default=False,
        ),
    )
    deny_tools: frozenset[str] = setting(
        frozenset(),
        Option(
            "PIECES_MCP_DENY_TOOLS",
            "comma-separated tools that are neither listed nor callable",
            _tool_names,
            _names,
            metavar="A,B",
            show_default=False,
        ),
    )
    read_only: bool = setting(
        False,
        Option(
            "PIECES_MCP_READ_ONLY",
            "only read tools; wins over everything else",
            _switch,
            _switch_text,
            switch=True,
            show_default=False,
        ),
    )
    allow_remote: bool = setting(
        False,
        Option(
            "PIECES_MCP_ALLOW_REMOTE",
            "permit a base URL that is not loopback",
            _switch,
            _switch_text,
            switch=True,
            show_default=False,
        ),
    )
    log_level: str = setting("INFO", Option("PIECES_MCP_LOG_LEVEL", "stderr log level", _log_level, metavar="L"))
    audit_log: str | None = setting(
        None,
        Option(
            "PIECES_MCP_AUDIT_LOG",
            "JSON-lines file: one line per guarded call, no secrets",
            _audit_path,
            metavar="PATH",
            show_default=False,
        ),
    )


def options() -> Iterator[tuple[str, Option]]:
    """(field name, option) for every setting, in declaration order."""
    for setting in dataclasses.fields(Settings):
        yield setting.name, setting.metadata["option"]


def flag_of(name: str) -> str:
    return "--" + name.replace("_", "-")


def default_of(name: str) -> Any:
    return Settings.__dataclass_fields__[name].default


def help_of(name: str, option: Option) -> str:
    """The help text with the default, as `--help` and the README show it."""
    default = default_of(name)
    if not option.show_default:
        return option.help
    shown = default.value if isinstance(default, Enum) else f"{default:g}" if isinstance(default, float) else default
    return f"{option.help} (default {shown})"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Every setting as a flag; a flag not given stays None, so `load` can tell it from a default."""
    for name, option in options():
        text = f"{help_of(name, option)} [env {option.env}]"
        if option.switch:
            parser.add_argument(flag_of(name), dest=name, action="store_const", const="1", default=None, help=text)
        else:
            parser.add_argument(flag_of(name), dest=name, default=None, metavar=option.metavar, help=text)


def load(args: argparse.Namespace | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from flags over environment over defaults; raises ConfigError naming the bad source."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for name, option in options():
        given = getattr(args, name, None) if args is not None else None
        if given is not None:
            values[name] = option.parse(str(given), flag_of(name))
        elif environ.get(option.env, "").strip():
            text = environ[option.env]
            values[name] = option.parse(text, option.env)
    settings = Settings(**values)
    if settings.base_url and not settings.allow_remote and not is_loopback_url(settings.base_url):
        raise ConfigError(
            f"PiecesOS URL {settings.base_url} is not on this machine; PiecesOS listens on loopback. "
            "Use http://localhost:<port>, or pass --allow-remote (PIECES_MCP_ALLOW_REMOTE=1) if you really mean it."
        )
    return settings


def to_environment(settings: Settings) -> dict[str, str]:
    """Every setting as its environment variable (empty for none), so a child reads exactly these settings.

    Complete on purpose: a variable the person set in their shell must not leak through where a flag put the
    default back (`PIECES_MCP_TIMEOUT=5 pieces-mcp call --timeout 10 ...`).
    """
    env = {}
    for name, option in options():
        value = getattr(settings, name)
        env[option.env] = "" if value is None else option.unparse(value)
    return env


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# How long an HTTP client has to send a request's headers: clients send them in one write; a slowloris never
# finishes. Like the token, an HTTP-only setting read from the environment, not a flag of every command.
HTTP_HEADER_TIMEOUT_S = 5.0
HTTP_HEADER_TIMEOUT_ENV = "PIECES_MCP_HTTP_HEADER_TIMEOUT"


def http_header_timeout(environ: Mapping[str, str] | None = None) -> float:
    """Seconds an HTTP client has to send a request's headers: PIECES_MCP_HTTP_HEADER_TIMEOUT, else 5."""
    text = (os.environ if environ is None else environ).get(HTTP_HEADER_TIMEOUT_ENV, "").strip()
    return _seconds(text, HTTP_HEADER_TIMEOUT_ENV) if text else HTTP_HEADER_TIMEOUT_S


HTTP_TOKEN_ENV = "PIECES_MCP_HTTP_TOKEN"
# As long as the token pieces-mcp generates (`secrets.token_urlsafe(32)`, 43 characters, 256 bits) need not be,
# but long enough that guessing it over loopback is hopeless: 32 characters.
MIN_HTTP_TOKEN_LENGTH = 32


def http_token(environ: Mapping[str, str] | None = None) -> str | None:
    """The bearer token the person chose for the HTTP transport; None to generate one. ConfigError if too short."""
    environ = os.environ if environ is None else environ
    token = environ.get(HTTP_TOKEN_ENV, "")
    if not token:
        return None
    if len(token) < MIN_HTTP_TOKEN_LENGTH:
        # The token itself is never echoed: only its length.
        raise ConfigError(
            f"{HTTP_TOKEN_ENV} must be at least {MIN_HTTP_TOKEN_LENGTH} characters long (it has {len(token)}); "
            "set a longer one, or unset it to have one generated"
        )
    return token
