"""The effective target of a call: what PiecesOS will act on, worked out here from what the model sent.

The person approves what will happen, not the model's words: a path is made absolute with `.`, `..` and
symlinks resolved on this machine (PiecesOS runs on it), a URL is taken apart the way a browser reads it
(scheme, host in ASCII, port, path), and every other argument is shown as PiecesOS receives it. The call then
sends the effective target itself, so what was shown is what runs. Each catalog entry declares which of its
arguments is a path, a URL or a plain value (`Endpoint.arguments`); nothing here names a tool.

Refused before anything is asked or sent, each with one sentence: network and device paths (from every tool
that takes a path, read tools too: a read must not make this machine contact another host), URLs with user
info or a host a browser would read differently, and for guarded tools anything too long to show whole.
"""

from __future__ import annotations

import ipaddress
import json
import ntpath
import os
import posixpath
import re
import stat
import sys
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import idna

from pieces_mcp.catalog import ArgumentKind, Endpoint
from pieces_mcp.models.base import ToolInput

# Characters of one argument, as shown (after escaping): more is refused, never cut. A question names the
# assistant's text and the effective target both, so a dialog holds at most about three times this.
SHOWN_LIMIT = 1000
HEADING = "What it acts on, as pieces-mcp will send it to PiecesOS (the assistant chose it, not pieces-mcp):"
LINK_LIMIT = 40  # symlinks followed in one path, as Linux's own limit (path_resolution(7))

# Blank-looking letters that no category marks as space (Hangul fillers, braille blank, Mongolian vowel
# separator, object replacement).
BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e\ufffc")
# Control, format (direction marks, zero-width joiners, tags), private, surrogate, unassigned, separators
# other than the plain space, and every combining mark.
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp", "Zs", "Mn", "Me", "Mc"})

FAKE_ESCAPE = re.compile(r"\\(?:u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8})")  # what `visible` itself writes

# POSIX trees that are devices, kernel views or network mounts: /net and /Network are the automounter's
# hosts maps on Linux and macOS (auto.master(5), automount(8)); GVfs mounts smb:// and dav:// shares under
# /run/user/UID/gvfs (gvfsd-fuse(1)).
DEVICE_TREES = ("/dev", "/proc", "/sys", "/net", "/Network")
GVFS = re.compile(r"^/(?:var/)?run/user/[^/]+/gvfs(?:/|$)")
# Windows reserves these names in every folder, with any extension (learn.microsoft.com, "Naming Files,
# Paths, and Namespaces"); superscript digits count too.
WINDOWS_DEVICES = re.compile(r"^(?:CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³]|CONIN\$|CONOUT\$|CLOCK\$)$", re.IGNORECASE)
URL_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")  # smb:, file:, dav: ... (one letter is a drive)
DEFAULT_PORTS = {"http": 80, "https": 443}
HOST_CHARACTERS = re.compile(r"^[a-z0-9._-]+$")
# Printable ASCII without the space: everything a URL may carry as itself; the rest is percent-encoded.
URL_SAFE = "".join(chr(code) for code in range(0x21, 0x7F))


class TargetRefusedError(ValueError):
    """An argument PiecesOS must not receive, or one too long to show whole; the message is the sentence."""


def visible(text: str) -> str:
    """`text` with every character that could hide or fake something escaped as \\uXXXX (one rule for all).

    Also a space at either end or next to another space (a dialog would not show it), and a backslash that
    starts what looks like an escape, so a literal "\\u202e" cannot pass for one.
    """
    shown = []
    last = len(text) - 1
    for index, char in enumerate(text):
        if char == " ":
            hidden = index in (0, last) or text[index - 1] == " " or text[index + 1] == " "
        elif char == "\\":
            hidden = bool(FAKE_ESCAPE.match(text, index))
        else:
            hidden = char in BLANK_LETTERS or unicodedata.category(char) in HIDDEN_CATEGORIES
        if hidden:
            code = ord(char)
            shown.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            shown.append(char)
    return "".join(shown)


