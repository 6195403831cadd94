"""Order entry: validation, client order ids, ids, amend and cancel rules, reduce-only
(engine/orders.py)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from exchanges.simulator.engine.records import (
    AmendAtOrBelowFilled,
    CancelReason,
    ClientIdScope,
    RejectReason,
    SimReject,
)
from exchanges.venues.base import OrderStatus, Side, Venue
from tests.support.engine import Recorder, limit, market

OKX = Venue.OKX


DERIBIT = Venue.DERIBIT


SWAP = "BTC-USDT-SWAP"


SPOT = "BTC-USDT"


def test_reduce_only_may_not_open_or_increase_a_position(engine):
    with pytest.raises(SimReject) as exc:
        limit(engine, "bob", Side.SELL, "1", "100000.0", reduce_only=True)
    assert exc.value.reason is RejectReason.REDUCE_ONLY

    limit(engine, "alice", Side.SELL, "2", "100000.0")
    market(engine, "bob", Side.BUY, "2")
    assert engine.position(OKX, "bob", SWAP).quantity == D("2")

    for side, qty in ((Side.BUY, "1"), (Side.SELL, "3")):
        with pytest.raises(SimReject) as exc:
            limit(engine, "bob", side, qty, "100000.0", reduce_only=True)
        assert exc.value.reason is RejectReason.REDUCE_ONLY
    closing = limit(engine, "bob", Side.SELL, "2", "100005.0", reduce_only=True)
    assert closing.status is OrderStatus.NEW


def test_validation_of_tick_lot_minimum_and_instrument(engine):
    cases = [
        (dict(qty="1", price="100000.05"), RejectReason.INVALID_PRICE),
        (dict(qty="1", price="0"), RejectReason.INVALID_PRICE),
        (dict(qty="0.005", price="100000.0"), RejectReason.INVALID_SIZE),
        (dict(qty="1.015", price="100000.0"), RejectReason.INVALID_SIZE),
        (dict(qty="1", price="100000.0", symbol="DOGE-USDT-SWAP"), RejectReason.UNKNOWN_INSTRUMENT),
    ]
    for kwargs, reason in cases:
        with pytest.raises(SimReject) as exc:
            limit(engine, "bob", Side.BUY, **kwargs)
        assert exc.value.reason is reason, kwargs
    assert engine.get_order(OKX, "bob", order_id="1") is None


def test_duplicate_client_order_id_only_among_open_orders(engine):
    first = limit(engine, "bob", Side.BUY, "1", "90000.0", client_order_id="abc1")
    with pytest.raises(SimReject) as exc:
        limit(engine, "bob", Side.BUY, "1", "90000.0", client_order_id="abc1")
    assert exc.value.reason is RejectReason.DUPLICATE_CLIENT_ORDER_ID
    limit(engine, "alice", Side.BUY, "1", "90000.0", client_order_id="abc1")  # other account
    engine.cancel_order(OKX, "bob", SWAP, client_order_id="abc1")
    second = limit(engine, "bob", Side.BUY, "1", "90001.0", client_order_id="abc1")

    assert engine.get_order(OKX, "bob", client_order_id="abc1") is second
    assert engine.get_order(OKX, "bob", order_id=first.order_id) is first
    assert first.status is OrderStatus.CANCELED


def test_order_ids_are_numeric_strings_per_venue(engine):
    a = limit(engine, "bob", Side.BUY, "1", "90000.0")
    b = limit(engine, "bob", Side.BUY, "1", "90000.0")
    d = limit(engine, "bob", Side.BUY, "10", "90000.0", symbol="BTC-PERPETUAL", venue=DERIBIT)
    assert a.order_id.isdigit() and d.order_id.isdigit()
    assert int(b.order_id) == int(a.order_id) + 1
    assert len(a.order_id) == 18


def test_amend_price_loses_priority_quantity_down_keeps_it(engine):
    a = limit(engine, "alice", Side.BUY, "2", "99990.0")
    b = limit(engine, "bob", Side.BUY, "2", "99990.0")

    engine.amend_order(OKX, "alice", SWAP, order_id=a.order_id, quantity=D("1"))
    market(engine, "carol", Side.SELL, "1")
    assert (a.status, b.status) == (OrderStatus.FILLED, OrderStatus.NEW)

    c = limit(engine, "alice", Side.BUY, "2", "99990.0")
    engine.amend_order(OKX, "bob", SWAP, order_id=b.order_id, price=D("99989.0"))
    engine.amend_order(OKX, "bob", SWAP, order_id=b.order_id, price=D("99990.0"))
    market(engine, "carol", Side.SELL, "2")
    assert (c.status, b.status) == (OrderStatus.FILLED, OrderStatus.NEW)


def test_amend_quantity_up_loses_priority(engine):
    a = limit(engine, "alice", Side.BUY, "1", "99990.0")
    b = limit(engine, "bob", Side.BUY, "1", "99990.0")
    engine.amend_order(OKX, "alice", SWAP, order_id=a.order_id, quantity=D("2"))
    market(engine, "carol", Side.SELL, "1")
    assert (a.status, b.status) == (OrderStatus.NEW, OrderStatus.FILLED)


def test_amend_below_filled_is_rejected_and_to_filled_completes(engine):
    order = limit(engine, "alice", Side.BUY, "3", "99990.0")
    market(engine, "carol", Side.SELL, "2")
    with pytest.raises(SimReject) as exc:
        engine.amend_order(OKX, "alice", SWAP, order_id=order.order_id, quantity=D("1"))
    assert exc.value.reason is RejectReason.INVALID_SIZE
    engine.amend_order(OKX, "alice", SWAP, order_id=order.order_id, quantity=D("2"))
    assert order.status is OrderStatus.FILLED
    assert engine.book(OKX, SWAP) == ([], [])


def test_cancel_unknown_and_closed_orders(engine):
    with pytest.raises(SimReject) as exc:
        engine.cancel_order(OKX, "bob", SWAP, order_id="123")
    assert exc.value.reason is RejectReason.ORDER_NOT_FOUND
    order = limit(engine, "bob", Side.BUY, "1", "99990.0")
    with pytest.raises(SimReject) as exc:
        engine.cancel_order(OKX, "bob", "ETH-USDT-SWAP", order_id=order.order_id)
    assert exc.value.reason is RejectReason.ORDER_NOT_FOUND
    with pytest.raises(SimReject) as exc:
        engine.cancel_order(OKX, "alice", SWAP, order_id=order.order_id)
    assert exc.value.reason is RejectReason.ORDER_NOT_FOUND
    assert engine.cancel_order(OKX, "bob", SWAP, order_id=order.order_id) is order
    assert (order.status, order.cancel_reason) == (OrderStatus.CANCELED, CancelReason.USER)
    with pytest.raises(SimReject) as exc:
        engine.cancel_order(OKX, "bob", SWAP, order_id=order.order_id)
    assert exc.value.reason is RejectReason.ORDER_CLOSED


def test_cancel_order_records_the_reason_it_is_given(engine):
    recorder = Recorder()
    order = limit(engine, "bob", Side.BUY, "1", "99990.0")
    engine.add_listener(recorder)
    engine.cancel_order(OKX, "bob", SWAP, order_id=order.order_id, reason=CancelReason.DISCONNECT)
    assert (order.status, order.cancel_reason) == (OrderStatus.CANCELED, CancelReason.DISCONNECT)
    assert ("order", "bob", order.order_id, OrderStatus.CANCELED, D("0")) in recorder.events
    assert engine.book(OKX, SWAP) == ([], [])


def test_cancel_all_with_and_without_symbol(engine):
    a = limit(engine, "bob", Side.BUY, "1", "99990.0")
    b = limit(engine, "bob", Side.BUY, "1", "3000.00", symbol="ETH-USDT-SWAP")
    c = limit(engine, "bob", Side.SELL, "0.001", "110000.0", symbol=SPOT)
    other = limit(engine, "alice", Side.BUY, "1", "99990.0")

    assert engine.cancel_all(OKX, "bob", SWAP) == [a]
    assert engine.cancel_all(OKX, "bob", reason=CancelReason.DEAD_MAN_SWITCH) == [b, c]
    assert engine.cancel_all(OKX, "bob") == []
    assert other.status is OrderStatus.NEW
    assert [o.cancel_reason for o in (a, b, c)] == [
        CancelReason.CANCEL_ALL,
        CancelReason.DEAD_MAN_SWITCH,
        CancelReason.DEAD_MAN_SWITCH,
    ]
    assert other.cancel_reason is None
    assert engine.book(OKX, SWAP) == ([(D("99990.0"), D("1"))], [])


def test_resting_reduce_only_orders_follow_the_position(engine):
    limit(engine, "alice", Side.SELL, "3", "100000.0")
    market(engine, "bob", Side.BUY, "3")
    cut = limit(engine, "bob", Side.SELL, "3", "100010.0", reduce_only=True)
    gone = limit(engine, "bob", Side.SELL, "2", "100020.0", reduce_only=True)

    limit(engine, "alice", Side.BUY, "2", "99990.0")
    market(engine, "bob", Side.SELL, "2")  # position 3 -> 1

    assert engine.position(OKX, "bob", SWAP).quantity == D("1")
    assert (cut.status, cut.quantity) == (OrderStatus.NEW, D("1"))
    assert (gone.status, gone.quantity) == (OrderStatus.NEW, D("1"))
    assert engine.book(OKX, SWAP)[1] == [(D("100010.0"), D("1")), (D("100020.0"), D("1"))]

    limit(engine, "alice", Side.BUY, "1", "99990.0")
    market(engine, "bob", Side.SELL, "1")  # flat
    assert (cut.status, cut.cancel_reason) == (
        OrderStatus.CANCELED,
        CancelReason.REDUCE_ONLY_SHRUNK,
    )
    assert gone.status is OrderStatus.CANCELED
    assert engine.book(OKX, SWAP)[1] == []


def test_cancel_reasons_keep_the_engine_s_former_strings():
    """Faces written against the free-text reasons (Deribit's) still compare equal."""
    assert [str(r) for r in CancelReason] == [
        "canceled by user",
        "canceled by user (cancel all)",
        "ioc",
        "market",
        "fok_not_fillable",
        "post_only_would_take",
        "reduce_only",
        "dead_man_switch",
        "cancel_on_disconnect",
        "trigger_failed",
    ]
    assert CancelReason.FOK_NOT_FILLABLE == RejectReason.FOK_NOT_FILLABLE


def test_amend_below_the_filled_quantity_is_refused_or_fills_the_order(engine):
    maker = limit(engine, "alice", Side.SELL, "5", "100000.0")
    market(engine, "bob", Side.BUY, "2")
    with pytest.raises(SimReject) as exc:
        engine.amend_order(OKX, "alice", SWAP, order_id=maker.order_id, quantity=D("1"))
    assert (exc.value.reason, exc.value.message) == (
        RejectReason.INVALID_SIZE,
        "quantity 1 is not above the filled 2",
    )
    assert (maker.status, maker.quantity) == (OrderStatus.PARTIALLY_FILLED, D("5"))
    recorder = Recorder()
    engine.add_listener(recorder)
    done = engine.amend_order(
        OKX,
        "alice",
        SWAP,
        order_id=maker.order_id,
        quantity=D("1"),
        price=D("100005.0"),
        at_or_below_filled=AmendAtOrBelowFilled.FILL,
    )
    assert done is maker
    assert (maker.status, maker.quantity, maker.filled_quantity, maker.price) == (
        OrderStatus.FILLED,
        D("2"),
        D("2"),
        D("100000.0"),
    )
    assert engine.open_orders(OKX, "alice") == []
    assert engine.book(OKX, SWAP) == ([], [])
    assert [e for e in recorder.events if e[0] in ("order", "book")] == [
        ("order", "alice", maker.order_id, OrderStatus.FILLED, D("2")),
        ("book", SWAP, (), ((D("100000.0"), D("0")),)),
    ]


@pytest.mark.parametrize(
    ("rule", "outcome"),
    [
        (AmendAtOrBelowFilled.REJECT_BELOW, OrderStatus.FILLED),
        (AmendAtOrBelowFilled.REJECT_AT_OR_BELOW, RejectReason.INVALID_SIZE),
        (AmendAtOrBelowFilled.FILL, OrderStatus.FILLED),
    ],
)
def test_amend_to_exactly_the_filled_quantity(engine, rule, outcome):
    maker = limit(engine, "alice", Side.SELL, "5", "100000.0")
    market(engine, "bob", Side.BUY, "2")
    try:
        engine.amend_order(
            OKX, "alice", SWAP, order_id=maker.order_id, quantity=D("2"), at_or_below_filled=rule
        )
    except SimReject as exc:
        assert exc.reason is outcome
        assert (maker.status, maker.quantity) == (OrderStatus.PARTIALLY_FILLED, D("5"))
    else:
        assert (maker.status, maker.quantity) == (outcome, D("2"))
        assert engine.book(OKX, SWAP) == ([], [])


def test_client_order_id_scope_open_or_all(engine):
    first = limit(engine, "bob", Side.BUY, "1", "99990.0", client_order_id="c-1")
    with pytest.raises(SimReject) as exc:
        limit(engine, "bob", Side.BUY, "1", "99990.0", client_order_id="c-1")
    assert exc.value.reason is RejectReason.DUPLICATE_CLIENT_ORDER_ID
    engine.cancel_order(OKX, "bob", SWAP, order_id=first.order_id)
    with pytest.raises(SimReject) as exc:
        limit(
            engine,
            "bob",
            Side.BUY,
            "1",
            "99990.0",
            client_order_id="c-1",
            client_id_scope=ClientIdScope.ALL,
        )
    assert exc.value.reason is RejectReason.DUPLICATE_CLIENT_ORDER_ID
    again = limit(engine, "bob", Side.BUY, "1", "99990.0", client_order_id="c-1")
    assert again.order_id != first.order_id
    assert engine.get_order(OKX, "bob", client_order_id="c-1") is again
    other = limit(
        engine,
        "alice",
        Side.BUY,
        "1",
        "99990.0",
        client_order_id="c-1",
        client_id_scope=ClientIdScope.ALL,
    )
    assert other.status is OrderStatus.NEW
