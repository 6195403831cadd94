"""Positions and PnL from trades (portfolio/pnl.py), exact to the last digit, on the
simulator's instruments (the venues' real contract sizes and quantity units)."""

from decimal import Decimal

import pytest

from exchanges.simulator.instruments import DEFAULT_INSTRUMENTS
from exchanges.venues.base import InstrumentInfo, Side, Venue
from portfolio import pnl
from portfolio.pnl import PositionState, apply_trade

D = Decimal
BUY, SELL = Side.BUY, Side.SELL


def instrument(venue: Venue, symbol: str) -> InstrumentInfo:
    return next(i for i in DEFAULT_INSTRUMENTS if i.venue == venue and i.symbol == symbol)


OKX_LINEAR = instrument(Venue.OKX, "BTC/USDT:USDT")  # contracts of 0.01 BTC
OKX_INVERSE = instrument(Venue.OKX, "BTC/USD:BTC")  # contracts of 100 USD
OKX_SPOT = instrument(Venue.OKX, "BTC/USDT")
BYBIT_LINEAR = instrument(Venue.BYBIT, "BTC/USDT:USDT")  # qty in BTC
BYBIT_INVERSE = instrument(Venue.BYBIT, "BTC/USD:BTC")  # qty in USD
DERIBIT_PERPETUAL = instrument(Venue.DERIBIT, "BTC/USD:BTC")  # amount in USD, contract 10 USD
DERIBIT_CALL = instrument(Venue.DERIBIT, "BTC/USD:BTC-261225-100000-C")  # amount in BTC


def trades(info, *legs, state=None):
    """Apply (side, quantity, price[, fee[, fee currency]]) legs in turn; the results."""
    state = state or PositionState()
    results = []
    for side, quantity, price, *fee in legs:
        result = apply_trade(
            info,
            state,
            side=side,
            quantity=D(quantity),
            price=D(price),
            fee=D(fee[0]) if fee else D(0),
            fee_currency=fee[1] if len(fee) > 1 else "",
        )
        results.append(result)
        state = result.state
    return results


def test_linear_contracts_increase_reduce_flip_close():
    opened, added, reduced, flipped, closed = trades(
        OKX_LINEAR,
        (BUY, "3", "60000"),
        (BUY, "1", "64000"),
        (SELL, "2", "62000", "0.5", "USDT"),
        (SELL, "5", "63000", "-0.2", "USDT"),  # a maker rebate
        (BUY, "3", "63500"),
    )
    assert (opened.state.quantity, opened.state.entry_price, opened.realized) == (3, 60000, 0)
    assert (added.state.quantity, added.state.entry_price) == (D(4), D(61000))
    # 2 contracts x 0.01 BTC x (62000 - 61000) = 20 USDT, less the 0.5 fee
    assert (reduced.realized, reduced.closed) == (D("19.5"), D(2))
    assert (reduced.state.quantity, reduced.state.entry_price) == (D(2), D(61000))
    assert pnl.unrealized_pnl(OKX_LINEAR, reduced.state, D(60500)) == D(-10)
    # closes 2 (2 x 0.01 x 2000 = 40, plus the 0.2 rebate), the other 3 open a short at 63000
    assert (flipped.realized, flipped.closed) == (D("40.2"), D(2))
    assert (flipped.state.quantity, flipped.state.entry_price) == (D(-3), D(63000))
    assert pnl.unrealized_pnl(OKX_LINEAR, flipped.state, D(62000)) == D(30)
    assert (closed.realized, closed.state.quantity, closed.state.entry_price) == (D(-15), 0, None)
    assert closed.state.realized_pnl == D("44.7")
    assert closed.state.fees == D("0.3")
    assert closed.state.other_fees == {}
    assert pnl.unrealized_pnl(OKX_LINEAR, closed.state, D(70000)) == 0


def test_linear_base_quantity_short_partial_close():
    short, cover = trades(
        BYBIT_LINEAR, (SELL, "0.5", "65000", "19.5"), (BUY, "0.2", "64000.5", "7.68")
    )
    assert (short.state.quantity, short.state.entry_price, short.realized) == (
        D("-0.5"),
        D(65000),
        D("-19.5"),
    )
    # 0.2 BTC x (65000 - 64000.5) = 199.9 USDT, less 7.68
    assert cover.realized == D("192.22")
    assert (cover.state.quantity, cover.state.entry_price) == (D("-0.3"), D(65000))
    assert cover.state.realized_pnl == D("172.72")
    assert cover.state.fees == D("27.18")