@dataclass(frozen=True)
class Shown:
    """One argument as the person sees it: the effective value, and the assistant's when that differs."""

    name: str
    effective: str
    asked: str
    note: str = ""  # for a URL, where the browser goes: "host xn--80ak6aa92e.com, port 443"

    def lines(self) -> list[str]:
        effective = visible(self.effective)
        line = f"{self.name}: {effective}" + (f" ({self.note})" if self.note else "")
        if self.asked == self.effective:
            return [line]
        return [line, f"(the assistant asked for {visible(self.asked)}, which is {effective})"]


@dataclass(frozen=True)
class EffectiveCall:
    """The arguments to send (paths and URLs replaced by their effective form) and what to show of them."""

    arguments: ToolInput
    shown: tuple[Shown, ...] = ()

    def block(self) -> str:
        """The part of the question that names the target, or nothing for a tool without arguments."""
        if not self.shown:
            return ""
        return "\n\n" + "\n".join([HEADING, *(line for item in self.shown for line in item.lines())])

    def audit(self) -> dict[str, str]:
        """The effective target, for the audit line: what the person approved, not the raw argument."""
        return {item.name: item.effective for item in self.shown}


def effective_call(endpoint: Endpoint, arguments: ToolInput) -> EffectiveCall:
    """Work out what `endpoint` will act on; raises `TargetRefusedError` with the sentence when it must not."""
    if not endpoint.targets:  # nothing to work out or show (most read tools): the arguments as they are
        return EffectiveCall(arguments)
    updates: dict[str, Any] = {}
    shown: list[Shown] = []
    given = arguments.model_dump(mode="json")
    for name, kind in endpoint.targets.items():
        value = getattr(arguments, name)
        if value is None:
            continue
        note = ""
        try:
            if kind is ArgumentKind.PATH:
                updates[name] = effective = effective_path(value)
            elif kind is ArgumentKind.URL:
                updates[name] = effective = effective_url(value)
                note = "host {}, port {}".format(*browser_destination(effective))
            else:
                effective = json.dumps(given[name], ensure_ascii=False)
        except TargetRefusedError as exc:
            raise TargetRefusedError(f"{endpoint.name} did not run: its {name} {exc}") from None
        asked = value if kind is not ArgumentKind.VALUE else effective
        if endpoint.guarded:
            _fits_whole(endpoint, name, asked, effective)
        shown.append(Shown(name, effective, asked, note))
    return EffectiveCall(arguments.model_copy(update=updates) if updates else arguments, tuple(shown))


def _fits_whole(endpoint: Endpoint, name: str, asked: str, effective: str) -> None:
    longest = max(len(visible(asked)), len(visible(effective)))
    if longest > SHOWN_LIMIT:
        raise TargetRefusedError(
            f"{endpoint.name} did not run: its {name} is {longest} characters long as shown, more than the "
            f"{SHOWN_LIMIT} a confirmation shows whole (nothing decisive is ever cut); use a shorter one."
        )


# ---------------------------------------------------------------------------------------------
# Paths.


def effective_path(path: str, *, windows: bool | None = None) -> str:
    """The absolute path PiecesOS will open, symlinks followed; refuses network and device paths."""
    windows = sys.platform == "win32" if windows is None else windows
    _refuse_written_forms(path)
    if windows:
        _refuse_windows_devices(path)
        if not ntpath.isabs(path) or not ntpath.splitdrive(path)[0]:
            raise TargetRefusedError("must be an absolute path with a drive letter, like C:\\Users\\ana\\notes.md")
        resolved = ntpath.realpath(path)  # a mapped network drive resolves to \\host\share: refused below
        _refuse_written_forms(resolved)
        _refuse_windows_devices(resolved)
        return resolved
    if not path.startswith("/"):
        raise TargetRefusedError("must be an absolute path on this computer, like /home/ana/notes.md")
    resolved = resolve_posix(path, os.lstat, os.readlink)
    _refuse_special_file(resolved)
    return resolved


