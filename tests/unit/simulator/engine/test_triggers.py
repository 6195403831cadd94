"""Conditional orders: accepted untriggered off the book, fired by the price they watch,
then executed like a fresh order; refused when they would fire at once (engine/triggers.py)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from exchanges.simulator.engine.records import CancelReason, RejectReason, SimReject
from exchanges.venues.base import (
    OrderStatus,
    OrderType,
    Side,
    TriggerDirection,
    TriggerPrice,
    Venue,
)
from tests.support.engine import Recorder, limit, market

OKX = Venue.OKX


SWAP = "BTC-USDT-SWAP"


def conditional(engine, key, side, order_type, qty, trigger, trigger_by=TriggerPrice.LAST, **kw):
    return engine.place_conditional(
        OKX,
        key,
        SWAP,
        side=side,
        order_type=order_type,
        quantity=D(qty),
        trigger_price=D(trigger),
        trigger_by=trigger_by,
        **kw,
    )


def trade_at(engine, price: str) -> None:
    """Carol sells one contract to the market maker stand-in bob at `price`: the last price."""
    limit(engine, "bob", Side.BUY, "1", price)
    market(engine, "carol", Side.SELL, "1")


def long_alice(engine, price="100000.0", qty="2"):
    limit(engine, "bob", Side.SELL, qty, price)
    market(engine, "alice", Side.BUY, qty)
    assert engine.position(OKX, "alice", SWAP).quantity == D(qty)


def test_a_sell_stop_waits_untriggered_then_closes_the_position_when_the_last_price_falls(
    engine,
):
    long_alice(engine)
    recorder = Recorder()
    engine.add_listener(recorder)
    stop = conditional(
        engine, "alice", Side.SELL, OrderType.STOP_MARKET, "2", "99000.0", reduce_only=True
    )
    assert stop.status is OrderStatus.UNTRIGGERED
    assert stop.trigger_direction is TriggerDirection.FALL
    assert engine.conditional_orders(OKX, "alice") == [stop]
    assert engine.open_orders(OKX, "alice") == []
    assert engine.book(OKX, SWAP) == ([], [])  # off the book

    limit(engine, "bob", Side.BUY, "5", "98000.0")  # liquidity for the stop
    trade_at(engine, "99500.0")
    assert engine.fire_triggers() == []
    trade_at(engine, "99000.0")
    assert engine.fire_triggers() == [stop]

    assert stop.status is OrderStatus.FILLED
    assert stop.triggered_ns is not None
    assert stop.filled_quantity == D("2")
    assert stop.average_price == D("98000.0")
    assert engine.position(OKX, "alice", SWAP).quantity == 0
    assert engine.conditional_orders(OKX, "alice") == []
    statuses = [e[3] for e in recorder.events if e[0] == "order" and e[2] == stop.order_id]
    assert statuses[:2] == [OrderStatus.UNTRIGGERED, OrderStatus.NEW]
    assert statuses[-1] is OrderStatus.FILLED


def test_a_take_profit_limit_rests_at_its_price_after_the_mark_rises(engine):
    long_alice(engine)
    mark = engine.mark_price(OKX, SWAP)
    trigger = mark + D("500.0")
    take = conditional(
        engine,
        "alice",
        Side.SELL,
        OrderType.TAKE_PROFIT_LIMIT,
        "1",
        trigger,
        trigger_by=TriggerPrice.MARK,
        price=trigger + D("100.0"),
    )
    assert take.trigger_direction is TriggerDirection.RISE
    engine.step(0)
    assert take.status is OrderStatus.UNTRIGGERED

    engine.market.venue_dev[("BTC", OKX)] += 0.02
    engine.step(0)
    assert engine.mark_price(OKX, SWAP) >= trigger
    assert take.status is OrderStatus.NEW
    assert engine.open_orders(OKX, "alice") == [take]
    assert engine.book(OKX, SWAP)[1] == [(trigger + D("100.0"), D("1"))]


def test_a_trigger_already_reached_or_off_the_tick_is_refused(engine):
    trade_at(engine, "100000.0")
    cases = [
        (Side.SELL, OrderType.STOP_MARKET, "100000.0"),  # sell stop at the last price
        (Side.BUY, OrderType.STOP_MARKET, "99999.9"),  # buy stop below it
        (Side.BUY, OrderType.TAKE_PROFIT_MARKET, "100000.1"),  # buy take profit above it
        (Side.SELL, OrderType.STOP_MARKET, "99000.05"),  # off the tick
        (Side.SELL, OrderType.STOP_MARKET, "0"),
    ]
    for side, order_type, trigger in cases:
        with pytest.raises(SimReject) as exc:
            conditional(engine, "alice", side, order_type, "1", trigger)
        assert exc.value.reason is RejectReason.INVALID_TRIGGER_PRICE, trigger
    assert engine.conditional_orders(OKX, "alice") == []


def test_cancel_and_cancel_all_reach_untriggered_orders(engine):
    trade_at(engine, "100000.0")
    one = conditional(engine, "alice", Side.BUY, OrderType.STOP_MARKET, "1", "101000.0")
    two = conditional(engine, "alice", Side.BUY, OrderType.STOP_MARKET, "1", "102000.0")
    three = conditional(engine, "alice", Side.BUY, OrderType.STOP_MARKET, "1", "103000.0")
    engine.cancel_order(OKX, "alice", SWAP, client_order_id=None, order_id=one.order_id)
    assert one.status is OrderStatus.CANCELED
    assert engine.cancel_all(OKX, "alice", conditional=False) == []
    assert engine.cancel_all(OKX, "alice") == [two, three]
    assert engine.conditional_orders(OKX, "alice") == []


def test_a_triggered_reduce_only_order_with_nothing_to_reduce_ends_canceled(engine):
    long_alice(engine, qty="1")
    trade_at(engine, "100000.0")
    stop = conditional(
        engine, "alice", Side.SELL, OrderType.STOP_MARKET, "1", "99000.0", reduce_only=True
    )
    take = conditional(
        engine,
        "alice",
        Side.SELL,
        OrderType.TAKE_PROFIT_MARKET,
        "1",
        "101000.0",
        reduce_only=True,
    )
    limit(engine, "bob", Side.BUY, "1", "99500.0")
    market(engine, "alice", Side.SELL, "1")  # closed by hand: the protection goes with it
    assert engine.position(OKX, "alice", SWAP).quantity == 0
    assert stop.status is OrderStatus.CANCELED
    assert take.status is OrderStatus.CANCELED
    assert stop.cancel_reason is CancelReason.REDUCE_ONLY_SHRUNK


def test_a_triggered_market_order_without_liquidity_fails(engine):
    trade_at(engine, "100000.0")
    stop = conditional(engine, "alice", Side.SELL, OrderType.STOP_MARKET, "1", "99000.0")
    limit(engine, "alice", Side.SELL, "1", "99000.0")  # its own ask...
    market(engine, "carol", Side.BUY, "1")  # ...taken: last 99000, no bids left
    assert engine.fire_triggers() == [stop]
    assert stop.status is OrderStatus.CANCELED
    assert stop.cancel_reason is CancelReason.TRIGGER_FAILED
    assert stop.reject_reason is RejectReason.NO_LIQUIDITY


def test_the_triggered_order_id_finds_the_same_order(engine):
    trade_at(engine, "100000.0")
    stop = conditional(
        engine, "alice", Side.BUY, OrderType.STOP_MARKET, "1", "101000.0", assign_triggered_id=True
    )
    assert stop.triggered_order_id not in (None, stop.order_id)
    limit(engine, "bob", Side.SELL, "3", "101000.0")
    market(engine, "carol", Side.BUY, "1")
    engine.fire_triggers()
    assert stop.status is OrderStatus.FILLED
    assert engine.get_order(OKX, "alice", order_id=stop.triggered_order_id) is stop


def test_an_untriggered_stop_moves_its_trigger_and_fires_at_the_new_one(engine):
    long_alice(engine)
    recorder = Recorder()
    engine.add_listener(recorder)
    stop = conditional(
        engine, "alice", Side.SELL, OrderType.STOP_MARKET, "2", "98000.0", reduce_only=True
    )
    moved = engine.amend_order(
        OKX, "alice", SWAP, order_id=stop.order_id, trigger_price=D("99000.0"), quantity=D("1")
    )
    assert moved is stop
    assert (stop.trigger_price, stop.quantity, stop.status) == (
        D("99000.0"),
        D("1"),
        OrderStatus.UNTRIGGERED,
    )
    assert engine.book(OKX, SWAP) == ([], [])  # still off the book
    amended = [e for e in recorder.events if e[0] == "order" and e[2] == stop.order_id]
    assert [e[3] for e in amended] == [OrderStatus.UNTRIGGERED, OrderStatus.UNTRIGGERED]

    limit(engine, "bob", Side.BUY, "5", "98500.0")
    trade_at(engine, "99000.0")  # the new trigger, above the old one
    assert engine.fire_triggers() == [stop]
    assert (stop.status, stop.filled_quantity) == (OrderStatus.FILLED, D("1"))
    assert engine.position(OKX, "alice", SWAP).quantity == D("1")


def test_a_stop_limit_moves_its_price_and_a_take_profit_its_trigger_by_client_id(engine):
    trade_at(engine, "100000.0")
    stop = conditional(
        engine, "alice", Side.BUY, OrderType.STOP_LIMIT, "1", "101000.0", price=D("101100.0")
    )
    engine.amend_order(OKX, "alice", SWAP, order_id=stop.order_id, price=D("101200.0"))
    assert (stop.price, stop.trigger_price) == (D("101200.0"), D("101000.0"))
    take = conditional(
        engine,
        "alice",
        Side.SELL,
        OrderType.TAKE_PROFIT_MARKET,
        "1",
        "102000.0",
        client_order_id="tp1",
    )
    engine.amend_order(OKX, "alice", SWAP, client_order_id="tp1", trigger_price=D("103000.0"))
    assert take.trigger_price == D("103000.0")


def test_an_amend_that_would_fire_at_once_or_breaks_a_rule_changes_nothing(engine):
    trade_at(engine, "100000.0")
    stop = conditional(engine, "alice", Side.SELL, OrderType.STOP_MARKET, "1", "99000.0")
    cases = [
        ({"trigger_price": D("100000.0")}, RejectReason.INVALID_TRIGGER_PRICE),  # reached
        ({"trigger_price": D("99000.05")}, RejectReason.INVALID_TRIGGER_PRICE),  # off the tick
        ({"trigger_price": D("-1")}, RejectReason.INVALID_TRIGGER_PRICE),
        ({"price": D("98000.0")}, RejectReason.INVALID_PRICE),  # a stop market has no price
        ({"quantity": D("0"), "trigger_price": D("98000.0")}, RejectReason.INVALID_SIZE),
    ]
    for change, reason in cases:
        with pytest.raises(SimReject) as exc:
            engine.amend_order(OKX, "alice", SWAP, order_id=stop.order_id, **change)
        assert exc.value.reason is reason, change
    assert (stop.trigger_price, stop.quantity) == (D("99000.0"), D("1"))


def test_a_plain_order_has_no_trigger_to_move(engine):
    order = limit(engine, "alice", Side.BUY, "1", "90000.0")
    with pytest.raises(SimReject) as exc:
        engine.amend_order(OKX, "alice", SWAP, order_id=order.order_id, trigger_price=D("1.0"))
    assert exc.value.reason is RejectReason.INVALID_TRIGGER_PRICE
    assert order.price == D("90000.0")
