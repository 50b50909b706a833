"""Every MCP client `pieces-mcp install` knows: where its configuration lives on each OS, in which format, and how
an entry for this server looks there. One table; the CLI's help, the writers and `doctor` all read it.

The list is the vendor's own `pieces mcp setup` (pieces-app/cli-agent, src/pieces/mcp/handler.py `handle_mcp` and
src/pieces/mcp/integrations.py: VS Code, Goose, Cursor, Claude Desktop, Windsurf, Zed, Shortwave, Claude Code,
Raycast, Warp) plus Kiro, Gemini CLI and Codex CLI. Each entry's `source` says where its location and format come
from; where the vendor's older code and the client's current documentation differ, the documentation wins and the
comment says so.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from pieces_mcp import SERVER_NAME


class Format(Enum):
    JSON = "JSON"  # how much each client forgives (comments, trailing commas) is its `dialect`
    TOML = "TOML"
    YAML = "YAML"
    MANUAL = "manual"  # configured in the client's own UI or through a deep link: we print the steps


class JsonDialect(Enum):
    """How much a JSON client forgives (its value is the format `install --help` and the README name); install
    refuses to edit a file its client could not read."""

    UNCHECKED = "JSON"  # the client's own reader is not known here: comments a person wrote are kept
    JSONC = "JSONC"  # documented to read comments and trailing commas
    COMMENTS = "JSON with comments"  # comments, but no trailing commas
    STRICT = "strict JSON"  # neither


@dataclass(frozen=True)
class Places:
    """(home, environment) -> the configuration file, per sys.platform family; None where the client does not run."""

    darwin: Callable[[Path, Mapping[str, str]], Path] | None
    linux: Callable[[Path, Mapping[str, str]], Path] | None
    win32: Callable[[Path, Mapping[str, str]], Path] | None


@dataclass(frozen=True)
class Client:
    name: str
    label: str  # how the person knows the application: "Restart {label} to load it."
    format: Format
    places: Places | None
    source: str  # where the location and the entry's shape are documented
    servers: tuple[str, ...] = ("mcpServers",)  # the key path to the table of servers
    command_key: str = "command"
    args_key: str = "args"
    fixed: Mapping[str, Any] = field(default_factory=dict)  # keys pieces-mcp owns besides command and args
    new_only: Mapping[str, Any] = field(default_factory=dict)  # written into a new entry only, the person's after
    dialect: JsonDialect = JsonDialect.UNCHECKED  # for a JSON file: what the client itself can parse

    def new_entry(self, command: str, args: list[str]) -> dict[str, Any]:
        return {**self.fixed, self.command_key: command, self.args_key: list(args), **self.new_only}

    @property
    def format_label(self) -> str:
        """The format as `install --help` and the README's install table name it."""
        return self.dialect.value if self.format is Format.JSON else self.format.value

    def owned(self, command: str, args: list[str]) -> dict[str, Any]:
        """The keys an install sets on an existing entry (the rest of the entry is the person's)."""
        return {**self.fixed, self.command_key: command, self.args_key: list(args)}


def _home(*parts: str) -> Callable[[Path, Mapping[str, str]], Path]:
    return lambda home, _env: home.joinpath(*parts)


def _appdata(*parts: str) -> Callable[[Path, Mapping[str, str]], Path]:
    def locate(home: Path, env: Mapping[str, str]) -> Path:
        appdata = Path(env["APPDATA"]) if env.get("APPDATA") else home / "AppData" / "Roaming"
        return appdata.joinpath(*parts)

    return locate


def _xdg_config(*parts: str) -> Callable[[Path, Mapping[str, str]], Path]:
    def locate(home: Path, env: Mapping[str, str]) -> Path:
        base = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else home / ".config"
        return base.joinpath(*parts)

    return locate


def _codex_home(home: Path, env: Mapping[str, str]) -> Path:
    return (Path(env["CODEX_HOME"]) if env.get("CODEX_HOME") else home / ".codex") / "config.toml"


def _everywhere(locate: Callable[[Path, Mapping[str, str]], Path]) -> Places:
    return Places(darwin=locate, linux=locate, win32=locate)


_MAC = ("Library", "Application Support")
_STDIO = {"type": "stdio"}

