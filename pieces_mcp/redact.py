"""Keeping credentials out of everything pieces-mcp says: by structure, and by pattern in free text.

One list of secret key names serves both profile trimming (`pieces_mcp.models.base`) and masking here.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from contextlib import suppress
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit, urlunsplit

MASK = "[redacted]"

# The credential fields of the vendor's `UserProfile` (pieces-os-client 5.0.1, read off its models; see
# tools/pieces-os-api/README.md, "Secrets in user profiles"): UserProfile.apiKeys,
# Auth0UserMetadata.cloud_key and .stripe_customer_id, Auth0OpenAIUserMetadata.api_key and .organization_key
# (under both auth0 and descope), ExternalProvider.access_token.
VENDOR_SECRET_FIELDS = ("apiKeys", "api_key", "organization_key", "cloud_key", "stripe_customer_id", "access_token")
# The names credentials go by elsewhere, so a field PiecesOS adds tomorrow is covered too.
SECRET_KEYS = (*VENDOR_SECRET_FIELDS, "token", "secret", "password", "passwd", "credential", "authorization", "cookie")


def _words(name: str) -> list[str]:
    """`apiKeys` → [api, key]; `stripe_customer_id` → [stripe, customer, id]."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    words = [word.lower() for word in re.split(r"[\s_\-]+", spaced) if word]
    if words and words[-1].endswith("s") and len(words[-1]) > 3:
        words[-1] = words[-1][:-1]  # apiKeys, credentials, tokens: the plural names the same thing
    return words


_SECRET_ENDINGS = tuple("".join(_words(name)) for name in SECRET_KEYS)
_VENDOR_NAMES = frozenset("".join(_words(name)) for name in VENDOR_SECRET_FIELDS)


@lru_cache(maxsize=4096)  # answers repeat the same few keys: split each name into words once
def is_secret_key(name: str) -> bool:
    """Whether a value under this key is a credential: the key ends in one of SECRET_KEYS, in any spelling."""
    return "".join(_words(name)).endswith(_SECRET_ENDINGS)


def mask_structure(value: Any) -> Any:
    """`value` (decoded JSON) with every value under a secret-named key, however nested, replaced by MASK."""
    # Iterative, so a pathologically nested answer cannot exhaust the stack.
    root: list[Any] = [value]
    stack: list[tuple[Any, Any]] = [(root, 0)]
    while stack:
        parent, key = stack.pop()
        item = parent[key]
        if isinstance(item, dict):
            copy = {k: (MASK if isinstance(k, str) and is_secret_key(k) else v) for k, v in item.items()}
            parent[key] = copy
            stack.extend((copy, k) for k, v in copy.items() if isinstance(v, (dict, list)))
        elif isinstance(item, list):
            copy_list = list(item)
            parent[key] = copy_list
            stack.extend((copy_list, index) for index, v in enumerate(copy_list) if isinstance(v, (dict, list)))
    return root[0]


# PiecesOS names every object by a UUID (`id` throughout the vendor's models); alone in a field it is a name.
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def mask_answer(value: Any, prepare: Callable[[str], str] | None = None) -> Any:
    """Decoded JSON with every string made safe: `prepare`d (keys too) when given, then masked as error text is.

    Values under secret-named keys become MASK (`mask_structure`), every other string passes `mask_text`;
    a string that is one UUID is kept, as an object's id. Iterative, like `mask_structure`.
    """
    if isinstance(value, str):
        return _masked_value(prepare(value) if prepare is not None else value)
    root: list[Any] = [value]
    stack: list[tuple[Any, Any]] = [(root, 0)]
    while stack:
        parent, key = stack.pop()
        item = parent[key]
        if isinstance(item, dict):
            copy: dict[Any, Any] = {}
            for name, inner in item.items():
                if prepare is not None and isinstance(name, str):
                    name = prepare(name)
                if name not in _PLAIN_KEYS and isinstance(name, str) and _secret_key(name):
                    copy[name] = MASK
                    continue
                if isinstance(inner, str):
                    if prepare is not None:
                        inner = prepare(inner)
                    copy[name] = inner if inner in _UNCHANGED else _masked_value(inner)
                else:
                    copy[name] = inner
                    if isinstance(inner, (dict, list)):
                        stack.append((copy, name))
            parent[key] = copy
        elif isinstance(item, list):
            copy_list = list(item)
            for index, inner in enumerate(copy_list):
                if isinstance(inner, str):
                    if prepare is not None:
                        inner = prepare(inner)
                    copy_list[index] = inner if inner in _UNCHANGED else _masked_value(inner)
                elif isinstance(inner, (dict, list)):
                    stack.append((copy_list, index))
            parent[key] = copy_list
    return root[0]


