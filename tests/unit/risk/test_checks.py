"""Pre-trade checks with exact figures on the real instrument specs: linear, inverse, spot and
option; each rejection names its limit; orders that reduce risk always pass."""

from decimal import Decimal

import pytest

from exchanges.simulator.instruments import DEFAULT_INSTRUMENTS
from exchanges.venues.base import OrderType, Side, Venue
from risk.checks import (
    Exposure,
    Limits,
    Proposed,
    Rejection,
    reduces,
    required_funds,
    run_checks,
)

D = Decimal
SPEC = {(i.venue, i.venue_symbol, i.kind.value): i for i in DEFAULT_INSTRUMENTS}
OKX_SWAP = SPEC[(Venue.OKX, "BTC-USDT-SWAP", "perpetual")]  # 0.01 BTC contracts
OKX_INVERSE = SPEC[(Venue.OKX, "BTC-USD-SWAP", "perpetual")]  # 100 USD contracts
DERIBIT_PERP = SPEC[(Venue.DERIBIT, "BTC-PERPETUAL", "perpetual")]  # amount in USD
OKX_SPOT = SPEC[(Venue.OKX, "BTC-USDT", "spot")]
OPTION = next(
    i for i in DEFAULT_INSTRUMENTS if i.venue is Venue.DERIBIT and i.kind.value == "option"
)
MARK = D(65000)


def buy(info, quantity, price=None, **kw):
    kind = OrderType.LIMIT if price is not None else OrderType.MARKET
    return Proposed(info, Side.BUY, kind, D(quantity), D(price) if price else None, **kw)


def sell(info, quantity, price=None, **kw):
    kind = OrderType.LIMIT if price is not None else OrderType.MARKET
    return Proposed(info, Side.SELL, kind, D(quantity), D(price) if price else None, **kw)


NO_LIMITS = Limits()


def code(order, limits=NO_LIMITS, **exposure):
    exposure.setdefault("reference_price", MARK)
    rejection = run_checks(order, limits, Exposure(**exposure))
    return rejection.code if rejection else None


def test_nothing_set_nothing_refused():
    assert code(buy(OKX_SWAP, 1000, 65000)) is None


def test_the_kill_switch_refuses_everything_first():
    rejection = run_checks(
        buy(OKX_SWAP, 1, 65000), Limits(max_open_orders=0), Exposure(MARK, kill_switch=True)
    )
    assert rejection == Rejection(
        "kill_switch", "the kill switch is engaged: no new order is accepted"
    )


def test_order_quantity_in_the_instrument_s_units():
    limits = Limits(max_order_quantity=D(50))
    assert code(buy(OKX_SWAP, 50, 65000), limits) is None
    rejection = run_checks(buy(OKX_SWAP, 51, 65000), limits, Exposure(MARK))
    assert rejection.reason == "quantity 51 is above the limit of 50 for BTC/USDT:USDT"


@pytest.mark.parametrize(
    ("order", "value"),
    [
        (buy(OKX_SWAP, 100, 65000), D(65000)),  # 100 x 0.01 BTC x 65000
        (buy(OKX_INVERSE, 100), D(10000)),  # 100 x 100 USD, at the mark
        (buy(DERIBIT_PERP, 6500), D(6500)),  # USD amounts
        (buy(OKX_SPOT, "0.5", 65000), D(32500)),
        (buy(OPTION, 1, "0.05"), D(65000)),  # the coin at the underlying's price, not the premium
    ],
)
def test_order_notional_is_usd_on_every_venue(order, value):
    assert code(order, Limits(max_order_notional=value)) is None
    rejection = run_checks(order, Limits(max_order_notional=value - 1), Exposure(MARK))
    assert rejection.code == "order_notional"
    assert rejection.reason.startswith(f"order notional {value} USD is above")


def test_open_orders():
    assert code(buy(OKX_SWAP, 1, 65000), Limits(max_open_orders=3), open_orders=2) is None
    assert code(buy(OKX_SWAP, 1, 65000), Limits(max_open_orders=3), open_orders=3) == "open_orders"


