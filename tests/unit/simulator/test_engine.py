"""Engine matching, accounts, fees and margin, on books with no generated liquidity."""

from __future__ import annotations

import itertools
from decimal import Decimal as D

import pytest

from exchanges.simulator.engine.core import Engine
from exchanges.simulator.engine.fees import FeeSchedule
from exchanges.simulator.engine.records import (
    AmendAtOrBelowFilled,
    CancelReason,
    ClientIdScope,
    Listener,
    PostOnlyAction,
    RejectReason,
    SimReject,
)
from exchanges.simulator.market.generator import MarketConfig, build_engine
from exchanges.venues.base import Liquidity, OrderStatus, OrderType, Side, TimeInForce, Venue

OKX = Venue.OKX
DERIBIT = Venue.DERIBIT
BYBIT = Venue.BYBIT
SWAP = "BTC-USDT-SWAP"
SPOT = "BTC-USDT"


def fixed_clock(start: int = 1_790_000_000_000_000_000):
    counter = itertools.count(start, 1_000)
    return lambda: next(counter)


def quiet_engine() -> Engine:
    """An engine whose generator neither quotes nor trades: only the test's orders are in books."""
    return build_engine(
        seed=1,
        clock_ns=fixed_clock(),
        config=MarketConfig(levels=0, taker_rate=0.0, resize_rate=0.0),
    )


@pytest.fixture
def engine() -> Engine:
    eng = quiet_engine()
    for key in ("alice", "bob", "carol"):
        eng.add_account(OKX, key, "secret", "pass")
        eng.add_account(DERIBIT, key, "secret")
        eng.add_account(BYBIT, key, "secret")
    return eng


def limit(engine, key, side, qty, price, symbol=SWAP, venue=OKX, **kw):
    return engine.place_order(
        venue,
        key,
        symbol,
        side=side,
        order_type=OrderType.LIMIT,
        quantity=D(qty),
        price=D(price),
        **kw,
    )


def market(engine, key, side, qty, symbol=SWAP, venue=OKX, **kw):
    return engine.place_order(
        venue, key, symbol, side=side, order_type=OrderType.MARKET, quantity=D(qty), **kw
    )


class Recorder(Listener):
    def __init__(self) -> None:
        self.events: list[tuple] = []

    def on_book(self, venue, symbol, bid_changes, ask_changes, ts_ns):
        self.events.append(("book", symbol, tuple(bid_changes), tuple(ask_changes)))

    def on_trade(self, trade):
        self.events.append(("trade", trade.symbol, trade.price, trade.quantity, trade.taker_side))

    def on_order(self, account, order):
        self.events.append(
            ("order", account.api_key, order.order_id, order.status, order.filled_quantity)
        )

    def on_fill(self, account, fill):
        self.events.append(("fill", account.api_key, fill.order_id, fill.quantity, fill.liquidity))

    def on_position(self, account, position):
        self.events.append(("position", account.api_key, position.symbol, position.quantity))

    def on_balance(self, account, balance):
        self.events.append(
            ("balance", account.api_key, balance.currency, balance.total, balance.locked)
        )

    def on_ticker(self, ticker):
        self.events.append(
            ("ticker", ticker.venue, ticker.symbol, ticker.best_bid, ticker.best_ask)
        )


# --------------------------------------------------------------------------- matching


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


# --------------------------------------------------------------------------- amend and cancel


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


def test_amend_to_a_crossing_price_matches(engine):
    limit(engine, "alice", Side.SELL, "1", "100000.0")
    order = limit(engine, "bob", Side.BUY, "2", "99990.0", client_order_id="x1")
    engine.amend_order(OKX, "bob", SWAP, client_order_id="x1", price=D("100000.0"))
    assert order.status is OrderStatus.PARTIALLY_FILLED
    assert order.filled_quantity == D("1")
    assert engine.book(OKX, SWAP) == ([(D("100000.0"), D("1"))], [])


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


# --------------------------------------------------------------------------- fees, wallets, positions


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


def test_okx_inverse_swap_counts_contracts_of_100_usd(engine):
    limit(engine, "alice", Side.SELL, "10", "100000.0", symbol="BTC-USD-SWAP")
    market(engine, "bob", Side.BUY, "10", symbol="BTC-USD-SWAP")
    fill = engine.fills(OKX, "bob")[0]
    assert (fill.fee, fill.fee_currency) == (D("0.000005"), "BTC")  # 1000 USD -> 0.01 BTC
    position = engine.position(OKX, "bob", "BTC-USD-SWAP")
    assert position.quantity == D("10")
    assert position.margin == D("0.001")


def test_deribit_option_fee_is_per_contract_and_capped(engine):
    option = "BTC-25DEC26-100000-C"
    limit(engine, "alice", Side.SELL, "2", "0.05", symbol=option, venue=DERIBIT)
    market(engine, "bob", Side.BUY, "2", symbol=option, venue=DERIBIT)
    assert engine.fills(DERIBIT, "bob")[0].fee == D("0.0006")  # 0.0003 x 2
    btc = {b.currency: b for b in engine.balances(DERIBIT, "bob")}["BTC"]
    assert btc.total == D("9.8994")  # premium 0.1 + fee

    limit(engine, "alice", Side.SELL, "1", "0.0005", symbol=option, venue=DERIBIT)
    market(engine, "bob", Side.BUY, "1", symbol=option, venue=DERIBIT)
    assert engine.fills(DERIBIT, "bob")[1].fee == D("0.0000625")  # 12.5% of 0.0005


