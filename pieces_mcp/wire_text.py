"""Text from PiecesOS, decoded and made safe in one place: HTTP bodies, WebSocket messages and header values.

Every string PiecesOS sends passes `clean` before anything uses it, so nothing downstream (the JSON of the MCP
answer, a log line, masking) meets a character it cannot encode. A body is decoded as its `Content-Type`
declares (a byte order mark wins, as WHATWG's "decode" algorithm has it); a charset that is unknown, or
that the bytes do not fit, falls back to UTF-8 with U+FFFD for what does not decode. JSON answers then have
every string masked (`redact.mask_answer`): a credential PiecesOS puts in an ordinary field never reaches
a result, a resource or a log.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pieces_mcp.redact import mask_answer, quote, remember

REPLACEMENT = "\ufffd"
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# A JSON escape that may stand for a surrogate (or, after an escaped backslash, only look like one: then the
# strings are cleaned anyway).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")

# Byte order marks, longest first: UTF-32LE's starts with UTF-16LE's.
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
# The charsets decoded as declared; any other name (a typo, a lie, or one of Python's codecs that is no text
# encoding or costs quadratic time, such as punycode) is read as UTF-8.
_CHARSETS = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "utf-16": "utf-16",
    "utf-16le": "utf-16-le",
    "utf-16be": "utf-16-be",
    "utf-32": "utf-32",
    "utf-32le": "utf-32-le",
    "utf-32be": "utf-32-be",
    "us-ascii": "ascii",
    "ascii": "ascii",
    "iso-8859-1": "latin-1",
    "latin1": "latin-1",
    "latin-1": "latin-1",
    "windows-1252": "cp1252",
    "cp1252": "cp1252",
}


# RFC 9110 8.3.1: `type/subtype; charset=utf-16` or `charset="utf-16"`, the name case-insensitive.
_CHARSET_PARAMETER = re.compile(r'(?i);\s*charset\s*=\s*"?([A-Za-z0-9_.:+\-]{1,40})')


class NotJSONError(ValueError):
    """A body or message that does not read as JSON; `why` says how, as words for a sentence."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def clean(text: str) -> str:
    """`text` with every lone surrogate (the one thing a Python string holds that UTF-8 cannot) as U+FFFD."""
    if text.isascii():
        return text
    return _LONE_SURROGATE.sub(REPLACEMENT, text)


def header_text(value: str | bytes) -> str:
    """A header value or reason phrase: bytes as UTF-8 when they are, else as ISO-8859-1 (RFC 9110's obs-text)."""
    if isinstance(value, bytes):
        try:
            return clean(value.decode("utf-8"))
        except UnicodeDecodeError:
            return value.decode("latin-1")
    return clean(value)


def declared_charset(content_type: str) -> str | None:
    """The `charset` parameter of a Content-Type, as a Python codec name; None when absent or not one we read."""
    found = _CHARSET_PARAMETER.search(content_type)
    return _CHARSETS.get(found.group(1).lower().replace("_", "-")) if found else None


def _unmarked_order(content: bytes, codec: str) -> str:
    """`utf-16`/`utf-32` without a BOM: the byte order where the zero bytes of ASCII text fall (big endian if none)."""
    width = 2 if codec == "utf-16" else 4
    sample = content[: 64 * width]
    zeros_first = sum(1 for index in range(0, len(sample), width) if sample[index] == 0)
    zeros_last = sum(1 for index in range(width - 1, len(sample), width) if sample[index] == 0)
    return f"{codec}-le" if zeros_last > zeros_first else f"{codec}-be"  # RFC 2781 4.3: big endian by default


def decode(content: bytes, charset: str | None) -> str:
    """`content` as text: its BOM's encoding, else `charset`, else (or if the bytes do not fit it) UTF-8."""
    for bom, codec in _BOMS:
        if content.startswith(bom):
            return clean(content[len(bom) :].decode(codec, "replace"))
    if charset in ("utf-16", "utf-32"):
        charset = _unmarked_order(content, charset)
    if charset is not None and charset != "utf-8":
        try:
            return clean(content.decode(charset))
        except UnicodeDecodeError:
            pass  # the declaration lies: read it as what PiecesOS really sends
    return clean(content.decode("utf-8", "replace"))