def _refuse_written_forms(path: str) -> None:
    """Network and device forms that are visible in the text itself, on any system."""
    if "\x00" in path:
        raise TargetRefusedError("holds a NUL character, which no file name can")
    if path[:2].replace("\\", "/") == "//":
        # \\host\share, //host/share, \\host@SSL\DavWWWRoot (WebDAV), \\?\UNC\host, \\.\device, \\?\C:\...
        raise TargetRefusedError(
            "is a network or device path (it starts with two slashes or backslashes): only local files and folders"
        )
    if URL_LIKE.match(path):
        raise TargetRefusedError("is a URL (smb:, file:, ...), not a local path: only local files and folders")


def _refuse_windows_devices(path: str) -> None:
    """CON, NUL, COM1 ... in any folder and with any extension open a device on Windows (on Linux, a file)."""
    for part in re.split(r"[\\/]", path):
        stem = part.split(".")[0].split(":")[0].rstrip(" ")
        if WINDOWS_DEVICES.match(stem):
            raise TargetRefusedError(f"names the Windows device {stem!r}: only local files and folders")


def _refuse_device_tree(path: str) -> None:
    for tree in DEVICE_TREES:
        if path == tree or path.startswith(tree + "/"):
            raise TargetRefusedError(
                f"is under {tree}, a device, kernel or network tree ({path}): only local files and folders"
            )
    if GVFS.match(path):
        raise TargetRefusedError(f"is a network share mounted by GVfs ({path}): only local files and folders")


def resolve_posix(path: str, lstat: Callable[[str], os.stat_result], readlink: Callable[[str], str]) -> str:
    """`os.path.realpath`, one component at a time, refusing a device or network tree before touching it.

    realpath itself would first look at what a symlink points to, and looking at /net/host mounts it.
    A component that does not exist is taken as written, as realpath does.
    """
    pending = [part for part in reversed(path.split("/")) if part]
    resolved = "/"
    links = 0
    while pending:
        part = pending.pop()
        if part == ".":
            continue
        if part == "..":
            resolved = posixpath.dirname(resolved)
            continue
        candidate = posixpath.join(resolved, part)
        _refuse_device_tree(candidate)
        try:
            mode = lstat(candidate).st_mode
        except OSError:
            resolved = candidate
            continue
        if not stat.S_ISLNK(mode):
            resolved = candidate
            continue
        links += 1
        if links > LINK_LIMIT:
            raise TargetRefusedError(f"goes through more than {LINK_LIMIT} symbolic links (a loop?)")
        target = readlink(candidate)
        _refuse_written_forms(target)
        if target.startswith("/"):
            resolved = "/"
        pending.extend(part for part in reversed(target.split("/")) if part)
    _refuse_device_tree(resolved)
    return resolved


