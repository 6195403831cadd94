"""What the order path tests trade on each venue (the `accounts` fixture is in
tests/plugins/trading.py), and the simulator's fault switches."""

from __future__ import annotations

from decimal import Decimal

from exchanges.venues.base import Venue

D = Decimal
# per venue: a perpetual, a resting buy price far below the market, and its smallest quantity
PERPS = {
    Venue.DERIBIT: ("BTC/USD:BTC", D("90000"), D("10")),
    Venue.OKX: ("BTC/USDT:USDT", D("90000"), D("1")),
    Venue.BYBIT: ("BTC/USDT:USDT", D("90000"), D("0.01")),
}


def faults(sim, venue: Venue, **changes) -> None:
    sim.faults[venue].update(**changes)
