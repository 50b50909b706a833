"""Settings: flags over environment over defaults, and every bad value refused with its fix."""

from __future__ import annotations

import argparse

import pytest

from pieces_mcp.config import ConfigError, ConfirmMode, Settings, add_arguments, load


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


def test_defaults_match_the_contract() -> None:
    assert load(parse(), {}) == Settings()
    assert Settings().timeout == 10 and Settings().interactive_timeout == 300
    assert Settings().confirm is ConfirmMode.ELICIT


def test_environment_is_read_for_every_setting() -> None:
    settings = load(
        parse(),
        {
            "PIECES_OS_URL": "http://localhost:39301/",
            "PIECES_MCP_TIMEOUT": "2.5",
            "PIECES_MCP_INTERACTIVE_TIMEOUT": "30",
            "PIECES_MCP_CONFIRM": "deny",
            "PIECES_MCP_ALLOW_TOOLS": "pick_files, os_restart",
            "PIECES_MCP_DENY_TOOLS": "sign_out_of_os",
            "PIECES_MCP_READ_ONLY": "1",
            "PIECES_MCP_ALLOW_REMOTE": "true",
            "PIECES_MCP_LOG_LEVEL": "debug",
            "PIECES_MCP_AUDIT_LOG": "/tmp/audit.jsonl",
        },
    )
    assert settings == Settings(
        base_url="http://localhost:39301",
        timeout=2.5,
        interactive_timeout=30,
        confirm=ConfirmMode.DENY,
        allow_tools=frozenset({"pick_files", "os_restart"}),
        deny_tools=frozenset({"sign_out_of_os"}),
        read_only=True,
        allow_remote=True,
        log_level="DEBUG",
        audit_log="/tmp/audit.jsonl",
    )


def test_a_flag_wins_over_its_environment_variable() -> None:
    settings = load(
        parse("--timeout", "3", "--confirm", "allow"), {"PIECES_MCP_TIMEOUT": "9", "PIECES_MCP_CONFIRM": "deny"}
    )
    assert settings.timeout == 3 and settings.confirm is ConfirmMode.ALLOW


def test_read_only_flag_needs_no_value() -> None:
    assert load(parse("--read-only"), {}).read_only


@pytest.mark.parametrize(
    ("argv", "environ", "fragment"),
    [
        (("--timeout", "0"), {}, "--timeout must be a number of seconds"),
        (("--timeout", "soon"), {}, "--timeout must be a number of seconds"),
        (("--confirm", "maybe"), {}, "--confirm must be one of elicit, client, desktop, deny, allow"),
        (("--allow-tools", "pick_file"), {}, "unknown tools pick_file"),
        (("--log-level", "loud"), {}, "--log-level must be one of"),
        (("--base-url", "ftp://x"), {}, "is not an http(s) URL"),
        (("--base-url", "http://192.168.1.20:39300"), {}, "--allow-remote"),
    ],
)
def test_bad_values_are_refused_with_the_fix(argv: tuple[str, ...], environ: dict[str, str], fragment: str) -> None:
    with pytest.raises(ConfigError, match=None) as raised:
        load(parse(*argv), environ)
    assert fragment in str(raised.value)


def test_remote_url_is_accepted_with_allow_remote() -> None:
    settings = load(parse("--base-url", "http://192.168.1.20:39300", "--allow-remote"), {})
    assert settings.base_url == "http://192.168.1.20:39300"


@pytest.mark.parametrize(
    "url", ["http://localhost:1000", "http://127.0.0.1:39300", "http://[::1]:39300", "127.0.0.5:5323"]
)
def test_loopback_urls_need_no_permission(url: str) -> None:
    assert load(parse("--base-url", url), {}).base_url is not None
