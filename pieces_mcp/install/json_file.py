"""JSON and JSONC configuration files, edited in place so the person's comments, order and layout survive.

VS Code, Zed and Gemini CLI read JSON with comments and trailing commas, and people write both. json-five
(`json5`, a JSON5 parser whose model keeps comments and source positions) finds where each value sits; an edit
then replaces one value's text, or adds one member before an object's closing brace, and leaves every other
byte of the file alone. The stdlib `json` validates first, so a broken file is refused with its line and column.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pieces_mcp.install.errors import InstallError
from pieces_mcp.install.tree import value_at

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


def load(path: Path, text: str) -> dict[str, Any]:
    """The file's top-level object ({} for an empty file); InstallError when it is not JSON(C) or not an object."""
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
    return data


class JsonDocument:
    """One JSON(C) file's text and the edits made to it."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text
        self.data = load(path, text)

    def get(self, keys: tuple[str, ...]) -> Any:
        return value_at(self.data, keys)

    def set(self, keys: tuple[str, ...], value: Any) -> None:
        """Set the value at `keys`, making the objects on the way; other text is untouched."""
        if not self.text.strip():
            self.text = "{}\n"  # the first member then goes in as in any other file
        for depth in range(len(keys)):
            parent = self._node(keys[:depth])
            if not _is_object(parent):
                where = ".".join(keys[:depth]) or "the top level"
                raise InstallError(f'{self.path}: "{where}" is not a JSON object. It was not changed.')
            last = depth == len(keys) - 1
            member = _member(parent, keys[depth])
            if member is None:
                self._insert(parent, keys[depth], value if last else {})
                if last:
                    break
            elif last:
                self._replace(member.value, value)
        self.data = load(self.path, self.text)

    def _node(self, keys: tuple[str, ...]) -> Any:
        try:
            node: Any = _parse_model(self.text).value
        except ValueError as exc:  # JSON that json-five reads differently: refuse rather than guess
            raise InstallError(f"{self.path} could not be edited in place ({exc}). It was not changed.") from None
        for key in keys:
            member = _member(node, key) if _is_object(node) else None
            if member is None:
                return None
            node = member.value
        return node

    def _replace(self, node: Any, value: Any) -> None:
        start, end = self._span(node)
        self.text = self.text[:start] + self._eol(self._dump(value, self._indent_at(start))) + self.text[end:]

    def _insert(self, obj: Any, key: str, value: Any) -> None:
        """Add `key` as the object's last member, before its closing brace (and after any comment)."""
        start, end = self._span(obj)
        indent = self._indent_at(start)
        child = indent + self._unit()
        member = f"{json.dumps(key, ensure_ascii=False)}: {self._dump(value, child)}"
        close = end - 1  # the "}"
        pairs = obj.key_value_pairs
        if not pairs:
            self.text = self.text[:start] + self._eol("{\n" + child + member + "\n" + indent + "}") + self.text[end:]
            return
        body_end = close
        while body_end > start and self.text[body_end - 1] in " \t\r\n":
            body_end -= 1
        addition = "\n" + child + member
        if "\n" not in self.text[body_end:close]:  # `{"a": 1}` on one line: the brace goes on a line of its own
            addition += "\n" + indent
        value_end = self._span(pairs[-1].value)[1]  # at or before body_end
        self.text = self.text[:body_end] + self._eol(addition) + self.text[body_end:]
        if obj.trailing_comma is None:
            self.text = self.text[:value_end] + "," + self.text[value_end:]

    def _eol(self, inserted: str) -> str:
        """Inserted lines end as the file's do (CRLF files stay CRLF)."""
        return inserted.replace("\n", "\r\n") if "\r\n" in self.text else inserted

    def _span(self, node: Any) -> tuple[int, int]:
        starts = [0]  # json-five counts lines by "\n" alone (a CRLF line's "\r" is in its columns)
        for line in self.text.split("\n"):
            starts.append(starts[-1] + len(line) + 1)
        return starts[node.lineno - 1] + node.col_offset, starts[node.end_lineno - 1] + node.end_col_offset

    def _indent_at(self, position: int) -> str:
        line_start = self.text.rfind("\n", 0, position) + 1
        line = self.text[line_start:position]
        return line[: len(line) - len(line.lstrip(" \t"))]

    def _unit(self) -> str:
        """The file's own indentation step (two spaces when it shows none)."""
        found = re.search(r"\n([ \t]+)\S", self.text)
        return found.group(1) if found else "  "

    def _dump(self, value: Any, indent: str) -> str:
        return dump_value(value, indent, self._unit())


def _json_five() -> Any:
    """json-five's module. It shares the import name `json5` with an unrelated package (dpranke/pyjson5); with both
    in one environment the last installed wins, so say so instead of failing obscurely."""
    try:
        import json5.loader
        import json5.model
    except ImportError:
        raise InstallError(
            "the `json5` module here is not json-five's (another package of the same name replaced it). "
            "Run pieces-mcp from an environment of its own: uvx pieces-mcp, pipx or a virtual environment."
        ) from None
    return json5


def _parse_model(text: str) -> Any:
    module = _json_five()
    return module.loads(text, loader=module.loader.ModelLoader())


def _is_object(node: Any) -> bool:
    return isinstance(node, _json_five().model.JSONObject)


def _member(obj: Any, key: str) -> Any:
    for pair in obj.key_value_pairs:
        name = getattr(pair.key, "characters", None)
        if name is None:
            name = getattr(pair.key, "name", None)
        if name == key:
            return pair
    return None


def dump_value(value: Any, indent: str, unit: str) -> str:
    """JSON as people write configuration: objects one member a line, short lists on one line."""
    if isinstance(value, Mapping) and value:
        inner = indent + unit
        members = [
            f"{inner}{json.dumps(key, ensure_ascii=False)}: {dump_value(item, inner, unit)}"
            for key, item in value.items()
        ]
        return "{\n" + ",\n".join(members) + "\n" + indent + "}"
    if isinstance(value, list) and any(isinstance(item, (Mapping, list)) for item in value):
        inner = indent + unit
        return "[\n" + ",\n".join(inner + dump_value(item, inner, unit) for item in value) + "\n" + indent + "]"
    return json.dumps(value, ensure_ascii=False)
