"""Funds, margin, settlement and realized PnL (engine/margin.py)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from exchanges.simulator.engine.records import RejectReason, SimReject
from exchanges.venues.base import Liquidity, OrderStatus, Side, Venue
from tests.support.engine import limit, market

OKX = Venue.OKX


DERIBIT = Venue.DERIBIT


SWAP = "BTC-USDT-SWAP"


SPOT = "BTC-USDT"


def test_linear_swap_fees_margin_and_realized_pnl(engine):
    maker = limit(engine, "alice", Side.SELL, "5", "100000.0")
    market(engine, "bob", Side.BUY, "5")  # 5 contracts x 0.01 BTC = 0.05 BTC = 5000 USDT

    bob_fill = engine.fills(OKX, "bob")[0]
    alice_fill = engine.fills(OKX, "alice")[0]
    assert (bob_fill.fee, bob_fill.fee_currency, bob_fill.liquidity) == (
        D("2.5"),
        "USDT",
        Liquidity.TAKER,
    )
    assert (alice_fill.fee, alice_fill.liquidity) == (D("1"), Liquidity.MAKER)
    assert alice_fill.order_id == maker.order_id
    assert alice_fill.trade_id == bob_fill.trade_id

    usdt = {b.currency: b for b in engine.balances(OKX, "bob")}["USDT"]
    assert usdt.total == D("999997.5")
    assert usdt.locked == D("500")  # 5000 / 10x
    assert usdt.available == D("999497.5")

    limit(engine, "alice", Side.BUY, "5", "101000.0")
    market(engine, "bob", Side.SELL, "5")
    position = engine.position(OKX, "bob", SWAP)
    assert position.quantity == 0
    assert position.entry_price is None
    # +50 USDT profit, fees 2.5 + 0.05% of 5050 = 2.525
    assert position.realized_pnl == D("44.975")
    assert [f.realized_pnl for f in engine.fills(OKX, "bob")] == [D("0"), D("50")]
    assert [f.realized_pnl for f in engine.fills(OKX, "alice")] == [D("0"), D("-50")]
    usdt = {b.currency: b for b in engine.balances(OKX, "bob")}["USDT"]
    assert (usdt.total, usdt.locked) == (D("1000044.975"), D("0"))


def test_inverse_perpetual_pnl_and_fees_in_the_coin(engine):
    limit(engine, "alice", Side.SELL, "1000", "100000.0", symbol="BTC-PERPETUAL", venue=DERIBIT)
    market(engine, "bob", Side.BUY, "1000", symbol="BTC-PERPETUAL", venue=DERIBIT)
    fill = engine.fills(DERIBIT, "bob")[0]
    assert (fill.fee, fill.fee_currency) == (D("0.000005"), "BTC")  # 0.05% of 0.01 BTC
    assert engine.fills(DERIBIT, "alice")[0].fee == 0
    btc = {b.currency: b for b in engine.balances(DERIBIT, "bob")}["BTC"]
    assert btc.locked == D("0.001")  # 1000 USD / 100000 / 10x

    limit(engine, "alice", Side.BUY, "1000", "125000.0", symbol="BTC-PERPETUAL", venue=DERIBIT)
    market(engine, "bob", Side.SELL, "1000", symbol="BTC-PERPETUAL", venue=DERIBIT)
    position = engine.position(DERIBIT, "bob", "BTC-PERPETUAL")
    # 1000 USD x (1/100000 - 1/125000) = 0.002 BTC, fees 0.000005 + 0.000004
    assert position.realized_pnl == D("0.001991")
    assert [f.realized_pnl for f in engine.fills(DERIBIT, "bob")] == [D("0"), D("0.002")]
    btc = {b.currency: b for b in engine.balances(DERIBIT, "bob")}["BTC"]
    assert btc.total == D("10.001991")


def test_a_spot_buy_needs_only_the_quote_cost_when_the_fee_comes_out_of_the_base(engine):
    engine.add_account(OKX, "exact", "s", "p", balances={"USDT": D("1000")})
    limit(engine, "alice", Side.SELL, "0.01", "100000.0", symbol=SPOT)
    order = limit(engine, "exact", Side.BUY, "0.01", "100000.0", symbol=SPOT)
    assert order.status is OrderStatus.FILLED
    wallet = {b.currency: b.total for b in engine.balances(OKX, "exact")}
    assert wallet == {"USDT": D("0"), "BTC": D("0.00999")}


def test_spot_orders_lock_funds_and_insufficient_funds_is_rejected(engine):
    engine.add_account(OKX, "poor", "s", "p", balances={"USDT": D("1000"), "BTC": D("0.01")})
    limit(engine, "poor", Side.BUY, "0.009", "100000.0", symbol=SPOT)
    usdt = {b.currency: b for b in engine.balances(OKX, "poor")}["USDT"]
    assert (usdt.locked, usdt.available) == (D("900"), D("100"))
    with pytest.raises(SimReject) as exc:
        limit(engine, "poor", Side.BUY, "0.0011", "100000.0", symbol=SPOT)
    assert exc.value.reason is RejectReason.INSUFFICIENT_FUNDS
    with pytest.raises(SimReject) as exc:
        limit(engine, "poor", Side.SELL, "0.02", "100000.0", symbol=SPOT)
    assert exc.value.reason is RejectReason.INSUFFICIENT_FUNDS
    limit(engine, "poor", Side.SELL, "0.01", "110000.0", symbol=SPOT)


def test_derivative_margin_check_uses_leverage(engine):
    engine.add_account(OKX, "poor", "s", "p", balances={"USDT": D("1000")})
    # 10 contracts x 0.01 BTC x 100000 = 10000 USDT notional -> 1000 margin at 10x: fits
    limit(engine, "poor", Side.BUY, "10", "100000.0")
    with pytest.raises(SimReject) as exc:
        limit(engine, "poor", Side.BUY, "0.01", "100000.0")
    assert exc.value.reason is RejectReason.INSUFFICIENT_FUNDS
    engine.set_leverage(OKX, "poor", SWAP, D(20))
    limit(engine, "poor", Side.BUY, "10", "100000.0")
    usdt = engine.balances(OKX, "poor")[0]
    assert (usdt.locked, usdt.available) == (D("1000"), D("0"))


def test_amend_checks_funds_for_the_larger_order(engine):
    engine.add_account(OKX, "poor", "s", "p", balances={"USDT": D("1000")})
    order = limit(engine, "poor", Side.BUY, "5", "100000.0")
    with pytest.raises(SimReject) as exc:
        engine.amend_order(OKX, "poor", SWAP, order_id=order.order_id, quantity=D("11"))
    assert exc.value.reason is RejectReason.INSUFFICIENT_FUNDS
    engine.amend_order(OKX, "poor", SWAP, order_id=order.order_id, quantity=D("10"))
    assert order.quantity == D("10")


def test_fill_says_how_much_of_an_opposite_position_it_closed(engine):
    limit(engine, "alice", Side.SELL, "3", "100000.0")
    market(engine, "bob", Side.BUY, "3")
    limit(engine, "alice", Side.BUY, "2", "99990.0")
    limit(engine, "alice", Side.BUY, "3", "99980.0")
    market(engine, "bob", Side.SELL, "5")
    assert [(f.side, f.quantity, f.closed_quantity) for f in engine.fills(OKX, "bob")] == [
        (Side.BUY, D("3"), D("0")),
        (Side.SELL, D("2"), D("2")),
        (Side.SELL, D("3"), D("1")),
    ]
    assert engine.position(OKX, "bob", SWAP).quantity == D("-2")
    assert [f.closed_quantity for f in engine.fills(OKX, "alice")] == [D("0"), D("2"), D("1")]
    limit(engine, "alice", Side.SELL, "0.5", "100000.0", symbol=SPOT)
    market(engine, "bob", Side.BUY, "0.5", symbol=SPOT)
    assert engine.fills(OKX, "bob", SPOT)[0].closed_quantity == D("0")
    assert engine.fills(OKX, "bob", SPOT)[0].realized_pnl == D("0")
