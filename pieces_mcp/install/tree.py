"""Reading a parsed configuration file, whatever its format."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def value_at(node: Any, keys: tuple[str, ...]) -> Any:
    """The value under `keys`, or None when any step is missing or not a mapping."""
    for key in keys:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node
