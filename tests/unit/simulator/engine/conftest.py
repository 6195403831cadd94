"""The `engine` fixture: a quiet engine with the accounts alice, bob and carol on every venue."""

from __future__ import annotations

import pytest

from exchanges.simulator.engine.core import Engine
from exchanges.venues.base import Venue
from tests.support.engine import quiet_engine

OKX = Venue.OKX


DERIBIT = Venue.DERIBIT


BYBIT = Venue.BYBIT


@pytest.fixture
def engine() -> Engine:
    eng = quiet_engine()
    for key in ("alice", "bob", "carol"):
        eng.add_account(OKX, key, "secret", "pass")
        eng.add_account(DERIBIT, key, "secret")
        eng.add_account(BYBIT, key, "secret")
    return eng