def body_text(content: bytes, content_type: str) -> str:
    """An HTTP body as text, decoded as its Content-Type declares."""
    return decode(content, declared_charset(content_type))


# JSON texts (answers PiecesOS repeats call after call) in which masking changed nothing: read again, they need
# no masking. Only such texts are kept, so the set holds no credential (as `redact`'s own set of strings); short
# texts only, and it is emptied when full.
_UNCHANGED_TEXTS: set[str] = set()
_UNCHANGED_TEXTS_LIMIT = 256
_UNCHANGED_TEXT_LENGTH = 16 * 1024


def json_value(text: str) -> Any:
    """Decoded, cleaned text as JSON, every string cleaned and masked; NotJSONError says why it is not JSON."""
    if text in _UNCHANGED_TEXTS:
        return json.loads(text)
    try:
        value = json.loads(text)
    except RecursionError:
        raise NotJSONError("JSON nested too deeply to read") from None
    except ValueError:
        raise NotJSONError(f"text that is not JSON ({quote(text, 80)!r})") from None
    # `text` is clean already: a lone surrogate can only come from a `\uD800`-`\uDFFF` escape, so without
    # one no string of the value needs cleaning again (most answers have none).
    escaped = _SURROGATE_ESCAPE.search(text) is not None
    masked = mask_answer(value, clean if escaped else None)
    # The length first: comparing a long answer with its masked copy would cost more than the set saves.
    if not escaped and len(text) <= _UNCHANGED_TEXT_LENGTH and masked == value:
        remember(_UNCHANGED_TEXTS, text, limit=_UNCHANGED_TEXTS_LIMIT, longest=_UNCHANGED_TEXT_LENGTH)
    return masked


def body_json(content: bytes, content_type: str) -> Any:
    """An HTTP body as JSON, every string cleaned and masked; NotJSONError says why it is not JSON."""
    return _json_of_bytes(content, declared_charset(content_type))


def frame_json(message: str | bytes) -> Any:
    """A WebSocket message as JSON; NotJSONError says why it is not (binary data is named as such)."""
    if isinstance(message, str):
        return json_value(clean(message))
    try:
        return _json_of_bytes(message, None)
    except NotJSONError as problem:
        if problem.why.startswith("text"):
            raise NotJSONError("binary data that is not JSON text") from None
        raise


def _json_of_bytes(content: bytes, charset: str | None) -> Any:
    """JSON bytes in the first encoding they read as JSON in: a BOM's; UTF-8, which JSON is (RFC 8259 8.1) even
    where a server declares otherwise; the declared charset; or the one JSON's own zero-byte pattern shows
    (RFC 4627 3: UTF-16 or UTF-32 without a BOM)."""
    for bom, codec in _BOMS:
        if content.startswith(bom):
            return json_value(clean(content[len(bom) :].decode(codec, "replace")))
    first: NotJSONError | None = None
    for name in dict.fromkeys(("utf-8", charset)):
        if name is None:
            continue
        codec = _unmarked_order(content, name) if name in ("utf-16", "utf-32") else name
        try:
            text = content.decode(codec)
        except UnicodeDecodeError:
            continue
        try:
            return json_value(clean(text))
        except NotJSONError as problem:
            if problem.why.startswith("JSON nested"):
                raise
            first = first or problem
    try:
        return mask_answer(json.loads(content), clean)
    except (ValueError, RecursionError):
        pass
    # Bytes that fit no encoding: what does not decode becomes U+FFFD, and the rest may still be JSON.
    try:
        return json_value(decode(content, charset))
    except NotJSONError as problem:
        raise (first or problem) from None
