"""The conformance suite's simulator: every venue, seed 1, the timed generator running."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from exchanges.simulator.server import Simulator
from exchanges.venues.base import Venue

STEP_INTERVAL = 0.02


@pytest.fixture
async def conformance_sim(request: pytest.FixtureRequest) -> AsyncIterator[Simulator]:
    """A simulator for the module's `VENUE`; `OKX_BOOK_MODE` (when the test is parametrized
    with `book_mode`) picks the OKX face's book protocol."""
    venue: Venue = request.module.VENUE
    options = {}
    book_mode = getattr(request, "param", None)
    if book_mode is not None:
        options["book_mode"] = book_mode
    simulator = Simulator(
        venues=[venue],
        seed=1,
        step_interval=STEP_INTERVAL,
        face_options={venue: options},
    )
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()