# Strings of earlier answers that masking left as they were (PiecesOS repeats its names, versions and
# timestamps call after call): found again, they cost one lookup. Only such strings are kept, so the set
# holds no credential; it is emptied when full. Keys that name no secret are kept the same way (a key is
# never masked itself, only the value under it).
_UNCHANGED: set[str] = set()
_PLAIN_KEYS: set[str] = set()
_UNCHANGED_LIMIT = 8192


def remember(kept: set[str], item: str, *, limit: int, longest: int) -> None:
    """Keep `item` (masking found nothing in it) unless it is over `longest` characters; a full set is emptied."""
    if len(item) <= longest:
        if len(kept) >= limit:
            kept.clear()
        kept.add(item)


def _secret_key(name: str) -> bool:
    """`is_secret_key`, remembering the keys that are not (an answer repeats the same few in every object)."""
    if is_secret_key(name):
        return True
    remember(_PLAIN_KEYS, name, limit=_UNCHANGED_LIMIT, longest=256)
    return False


def _masked_value(item: str) -> str:
    if item in _UNCHANGED:
        return item
    masked = item if _UUID.fullmatch(item) else mask_text(item)
    if masked == item:
        remember(_UNCHANGED, item, limit=_UNCHANGED_LIMIT, longest=256)
    return masked


def drop_secrets(value: Any) -> Any:
    """`value` without the keys that name credentials, at its top level (for trimming a model's input)."""
    if isinstance(value, dict):
        return {key: item for key, item in value.items() if not (isinstance(key, str) and is_secret_key(key))}
    return value


