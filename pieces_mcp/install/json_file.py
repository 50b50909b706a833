"""JSON and JSONC configuration files, edited in place so the person's comments, order and layout survive.

VS Code and Zed read JSON with comments and trailing commas, and people write both; Gemini CLI reads comments
but not trailing commas; Claude Code reads strict JSON only (each client's `dialect` in clients.py). A file is
first checked the way its client will read it, so nothing a client would reject is ever edited; a client whose
reader is not known here gets its comments kept, as they were.

An edit replaces one value's text, or adds one member before an object's closing brace, and leaves every other
byte alone. Values are found on a copy of the text whose comments and trailing commas are blanked to spaces
(every position stays the same), with the stdlib's C scanner (`json.JSONDecoder.raw_decode`) skipping over each
value: a 10 MB ~/.claude.json, where Claude Code keeps every project's history, is edited in well under a second
(tools/bench_install.py; json-five's parser, used before, took about 4 s per MB).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pieces_mcp.install.clients import JsonDialect
from pieces_mcp.install.errors import InstallError
from pieces_mcp.install.tree import value_at

# A string (kept), or a comment (blanked). Strings first, so `"// not a comment"` stays a string.
_STRING_OR_COMMENT = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|//[^\r\n]*|/\*.*?(?:\*/|\Z)', re.DOTALL)
# A string (kept), or a comma with only blanks before the closing bracket (blanked).
_STRING_OR_TRAILING_COMMA = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|,(?=[ \t\r\n]*[}\]])', re.DOTALL)
_NOT_NEWLINE = re.compile(r"[^\r\n]")
_BLANKS = re.compile(r"[ \t\r\n]*")
_DECODER = json.JSONDecoder()


def _blank_comment(match: re.Match[str]) -> str:
    found = match.group(0)
    return found if found.startswith('"') else _NOT_NEWLINE.sub(" ", found)


def _blank_comma(match: re.Match[str]) -> str:
    found = match.group(0)
    return found if found.startswith('"') else " "


def strip_comments(text: str) -> str:
    """The text with its comments blanked to spaces (line breaks kept), so positions still match the file."""
    return _STRING_OR_COMMENT.sub(_blank_comment, text)


def strip_jsonc(text: str) -> str:
    """JSON from JSONC: comments and trailing commas become spaces, so JSON error positions still match the file."""
    return _STRING_OR_TRAILING_COMMA.sub(_blank_comma, strip_comments(text))


def _strict(path: Path, text: str) -> Any:
    """json.loads, with the person's sentence for a file that is not JSON or is nested too deep to read."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InstallError(
            f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}. "
            "It was not changed; fix it or pass --config with another file."
        ) from None
    except RecursionError:
        raise InstallError(f"{path} is nested too deeply to read. It was not changed.") from None


def plain_json(path: Path, text: str, dialect: JsonDialect, reader: str = "its client") -> str:
    """The text as strict JSON with the same positions, after checking that the file's client can read it.

    Strict JSON is tried first: it is what nearly every file is, and what needs no stripping."""
    try:
        json.loads(text)
        return text
    except (json.JSONDecodeError, RecursionError):
        pass
    relaxed = strip_jsonc(text)
    _strict(path, relaxed)  # not JSON even with comments and trailing commas allowed: say where
    if dialect in (JsonDialect.JSONC, JsonDialect.UNCHECKED):
        return relaxed
    readable = text if dialect is JsonDialect.STRICT else strip_comments(text)
    try:
        json.loads(readable)
    except json.JSONDecodeError as exc:
        extras = "comments or trailing commas" if dialect is JsonDialect.STRICT else "a trailing comma"
        reads = "strict JSON only" if dialect is JsonDialect.STRICT else "comments but not trailing commas"
        raise InstallError(
            f"{path} holds {extras} (the first at line {exc.lineno}, column {exc.colno}), which {reader} "
            f"cannot read: it reads {reads}. It was not changed; remove them and run install again."
        ) from None
    return relaxed


def _top_object(path: Path, plain: str) -> dict[str, Any]:
    data = _strict(path, plain) if plain.strip() else {}
    if not isinstance(data, dict):
        raise InstallError(f"{path} does not hold a JSON object at the top level. It was not changed.")
    return data


def load(
    path: Path, text: str, dialect: JsonDialect = JsonDialect.UNCHECKED, reader: str = "its client"
) -> dict[str, Any]:
    """The file's top-level object ({} for an empty file); InstallError when its client could not read it."""
    if not text.strip():
        return {}
    return _top_object(path, plain_json(path, text, dialect, reader))


@dataclass(frozen=True)
class Member:
    key: str
    value_start: int
    value_end: int
    comma: int | None  # where the comma before the next member is (a trailing comma is blanked, so None)


