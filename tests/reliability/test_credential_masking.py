"""Every credential of a PiecesOS user profile, planted where PiecesOS could put it, never comes out.

The simulator's fault injection puts each secret field of the vendor's `UserProfile` into an error body (JSON,
HTML, plain text), a 200 answer that is not JSON, and the HTTP reason phrase; the tests search everything the
real server wrote: tool results, errors, resources, its stderr at DEBUG and the audit log.
"""

from __future__ import annotations

import html
import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from mcp.shared.exceptions import MCPError

from pieces_mcp.simulator import SECRET_MARKERS
from pieces_mcp.simulator.profiles import user_profile
from tests.support import (
    SERVER_COMMAND,
    SimulatorProcess,
    raw_http_answer,
    serve,
    server_env,
)

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]

SIGN_IN = "/os/sign_in"
DEVICE = "/os/device/information"
_NOW = datetime(2026, 11, 29, tzinfo=timezone.utc)
# A full UserProfile, with every credential field filled with one of SECRET_MARKERS.
PROFILE = user_profile([("github", _NOW), ("gitlab", _NOW)], _NOW, _NOW)
SECRET_FIELDS = ("apiKeys", "api_key", "organization_key", "cloud_key", "stripe_customer_id", "access_token")


def _pairs(value: Any, key: str = "") -> list[tuple[str, Any]]:
    """Every (key, leaf value) of a JSON value, depth first."""
    if isinstance(value, dict):
        return [pair for name, item in value.items() for pair in _pairs(item, name)]
    if isinstance(value, list) and not all(isinstance(item, str) for item in value):
        return [pair for item in value for pair in _pairs(item, key)]
    return [(key, value)]


def _dart_map(value: Any) -> str:
    """How a Dart or Java error message prints a map: `{apiKeys: [sk-…], auth0: {cloud_key: ck-…}}`."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_dart_map(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_dart_map(item) for item in value) + "]"
    return str(value)


_PROFILE_JSON = json.dumps({"error": "sign-in failed", "user": PROFILE})
_SECRET_PAIRS = [
    (key, value) for key, value in _pairs(PROFILE) if any(marker in str(value) for marker in SECRET_MARKERS)
]
# name: (body, content type); each body carries every marker.
BODIES: dict[str, tuple[str, str]] = {
    "json-profile": (_PROFILE_JSON, "application/json"),
    "json-free-text": (json.dumps({"message": "rejected: " + ", ".join(SECRET_MARKERS)}), "application/json"),
    "json-cut-short": (_PROFILE_JSON[:-2], "application/json"),
    "html-table": (
        "<html><body><h1>500 Internal Server Error</h1><table>"
        + "".join(f"<tr><td>{key}</td><td>{html.escape(str(value))}</td></tr>" for key, value in _SECRET_PAIRS)
        + "</table></body></html>",
        "text/html",
    ),
    "html-escaped-json": (f"<html><body><pre>{html.escape(_PROFILE_JSON)}</pre></body></html>", "text/html"),
    "text-dart-map": (f"Exception: UserProfile{_dart_map(PROFILE)}", "text/plain"),
    "text-glued": (
        ";".join(f"{key}={value}" for key, value in _SECRET_PAIRS) + "|" + "".join(SECRET_MARKERS),
        "text/plain",
    ),
    "text-bare": ("could not refresh " + " and ".join(SECRET_MARKERS), "text/plain"),
}


def _fault(place: str, body: str, content_type: str) -> dict[str, Any]:
    if place == "error-body":
        return {"status": 500, "body": body, "content_type": content_type}
    return {
        "status": 200,
        "body": body if content_type != "application/json" else body[:-2],
        "content_type": "text/plain",
    }


@contextmanager
def piecesos_saying(simulator: SimulatorProcess, place: str, body: str, content_type: str) -> Iterator[str]:
    """The base URL of a PiecesOS that puts `body` in `place`; a reason phrase comes from a raw socket server."""
    if place == "reason":
        with raw_http_answer(500, " ".join(body.splitlines())) as url:
            yield url
        return
    for path in (SIGN_IN, DEVICE):
        simulator.fault(path, times=0, **_fault(place, body, content_type))
    yield simulator.url


@pytest.mark.parametrize("body_name", list(BODIES))
@pytest.mark.parametrize("place", ["error-body", "200-not-json", "reason"])
async def test_no_planted_credential_comes_out_anywhere(
    simulator: SimulatorProcess, tmp_path: Path, place: str, body_name: str
) -> None:
    body, content_type = BODIES[body_name]
    assert all(marker in body for marker in SECRET_MARKERS)  # every secret field really is planted
    audit = tmp_path / "audit.jsonl"
    written: list[str] = []
    with piecesos_saying(simulator, place, body, content_type) as url:
        written += await everything_written(url, audit)
    written.append(audit.read_text())
    everything = "\n".join(written)
    assert "sign_into_os" in everything and "HTTP Request:" in everything  # the log really is at DEBUG
    leaked = [marker for marker in SECRET_MARKERS if marker in everything]
    assert not leaked, leaked


async def everything_written(url: str, audit: Path) -> list[str]:
    """Results, errors, a resource's error and the log at DEBUG of calls to a PiecesOS that answers with secrets."""
    written: list[str] = []
    async with serve(
        url, PIECES_MCP_LOG_LEVEL="DEBUG", PIECES_MCP_AUDIT_LOG=str(audit), PIECES_MCP_CONFIRM="allow"
    ) as served:
        for tool in ("sign_into_os", "os_device_information"):
            result = await served.client.call_tool(tool, {})
            assert result.is_error  # the fault answered, so the planted text was in play
            written.append(result.model_dump_json())
        with pytest.raises(MCPError) as resource_error:
            await served.client.read_resource("pieces-os://os_device_information")
        written.append(str(resource_error.value))
        written.append(served.stderr())
    return written


