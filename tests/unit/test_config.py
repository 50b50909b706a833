"""Settings: flags over environment over defaults, and every bad value refused with its fix."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from pieces_mcp.catalog import TOOLSETS
from pieces_mcp.config import ConfigError, ConfirmMode, Settings, add_arguments, load, to_environment


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
            "PIECES_MCP_TOOLSETS": "settings, Process",
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
        toolsets=frozenset({"settings", "process"}),
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
        ((), {"PIECES_MCP_CONFIRM": "ask"}, "PIECES_MCP_CONFIRM must be one of elicit, client"),
        (("--allow-tools", "pick_file"), {}, "unknown tools pick_file"),
        (("--log-level", "loud"), {}, "--log-level must be one of"),
        (("--base-url", "ftp://x"), {}, "is not an http(s) URL"),
        (("--base-url", "http://192.168.1.20:39300"), {}, "--allow-remote"),
        ((), {"PIECES_MCP_TIMEOUT": "soon"}, "PIECES_MCP_TIMEOUT must be a number of seconds"),
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
    ("url", "normalised"),
    [
        ("http://localhost:1000", "http://localhost:1000"),
        ("http://127.0.0.1:39300/", "http://127.0.0.1:39300"),
        ("http://[::1]:39300", "http://[::1]:39300"),
        ("127.0.0.5:5323", "http://127.0.0.5:5323"),
    ],
)
def test_loopback_urls_need_no_permission(url: str, normalised: str) -> None:
    assert load(parse("--base-url", url), {}).base_url == normalised


@pytest.mark.parametrize("word", ["1", "true", "YES", "On", " true "])
def test_a_switch_is_on_only_for_the_true_words(word: str) -> None:
    assert load(parse(), {"PIECES_MCP_READ_ONLY": word}).read_only is True


@pytest.mark.parametrize("word", ["0", "false", "No", "OFF"])
def test_a_switch_is_off_only_for_the_false_words(word: str) -> None:
    assert load(parse(), {"PIECES_MCP_READ_ONLY": word}).read_only is False


@pytest.mark.parametrize("word", ["y", "enabled", "t", "2", "si", "readonly"])
def test_a_switch_with_any_other_word_stops_the_server_naming_the_variable(word: str) -> None:
    """A safety switch must not fail open: PIECES_MCP_READ_ONLY=y once meant "off"."""
    with pytest.raises(ConfigError) as raised:
        load(parse(), {"PIECES_MCP_READ_ONLY": word, "PIECES_MCP_ALLOW_REMOTE": "1"})
    message = str(raised.value)
    assert message.startswith("PIECES_MCP_READ_ONLY must be one of 1, true, yes, on or 0, false, no, off")
    assert "--read-only" not in message  # the person never passed the flag


def test_a_url_with_credentials_is_refused_without_echoing_them() -> None:
    with pytest.raises(ConfigError) as raised:
        load(parse(), {"PIECES_OS_URL": "http://me:hunter2-secret@localhost:39300"})
    assert "hunter2" not in str(raised.value) and "PIECES_OS_URL" in str(raised.value)


def test_an_audit_log_in_a_missing_folder_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load(parse("--audit-log", str(tmp_path / "missing" / "audit.jsonl")), {})
    with pytest.raises(ConfigError, match="is a folder"):
        load(parse("--audit-log", str(tmp_path)), {})


def test_settings_survive_the_trip_through_a_child_environment(tmp_path: Path) -> None:
    """`pieces-mcp call` hands its settings to a child `serve` as environment variables: nothing may change."""
    every_field_changed = Settings(
        base_url="http://127.0.0.1:39301",
        timeout=2.5,
        interactive_timeout=30,
        restart_timeout=5,
        confirm=ConfirmMode.DESKTOP,
        toolsets=frozenset({"os", "files"}),
        allow_tools=frozenset({"pick_files", "os_restart"}),
        deny_tools=frozenset({"sign_out_of_os"}),
        read_only=True,
        allow_remote=True,
        log_level="DEBUG",
        audit_log=str(tmp_path / "audit.jsonl"),
    )
    assert all(
        getattr(every_field_changed, name) != getattr(Settings(), name) for name in Settings.__dataclass_fields__
    )
    for settings in (every_field_changed, Settings()):
        assert load(parse(), to_environment(settings)) == settings
        # over a shell that set every variable otherwise, the child still reads exactly these settings
        shell = to_environment(every_field_changed if settings == Settings() else Settings())
        assert load(parse(), {**shell, **to_environment(settings)}) == settings


def test_toolsets_all_takes_every_set_and_survives_the_trip() -> None:
    every = load(parse("--toolsets", "all"), {})
    assert every.toolsets == frozenset(TOOLSETS)
    assert to_environment(every)["PIECES_MCP_TOOLSETS"] == "all"
    assert load(parse(), to_environment(every)) == every


def test_an_unknown_toolset_is_refused_naming_the_choices() -> None:
    with pytest.raises(ConfigError, match="unknown toolsets proces; choose from os, files"):
        load(parse(), {"PIECES_MCP_TOOLSETS": "os,proces"})
