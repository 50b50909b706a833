"""Masking credentials: by structure (secret-named keys, however nested) and by pattern in free text."""

from __future__ import annotations

import html
import json
import time
from typing import Any

import pytest

from pieces_mcp.errors import quote_detail
from pieces_mcp.models.base import ExternalProviderIdentity, UserIdentity
from pieces_mcp.redact import SECRET_KEYS, display_url, is_secret_key, mask_structure, mask_text

# Credentials in the formats they really have (made up, never real), and the simulator's markers.
CREDENTIALS = {
    "openai-legacy": "sk-3kT9xQ2mB7vL1pZ8wR4nY6cF0hJ5dG2sA9eU7iO1qW3rT5yX",
    "openai-project": "sk-proj-Ab3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5bC7dE9fG1hJ3kL5mN7pQ9rS1tU3vW5",
    "openai-org": "org-4fT8kQ2xM9bN7vC1zL5pR3wY",
    "stripe-customer": "cus_NffrFeUfNVHib",
    "stripe-secret": "sk_live_51H8xkLKj4Xy2Zp9Qw7Rt5Ev3",
    "github": "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
    "slack": "xoxb-2648273-2982374-AbCdEfGhIjKlMnOp",
    "aws": "AKIAIOSFODNN7EXAMPLE",
    "google": "ya29.a0AfH6SMBx3kT9xQ2mB7vL1pZ8wR4n",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    "hex": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b",
    "base64": "q83vEjRWeJq83vEjRWeJq83vEjRWeJ+/q83vEjRWeJq8Zz0=",
    "unknown-format-cloud-key": "c2f1-88ab-4e0d-9b7a-61d2ce0f3a55",
    "marker-cloud-key": "ck-SIMSECRET-cloud-key-4d9f",
    "marker-provider-token": "tok-SIMSECRET-provider-token-8b3d-github",
    "marker-org": "org-SIMSECRET-auth0-org-3c8e",
    "marker-customer": "cus_SIMSECRET-stripe-5e0a",
}
# How free text carries them: alone, glued to words or punctuation, quoted, in JSON or HTML or a URL.
CONTEXTS = {
    "bare": "{}",
    "sentence": "the key {} was rejected by the server",
    "glued-before": "invalidkey{}",
    "glued-after": "{}rejected",
    "equals": "key={};next=1",
    "colon": "cloud_key:{}",
    "quoted": "'{}'",
    "json-pair": '{{"cloud_key": "{}", "n": 1}}',
    "json-escaped": '{{\\"cloud_key\\":\\"{}\\"}}',
    "html-cells": "<tr><td>stripe_customer_id</td><td>{}</td></tr>",
    "html-escaped": "&quot;api_key&quot;: &quot;{}&quot;",
    "query": "GET /cb?access_token={}&state=1",
    "bearer": "Authorization: Bearer {}",
    "list": "apiKeys: [{}, other]",
}


@pytest.mark.parametrize("context", list(CONTEXTS))
@pytest.mark.parametrize("name", list(CREDENTIALS))
def test_credentials_in_free_text_are_masked(name: str, context: str) -> None:
    secret = CREDENTIALS[name]
    text = CONTEXTS[context].format(secret)
    masked = mask_text(text)
    assert secret not in masked and "[redacted]" in masked, masked
    # No tell-tale piece of it either (the longest run of the secret that is not its well-known prefix).
    body = max(secret.replace(".", "-").replace("_", "-").split("-"), key=len)
    assert len(body) < 6 or body not in masked, masked


@pytest.mark.parametrize(
    "text",
    [
        "database is locked",
        "12.3.4-simulator",
        "HTTP 500 Internal Server Error",
        "file not found: /home/ada/projects/pieces-demo/README.md",
        "Unauthorized: no user is signed in to PiecesOS.",
        "the token has expired, sign in again",
        "2026-11-29T09:58:31.000Z",
        "task-scheduler-failed",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert mask_text(text) == text


def _nest(key: str, secret: Any, depth: int) -> Any:
    value: Any = {key: secret, "name": "Ada"}
    for level in range(depth):
        value = {"level": level, "items": [value, {"ok": True}]}
    return value


@pytest.mark.parametrize("depth", [0, 1, 5, 40])
@pytest.mark.parametrize("key", [*SECRET_KEYS, "apiKey", "API_KEY", "openai-api-key", "refreshToken", "Password"])
@pytest.mark.parametrize(
    "secret", ["plain-value", ["a", "b"], {"nested": "deeper", "n": 1}, 12345], ids=["str", "list", "dict", "int"]
)
def test_every_value_under_a_secret_named_key_is_masked_however_nested(key: str, secret: Any, depth: int) -> None:
    masked = json.dumps(mask_structure(_nest(key, secret, depth)))
    assert json.dumps(secret) not in masked and '"Ada"' in masked
    assert depth == 0 or '"ok": true' in masked


def test_the_key_list_covers_every_credential_of_the_vendors_user_profile() -> None:
    # tools/pieces-os-api/README.md, "Secrets in user profiles"
    for field in ("apiKeys", "api_key", "organization_key", "cloud_key", "stripe_customer_id", "access_token"):
        assert is_secret_key(field), field
    for ordinary in ("id", "email", "name", "username", "vanityname", "picture", "type", "user_id", "connection"):
        assert not is_secret_key(ordinary), ordinary


def test_profile_trimming_uses_the_same_key_list() -> None:
    for model in (UserIdentity, ExternalProviderIdentity):
        kept = [name for name in model.model_fields if is_secret_key(name)]
        assert kept == [], f"{model.__name__} would keep {kept}"
    provider = ExternalProviderIdentity.model_validate({"type": "github", "user_id": "1", "refresh_token": "x"})
    assert "refresh_token" not in provider.model_dump_json()


@pytest.mark.parametrize(
    "url",
    ["http://user:pass-9f3e@localhost:1", "https://only-user-7c2a@127.0.0.1:39300/base", "http://:pw-41b8@[::1]:5"],
)
def test_url_credentials_are_never_shown(url: str) -> None:
    secret = url.split("//", 1)[1].split("@", 1)[0]
    assert secret not in display_url(url) and display_url(url).endswith(url.split("@", 1)[1])
    assert secret not in mask_text(f"nothing answered at {url}; try again")


def test_a_quoted_detail_is_one_short_line_with_json_masked_by_structure() -> None:
    body = json.dumps({"message": "bad request", "user": {"auth0": {"open_AI": {"api_key": "short1"}}}})
    detail = quote_detail(body)
    assert "short1" not in detail and "bad request" in detail
    assert "\n" not in quote_detail("a\nb\r\nc") and len(quote_detail("x " * 500)) <= 200
    assert "secret-in-tag" not in quote_detail(html.escape('<p>"password": "secret-in-tag"</p>'))


def test_a_pathologically_nested_body_is_still_quoted() -> None:
    nested = '{"a": ' * 100_000 + '"sk-3kT9xQ2mB7vL1pZ8wR4nY6cF0hJ5dG2sA9eU7iO1qW3rT5yX"' + "}" * 100_000
    detail = quote_detail(nested)
    assert len(detail) <= 200 and "sk-3kT9" not in detail


@pytest.mark.parametrize(
    "text", ["a" * 1_000_000, "token_" * 100_000, "api_key=" * 100_000], ids=["run", "keys", "pairs"]
)
def test_masking_takes_linear_time(text: str) -> None:
    """A log line can be large at DEBUG: masking it must not be quadratic (20 KB of letters once took 128 s)."""
    started = time.perf_counter()
    mask_text(text)
    assert time.perf_counter() - started < 10