async def test_an_error_still_says_what_piecesos_said_around_the_credentials(simulator: SimulatorProcess) -> None:
    simulator.fault(DEVICE, status=500, body=f"database is locked (cloud_key={SECRET_MARKERS[3]})")
    async with serve(simulator.url) as served:
        result = await served.client.call_tool("os_device_information", {})
    text = result.content[0].text  # type: ignore[union-attr]
    assert "HTTP 500" in text and "database is locked" in text and SECRET_MARKERS[3] not in text


def test_a_long_reason_phrase_is_cut_to_one_short_line() -> None:
    with raw_http_answer(503, "Service Unavailable " + "very " * 400 + "long") as url:
        done = subprocess.run(
            [*SERVER_COMMAND, "call", "os_device_information"],
            capture_output=True,
            text=True,
            timeout=60,
            env=server_env(url, PIECES_MCP_LOG_LEVEL="WARNING"),
        )
    line = next(line for line in done.stderr.splitlines() if "HTTP 503" in line)
    assert "Service Unavailable very" in line and "very " * 60 not in line


USER, PASSWORD = "urluser-5b1d", "urlpass-9f3e7c"


def _with_credentials(url: str) -> str:
    return url.replace("http://", f"http://{USER}:{PASSWORD}@")


def _assert_no_url_credentials(text: str) -> None:
    assert USER not in text and PASSWORD not in text, text


@pytest.mark.parametrize(
    ("command", "url"),
    [
        (("serve",), "http://urluser-5b1d:urlpass-9f3e7c@127.0.0.1:39300"),  # refused: PiecesOS takes no credentials
        (("serve",), "http://urluser-5b1d:urlpass-9f3e7c@10.1.2.3:39300"),  # refused: not loopback
        (("serve",), "ftp://urluser-5b1d:urlpass-9f3e7c@localhost:1"),  # refused: not http
        (("doctor",), "http://urluser-5b1d:urlpass-9f3e7c@127.0.0.1:9"),  # nothing answers there
    ],
    ids=["loopback", "remote", "not-http", "doctor"],
)
def test_credentials_in_a_configured_url_are_never_echoed_by_the_command_line(
    command: tuple[str, ...], url: str
) -> None:
    done = subprocess.run(
        [*SERVER_COMMAND, *command],
        input="",
        capture_output=True,
        text=True,
        timeout=60,
        env=server_env(url, PIECES_MCP_LOG_LEVEL="DEBUG"),
    )
    assert done.returncode != 0
    _assert_no_url_credentials(done.stdout + done.stderr)
