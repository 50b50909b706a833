"""Fixtures: one simulator process per API generation for the session, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pieces_mcp.catalog import GENERATIONS
from tests.support import SimulatorProcess, start_simulator, stop


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


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
