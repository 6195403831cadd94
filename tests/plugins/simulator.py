"""The local exchange simulator as pytest fixtures.

- `sim` (per test) and `sim_module` (per module): a `SimulatorThread` with every venue (a
  face that cannot be imported fails loudly), seed 1, free ports on 127.0.0.1, the demo
  accounts and a fast generator.
  Use `.urls[venue]`, `.faults[venue]`, `.credentials[venue]`, `.engine` (touch it only through
  `.call(fn, *args)`, which runs on the simulator's loop).
- `sim_async`: the same `Simulator` started in the test's own event loop, for async tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from exchanges.simulator.server import Simulator, SimulatorThread, available_venues

SIM_STEP_INTERVAL = 0.02


def _thread() -> SimulatorThread:
    venues = available_venues()
    if not venues:
        pytest.skip("no simulator face can be imported yet")
    return SimulatorThread(venues=venues, seed=1, step_interval=SIM_STEP_INTERVAL)


@pytest.fixture
def sim() -> Iterator[SimulatorThread]:
    thread = _thread()
    thread.start()
    try:
        yield thread
    finally:
        thread.stop()


@pytest.fixture(scope="module")
def sim_module() -> Iterator[SimulatorThread]:
    thread = _thread()
    thread.start()
    try:
        yield thread
    finally:
        thread.stop()


@pytest.fixture
async def sim_async() -> AsyncIterator[Simulator]:
    venues = available_venues()
    if not venues:
        pytest.skip("no simulator face can be imported yet")
    simulator = Simulator(venues=venues, seed=1, step_interval=SIM_STEP_INTERVAL)
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()