def display_url(url: str) -> str:
    """`url` as it may be shown: without user name or password."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def _key_pattern(names: tuple[str, ...]) -> str:
    # A secret name in any spelling (api_key, apiKey, API-KEY, openai_api_keys), after any prefix.
    spelled = ["[_\\-\\s]?".join(re.escape(word) for word in _words(name)) + "s?" for name in names]
    # Anchored at the start of a word, so a long run of word characters is tried once, not from each of its
    # characters (which made masking quadratic).
    return r"(?<![A-Za-z0-9_\-])[A-Za-z0-9_\-]*?(?:" + "|".join(spelled) + ")"


_URL_CREDENTIALS = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*://)[^/\s@'\"<>]+@")
_VALUE = r"(?:\[[^\]]*\]?|[^\s,;&<>\"'}\])\\]+)"
_KEY_VALUE = re.compile(
    rf"(?i)(?P<key>{_key_pattern(SECRET_KEYS)})(?P<sep>\\?[\"']?\s*(?:=>|[:=])\s*\\?[\"']?\s*){_VALUE}"
)
# A vendor field name is no English word: followed by just a space (an HTML cell, a table), it still labels.
_VENDOR_KEY_VALUE = re.compile(rf"(?i)(?P<key>{_key_pattern(VENDOR_SECRET_FIELDS)})(?P<sep>\s+){_VALUE}")
_KEY_HINT = re.compile(r"(?i)key|token|secret|passw|credential|authori|cookie|customer")
_JWT = re.compile(r"eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}(?:\.[A-Za-z0-9_\-]*)?")
_SCHEME_TOKEN = re.compile(r"(?i)\b(bearer|basic|token)(\s+)([A-Za-z0-9._~+/=\-]{6,})")
# Known credential shapes, found even when glued to other text: OpenAI keys and organisations, Stripe
# customers and keys, GitHub, Slack, AWS, Google.
_PREFIXED = re.compile(
    r"(?:sk|pk|rk)[-_][A-Za-z0-9_\-]{8,}|org-[A-Za-z0-9_\-]{8,}|cus_[A-Za-z0-9_\-]{6,}"
    r"|gh[opusr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{20,}|xox[abprs]-[A-Za-z0-9\-]{8,}"
    r"|AKIA[0-9A-Z]{12,}|AIza[0-9A-Za-z_\-]{20,}|ya29\.[0-9A-Za-z_\-]{10,}"
)
_RUN = re.compile(r"[A-Za-z0-9_\-]{20,}")
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_\-]{32,}={0,2}")
_HEX_RUN = re.compile(r"[0-9a-fA-F]{16,}")
# HTML's own tags only: a placeholder such as `<folder>` in a sentence is text and keeps its words (issue 19).
_TAG = re.compile(
    r"(?i)<!doctype[^>]*>|</?(?:html|head|body|title|meta|link|script|style|h[1-6]|p|div|span|pre|code|br|hr|"
    r"center|a|b|i|em|strong|small|ul|ol|li|dl|dt|dd|table|thead|tbody|tr|td|th|address|nav|main|header|footer)"
    r"\b[^>]*>"
)


def _looks_random(token: str) -> bool:
    return any(c.isdigit() for c in token) and any(c.isalpha() for c in token)


def _scheme_token(match: re.Match[str]) -> str:
    scheme, space, token = match.groups()
    # After Bearer or Basic comes a credential; after "token" it may be English ("the token expired").
    credential = scheme.lower() != "token" or _looks_random(token) or len(token) >= 20
    return scheme + space + MASK if credential else match.group(0)


def _prefixed(match: re.Match[str]) -> str:
    token = match.group(0)
    # "task-scheduler-failed" is English; a key has digits, or is long past its prefix.
    random = any(c.isdigit() for c in token) or len(token) >= 24 or token.startswith("cus_")
    return MASK if random else token


# What every pattern above needs somewhere in a text to match: a secret or scheme name (the key and scheme
# patterns), a known prefix, "eyJ" (a JWT), "://" (a URL), a run as long as the shortest run pattern's (16: hex),
# or a base64 run with a digit and both cases (all `_random_base64` masks; a path is such a run, rarely mixed).
# A text without any of them is left as it is after a few searches: most strings of an answer (names, versions,
# enum values, paths) meet no pattern. The names are searched in the lower-cased text (re's case-insensitive
# alternation is ten times slower), so only in ASCII text: re's IGNORECASE also equates a few non-ASCII
# letters with ASCII ones (U+017F with "s").
_CANDIDATE_NAMES = re.compile(r"key|token|secret|passw|credential|authori|cookie|customer|bearer|basic")
_CANDIDATE_SHAPES = re.compile(
    r"eyJ|://|(?:sk|pk|rk)[-_]|org-|cus_|gh[opusr]_|github_pat_|xox[abprs]-|AKIA|AIza|ya29\.|[A-Za-z0-9_\-]{16}"
)
_DIGIT = re.compile(r"[0-9]")


def _may_hold_a_credential(text: str) -> bool:
    if not text.isascii():
        return True
    lowered = text.lower()
    if _CANDIDATE_NAMES.search(lowered) or _CANDIDATE_SHAPES.search(text):
        return True
    mixed = lowered != text and text.upper() != text and _DIGIT.search(text) is not None
    return mixed and _BASE64_RUN.search(text) is not None


def mask_text(text: str) -> str:
    """Free text with anything credential-like masked: labelled values, known shapes, long random runs."""
    if not _may_hold_a_credential(text):
        return text
    if "://" in text:
        text = _URL_CREDENTIALS.sub(r"\1" + MASK + "@", text)
    text = _SCHEME_TOKEN.sub(_scheme_token, text)
    if _KEY_HINT.search(text):  # the key patterns are the slow ones: only where a secret name may be
        text = _KEY_VALUE.sub(lambda m: m.group("key") + m.group("sep") + MASK, text)
        text = _VENDOR_KEY_VALUE.sub(lambda m: m.group("key") + m.group("sep") + MASK, text)
    text = _JWT.sub(MASK, text)
    text = _PREFIXED.sub(_prefixed, text)
    text = _BASE64_RUN.sub(_random_base64, text)
    text = _RUN.sub(_random_run, text)
    return _HEX_RUN.sub(MASK, text)


# A name made of lower-case words and numbers, the last word perhaps numbered: `test_reads_a_file_en1`,
# `module_00001`, `pieces-demo-2024`. Paths PiecesOS echoes are full of them; a key mixes digits into its words.
_NAME = re.compile(r"(?:[a-z]+|[0-9]+)(?:[_\-]+(?:[a-z]+|[0-9]+))*[0-9]*[_\-]*")


def _random_run(match: re.Match[str]) -> str:
    run = match.group(0)
    return MASK if _looks_random(run) and not _NAME.fullmatch(run) else run


def _random_base64(match: re.Match[str]) -> str:
    run = match.group(0)
    # Paths are runs of this alphabet too, but rarely mix digits with both cases.
    return MASK if _looks_random(run) and not run.islower() and not run.isupper() else run


_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def as_plain_text(text: str) -> str:
    """A body as words: JSON masked by structure first, HTML without its tags and entities."""
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        # Not JSON, or nested past what json reads: the patterns alone, then.
        with suppress(ValueError, RecursionError):
            text = json.dumps(mask_structure(json.loads(stripped)), ensure_ascii=False)
    if "<" in text:
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    return text


def quote(text: str, limit: int = 200) -> str:
    """Text PiecesOS sent (a body, a reason phrase), made safe to show: masked, one line, at most `limit`."""
    # Masked before it is cut, so no half credential is left at the cut; only the start can be shown anyway.
    text = mask_text(_CONTROL.sub(" ", as_plain_text(text))[: limit * 20])
    text = " ".join(text.split())
    # Encodable whatever PiecesOS sent (a lone surrogate from a JSON escape cannot be written as UTF-8).
    text = text.encode("utf-8", "replace").decode("utf-8")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
