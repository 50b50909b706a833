"""TOML configuration files (Codex CLI's config.toml), edited with tomlkit so comments, order and layout survive."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError

from pieces_mcp.install.errors import InstallError
from pieces_mcp.install.tree import value_at


class TomlDocument:
    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        try:
            self.doc = tomlkit.parse(text)
        except TOMLKitError as exc:
            raise InstallError(
                f"{path} is not valid TOML: {exc}. It was not changed; fix it or pass --config with another file."
            ) from None

    @property
    def text(self) -> str:
        return tomlkit.dumps(self.doc)

    def get(self, keys: tuple[str, ...]) -> Any:
        node = value_at(self.doc, keys)
        return node.unwrap() if hasattr(node, "unwrap") else node

    def set(self, keys: tuple[str, ...], value: Any) -> None:
        node: Any = self.doc
        for depth, key in enumerate(keys[:-1]):
            if key not in node:
                # [mcp_servers.pieces-os] rather than an empty [mcp_servers] header above it
                node[key] = tomlkit.table(is_super_table=depth < len(keys) - 2 or None)
            node = node[key]
            if not isinstance(node, Mapping):
                where = ".".join(keys[: depth + 1])
                raise InstallError(f'{self.path}: "{where}" is not a TOML table. It was not changed.')
        node[keys[-1]] = _item(value)


def _item(value: Any) -> Any:
    """A new server entry becomes a [table] (its env an inline table); other values as tomlkit makes them."""
    if isinstance(value, Mapping):
        table = tomlkit.table()
        for key, item in value.items():
            if isinstance(item, Mapping):
                inline = tomlkit.inline_table()
                inline.update(item)
                table[key] = inline
            else:
                table[key] = item
        return table
    return value