def test_an_amend_is_the_order_it_becomes_counted_once_funded_for_its_increase():
    limits = Limits(max_open_orders=3, max_order_quantity=D(4))
    bigger = buy(OKX_SWAP, 3, 65000, replaces=D(2))  # 2 contracts open, to become 3
    assert code(bigger, limits, open_orders=3) is None  # it is one of the 3 already
    too_big = buy(OKX_SWAP, 5, 65000, replaces=D(2))
    assert code(too_big, limits, open_orders=3) == "order_quantity"  # the whole new size
    # 1 contract more: 0.01 BTC x 65000 = 650 USDT of margin at leverage 1, not 3 x 650
    assert code(bigger, available=D(650)) is None
    assert code(bigger, available=D("649.99")) == "insufficient_margin"
    assert code(buy(OKX_SWAP, 2, 64000, replaces=D(2)), available=D(0)) is None  # no more size


def test_price_collar_around_the_mark():
    limits = Limits(price_band_pct=D(5))
    assert code(buy(OKX_SWAP, 1, 68250), limits) is None  # exactly 5%
    rejection = run_checks(buy(OKX_SWAP, 1, "68250.5"), limits, Exposure(MARK))
    assert rejection.reason == "price 68250.5 is 5.00% from the mark 65000, beyond the 5% band"
    assert code(buy(OKX_SWAP, 1), limits) is None  # market orders have no price to collar
    assert code(buy(OKX_SWAP, 1, 65000), limits, reference_price=None) == "no_price"


def test_position_limits_in_units_and_in_usd():
    assert (
        code(buy(OKX_SWAP, 20, 65000), Limits(max_position_quantity=D(100)), position=D(80)) is None
    )
    assert (
        code(buy(OKX_SWAP, 21, 65000), Limits(max_position_quantity=D(100)), position=D(80))
        == "position"
    )
    # short 80 contracts, selling 30 more: 110 contracts = 1.1 BTC = 71500 USD
    rejection = run_checks(
        sell(OKX_SWAP, 30, 65000),
        Limits(max_position_notional=D(71000)),
        Exposure(MARK, position=D(-80)),
    )
    assert (
        rejection.reason == "the position would be worth 71500 USD, beyond the limit of 71000 USD"
    )


def test_reducing_orders_pass_position_balance_and_loss_checks():
    limits = Limits(max_position_quantity=D(10), max_daily_loss=D(100))
    closing = sell(OKX_SWAP, 30, 65000)
    assert reduces(closing, Exposure(MARK, position=D(50)))
    assert code(closing, limits, position=D(50), available=D(0), daily_pnl=D(-500)) is None
    through_zero = sell(OKX_SWAP, 60, 65000)
    assert not reduces(through_zero, Exposure(MARK, position=D(50)))
    assert code(through_zero, limits, position=D(50), daily_pnl=D(-500)) == "daily_loss"


def test_daily_loss_reached():
    rejection = run_checks(
        buy(OKX_SWAP, 1, 65000),
        Limits(max_daily_loss=D(1000)),
        Exposure(MARK, daily_pnl=D("-1000")),
    )
    assert rejection.reason == "today's loss 1000 USD has reached the limit of 1000 USD"
    assert (
        code(buy(OKX_SWAP, 1, 65000), Limits(max_daily_loss=D(1000)), daily_pnl=D("-999.99"))
        is None
    )


@pytest.mark.parametrize(
    ("order", "leverage", "needed"),
    [
        (buy(OKX_SPOT, "0.5", 65000), D(1), D(32500)),  # quote spent
        (sell(OKX_SPOT, "0.5", 65000), D(1), D("0.5")),  # base sold
        (buy(OKX_SWAP, 100, 65000), D(10), D(6500)),  # 65000 USDT notional / 10
        (buy(OKX_INVERSE, 65, 65000), D(5), D("0.02")),  # 6500 USD = 0.1 BTC, / 5
        (buy(DERIBIT_PERP, 6500, 65000), D(1), D("0.1")),
        (buy(OPTION, 2, "0.05"), D(1), D("0.10")),  # premium in BTC
    ],
)
def test_required_funds(order, leverage, needed):
    assert required_funds(order, Exposure(MARK, leverage=leverage), order.price) == needed
    assert code(order, available=needed, leverage=leverage) is None
    short = code(order, available=needed - D("0.0001"), leverage=leverage)
    assert short == (
        "insufficient_balance" if order.info.kind.value == "spot" else "insufficient_margin"
    )


def test_the_first_rejection_in_order_wins():
    limits = Limits(max_order_quantity=D(1), max_open_orders=0, price_band_pct=D(1))
    assert code(buy(OKX_SWAP, 5, 70000), limits) == "order_quantity"
