"""The engine's listeners: the order of one operation's events, and a failing listener
(engine/core.py)."""

from __future__ import annotations

from decimal import Decimal as D

from exchanges.simulator.engine.records import Listener
from exchanges.venues.base import Liquidity, OrderStatus, Side
from tests.support.engine import Recorder, limit

SWAP = "BTC-USDT-SWAP"


def test_listener_sees_one_operation_in_order(engine):
    maker = limit(engine, "alice", Side.SELL, "2", "100000.0")
    recorder = Recorder()
    engine.add_listener(recorder)
    taker = limit(engine, "bob", Side.BUY, "3", "100000.0")

    kinds = [e[0] for e in recorder.events]
    assert kinds == [
        "order",
        "trade",
        "fill",
        "fill",
        "order",
        "order",
        "position",
        "position",
        "balance",
        "balance",
        "book",
    ]
    assert recorder.events[0] == ("order", "bob", taker.order_id, OrderStatus.NEW, D("0"))
    assert recorder.events[1] == ("trade", SWAP, D("100000.0"), D("2"), Side.BUY)
    assert recorder.events[2] == ("fill", "bob", taker.order_id, D("2"), Liquidity.TAKER)
    assert recorder.events[3] == ("fill", "alice", maker.order_id, D("2"), Liquidity.MAKER)
    assert recorder.events[4] == ("order", "alice", maker.order_id, OrderStatus.FILLED, D("2"))
    assert recorder.events[5] == (
        "order",
        "bob",
        taker.order_id,
        OrderStatus.PARTIALLY_FILLED,
        D("2"),
    )
    assert recorder.events[-1] == (
        "book",
        SWAP,
        ((D("100000.0"), D("1")),),
        ((D("100000.0"), D("0")),),
    )

    engine.remove_listener(recorder)
    limit(engine, "bob", Side.BUY, "1", "99000.0")
    assert len(recorder.events) == 11


def test_a_failing_listener_does_not_break_matching(engine):
    class Broken(Listener):
        def on_order(self, account, order):
            raise RuntimeError("face bug")

    engine.add_listener(Broken())
    recorder = Recorder()
    engine.add_listener(recorder)
    order = limit(engine, "bob", Side.BUY, "1", "99000.0")
    assert order.status is OrderStatus.NEW
    assert recorder.events[0][0] == "order"
