"""YAML configuration files (Goose's config.yaml), edited with ruamel.yaml's round-trip mode so comments and
order survive."""

from __future__ import annotations

import io
import itertools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError
from ruamel.yaml.util import load_yaml_guess_indent

from pieces_mcp.install.errors import InstallError
from pieces_mcp.install.tree import value_at


def _yaml(indent: int = 2, sequence: int = 2, offset: int = 0) -> YAML:
    yaml = YAML()  # round-trip: keeps comments, key order and quoting
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long command path
    yaml.indent(mapping=indent, sequence=sequence, offset=offset)
    return yaml


class YamlDocument:
    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        try:
            data = _yaml().load(text) if text.strip() else None
            # Write back with the file's own indentation: ruamel.yaml guesses the block sequences' layout, the
            # mappings' step is the first nested key's.
            _, sequence, offset = load_yaml_guess_indent(text) if data is not None else (None, None, None)
        except YAMLError as exc:
            raise InstallError(
                f"{path} is not valid YAML: {exc}. It was not changed; fix it or pass --config with another file."
            ) from None
        if data is None:
            data = CommentedMap()
        if not isinstance(data, Mapping):
            raise InstallError(f"{path} does not hold a YAML mapping at the top level. It was not changed.")
        self.data: Any = data
        self.indent = _mapping_indent(text)
        self.sequence = sequence or 2
        self.offset = offset or 0

    @property
    def text(self) -> str:
        out = io.StringIO()
        _yaml(self.indent, self.sequence, self.offset).dump(self.data, out)
        return out.getvalue()

    def get(self, keys: tuple[str, ...]) -> Any:
        return value_at(self.data, keys)

    def set(self, keys: tuple[str, ...], value: Any) -> None:
        node: Any = self.data
        for depth, key in enumerate(keys[:-1]):
            if node.get(key) is None:  # `extensions:` with nothing under it loads as None
                node[key] = CommentedMap()
            node = node[key]
            if not isinstance(node, Mapping):
                where = ".".join(keys[: depth + 1])
                raise InstallError(f'{self.path}: "{where}" is not a YAML mapping. It was not changed.')
        node[keys[-1]] = value


def _mapping_indent(text: str) -> int:
    """How far the file indents a nested mapping: the first `key:` line followed by a deeper `key: ...` line."""
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    for above, below in itertools.pairwise(lines):
        depth_above = len(above) - len(above.lstrip(" "))
        depth_below = len(below) - len(below.lstrip(" "))
        if above.rstrip().endswith(":") and depth_below > depth_above and not below.lstrip().startswith("-"):
            return depth_below - depth_above
    return 2