def _refuse_special_file(path: str) -> None:
    """A device, pipe or socket anywhere (mknod, mkfifo): reading one blocks or talks to something else."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # missing or not ours to see: PiecesOS says so
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        raise TargetRefusedError(f"is a device, pipe or socket ({path}), not a file or folder")


# ---------------------------------------------------------------------------------------------
# URLs.


def effective_url(url: str) -> str:
    """The address as a browser will contact it: scheme://ascii-host[:port]/path?query#fragment.

    Read the way browsers read it (WHATWG URL), not the way `urlsplit` does where the two differ: a browser
    drops tabs and newlines, reads a backslash as a slash and percent-decodes the host, so "http://a.com\\@b.com"
    and "http://a.com%40b.com" go to a.com for one and b.com for the other. Those forms are refused, as is any
    user info (`user@host`, however written).
    """
    if any(char.isspace() or unicodedata.category(char) in ("Cc", "Cf") for char in url):
        raise TargetRefusedError("holds spaces, line breaks or invisible characters, which browsers drop or read apart")
    if "\\" in url:
        raise TargetRefusedError("holds a backslash, which browsers read as a slash: write / instead")
    scheme, colon, rest = url.partition(":")
    scheme = scheme.lower()
    if not colon or scheme not in DEFAULT_PORTS:
        raise TargetRefusedError("must be an http:// or https:// address")
    if not rest.startswith("//") or rest.startswith("///"):
        raise TargetRefusedError(f"must be written {scheme}://host/...")
    authority, tail = _split_authority(rest[2:])
    if "@" in authority or "%" in authority:
        raise TargetRefusedError(
            "names a user or password before the host, or hides one with %-encoding (such as %40 for @): refused, "
            "since the page it opens would not be the one it seems to name"
        )
    host, port = _host_and_port(authority, DEFAULT_PORTS[scheme])
    shown_port = "" if port == DEFAULT_PORTS[scheme] else f":{port}"
    return f"{scheme}://{host}{shown_port}{_browser_tail(tail)}"


def browser_destination(url: str) -> tuple[str, int]:
    """The host and port an effective URL (from `effective_url`) makes the browser contact."""
    scheme, _, rest = url.partition("://")
    authority, _ = _split_authority(rest)
    return _host_and_port(authority, DEFAULT_PORTS[scheme])


def _split_authority(text: str) -> tuple[str, str]:
    cut = min((index for index in (text.find(mark) for mark in "/?#") if index >= 0), default=len(text))
    return text[:cut], text[cut:]


def _host_and_port(authority: str, default_port: int) -> tuple[str, int]:
    if authority.startswith("["):
        inside, bracket, after = authority[1:].partition("]")
        try:
            host = f"[{ipaddress.IPv6Address(inside).compressed}]"
        except ValueError:
            raise TargetRefusedError("has an IPv6 address a browser would not accept") from None
        if not bracket or (after and not after.startswith(":")):
            raise TargetRefusedError("has an IPv6 address a browser would not accept")
        port_text = after[1:]
    else:
        name, _, port_text = authority.partition(":")
        host = ascii_host(name)
    if port_text == "":
        return host, default_port
    if not port_text.isascii() or not port_text.isdigit() or int(port_text) > 65535:
        raise TargetRefusedError("has a port that is not a number from 0 to 65535")
    return host, int(port_text)


def ascii_host(name: str) -> str:
    """The host a browser contacts, in ASCII: IDNA (UTS #46, as browsers map it) so a look-alike shows as itself."""
    if not name:
        raise TargetRefusedError("has no host")
    try:
        host = name.lower() if name.isascii() else idna.encode(name, uts46=True, transitional=False).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise TargetRefusedError("has a host name that is not a valid international domain name") from None
    if not HOST_CHARACTERS.match(host):
        raise TargetRefusedError("has a host with characters a browser would refuse or read differently")
    if "xn--" in host:  # real punycode, or the person is shown a name that means nothing
        try:
            idna.decode(host.rstrip("."))
        except (idna.IDNAError, UnicodeError):
            raise TargetRefusedError("has a host name that is not a valid international domain name") from None
    labels = host.rstrip(".").split(".")
    if re.fullmatch(r"[0-9]+|0x[0-9a-f]*", labels[-1]):
        # Browsers read 0x7f.1, 0177.0.0.1 and 2130706433 as 127.0.0.1 (WHATWG URL, IPv4 parser).
        try:
            address = ipaddress.IPv4Address(host)
        except ValueError:
            address = None
        if address is None or str(address) != host:
            raise TargetRefusedError("has a numeric host not written as four decimal numbers like 192.0.2.7")
    return host


def _browser_tail(tail: str) -> str:
    """Path, query and fragment as the browser sends them: dot segments resolved, non-ASCII percent-encoded."""
    path, mark, after = tail, "", ""
    for index, char in enumerate(tail):
        if char in "?#":
            path, mark, after = tail[:index], char, tail[index + 1 :]
            break
    segments: list[str] = []
    parts = path.split("/")[1:] if path else [""]
    for index, segment in enumerate(parts):
        single = segment.lower() in (".", "%2e")
        double = segment.lower() in ("..", ".%2e", "%2e.", "%2e%2e")
        if double and segments:
            segments.pop()
        if single or double:
            if index == len(parts) - 1:
                segments.append("")
            continue
        segments.append(segment)
    resolved = "/" + "/".join(segments)
    return quote(resolved + mark + after, safe=URL_SAFE)


__all__ = [
    "HEADING",
    "SHOWN_LIMIT",
    "EffectiveCall",
    "Shown",
    "TargetRefusedError",
    "ascii_host",
    "browser_destination",
    "effective_call",
    "effective_path",
    "effective_url",
    "resolve_posix",
    "visible",
]
