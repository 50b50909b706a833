"""The effective target, class by class: what a path, a URL or a value really names, and what is refused.

The questions a person sees are tested through real clients in tests/e2e/test_effective_target.py; here each
class of input is pinned at its edge, with the catalog's own declarations.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pieces_mcp.catalog import BY_NAME, CATALOG, ArgumentKind
from pieces_mcp.guard import question
from pieces_mcp.models.files import FileReadInput, PathInput, UrlInput
from pieces_mcp.models.process import AppletInput
from pieces_mcp.targets import (
    SHOWN_LIMIT,
    TargetRefusedError,
    effective_call,
    effective_path,
    effective_url,
    resolve_posix,
    visible,
)

READ = BY_NAME["os_filesystem_file_read_streamed"]
VERIFY = BY_NAME["os_filesystem_path_verify"]
BROWSE = BY_NAME["os_browser_url_open"]


def test_every_entry_declares_what_each_of_its_arguments_names() -> None:
    for endpoint in CATALOG:
        assert set(endpoint.targets) == set(endpoint.input_model.model_fields), endpoint.name
    kinds = {kind for endpoint in CATALOG for kind in endpoint.targets.values()}
    assert kinds == set(ArgumentKind)


def test_a_padded_path_is_shown_resolved_with_what_the_assistant_wrote(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.md").write_text("x")
    padded = str(tmp_path) + "/notes/./" + "../notes/" * 40 + "./todo.md"
    call = effective_call(READ, FileReadInput(path=padded))
    assert call.arguments.model_dump()["path"] == str(tmp_path / "notes" / "todo.md")  # what PiecesOS gets
    text = question(READ, call)
    assert f"path: {tmp_path / 'notes' / 'todo.md'}\n" in text
    assert f"(the assistant asked for {padded}, which is {tmp_path / 'notes' / 'todo.md'})" in text


def test_a_symlink_from_a_harmless_name_is_shown_as_the_secret_it_points_to(tmp_path: Path) -> None:
    secret = tmp_path / ".ssh" / "id_ed25519"
    secret.parent.mkdir()
    secret.write_text("key")
    (tmp_path / "notes.txt").symlink_to(secret)
    call = effective_call(READ, FileReadInput(path=str(tmp_path / "notes.txt")))
    assert call.audit() == {"path": str(secret)}
    assert f"which is {secret})" in question(READ, call)


def test_a_missing_path_is_taken_as_written_like_realpath(tmp_path: Path) -> None:
    missing = str(tmp_path / "not" / "there" / ".." / "here.md")
    assert effective_path(missing) == os.path.realpath(missing)


@pytest.mark.parametrize(
    "path",
    [
        "\\\\fileserver\\share\\report.docx",  # UNC
        "//fileserver/share/report.docx",
        "\\\\fileserver@SSL\\DavWWWRoot\\report.docx",  # WebDAV
        "\\\\?\\UNC\\fileserver\\share",
        "\\\\.\\PhysicalDrive0",
        "smb://fileserver/share",
        "/net/fileserver/export/file",
        "/Network/Servers/fileserver",
        "/dev/zero",
        "/proc/self/environ",
        "/sys/kernel",
        "/run/user/1000/gvfs/smb-share:server=fileserver,share=x/file",
    ],
)
def test_network_and_device_paths_never_reach_piecesos_even_from_a_read_tool(path: str) -> None:
    with pytest.raises(TargetRefusedError, match="only local files and folders"):
        effective_call(VERIFY, PathInput.model_construct(path=path))


@pytest.mark.parametrize("path", ["C:\\Users\\ana\\CON", "C:\\x\\nul.txt", "C:\\COM1:", "D:\\lpt¹.log"])
def test_windows_device_names_are_refused_on_windows(path: str) -> None:
    with pytest.raises(TargetRefusedError, match="Windows device"):
        effective_path(path, windows=True)


def test_a_symlink_into_a_network_tree_is_refused_before_it_is_followed_further(tmp_path: Path) -> None:
    """realpath would stat /net/host (and mount it) before anything could refuse it: each step is checked first."""
    touched: list[str] = []
    link = str(tmp_path / "harmless")

    def lstat(path: str) -> os.stat_result:
        touched.append(path)
        return os.lstat(path)

    os.symlink("/net/fileserver/export", link)
    with pytest.raises(TargetRefusedError, match="under /net"):
        resolve_posix(link + "/file", lstat, os.readlink)
    assert not any(path.startswith("/net") for path in touched)


def test_a_fifo_is_refused_as_a_target(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(TargetRefusedError, match="device, pipe or socket"):
        effective_path(str(fifo))


def test_a_relative_or_foreign_path_is_refused_on_this_system() -> None:
    with pytest.raises(TargetRefusedError, match="absolute path on this computer"):
        effective_path("C:\\Users\\ana\\notes.md", windows=False)


@pytest.mark.parametrize(
    ("url", "effective"),
    [
        ("https://docs.pieces.app/", "https://docs.pieces.app/"),
        ("HTTPS://Docs.Pieces.App:443/a/./b/../c?q=1#top", "https://docs.pieces.app/a/c?q=1#top"),
        ("http://example.com:8080", "http://example.com:8080/"),
        ("https://аррӏе.com/login", "https://xn--80ak6aa92e.com/login"),  # Cyrillic look-alike of apple.com
        ("https://ｅｘａｍｐｌｅ。ｃｏｍ/", "https://example.com/"),  # full-width letters and dot, as browsers map them
        ("http://１２７.０.０.１/", "http://127.0.0.1/"),
        ("http://[0:0::1]:9/", "http://[::1]:9/"),
        ("https://example.com/ünïcode", "https://example.com/%C3%BCn%C3%AFcode"),
    ],
)
def test_a_url_is_shown_as_the_browser_will_contact_it(url: str, effective: str) -> None:
    assert effective_url(url) == effective


@pytest.mark.parametrize(
    "url",
    [
        "https://docs.pieces.app@evil.example/",
        "https://docs.pieces.app%40evil.example/",  # an encoded @: urlsplit and browsers disagree on the host
        "https://docs.pieces.app%2540evil.example/",
        "https://user:password@docs.pieces.app/",
        "https://docs.pieces.app\\@evil.example/",  # a browser reads \ as /, urlsplit does not
        "https://docs.pieces.app\t@evil.example/",
        "https://evil%2Eexample/",
        "http://0x7f.1/",  # 127.0.0.1 to a browser
        "http://2130706433/",
        "http://0177.0.0.1/",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "https:evil.example",
        "https:///evil.example",
        "https://xn--a.com/",  # not valid punycode
        "https://exa mple.com/",
        "https://example.com:99999/",
    ],
)
def test_a_url_whose_host_is_hidden_or_ambiguous_is_refused(url: str) -> None:
    with pytest.raises(TargetRefusedError):
        effective_url(url)


def test_the_question_names_the_host_and_port_of_a_look_alike() -> None:
    call = effective_call(BROWSE, UrlInput(url="https://аррӏе.com/login"))
    text = question(BROWSE, call)
    assert "url: https://xn--80ak6aa92e.com/login (host xn--80ak6aa92e.com, port 443)" in text
    assert "(the assistant asked for https://аррӏе.com/login, which is https://xn--80ak6aa92e.com/login)" in text
    assert call.arguments.model_dump()["url"] == "https://xn--80ak6aa92e.com/login"


def test_values_are_shown_as_piecesos_receives_them() -> None:
    applet = BY_NAME["os_applet_launch"]
    assert question(applet, effective_call(applet, AppletInput(type="COPILOT"))).endswith('\ntype: "COPILOT"')


def test_an_argument_too_long_to_show_whole_is_refused_not_cut(tmp_path: Path) -> None:
    long_path = str(tmp_path) + "/" + "a" * 3000
    with pytest.raises(TargetRefusedError, match=f"more than the {SHOWN_LIMIT} a confirmation shows whole"):
        effective_call(READ, FileReadInput(path=long_path))
    fits = str(tmp_path) + "/" + "a" * (SHOWN_LIMIT - len(str(tmp_path)) - 1)
    assert len(fits) == SHOWN_LIMIT and fits in question(READ, effective_call(READ, FileReadInput(path=fits)))
    effective_call(VERIFY, PathInput(path=long_path))  # a read tool asks nobody: nothing to show


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("notes\u202etxt.exe", "notes\\u202etxt.exe"),  # right-to-left override
        ("a\u200bb", "a\\u200bb"),  # zero-width space
        ("line\nbreak", "line\\u000abreak"),
        ("e\u0301", "e\\u0301"),  # combining acute accent
        ("nbsp\u00a0here", "nbsp\\u00a0here"),
        ("ideographic\u3000space", "ideographic\\u3000space"),
        ("hangul\u3164filler", "hangul\\u3164filler"),
        ("tag\U000e0041", "tag\\U000e0041"),
        ("two  spaces", "two\\u0020\\u0020spaces"),
        (" edge ", "\\u0020edge\\u0020"),
        ("fake \\u202e escape", "fake \\u005cu202e escape"),
        ("My Documents\\Users", "My Documents\\Users"),  # ordinary text stays as it is
    ],
)
def test_invisible_blank_combining_and_direction_characters_are_escaped_visibly(text: str, shown: str) -> None:
    assert visible(text) == shown


def test_the_same_escaping_reaches_the_question(tmp_path: Path) -> None:
    trick = tmp_path / "report\u202etxt.exe"
    call = effective_call(READ, FileReadInput(path=str(trick)))
    text = question(READ, call)
    assert "\u202e" not in text and "report\\u202etxt.exe" in text