def test_inverse_usd_quantity_harmonic_entry_and_coin_pnl():
    _, second, reduced = trades(
        BYBIT_INVERSE,
        (BUY, "20000", "40000"),
        (BUY, "30000", "60000"),
        (SELL, "25000", "62500", "0.0001", "BTC"),
    )
    # 50000 USD / (20000/40000 + 30000/60000 BTC) = 50000: the harmonic mean, not 52000
    assert second.state.entry_price == D(50000)
    # 25000 x (1/50000 - 1/62500) = 0.1 BTC, less the fee
    assert reduced.realized == D("0.0999")
    assert (reduced.state.quantity, reduced.state.entry_price) == (D(25000), D(50000))
    assert pnl.unrealized_pnl(BYBIT_INVERSE, reduced.state, D(40000)) == D("-0.125")


def test_inverse_average_entry_rounds_to_the_database_resolution():
    (_, second) = trades(BYBIT_INVERSE, (BUY, "10000", "50000"), (BUY, "10000", "40000"))
    assert second.state.entry_price == D("44444.444444444444444444")


def test_okx_inverse_contracts_count_100_usd_each():
    short, cover = trades(OKX_INVERSE, (SELL, "5", "50000"), (BUY, "5", "40000"))
    assert short.state.quantity == D(-5)
    # -5 x 100 USD x (1/50000 - 1/40000) = 0.0025 BTC
    assert cover.realized == D("0.0025")
    assert (cover.state.quantity, cover.state.entry_price) == (0, None)


def test_deribit_amounts_are_usd_not_contracts():
    (_, closed) = trades(DERIBIT_PERPETUAL, (BUY, "1000", "50000"), (SELL, "1000", "40000"))
    # 1000 USD x (1/50000 - 1/40000): the amount is USD already, not 1000 contracts of 10 USD
    assert closed.realized == D("-0.005")
    assert pnl.pnl_currency(DERIBIT_PERPETUAL) == "BTC"


def test_option_premium_cash_flow_and_realized_on_close():
    assert pnl.cash_flow(DERIBIT_CALL, BUY, D(2), D("0.05")) == D("-0.1")
    assert pnl.cash_flow(DERIBIT_CALL, SELL, D(2), D("0.065")) == D("0.13")
    bought, sold = trades(
        DERIBIT_CALL, (BUY, "2", "0.05", "0.0003", "BTC"), (SELL, "2", "0.065", "0.0003", "BTC")
    )
    assert (bought.state.quantity, bought.state.entry_price) == (D(2), D("0.05"))
    assert pnl.unrealized_pnl(DERIBIT_CALL, bought.state, D("0.04")) == D("-0.02")
    # the premium difference: 0.13 received - 0.1 paid, less both fees
    assert sold.state.realized_pnl == D("0.0294")
    assert sold.state.fees == D("0.0006")


def test_spot_pnl_in_quote_and_a_base_fee_kept_apart():
    bought, sold = trades(
        OKX_SPOT, (BUY, "0.5", "60000", "0.0005", "BTC"), (SELL, "0.5", "61000", "30.5", "USDT")
    )
    assert pnl.pnl_currency(OKX_SPOT) == "USDT"
    assert (bought.realized, bought.state.fees) == (0, 0)
    assert bought.state.other_fees == {"BTC": D("0.0005")}
    assert sold.realized == D("469.5")
    assert sold.state.realized_pnl == D("469.5")
    assert sold.state.fees == D("30.5")
    assert sold.state.other_fees == {"BTC": D("0.0005")}
    assert pnl.cash_flow(OKX_SPOT, SELL, D("0.5"), D(61000)) == D(30500)


def test_cash_is_realized_without_moving_the_position():
    state = trades(OKX_LINEAR, (BUY, "3", "60000"))[0].state
    paid = pnl.apply_cash(state, D("-1.25"))
    assert (paid.quantity, paid.entry_price, paid.realized_pnl) == (D(3), D(60000), D("-1.25"))


@pytest.mark.parametrize(("quantity", "price"), [("0", "60000"), ("-1", "60000"), ("1", "0")])
def test_a_trade_without_positive_quantity_and_price_is_refused(quantity, price):
    with pytest.raises(pnl.InvalidTrade, match="positive quantity and price"):
        apply_trade(OKX_LINEAR, PositionState(), side=BUY, quantity=D(quantity), price=D(price))


def test_inverse_trades_move_no_premium():
    with pytest.raises(pnl.InvalidTrade, match="inverse"):
        pnl.cash_flow(BYBIT_INVERSE, BUY, D(100), D(50000))


def test_an_unknown_entry_is_taken_at_the_trade_price():
    unknown = PositionState(quantity=D(4), entry_price=None)
    (reduced,) = trades(OKX_LINEAR, (SELL, "1", "61000", "0.3", "USDT"), state=unknown)
    assert (reduced.realized, reduced.closed) == (D("-0.3"), D(1))
    assert (reduced.state.quantity, reduced.state.entry_price) == (D(3), D(61000))
