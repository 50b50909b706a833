"""Reading and writing a client's configuration file safely: a lock for concurrent installs, a dated backup that
is never overwritten, a refusal for read-only files, and an atomic replace so a crash never truncates."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from filelock import FileLock, Timeout

from pieces_mcp.install.errors import InstallError

LOCK_TIMEOUT_S = 30.0


def _lock_dir() -> Path:
    """A per-user place for lock files, so nothing is left beside the person's configuration."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "pieces-mcp" / "locks"


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the install lock for `path` (its real file, so a symlink and its target share one lock)."""
    key = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:24]
    directory = _lock_dir()
    directory.mkdir(parents=True, exist_ok=True)
    try:
        with FileLock(directory / f"{key}.lock", timeout=LOCK_TIMEOUT_S):
            yield
    except Timeout:
        raise InstallError(
            f"another pieces-mcp install has held the lock on {path} for {LOCK_TIMEOUT_S:.0f} s. "
            "It was not changed; try again."
        ) from None


def target_of(path: Path) -> Path:
    """Write through a symlink (dotfile managers) instead of replacing the link with a plain file."""
    return path.resolve() if path.is_symlink() else path


def refuse_missing_folder(path: Path) -> None:
    """`--config` names a file the person chose: a folder that is not there is more likely a typo than a wish,
    so it is not made (the client's usual place is: the client makes it too, on its first start)."""
    if not path.parent.is_dir():
        raise InstallError(
            f"the folder {path.parent} does not exist, so {path} was not created. "
            "Check the path, or make the folder first."
        )


def read_text(path: Path) -> str:
    """'' for a missing file; utf-8-sig because some Windows editors write a BOM.

    Opened without blocking and checked to be a regular file before reading: a FIFO would block open() and
    read() until someone writes to it, a device would never end."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        return ""
    except IsADirectoryError:  # Windows cannot open a folder at all
        raise InstallError(f"{path} is a folder, not a configuration file. It was not changed.") from None
    except OSError as exc:
        raise InstallError(f"cannot read {path}: {exc.strerror or exc}. It was not changed.") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):  # O_NONBLOCK has no effect on a regular file's reads
            kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file (a pipe or a device)"
            raise InstallError(f"{path} is {kind}, not a configuration file. It was not changed.")
        with open(fd, encoding="utf-8-sig", newline="", closefd=False) as handle:  # newline="": CRLF stays CRLF
            return handle.read()
    except UnicodeDecodeError as exc:
        raise InstallError(f"{path} is not UTF-8 text ({exc.reason}). It was not changed.") from None
    except OSError as exc:
        raise InstallError(f"cannot read {path}: {exc.strerror or exc}. It was not changed.") from None
    finally:
        os.close(fd)


def refuse_read_only(path: Path) -> None:
    """A file the person made read-only is theirs to keep so: the atomic rename would replace it regardless.

    The mode bits are checked as well as access(), since root may write anything."""
    target = target_of(path)
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        return
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(target, os.W_OK):
        raise InstallError(
            f"{path} is read-only, so it was not changed. Make it writable (chmod u+w on Linux and macOS, "
            "Properties > uncheck Read-only on Windows) and run install again, or use --dry-run to see the result."
        )


def backup(path: Path) -> Path:
    """Copy the file to `NAME.YYYYMMDD-HHMMSS-micro.bak` beside it; never over an existing backup."""
    target = target_of(path)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")  # sorts by time, even two changes in one second
    for attempt in range(1, 1000):
        suffix = "" if attempt == 1 else f"-{attempt}"
        candidate = path.with_name(f"{path.name}.{stamp}{suffix}.bak")
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as handle:
            handle.write(target.read_bytes())
        shutil.copymode(target, candidate)  # a private file (~/.claude.json is 0600) keeps a private backup
        return candidate
    raise InstallError(f"could not find a free backup name beside {path}. It was not changed.")


def write_atomic(path: Path, text: str) -> None:
    target = target_of(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        if target.exists():
            shutil.copymode(target, temp)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