@dataclass(frozen=True)
class JsonObject:
    start: int  # the "{"
    end: int  # just after the "}"
    members: tuple[Member, ...]

    def member(self, key: str) -> Member | None:
        # The last one wins, as in json.loads and JSON.parse.
        return next((member for member in reversed(self.members) if member.key == key), None)


def _skip_blanks(plain: str, index: int) -> int:
    found = _BLANKS.match(plain, index)
    return index if found is None else found.end()


def read_object(plain: str, start: int) -> JsonObject:
    """The object whose "{" is at `start` in a strict JSON text: each member's key and where its value sits."""
    members: list[Member] = []
    index = _skip_blanks(plain, start + 1)
    while plain[index] != "}":
        key, index = _DECODER.raw_decode(plain, index)
        index = _skip_blanks(plain, _skip_blanks(plain, index) + 1)  # past the ":"
        value_start = index
        _value, value_end = _DECODER.raw_decode(plain, index)
        index = _skip_blanks(plain, value_end)
        comma = None
        if plain[index] == ",":
            comma = index
            index = _skip_blanks(plain, index + 1)
        members.append(Member(str(key), value_start, value_end, comma))
    return JsonObject(start, index + 1, tuple(members))


class JsonDocument:
    """One JSON(C) file's text and the edits made to it."""

    def __init__(
        self, path: Path, text: str, dialect: JsonDialect = JsonDialect.UNCHECKED, reader: str = "its client"
    ) -> None:
        self.path = path
        self.text = text
        self.dialect = dialect
        self.reader = reader
        self._plain = (text, plain_json(path, text, dialect, reader)) if text.strip() else (text, text)
        self.data = _top_object(path, self._plain[1])

    def get(self, keys: tuple[str, ...]) -> Any:
        return value_at(self.data, keys)

    def set(self, keys: tuple[str, ...], value: Any) -> None:
        """Set the value at `keys`, making the objects on the way; other text is untouched."""
        if not self.text.strip():
            self.text = "{}\n"  # the first member then goes in as in any other file
        for depth in range(len(keys)):
            parent = self._object(keys[:depth])
            if parent is None:
                where = ".".join(keys[:depth]) or "the top level"
                raise InstallError(f'{self.path}: "{where}" is not a JSON object. It was not changed.')
            last = depth == len(keys) - 1
            member = parent.member(keys[depth])
            if member is None:
                self._insert(parent, keys[depth], value if last else {})
                if last:
                    break
            elif last:
                self._replace(member, value)
        self.data = _top_object(self.path, self._plain_text())

    def _plain_text(self) -> str:
        """The text as strict JSON with the same positions (worked out once per version of the text)."""
        if self._plain[0] is not self.text:
            self._plain = (self.text, plain_json(self.path, self.text, self.dialect, self.reader))
        return self._plain[1]

    def _object(self, keys: tuple[str, ...]) -> JsonObject | None:
        """The object at `keys`, or None when a step is missing or not an object."""
        plain = self._plain_text()
        start = _skip_blanks(plain, 0)
        for key in (None, *keys):
            if plain[start] != "{":
                return None
            if key is None:
                continue
            member = read_object(plain, start).member(key)
            if member is None:
                return None
            start = member.value_start
        return read_object(plain, start)

    def _replace(self, member: Member, value: Any) -> None:
        start, end = member.value_start, member.value_end
        self.text = self.text[:start] + self._eol(self._dump(value, self._indent_at(start))) + self.text[end:]

    def _insert(self, obj: JsonObject, key: str, value: Any) -> None:
        """Add `key` as the object's last member, before its closing brace (and after any comment)."""
        start, end = obj.start, obj.end
        indent = self._indent_at(start)
        child = indent + self._unit()
        member = f"{json.dumps(key, ensure_ascii=False)}: {self._dump(value, child)}"
        close = end - 1  # the "}"
        if not obj.members:
            self.text = self.text[:start] + self._eol("{\n" + child + member + "\n" + indent + "}") + self.text[end:]
            return
        body_end = close
        while body_end > start and self.text[body_end - 1] in " \t\r\n":
            body_end -= 1
        addition = "\n" + child + member
        if "\n" not in self.text[body_end:close]:  # `{"a": 1}` on one line: the brace goes on a line of its own
            addition += "\n" + indent
        last = obj.members[-1]  # its value ends at or before body_end
        self.text = self.text[:body_end] + self._eol(addition) + self.text[body_end:]
        # Between the last value and the brace there are only blanks, comments and perhaps a trailing comma.
        if last.comma is None and "," not in strip_comments(self.text[last.value_end : close]):
            self.text = self.text[: last.value_end] + "," + self.text[last.value_end :]

    def _eol(self, inserted: str) -> str:
        """Inserted lines end as the file's do (CRLF files stay CRLF)."""
        return inserted.replace("\n", "\r\n") if "\r\n" in self.text else inserted

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
