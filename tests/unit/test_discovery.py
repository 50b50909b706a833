"""Discovery against real simulators: the port files of each OS, the scanned ports, the older ports.

Every test injects its own `Machine`: a home directory of its own, and ports it holds itself (bound, never
listening: refused, and no other process on the machine can take them), so no test reads the real port files
or probes the real range 39300-39399, which every process on the machine shares.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pieces_mcp import discovery
from pieces_mcp.config import Settings
from pieces_mcp.discovery import Machine
from pieces_mcp.doctor import run_doctor
from pieces_mcp.simulator import REAL_PORTS, RunningSimulator, start_in_thread
from tests.support import control_http, refused_ports

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

HEALTH = "/.well-known/health"
PORT_FILE = ("production", "Config", ".port.txt")


@pytest.fixture(scope="module")
def _three_simulators() -> Iterator[list[RunningSimulator]]:
    running = [start_in_thread(port=0) for _ in range(3)]
    yield running
    for simulator in running:
        simulator.stop()


@pytest.fixture
def running(_three_simulators: list[RunningSimulator]) -> list[RunningSimulator]:
    """Three simulators on ports of their own, started once for the module and reset for each test."""
    for simulator in _three_simulators:
        control_http().post(f"{simulator.url}/_simulator/reset").raise_for_status()
    return _three_simulators


@pytest.fixture
def dead() -> Iterator[list[int]]:
    """Four loopback ports that refuse connections for the whole test."""
    with refused_ports(4) as ports:
        yield ports


def machine_with(home: Path, dead: list[int], *alive: int, platform: str = "linux", **environ: str) -> Machine:
    """A machine whose scanned ports are `dead` plus `alive`; its older ports refuse too."""
    return Machine(home, environ, platform, scan_ports=(*dead[:2], *alive), legacy_ports=tuple(dead[2:]))


def announce(path: Path, text: str) -> None:
    """Write a port file as PiecesOS does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


async def find(machine: Machine) -> discovery.Found | None:
    async with httpx.AsyncClient() as http:
        return await discovery.find(http, machine)


async def test_nothing_running_finds_nothing(tmp_path: Path, dead: list[int]) -> None:
    assert await find(machine_with(tmp_path, dead)) is None


async def test_the_lowest_healthy_port_of_the_scanned_ones_wins(
    tmp_path: Path, dead: list[int], running: list[RunningSimulator]
) -> None:
    ports = [simulator.port for simulator in running]
    found = await find(machine_with(tmp_path, dead, *ports))
    assert found is not None and found.url == f"http://127.0.0.1:{min(ports)}"
    assert found.how.startswith("discovered: scanning ports ")


async def test_the_older_ports_are_tried_when_the_range_is_empty(
    tmp_path: Path, dead: list[int], running: list[RunningSimulator]
) -> None:
    [old] = running[:1]
    machine = Machine(tmp_path, {}, "linux", scan_ports=tuple(dead), legacy_ports=(old.port,))
    found = await find(machine)
    assert found == discovery.Found(old.url, f"discovered on {old.port}, the port of PiecesOS 10.1.15 or older")


async def test_an_open_port_that_is_not_piecesos_is_skipped(
    tmp_path: Path, dead: list[int], running: list[RunningSimulator]
) -> None:
    other, piecesos = sorted(running[:2], key=lambda simulator: simulator.port)
    # The lower port answers health with a 500: something else listens there.
    async with httpx.AsyncClient() as control:
        planted = await control.post(f"{other.url}/_simulator/faults", json={"path": HEALTH, "times": 0})
    planted.raise_for_status()
    found = await find(machine_with(tmp_path, dead, other.port, piecesos.port))
    assert found is not None and found.url == piecesos.url


# --- the port files ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "environ", "expected"),
    [
        ("darwin", {}, ["Library/com.pieces.os"]),
        (
            "win32",
            {},
            ["AppData/Local/Mesh Intelligent Technologies, Inc/Pieces OS/com.pieces.os", "Documents/com.pieces.os"],
        ),
        (
            "win32",
            {"LOCALAPPDATA": "{home}/Local", "USERPROFILE": "{home}/Profile"},
            ["Local/Mesh Intelligent Technologies, Inc/Pieces OS/com.pieces.os", "Profile/Documents/com.pieces.os"],
        ),
        ("linux", {}, [".local/share/com.pieces.os", "Documents/com.pieces.os"]),
        ("linux", {"XDG_DATA_HOME": "{home}/data"}, ["data/com.pieces.os", "Documents/com.pieces.os"]),
        # The XDG Base Directory specification: a relative value is ignored.
        ("linux", {"XDG_DATA_HOME": "data"}, [".local/share/com.pieces.os", "Documents/com.pieces.os"]),
        ("freebsd14", {}, [".local/share/com.pieces.os", "Documents/com.pieces.os"]),
    ],
    ids=["macos", "windows", "windows-env", "linux", "linux-xdg", "linux-relative-xdg", "other-unix"],
)
def test_the_port_files_are_every_documented_place_newest_first(
    tmp_path: Path, platform: str, environ: dict[str, str], expected: list[str]
) -> None:
    environ = {key: value.format(home=tmp_path) for key, value in environ.items()}
    machine = Machine(tmp_path, environ, platform)
    assert machine.port_files() == tuple(tmp_path / folder / Path(*PORT_FILE) for folder in expected)