CLIENT_LIST: tuple[Client, ...] = (
    Client(
        "vscode",
        "VS Code",
        Format.JSON,
        Places(
            darwin=_home(*_MAC, "Code", "User", "mcp.json"),
            linux=_home(".config", "Code", "User", "mcp.json"),
            win32=_appdata("Code", "User", "mcp.json"),
        ),
        # The vendor's setup still writes "mcp.servers" into settings.json (integrations.py get_global_vs_settings);
        # VS Code now keeps user servers in the profile's mcp.json ("MCP: Open User Configuration").
        "code.visualstudio.com/docs/copilot/customization/mcp-servers (user mcp.json, `servers`, `type: stdio`)",
        servers=("servers",),
        fixed=_STDIO,
        dialect=JsonDialect.JSONC,  # VS Code's settings and mcp.json are "JSON with Comments" (jsonc) files
    ),
    Client(
        "goose",
        "Goose",
        Format.YAML,
        Places(
            darwin=_home(".config", "goose", "config.yaml"),
            linux=_xdg_config("goose", "config.yaml"),
            win32=_appdata("Block", "goose", "config", "config.yaml"),
        ),
        "block.github.io/goose/docs/guides/config-files; cli-agent integrations.py goose_integration "
        "(extensions.<name>: type, cmd, args, envs, enabled, timeout)",
        servers=("extensions",),
        command_key="cmd",
        fixed=_STDIO,
        # Goose's timeout is in seconds; a picker may wait for the person up to our interactive timeout (300 s).
        new_only={
            "name": SERVER_NAME,
            "enabled": True,
            "envs": {},
            "timeout": 330,
            "description": "PiecesOS OS endpoints as MCP tools",
        },
    ),
    Client(
        "cursor",
        "Cursor",
        Format.JSON,
        _everywhere(_home(".cursor", "mcp.json")),
        "docs.cursor.com/context/model-context-protocol; cli-agent integrations.py get_cursor_path",
    ),
    Client(
        "claude-desktop",
        "Claude Desktop",
        Format.JSON,
        Places(
            darwin=_home(*_MAC, "Claude", "claude_desktop_config.json"),
            linux=_home(".config", "Claude", "claude_desktop_config.json"),
            win32=_appdata("Claude", "claude_desktop_config.json"),
        ),
        "modelcontextprotocol.io/quickstart/user; cli-agent integrations.py get_claude_path",
    ),
    Client(
        "windsurf",
        "Windsurf",
        Format.JSON,
        _everywhere(_home(".codeium", "windsurf", "mcp_config.json")),
        "docs.windsurf.com/windsurf/cascade/mcp; cli-agent integrations.py windsurf_config_path",
    ),
    Client(
        "zed",
        "Zed",
        Format.JSON,
        Places(
            darwin=_xdg_config("zed", "settings.json"),
            linux=_xdg_config("zed", "settings.json"),
            win32=_appdata("Zed", "settings.json"),
        ),
        # The vendor writes the older `command: {path, args}` shape (integrations.py zed_integration); Zed's
        # documentation now shows command, args and env side by side.
        "zed.dev/docs/ai/mcp (context_servers.<name>: command, args, env); cli-agent integrations.py zed_config_path",
        servers=("context_servers",),
        new_only={"env": {}},
        dialect=JsonDialect.JSONC,  # zed.dev/docs/configuring-zed: settings.json accepts comments (JSONC)
    ),
    Client(
        "shortwave",
        "Shortwave",
        Format.JSON,
        Places(
            darwin=_home(*_MAC, "Shortwave", "mcp.json"),
            linux=_home(".config", "Shortwave", "mcp.json"),
            win32=_appdata("Shortwave", "mcp.json"),
        ),
        "cli-agent integrations.py get_shortwave_path and shortwave_integration (mcpServers)",
    ),
    Client(
        "claude-code",
        "Claude Code",
        Format.JSON,
        _everywhere(_home(".claude.json")),
        "docs.claude.com/en/docs/claude-code/mcp (user scope in ~/.claude.json); cli-agent integrations.py "
        "claude_cli_path",
        fixed=_STDIO,
        # Seen with Claude Code 2.1.332: one `//` comment and `claude mcp list` says the file "is corrupted" and
        # moves it aside (tests/e2e/test_real_clients.py runs it).
        dialect=JsonDialect.STRICT,
    ),
    Client(
        "kiro",
        "Kiro",
        Format.JSON,
        _everywhere(_home(".kiro", "settings", "mcp.json")),
        # Not in the stored copy of the vendor's setup; Kiro's own documentation gives the user-level file.
        "kiro.dev/docs/mcp/configuration (user level ~/.kiro/settings/mcp.json, mcpServers)",
    ),
    Client(
        "raycast",
        "Raycast",
        Format.MANUAL,
        None,
        "cli-agent handler.py handle_raycast: a raycast://mcp/install?<JSON> deep link",
    ),
    Client(
        "warp",
        "Warp",
        Format.MANUAL,
        None,
        "cli-agent integrations.py warp_instructions: Settings > AI > Manage MCP servers > Add, paste JSON",
    ),
    Client(
        "gemini-cli",
        "Gemini CLI",
        Format.JSON,
        _everywhere(_home(".gemini", "settings.json")),
        "geminicli.com/docs/tools/mcp-server (~/.gemini/settings.json, mcpServers)",
        # Seen with Gemini CLI 0.61.0: comments are stripped before JSON.parse, a trailing comma stops it with
        # "Expected double-quoted property name" (tests/e2e/test_real_clients.py runs it).
        dialect=JsonDialect.COMMENTS,
    ),
    Client(
        "codex-cli",
        "Codex CLI",
        Format.TOML,
        _everywhere(_codex_home),
        "developers.openai.com/codex/mcp; openai/codex docs/config.md ([mcp_servers.<name>] command, args, env)",
        servers=("mcp_servers",),
    ),
)

CLIENTS: Mapping[str, Client] = {client.name: client for client in CLIENT_LIST}


def config_path(
    client: str, *, home: Path | None = None, platform: str | None = None, environ: Mapping[str, str] | None = None
) -> Path:
    """The client's usual configuration file. An overridden `home` ignores the real environment (hermetic tests)."""

    places = CLIENTS[client].places
    if places is None:
        raise ValueError(f"{client} is configured in its own window, not through a file")
    if environ is None:
        environ = os.environ if home is None else {}
    home = Path.home() if home is None else home
    platform = sys.platform if platform is None else platform
    family = "darwin" if platform == "darwin" else "win32" if platform == "win32" else "linux"
    locate = getattr(places, family)
    if locate is None:
        raise ValueError(f"{CLIENTS[client].label} does not run on {platform}")
    return Path(locate(home, environ))


def describe_clients() -> str:
    """The clients for `install --help`: name, format and file (as on this OS)."""
    lines = []
    for client in CLIENT_LIST:
        if client.format is Format.MANUAL:
            where = "prints the steps" if client.name == "warp" else "prints (and on macOS opens) an install link"
        else:
            try:
                where = f"{client.format_label}, {config_path(client.name)}"
            except ValueError:
                where = client.format_label
        lines.append(f"  {client.name:<15} {client.label}: {where}")
    return "\n".join(lines)
