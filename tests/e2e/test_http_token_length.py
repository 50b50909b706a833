"""A `PIECES_MCP_HTTP_TOKEN` shorter than 32 characters stops the HTTP server at start with one line naming it."""

from __future__ import annotations

import subprocess

import pytest

from pieces_mcp.config import HTTP_TOKEN_ENV, MIN_HTTP_TOKEN_LENGTH
from tests.e2e.in_process import run_here
from tests.support import SERVER_COMMAND, server_env

pytestmark = pytest.mark.timeout(60)


def start_http(token: str) -> subprocess.CompletedProcess[str]:
    """`serve --transport http` with `token`, stopped as soon as it says it serves (or has refused to start)."""
    process = subprocess.Popen(
        [*SERVER_COMMAND, "serve", "--transport", "http", "--port", "0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=server_env("http://127.0.0.1:9", **{HTTP_TOKEN_ENV: token}),
    )
    assert process.stderr is not None
    seen = process.stderr.readline()  # a refusal, or the first of the two "serving" lines
    if "Streamable HTTP on" in seen:
        seen += process.stderr.readline()  # which header to send: now it serves
        process.terminate()
    out, rest = process.communicate(timeout=30)
    return subprocess.CompletedProcess(process.args, process.returncode, out, seen + rest)


@pytest.mark.parametrize("length", [8, 16, MIN_HTTP_TOKEN_LENGTH - 1])
def test_a_short_token_is_refused_at_start_in_one_line(length: int) -> None:
    token = ("Qz7-short-token-" * 4)[:length]
    # Refused before anything listens: the command line's doing, so in this process (the real one below serves).
    done = run_here(
        "serve", "--transport", "http", "--port", "0", PIECES_OS_URL="http://127.0.0.1:9", **{HTTP_TOKEN_ENV: token}
    )
    lines = done.stderr.splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and HTTP_TOKEN_ENV in lines[0] and str(MIN_HTTP_TOKEN_LENGTH) in lines[0], lines
    assert token not in done.stderr  # the length is named, never the token
    assert "Streamable HTTP" not in done.stderr and done.stdout == ""


def test_a_token_of_32_characters_is_served() -> None:
    done = start_http("k" * MIN_HTTP_TOKEN_LENGTH)
    assert "Streamable HTTP on" in done.stderr and HTTP_TOKEN_ENV in done.stderr, done.stderr