@pytest.mark.parametrize(
    ("platform", "environ"),
    [("darwin", {}), ("win32", {"LOCALAPPDATA": "{home}/Local"}), ("linux", {"XDG_DATA_HOME": "{home}/data"})],
)
async def test_the_newest_port_file_wins_over_the_older_one_and_the_range(
    tmp_path: Path, dead: list[int], running: list[RunningSimulator], platform: str, environ: dict[str, str]
) -> None:
    environ = {key: value.format(home=tmp_path) for key, value in environ.items()}
    [newest, older, scanned] = running[:3]
    machine = machine_with(tmp_path, dead, scanned.port, platform=platform, **environ)
    files = machine.port_files()
    announce(files[0], f"{newest.port}\n")
    if len(files) > 1:
        announce(files[1], str(older.port))
    found = await find(machine)
    assert found == discovery.Found(newest.url, f"discovered: the port file {files[0]}")


@pytest.mark.parametrize("newest", [None, "", "null", "not a port", "-1", "70000", "39300 39301", "dead"])
async def test_an_unusable_newest_port_file_means_the_older_one(
    tmp_path: Path, dead: list[int], running: list[RunningSimulator], newest: str | None
) -> None:
    [older, scanned] = running[:2]
    machine = machine_with(tmp_path, dead, scanned.port)
    files = machine.port_files()
    if newest is not None:
        announce(files[0], str(dead[0]) if newest == "dead" else newest)
    announce(files[1], str(older.port))
    found = await find(machine)
    assert found == discovery.Found(older.url, f"discovered: the port file {files[1]}")


@pytest.mark.parametrize("text", [None, "null", "dead"])
async def test_no_usable_port_file_means_scanning(
    tmp_path: Path, dead: list[int], running: list[RunningSimulator], text: str | None
) -> None:
    """`null` is what a PiecesOS that has not chosen a port yet leaves there (support#641)."""
    [scanned] = running[:1]
    machine = machine_with(tmp_path, dead, scanned.port)
    for path in machine.port_files():
        if text is not None:
            announce(path, str(dead[1]) if text == "dead" else text)
    found = await find(machine)
    assert found is not None and found.url == scanned.url and "scanning" in found.how


def test_a_port_file_says_what_it_holds(tmp_path: Path) -> None:
    path = tmp_path / ".port.txt"
    assert discovery.read_port_file(path) == (None, "missing")
    for text, expected in [("39301\n", (39301, "port 39301")), ("null", (None, "null")), ("", (None, "empty"))]:
        path.write_text(text)
        assert discovery.read_port_file(path) == expected
    path.write_text("0")
    assert discovery.read_port_file(path) == (None, "not a port")


@pytest.mark.parametrize(("status", "text", "healthy"), [(200, "OK:5f0c", True), (200, "", True), (503, "ok", False)])
async def test_any_200_from_health_is_healthy(status: int, text: str, healthy: bool) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(status, text=text))
    async with httpx.AsyncClient(transport=transport) as http:
        assert await discovery.is_healthy(http, "http://127.0.0.1:39300") is healthy


# --- the scanned range, and doctor --------------------------------------------------------------


def test_the_scanned_range_is_the_hundred_ports_pieces_products_check_then_the_older_two() -> None:
    """support#597: "starts their checks at 39300 and checks 100 ports"; the C# SDK's 39300-39333 is inside."""
    assert Machine(Path("/nowhere")).scan_ports == range(39300, 39400)
    assert set(range(39300, 39334)) <= set(discovery.SCAN_PORTS)
    assert tuple(discovery.LEGACY_PORTS) == (1000, 5323)


def test_the_not_running_sentence_names_every_place_looked(tmp_path: Path) -> None:
    where = Machine(tmp_path, {}, "linux").where_looked()
    assert where == (
        f"at the port in {tmp_path}/.local/share/com.pieces.os/production/Config/.port.txt or "
        f"{tmp_path}/Documents/com.pieces.os/production/Config/.port.txt, on ports 39300-39399, 1000 or 5323"
    )


async def test_doctor_says_which_port_file_it_read(
    tmp_path: Path, dead: list[int], running: list[RunningSimulator], capsys: pytest.CaptureFixture[str]
) -> None:
    [announced] = running[:1]
    machine = machine_with(tmp_path, dead)
    newest, older = machine.port_files()
    announce(newest, "null")
    announce(older, str(announced.port))
    code = await run_doctor(Settings(), machine)
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"port file      {newest} (null); {older} (port {announced.port})" in out
    assert f"PiecesOS       {announced.url} (discovered: the port file {older})" in out


async def test_doctor_with_nothing_found_names_every_place_and_not_itself(
    tmp_path: Path, dead: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    machine = machine_with(tmp_path, dead)
    code = await run_doctor(Settings(), machine)
    captured = capsys.readouterr()
    assert code == 1
    assert f"Problem: PiecesOS is not running: nothing answered {machine.where_looked()}" in captured.err
    assert "pieces-mcp doctor" not in captured.err
    assert re.search(r"^port file\s+.*\(missing\); .*\(missing\)$", captured.out, re.MULTILINE)


def test_a_current_simulator_on_real_ports_listens_in_the_scanned_range() -> None:
    """The simulator's `--port real` is the subject: it takes the first free of 39300-39333 (binding one real
    port is what it is for); discovery then finds it among the scanned ports."""
    with start_in_thread(api="current", port=REAL_PORTS) as real:
        assert 39300 <= real.port <= 39333 and real.port in discovery.SCAN_PORTS
