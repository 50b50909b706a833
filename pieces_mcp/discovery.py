"""Finding PiecesOS on this machine, in the vendor's order: the port files, today's range, the older ports.

1. The port PiecesOS wrote to `<data folder>/production/Config/.port.txt`, reading every documented data
   folder, newest first (`Machine.port_files`). A Pieces engineer names
   `%LOCALAPPDATA%\\Mesh Intelligent Technologies, Inc\\Pieces OS\\com.pieces.os\\production\\Config\\.port.txt`
   as *the* port file (pieces-app/support#993, 2026-01); Pieces' documentation puts the data folder in
   `~/Library/com.pieces.os` (macOS) and `~/.local/share/com.pieces.os` (Linux, `$XDG_DATA_HOME`); older
   installs, and the C# client (pieces-app/pieces-os-client-sdk-for-csharp, src/Client/PiecesClient.cs,
   `GetConfigFilePath`), use `~/Documents/com.pieces.os` on Windows and Linux. A file may hold `null`
   (support#641): that, a missing, empty or unusable file, or a port that does not answer, means the next
   file, then scanning.
2. Ports 39300-39399 (`SCAN_PORTS`), all at once. Pieces' engineers say "all connected products have a
   port-finding algorithm that starts their checks at 39300 and checks 100 ports" (support#597), so PiecesOS
   may take any of the hundred; the C# client's 39300-39333 (PR #16) is the first third of it. Probing the
   other 66 costs one refused loopback connection each, in parallel.
3. The fixed ports of PiecesOS 10.1.15 and earlier, 1000 (macOS, Windows) and 5323 (Linux) (`LEGACY_PORTS`;
   C# client `GetBaseUrlAsync`). Today's PiecesOS keeps them only to prompt old clients to update
   (support#993); pieces-mcp still speaks those old generations, so a PiecesOS found there is used, and
   `found_by` says it is old. Both ports are probed on every system: one refused connection to rule out.

Everything machine-wide (the home directory, the environment, the platform, the ports) is a `Machine`, so a
test injects its own: no test reads the real port files or probes the real range, which every process on the
machine shares.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import httpx

from pieces_mcp import LOOPBACK

SCAN_PORTS: Sequence[int] = range(39300, 39400)
LEGACY_PORTS: Sequence[int] = (1000, 5323)
HOST = LOOPBACK
# The vendor's own discovery uses 50 ms and 100 ms; a loaded machine needs a little more slack.
CONNECT_PROBE_S = 0.25
HEALTH_PROBE_S = 1.0
PORT_FILE_IN_DATA_FOLDER = ("production", "Config", ".port.txt")
DATA_FOLDER = "com.pieces.os"
# support#993: the folder the Windows installer of today's PiecesOS uses under %LOCALAPPDATA%.
WINDOWS_VENDOR_FOLDER = ("Mesh Intelligent Technologies, Inc", "Pieces OS")


@dataclass(frozen=True)
class Machine:
    """Where PiecesOS may have said which port it is on, and which ports to try: `Machine.this()` by default."""

    home: Path
    environ: Mapping[str, str] = field(default_factory=dict)
    platform: str = sys.platform
    scan_ports: Sequence[int] = SCAN_PORTS
    legacy_ports: Sequence[int] = LEGACY_PORTS

    @classmethod
    def this(cls) -> Machine:
        """This machine as the running program sees it (HOME, or USERPROFILE on Windows, moves the home)."""
        return cls(Path.home(), os.environ, sys.platform)

    def _folder_from(self, variable: str, default: Path) -> Path:
        # An unset, empty or relative value is ignored, as the XDG Base Directory specification says.
        value = self.environ.get(variable, "")
        return Path(value) if value and Path(value).is_absolute() else default

    def data_folders(self) -> tuple[Path, ...]:
        """PiecesOS's data folders, newest first (module docstring; Pieces' docs, support#993)."""
        if self.platform == "darwin":
            return (self.home / "Library" / DATA_FOLDER,)
        if self.platform == "win32":
            local = self._folder_from("LOCALAPPDATA", self.home / "AppData" / "Local")
            profile = self._folder_from("USERPROFILE", self.home)
            return (local.joinpath(*WINDOWS_VENDOR_FOLDER, DATA_FOLDER), profile / "Documents" / DATA_FOLDER)
        data_home = self._folder_from("XDG_DATA_HOME", self.home / ".local" / "share")
        return (data_home / DATA_FOLDER, self.home / "Documents" / DATA_FOLDER)

    def port_files(self) -> tuple[Path, ...]:
        return tuple(folder.joinpath(*PORT_FILE_IN_DATA_FOLDER) for folder in self.data_folders())

    def where_looked(self) -> str:
        """The places discovery tries, for a "not running" sentence."""
        files = " or ".join(str(path) for path in self.port_files())
        legacy = " or ".join(str(port) for port in self.legacy_ports)
        return f"at the port in {files}, on ports {_ports_text(self.scan_ports)}, {legacy}"


