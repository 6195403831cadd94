"""The order path against the simulator: one trading account per venue with the simulator's
demo keys, on exchanges pointing at the test's simulator; the per-thread venue clients are
closed after each test."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exchanges.models import ExchangeAccount
from exchanges.services import exchange_account_create
from exchanges.venues.base import Venue
from orders.venue import forget_clients
from tests.integration.marketdata.conftest import make_exchanges

D = Decimal
# per venue: a perpetual, a resting buy price far below the market, and its smallest quantity
PERPS = {
    Venue.DERIBIT: ("BTC/USD:BTC", D("90000"), D("10")),
    Venue.OKX: ("BTC/USDT:USDT", D("90000"), D("1")),
    Venue.BYBIT: ("BTC/USDT:USDT", D("90000"), D("0.01")),
}


@pytest.fixture
def accounts(sim) -> dict[Venue, ExchangeAccount]:
    exchanges = make_exchanges(sim)
    made = {}
    for venue, exchange in exchanges.items():
        credentials = sim.credentials[venue]
        made[venue] = exchange_account_create(
            exchange=exchange,
            label="desk",
            api_key=credentials.api_key,
            secret=credentials.secret,
            passphrase=credentials.passphrase,
            permission="trade",
        )
    yield made
    forget_clients()


def faults(sim, venue: Venue, **changes) -> None:
    sim.faults[venue].update(**changes)
