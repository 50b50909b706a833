"""`wire_text`, the one decoder of PiecesOS's text, and the fast path that keeps masking every string cheap."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pieces_mcp import redact, wire_text
from pieces_mcp.redact import MASK, mask_answer, mask_text

# Pieces of text each pattern of `redact` starts from, and the alphabet around them.
FRAGMENTS = [
    "sk-",
    "org-",
    "cus_",
    "ghp_",
    "xoxb-",
    "AKIA",
    "AIza",
    "ya29.",
    "eyJ",
    "://",
    "http://",
    "ada:pw@",
    "@",
    "=",
    ": ",
    "Bearer ",
    "basic ",
    "token ",
    "API_KEY",
    "Secret",
    "passwd",
    "Cookie",
    "customer",
    "\u017fecret",  # re's IGNORECASE equates U+017F with "s"
    "\u212aey",  # and U+212A (Kelvin) with "k"
    "0123456789abcdef",
    "Zx9",
]
ALPHABET = "abcXYZ019_-+/=.:@ \"'<>&;,\n"
TEXTS = st.lists(st.sampled_from(FRAGMENTS) | st.text(ALPHABET, max_size=12), max_size=12).map("".join)


@settings(max_examples=3000, deadline=None)
@given(TEXTS)
def test_the_fast_path_skips_only_text_no_pattern_would_change(text: str) -> None:
    if redact._may_hold_a_credential(text):
        return
    # With the fast path off, every pattern runs: it must leave the text exactly as the fast path did.
    original = redact._may_hold_a_credential
    redact._may_hold_a_credential = lambda _: True  # type: ignore[assignment]
    try:
        assert mask_text(text) == text
    finally:
        redact._may_hold_a_credential = original  # type: ignore[assignment]


def test_the_fast_path_lets_ordinary_answer_text_through_with_one_search() -> None:
    for text in ("DDR5", "AMD EPYC 9124 16-Core Processor", "2026-11-29T00:00:00.000Z", "ada.lovelace@example.com"):
        assert not redact._may_hold_a_credential(text), text


def test_an_answer_keeps_its_ids_and_loses_its_credentials() -> None:
    answer = {
        "id": "6f2c3f0e-9a4b-4c1d-8e7f-0a1b2c3d4e5f",
        "picture": "https://img.example/a.png?token=abc123def456",
        "nested": [{"apiKey": "anything"}, "sk-3kT9xQ2mB7vL1pZ8wR4n"],
        "count": 3,
    }
    masked = mask_answer(answer)
    assert masked["id"] == answer["id"] and masked["count"] == 3
    assert masked["picture"] == f"https://img.example/a.png?token={MASK}"
    assert masked["nested"] == [{"apiKey": MASK}, MASK]
    assert answer["nested"][0]["apiKey"] == "anything"  # a copy: what PiecesOS sent is left alone


@pytest.mark.parametrize(
    ("content_type", "charset"),
    [
        ("application/json", None),
        ("application/json; charset=UTF-8", "utf-8"),
        ('text/plain; charset="utf-16"', "utf-16"),
        ("text/plain;charset=utf_16le", "utf-16-le"),
        ("text/plain; charset=utf-32BE; q=1", "utf-32-be"),
        ("text/plain; charset=ISO-8859-1", "latin-1"),
        ("text/plain; charset=punycode", None),
        ("text/plain; charset=rot13", None),
        ("text/plain; charset=", None),
        ("text/plain; charset=" + "u" * 5000, None),
    ],
)
def test_only_the_charsets_it_reads_are_taken_from_the_content_type(content_type: str, charset: str | None) -> None:
    assert wire_text.declared_charset(content_type) == charset


@pytest.mark.parametrize(
    ("content", "charset", "text"),
    [
        ("ü✓".encode("utf-16-be"), "utf-16", "ü✓"),  # no BOM: RFC 2781's big endian
        ("a✓".encode("utf-16-le"), "utf-16", "a✓"),  # no BOM, but the zero bytes show little endian
        ("ü".encode("utf-16"), "utf-8", "ü"),  # the BOM wins over the declaration
        ("ü".encode(), "ascii", "ü"),  # a declaration the bytes do not fit: UTF-8
        (b"a\xffb", None, "a\ufffdb"),
        (b"a\xed\xa0\x80b", "utf-8", "a\ufffd\ufffd\ufffdb"),
        (b"\xff\xfe\x00", "utf-16", "\ufffd"),  # a BOM and half a character
    ],
)
def test_bytes_decode_as_their_bom_then_their_charset_then_utf_8(content: bytes, charset: str, text: str) -> None:
    assert wire_text.decode(content, charset) == text


@pytest.mark.parametrize(
    "raw", [b'{"a": "\\ud800"}', '{"a": "\ud800"}'.encode("utf-8", "surrogatepass"), b'{"\\udfff": 1}']
)
def test_every_string_of_a_json_body_is_encodable(raw: bytes) -> None:
    value = wire_text.body_json(raw, "application/json")
    json.dumps(value, ensure_ascii=False).encode("utf-8")  # what the MCP answer does with it


@pytest.mark.parametrize("escape", ["\\ud800", "\\uDBFF", "\\udc00", "\\uDFFF"])
def test_a_lone_surrogate_escape_is_cleaned_in_keys_and_values_read_twice(escape: str) -> None:
    raw = f'{{"k{escape}": ["v{escape}", {{"n": "x{escape}"}}]}}'.encode()
    for _ in range(2):  # the second read meets what the first one learnt
        value = wire_text.body_json(raw, "application/json")
        assert value == {"k\ufffd": ["v\ufffd", {"n": "x\ufffd"}]}


def test_an_answer_read_again_is_masked_again_and_one_read_unchanged_stays_unchanged() -> None:
    secret = b'{"name": "ada", "nested": [{"api_key": "anything"}, "sk-3kT9xQ2mB7vL1pZ8wR4n"]}'
    plain = b'{"name": "ada", "cores": [16, 8], "model": "AMD EPYC 9124"}'
    for _ in range(3):
        assert wire_text.body_json(secret, "application/json") == {"name": "ada", "nested": [{"api_key": MASK}, MASK]}
        first, second = (wire_text.body_json(plain, "application/json") for _ in range(2))
        assert first == second == json.loads(plain)
        first["cores"].append(4)  # each read is its own value: changing one leaves the next alone
        assert wire_text.body_json(plain, "application/json") == json.loads(plain)


@pytest.mark.parametrize(
    ("message", "why"),
    [
        (b"\x80\x81garbage", "binary data that is not JSON text"),
        ("plain words", "text that is not JSON ('plain words')"),
        ("[" * 50_000, "JSON nested too deeply to read"),
    ],
)
def test_a_message_that_is_not_json_says_how(message: str | bytes, why: str) -> None:
    with pytest.raises(wire_text.NotJSONError) as problem:
        wire_text.frame_json(message)
    assert problem.value.why == why


def test_a_header_value_in_bytes_is_text() -> None:
    assert wire_text.header_text("Échec".encode()) == "Échec"
    assert wire_text.header_text("Échec".encode("latin-1")) == "Échec"
    assert wire_text.header_text("a\udc80") == "a\ufffd"


@pytest.mark.parametrize(
    "path",
    [
        "/tmp/pytest-of-ada/pytest-116/popen-gw0/test_every_new_tool_answers_en1/note.md",
        "/home/ada/projects/monorepo/pkg0001/module_00001_with_a_long_name.py",
        "C:\\Users\\ada\\pieces-demo-2024-release-notes\\README.md",
    ],
)
def test_a_path_piecesos_echoes_keeps_its_names(path: str) -> None:
    assert wire_text.body_json(json.dumps({"path": path}).encode(), "application/json") == {"path": path}


def test_a_key_among_the_names_of_a_path_is_still_masked() -> None:
    echoed = wire_text.body_json(b'{"path": "/home/ada/c2f1-88ab-4e0d-9b7a-61d2ce0f3a55/notes.md"}', "application/json")
    assert echoed == {"path": f"/home/ada/{MASK}/notes.md"}
