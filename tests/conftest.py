"""Fixtures: one simulator process per API generation for the session, reset before each test."""

from __future__ import annotations

import fcntl
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from pieces_mcp.catalog import GENERATIONS
from tests.support import SimulatorProcess, start_simulator, stop


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def discovery_ports() -> Iterator[None]:
    """Exclusive use of PiecesOS's discovery ports (39300-39333, 1000, 5323) while a test binds them."""
    with open(Path(tempfile.gettempdir()) / "pieces-mcp-tests-discovery-ports.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


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
