"""One conversion of an order quantity to base-currency size and quote notional, on the real
instrument specs of every venue (the simulator lists them with the venues' contract sizes)."""

from decimal import Decimal

import pytest

from exchanges.simulator.instruments import DEFAULT_INSTRUMENTS
from exchanges.venues.base import QuantityUnit, Venue
from exchanges.venues.quantities import base_quantity, notional, quantity_unit, unit_value

D = Decimal
SPECS = {(i.venue, i.venue_symbol, i.kind.value): i for i in DEFAULT_INSTRUMENTS}


def spec(venue, symbol, kind):
    return SPECS[(venue, symbol, kind)]


# venue, symbol, kind, unit, value of one unit, quantity, price, base size, notional (quote)
CASES = [
    (
        Venue.OKX,
        "BTC-USDT",
        "spot",
        QuantityUnit.BASE,
        D(1),
        D("0.5"),
        D(65000),
        D("0.5"),
        D(32500),
    ),
    (
        Venue.OKX,
        "BTC-USDT-SWAP",
        "perpetual",
        QuantityUnit.CONTRACTS,
        D("0.01"),
        D(25),
        D(65000),
        D("0.25"),
        D(16250),
    ),
    (
        Venue.OKX,
        "BTC-USD-SWAP",
        "perpetual",
        QuantityUnit.CONTRACTS,
        D(100),
        D(32),
        D(64000),
        D("0.05"),
        D(3200),
    ),
    (
        Venue.BYBIT,
        "BTCUSDT",
        "perpetual",
        QuantityUnit.BASE,
        D(1),
        D("1.5"),
        D("65000.5"),
        D("1.5"),
        D("97500.75"),
    ),
    (
        Venue.BYBIT,
        "BTCUSD",
        "perpetual",
        QuantityUnit.QUOTE,
        D(1),
        D(6400),
        D(64000),
        D("0.1"),
        D(6400),
    ),
    (
        Venue.DERIBIT,
        "BTC-PERPETUAL",
        "perpetual",
        QuantityUnit.QUOTE,
        D(1),
        D(650),
        D(65000),
        D("0.01"),
        D(650),
    ),
    (
        Venue.DERIBIT,
        "BTC-25DEC26",
        "future",
        QuantityUnit.QUOTE,
        D(1),
        D(1000),
        D(80000),
        D("0.0125"),
        D(1000),
    ),
]


@pytest.mark.parametrize(
    ("venue", "symbol", "kind", "unit", "value", "quantity", "price", "base", "quote"), CASES
)
def test_quantity_to_base_and_notional(
    venue, symbol, kind, unit, value, quantity, price, base, quote
):
    info = spec(venue, symbol, kind)
    assert quantity_unit(info) is unit
    assert unit_value(info) == value
    assert base_quantity(info, quantity, price) == base
    assert notional(info, quantity, price) == quote


def test_an_inverse_size_is_rounded_down_never_overstated():
    info = spec(Venue.OKX, "BTC-USD-SWAP", "perpetual")
    assert base_quantity(info, D(1), D(65000)) == D("0.001538461538")  # 0.0015384615384615...
    assert notional(info, D(1), D(65000)) == D(100)


def test_options_count_the_coin_and_take_the_underlying_price():
    option = next(
        i for i in DEFAULT_INSTRUMENTS if i.venue is Venue.DERIBIT and i.kind.value == "option"
    )
    assert quantity_unit(option) is QuantityUnit.BASE
    assert base_quantity(option, D("0.3"), D(65000)) == D("0.3")
    assert notional(option, D("0.3"), D(65000)) == D(19500)


def test_every_listed_instrument_has_a_unit():
    assert {quantity_unit(i) for i in DEFAULT_INSTRUMENTS} == set(QuantityUnit)


def test_unit_for_matches_quantity_unit_on_every_listed_instrument():
    from exchanges.venues.quantities import unit_for

    for info in DEFAULT_INSTRUMENTS:
        assert unit_for(info.venue, info.kind, linear=info.linear) is quantity_unit(info)
