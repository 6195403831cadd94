"""Price-time matching: priority, partial fills, IOC/FOK/market remainders, post-only, level
counts, one book per instrument (engine/matching.py)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from exchanges.simulator.engine.records import CancelReason, PostOnlyAction, RejectReason, SimReject
from exchanges.venues.base import OrderStatus, Side, TimeInForce, Venue
from tests.support.engine import Recorder, limit, market

OKX = Venue.OKX


BYBIT = Venue.BYBIT


SWAP = "BTC-USDT-SWAP"


SPOT = "BTC-USDT"


def test_better_price_fills_first_then_time_priority(engine):
    first = limit(engine, "alice", Side.SELL, "1", "100001.0")
    second = limit(engine, "bob", Side.SELL, "1", "100001.0")
    better = limit(engine, "carol", Side.SELL, "1", "100000.5")

    taker = limit(engine, "carol", Side.BUY, "2.5", "100001.0")

    assert taker.status is OrderStatus.FILLED
    assert taker.filled_quantity == D("2.5")
    assert taker.average_price == D("100000.8")  # (100000.5 + 100001 * 1.5) / 2.5
    assert better.status is OrderStatus.FILLED
    assert first.status is OrderStatus.FILLED
    assert second.status is OrderStatus.PARTIALLY_FILLED
    assert second.remaining == D("0.5")
    assert engine.book(OKX, SWAP) == ([], [(D("100001.0"), D("0.5"))])


def test_partial_fill_leaves_remainder_resting_with_its_priority(engine):
    maker = limit(engine, "alice", Side.BUY, "5", "99990.0")
    market(engine, "bob", Side.SELL, "3")

    assert maker.status is OrderStatus.PARTIALLY_FILLED
    assert (maker.filled_quantity, maker.remaining) == (D("3"), D("2"))
    assert engine.open_orders(OKX, "alice") == [maker]
    later = limit(engine, "carol", Side.BUY, "1", "99990.0")
    market(engine, "bob", Side.SELL, "2")
    assert maker.status is OrderStatus.FILLED
    assert later.status is OrderStatus.NEW


def test_ioc_remainder_is_canceled_and_never_rests(engine):
    limit(engine, "alice", Side.SELL, "3", "100000.0")
    order = limit(engine, "bob", Side.BUY, "5", "100000.0", time_in_force=TimeInForce.IOC)

    assert order.status is OrderStatus.CANCELED
    assert order.filled_quantity == D("3")
    assert order.cancel_reason is CancelReason.IOC_REMAINDER
    assert engine.book(OKX, SWAP) == ([], [])
    assert engine.open_orders(OKX, "bob") == []


def test_fok_is_all_or_nothing(engine):
    limit(engine, "alice", Side.SELL, "3", "100000.0")
    limit(engine, "alice", Side.SELL, "3", "100002.0")

    short = limit(engine, "bob", Side.BUY, "4", "100001.0", time_in_force=TimeInForce.FOK)
    assert short.status is OrderStatus.CANCELED
    assert short.cancel_reason is CancelReason.FOK_NOT_FILLABLE
    assert short.filled_quantity == 0
    assert engine.fills(OKX, "bob") == []
    assert engine.book(OKX, SWAP)[1] == [(D("100000.0"), D("3")), (D("100002.0"), D("3"))]

    whole = limit(engine, "bob", Side.BUY, "4", "100002.0", time_in_force=TimeInForce.FOK)
    assert whole.status is OrderStatus.FILLED
    assert whole.average_price == D("100000.5")


def test_market_order_sweeps_levels_and_cancels_what_the_book_cannot_fill(engine):
    limit(engine, "alice", Side.SELL, "1", "100000.0")
    limit(engine, "alice", Side.SELL, "2", "100010.0")
    order = market(engine, "bob", Side.BUY, "5")
    assert order.filled_quantity == D("3")
    assert order.average_price == D("100006.6666666667")
    assert order.status is OrderStatus.CANCELED
    assert order.cancel_reason is CancelReason.MARKET_REMAINDER


def test_market_order_on_empty_book_is_rejected(engine):
    with pytest.raises(SimReject) as exc:
        market(engine, "bob", Side.BUY, "1")
    assert exc.value.reason is RejectReason.NO_LIQUIDITY


def test_post_only_that_would_cross_is_rejected_and_one_that_does_not_rests(engine):
    limit(engine, "alice", Side.SELL, "1", "100000.0")
    with pytest.raises(SimReject) as exc:
        limit(engine, "bob", Side.BUY, "1", "100000.0", post_only=True)
    assert exc.value.reason is RejectReason.POST_ONLY_WOULD_CROSS
    resting = limit(engine, "bob", Side.BUY, "1", "99999.9", post_only=True)
    assert resting.status is OrderStatus.NEW
    assert engine.book(OKX, SWAP) == ([(D("99999.9"), D("1"))], [(D("100000.0"), D("1"))])


@pytest.mark.parametrize(
    ("action", "status", "cancel_reason", "reject_reason"),
    [
        (
            PostOnlyAction.CANCEL,
            OrderStatus.CANCELED,
            CancelReason.POST_ONLY_WOULD_TAKE,
            None,
        ),
        (PostOnlyAction.REJECT, OrderStatus.REJECTED, None, RejectReason.POST_ONLY_WOULD_CROSS),
    ],
)
def test_post_only_that_would_take_can_be_recorded_and_ended(
    engine, action, status, cancel_reason, reject_reason
):
    limit(engine, "alice", Side.SELL, "1", "100000.0")
    recorder = Recorder()
    engine.add_listener(recorder)
    order = limit(
        engine,
        "bob",
        Side.BUY,
        "2",
        "100000.5",
        post_only=True,
        client_order_id="po-1",
        post_only_action=action,
    )
    assert (order.status, order.cancel_reason, order.reject_reason) == (
        status,
        cancel_reason,
        reject_reason,
    )
    assert (order.order_id, order.filled_quantity, order.quantity) == (
        "700000000000000001",
        D("0"),
        D("2"),
    )
    assert engine.orders(OKX, "bob") == [order]
    assert engine.get_order(OKX, "bob", client_order_id="po-1") is order
    assert engine.open_orders(OKX, "bob") == []
    assert engine.fills(OKX, "bob") == []
    assert recorder.events == [("order", "bob", order.order_id, status, D("0"))]
    assert engine.book(OKX, SWAP) == ([], [(D("100000.0"), D("1"))])


def test_post_only_market_order_is_refused_whatever_the_action(engine):
    limit(engine, "alice", Side.SELL, "1", "100000.0")
    with pytest.raises(SimReject) as exc:
        market(engine, "bob", Side.BUY, "1", post_only=True, post_only_action=PostOnlyAction.CANCEL)
    assert exc.value.reason is RejectReason.POST_ONLY_WOULD_CROSS
    assert engine.orders(OKX, "bob") == []


def test_amend_to_a_crossing_price_matches(engine):
    limit(engine, "alice", Side.SELL, "1", "100000.0")
    order = limit(engine, "bob", Side.BUY, "2", "99990.0", client_order_id="x1")
    engine.amend_order(OKX, "bob", SWAP, client_order_id="x1", price=D("100000.0"))
    assert order.status is OrderStatus.PARTIALLY_FILLED
    assert order.filled_quantity == D("1")
    assert engine.book(OKX, SWAP) == ([(D("100000.0"), D("1"))], [])


def test_level_order_count_counts_resting_orders_per_price(engine):
    limit(engine, "alice", Side.BUY, "1", "99990.0")
    limit(engine, "bob", Side.BUY, "2", "99990.0")
    limit(engine, "carol", Side.SELL, "1", "100010.0")
    assert engine.level_order_count(OKX, SWAP, Side.BUY, D("99990.0")) == 2
    assert engine.level_order_count(OKX, SWAP, Side.SELL, D("100010.0")) == 1
    assert engine.level_order_count(OKX, SWAP, Side.SELL, D("99990.0")) == 0
    market(engine, "carol", Side.SELL, "1")
    assert engine.level_order_count(OKX, SWAP, Side.BUY, D("99990.0")) == 1
    with pytest.raises(SimReject):
        engine.level_order_count(OKX, "NOPE", Side.BUY, D("1"))


def test_base_for_quote_walks_the_asks_and_rounds_down_to_the_lot(engine):
    limit(engine, "alice", Side.SELL, "0.01", "100000.0", symbol=SPOT)
    limit(engine, "alice", Side.SELL, "1", "100100.0", symbol=SPOT)
    # 1000 USDT buys 0.01 BTC at 100000; the other 1000 buy 0.00999000999... at 100100
    assert engine.base_for_quote(OKX, SPOT, D("2000")) == D("0.01999000")
    assert engine.base_for_quote(OKX, SPOT, D("500")) == D("0.005")
    assert engine.base_for_quote(OKX, SWAP, D("500")) == D("0")


def test_bybit_spot_and_linear_share_a_name_but_not_a_book(engine):
    limit(engine, "alice", Side.SELL, "0.001", "100000.0", symbol="spot:BTCUSDT", venue=BYBIT)
    limit(engine, "alice", Side.SELL, "0.001", "100000.5", symbol="BTCUSDT", venue=BYBIT)
    assert engine.book(BYBIT, "spot:BTCUSDT")[1] == [(D("100000.0"), D("0.001"))]
    assert engine.book(BYBIT, "BTCUSDT")[1] == [(D("100000.5"), D("0.001"))]
    assert engine.instrument(BYBIT, "spot:BTCUSDT").venue_symbol == "BTCUSDT"
