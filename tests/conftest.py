"""Fixtures: one simulator process per API generation for the session, reset before each test (and, for a
module that asks, `simulators`: one per generation in threads); no test's discovery sees the machine's real port
files or ports."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pieces_mcp.catalog import GENERATIONS, Generation
from pieces_mcp.discovery import Machine
from pieces_mcp.install import files as install_files
from pieces_mcp.simulator import RunningSimulator, start_in_thread
from tests.support import SimulatorProcess, refused_ports, start_simulator, stop


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def _test_machine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Machine]:
    with refused_ports(3) as ports:
        yield Machine(tmp_path_factory.mktemp("home"), {}, "linux", scan_ports=ports[:2], legacy_ports=ports[2:])


@pytest.fixture(autouse=True)
def _no_real_machine(_test_machine: Machine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Code in this process never reads the real port files nor probes the real ports (39300-39399 are shared by
    every process on the machine): `Machine.this()` is an empty home and ports that refuse, unless a test gives
    its own `Machine`. Nor does it write into the real ~/.cache: `install`'s lock files go to the test home.

    (The one cache the suite keeps on purpose is the vendor clients' venvs, ~/.cache/pieces-mcp-tests: see
    tests/contract/test_vendor_generations.py.)"""
    monkeypatch.setattr(Machine, "this", staticmethod(lambda: _test_machine))
    monkeypatch.setattr(install_files, "_lock_dir", lambda: _test_machine.home / "locks")


@pytest.fixture(scope="session")
def _simulator_current() -> Iterator[SimulatorProcess]:
    simulator = start_simulator("--api", "current")
    yield simulator
    stop(simulator)


@pytest.fixture(scope="session")
def _simulator_v10() -> Iterator[SimulatorProcess]:
    simulator = start_simulator("--api", "v10")
    yield simulator
    stop(simulator)


@pytest.fixture(scope="session")
def _simulator_seed() -> Iterator[SimulatorProcess]:
    simulator = start_simulator("--api", "seed")
    yield simulator
    stop(simulator)


@pytest.fixture
def simulator(_simulator_current: SimulatorProcess) -> SimulatorProcess:
    _simulator_current.reset()
    return _simulator_current


@pytest.fixture(params=GENERATIONS)
def any_simulator(request: pytest.FixtureRequest) -> SimulatorProcess:
    simulator: SimulatorProcess = request.getfixturevalue(f"_simulator_{request.param}")
    simulator.reset()
    return simulator


@pytest.fixture(scope="module")
def simulators() -> Iterator[dict[Generation, RunningSimulator]]:
    """One simulator per API generation, in threads of this process, for the module that asks."""
    running = {generation: start_in_thread(api=generation) for generation in GENERATIONS}
    yield running
    for simulator in running.values():
        simulator.stop()