def test_spot_fee_is_paid_in_the_coin_received(engine):
    """OKX and Bybit: a buy pays its fee in the base coin, a sell in the quote coin."""
    limit(engine, "alice", Side.SELL, "0.5", "100000.0", symbol=SPOT)
    market(engine, "bob", Side.BUY, "0.5", symbol=SPOT)
    [fill] = engine.fills(OKX, "bob")
    assert (fill.fee, fill.fee_currency) == (D("0.0005"), "BTC")  # 0.1% of 0.5 BTC
    [order] = engine.orders(OKX, "bob")
    assert (order.fee_paid, order.fee_currency) == (D("0.0005"), "BTC")
    wallet = {b.currency: b for b in engine.balances(OKX, "bob")}
    assert wallet["BTC"].total == D("10.4995")
    assert wallet["USDT"].total == D("950000")
    assert engine.positions(OKX, "bob") == []
    [maker_fill] = engine.fills(OKX, "alice")
    assert (maker_fill.fee, maker_fill.fee_currency) == (D("40"), "USDT")  # maker 0.08%
    alice = {b.currency: b for b in engine.balances(OKX, "alice")}
    assert alice["BTC"].total == D("9.5")
    assert alice["USDT"].total == D("1049960")


def test_bybit_spot_sell_pays_quote_and_a_maker_rebate_flips_the_coin(engine):
    bybit_spot = "spot:BTCUSDT"
    limit(engine, "alice", Side.BUY, "0.2", "100000.0", symbol=bybit_spot, venue=BYBIT)
    market(engine, "bob", Side.SELL, "0.2", symbol=bybit_spot, venue=BYBIT)
    [taker] = engine.fills(BYBIT, "bob")
    [maker] = engine.fills(BYBIT, "alice")
    assert (taker.fee, taker.fee_currency) == (D("20"), "USDT")  # 0.1% of 20000
    assert (maker.fee, maker.fee_currency) == (D("0.0002"), "BTC")  # 0.1% of 0.2 BTC
    bob = {b.currency: b.total for b in engine.balances(BYBIT, "bob")}
    assert (bob["BTC"], bob["USDT"]) == (D("9.8"), D("1019980"))
    alice = {b.currency: b.total for b in engine.balances(BYBIT, "alice")}
    assert (alice["BTC"], alice["USDT"]) == (D("10.1998"), D("980000"))

    engine.fees[(BYBIT, bybit_spot)] = FeeSchedule(D("-0.0001"), D("0.001"))
    assert engine.fee_currency(BYBIT, bybit_spot, Side.BUY, Liquidity.MAKER) == "USDT"
    assert engine.fee_currency(BYBIT, bybit_spot, Side.SELL, Liquidity.MAKER) == "BTC"
    assert engine.fee_currency(BYBIT, bybit_spot, Side.BUY) == "BTC"
    limit(engine, "alice", Side.BUY, "0.1", "100000.0", symbol=bybit_spot, venue=BYBIT)
    market(engine, "bob", Side.SELL, "0.1", symbol=bybit_spot, venue=BYBIT)
    rebate = engine.fills(BYBIT, "alice")[1]
    assert (rebate.fee, rebate.fee_currency) == (D("-1"), "USDT")  # -0.01% of 10000
    alice = {b.currency: b.total for b in engine.balances(BYBIT, "alice")}
    assert (alice["BTC"], alice["USDT"]) == (D("10.2998"), D("970001"))


def test_fee_currency_of_derivatives_is_the_settlement_coin(engine):
    assert engine.fee_currency(OKX, SWAP, Side.BUY) == "USDT"
    assert engine.fee_currency(OKX, "BTC-USD-SWAP", Side.SELL) == "BTC"
    assert engine.fee_currency(OKX, SPOT, Side.SELL) == "USDT"


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


def test_bybit_spot_and_linear_share_a_name_but_not_a_book(engine):
    limit(engine, "alice", Side.SELL, "0.001", "100000.0", symbol="spot:BTCUSDT", venue=BYBIT)
    limit(engine, "alice", Side.SELL, "0.001", "100000.5", symbol="BTCUSDT", venue=BYBIT)
    assert engine.book(BYBIT, "spot:BTCUSDT")[1] == [(D("100000.0"), D("0.001"))]
    assert engine.book(BYBIT, "BTCUSDT")[1] == [(D("100000.5"), D("0.001"))]
    assert engine.instrument(BYBIT, "spot:BTCUSDT").venue_symbol == "BTCUSDT"


# --------------------------------------------------------------------------- events


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


def test_base_for_quote_walks_the_asks_and_rounds_down_to_the_lot(engine):
    limit(engine, "alice", Side.SELL, "0.01", "100000.0", symbol=SPOT)
    limit(engine, "alice", Side.SELL, "1", "100100.0", symbol=SPOT)
    # 1000 USDT buys 0.01 BTC at 100000; the other 1000 buy 0.00999000999... at 100100
    assert engine.base_for_quote(OKX, SPOT, D("2000")) == D("0.01999000")
    assert engine.base_for_quote(OKX, SPOT, D("500")) == D("0.005")
    assert engine.base_for_quote(OKX, SWAP, D("500")) == D("0")