def _ports_text(ports: Sequence[int]) -> str:
    if isinstance(ports, range) and ports.step == 1 and len(ports) > 2:
        return f"{ports.start}-{ports.stop - 1}"
    return ", ".join(str(port) for port in ports)


@dataclass(frozen=True)
class Found:
    url: str
    # How it was found, in words `doctor` shows: which port file, or which ports were scanned.
    how: str


def read_port_file(path: Path) -> tuple[int | None, str]:
    """The port in a port file (None when the file is missing, empty, `null` or anything but a port), and
    what the file holds in words, for `doctor`."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    except FileNotFoundError:
        return None, "missing"
    except OSError as error:
        return None, f"unreadable ({error.strerror or type(error).__name__})"
    if text.isdigit() and 0 < int(text) < 65536:
        return int(text), f"port {int(text)}"
    # "", "null" (support#641), junk, a negative number
    return None, "empty" if not text else ("null" if text == "null" else "not a port")


def announced_port(path: Path) -> int | None:
    """The port in a port file; None when the file is missing, empty, `null` or anything but a port."""
    return read_port_file(path)[0]


async def is_healthy(http: httpx.AsyncClient, base_url: str) -> bool:
    """True when `/.well-known/health` answers 200, whatever the text.

    The vendor's discovery counts any 200 (pieces-app/pieces-os-client-sdk-for-python,
    src/pieces_os_client/wrapper/client.py `is_pieces_running`: `response.status == 200`; the C# client
    takes any non-null answer). PiecesOS answers "OK" and an id; older versions answered "ok".
    """
    try:
        response = await http.get(f"{base_url}/.well-known/health", timeout=HEALTH_PROBE_S)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


async def _port_open(port: int) -> bool:
    with anyio.move_on_after(CONNECT_PROBE_S):
        try:
            stream = await anyio.connect_tcp(HOST, port)
        except OSError:
            return False
        await stream.aclose()
        return True
    return False


async def find(http: httpx.AsyncClient, machine: Machine | None = None) -> Found | None:
    """PiecesOS's base URL and how it was found: the first port file whose port answers, else the lowest
    healthy port of the range, else of the older ports; None when nothing answers."""
    machine = machine or Machine.this()
    for path in machine.port_files():
        port = announced_port(path)
        if port is not None and await is_healthy(http, f"http://{HOST}:{port}"):
            return Found(f"http://{HOST}:{port}", f"discovered: the port file {path}")
    healthy = await _healthy_ports(http, machine.scan_ports)
    if healthy:
        return Found(f"http://{HOST}:{min(healthy)}", f"discovered: scanning ports {_ports_text(machine.scan_ports)}")
    healthy = await _healthy_ports(http, machine.legacy_ports)
    if healthy:
        port = min(healthy)
        return Found(f"http://{HOST}:{port}", f"discovered on {port}, the port of PiecesOS 10.1.15 or older")
    return None


async def discover(http: httpx.AsyncClient, machine: Machine | None = None) -> str | None:
    """The base URL of PiecesOS (`find` without the how); None when nothing answers."""
    found = await find(http, machine)
    return None if found is None else found.url


async def _healthy_ports(http: httpx.AsyncClient, ports: Iterable[int]) -> list[int]:
    healthy: list[int] = []

    async def probe(port: int) -> None:
        if await _port_open(port) and await is_healthy(http, f"http://{HOST}:{port}"):
            healthy.append(port)

    async with anyio.create_task_group() as group:
        for port in ports:
            group.start_soon(probe, port)
    return healthy
