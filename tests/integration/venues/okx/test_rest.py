"""The OKX REST client against the simulator's OKX face over real HTTP on 127.0.0.1."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from exchanges.venues.base import (
    AmendRequest,
    AuthenticationError,
    ClockSkew,
    Credentials,
    DuplicateClientOrderId,
    InstrumentKind,
    InsufficientFunds,
    OrderNotFound,
    OrderRequest,
    OrderStatus,
    OrderType,
    RateLimited,
    ReduceOnlyViolation,
    Side,
    Venue,
)
from exchanges.venues.okx.rest import OkxRestClient

from .conftest import control, endpoints_of, wait_for

INST = "BTC-USDT-SWAP"
SYMBOL = "BTC/USDT:USDT"


def resting(client: OkxRestClient, cl_ord_id: str, side: Side = Side.BUY, **kw) -> OrderRequest:
    """A limit order far from the market, so it rests."""
    ticker = client.ticker(INST)
    mid = (ticker.best_bid + ticker.best_ask) / 2
    price = (mid * D("0.8") if side is Side.BUY else mid * D("1.2")).quantize(D("0.1"))
    return OrderRequest(SYMBOL, INST, cl_ord_id, side, OrderType.LIMIT, D("1"), price, **kw)


def test_clock_instruments_and_market_data(okx_rest):
    offset = okx_rest.sync_clock()
    assert abs(offset) < 5_000_000_000
    infos = {i.venue_symbol: i for i in okx_rest.instruments()}
    assert set(infos) == {"BTC-USDT", "ETH-USDT", "BTC-USDT-SWAP", "ETH-USDT-SWAP", "BTC-USD-SWAP"}
    swap = infos[INST]
    assert (swap.symbol, swap.kind, swap.contract_size, swap.tick_size, swap.lot_size) == (
        SYMBOL,
        InstrumentKind.PERPETUAL,
        D("0.01"),
        D("0.1"),
        D("0.01"),
    )
    assert infos["BTC-USD-SWAP"].symbol == "BTC/USD:BTC" and infos["BTC-USD-SWAP"].inverse
    ticker = okx_rest.ticker(INST)
    assert ticker.symbol == SYMBOL and ticker.best_bid < ticker.best_ask
    book = okx_rest.order_book(INST, depth=20)
    assert book.sequence > 0 and 0 < len(book.bids) <= 20
    assert book.bids[0][0] < book.asks[0][0]


def test_order_life_place_amend_cancel(okx_rest):
    request = resting(okx_rest, "itrestlife1")
    placed = okx_rest.place_order(request)
    assert (placed.status, placed.client_order_id) == (OrderStatus.NEW, "itrestlife1")
    found = okx_rest.order_by_client_id(INST, "itrestlife1")
    assert (found.venue_order_id, found.price, found.quantity) == (
        placed.venue_order_id,
        request.price,
        D("1"),
    )
    assert placed.venue_order_id in {o.venue_order_id for o in okx_rest.open_orders(INST)}
    new_price = request.price - D("10")
    amended = okx_rest.amend_order(
        AmendRequest(SYMBOL, INST, client_order_id="itrestlife1", price=new_price)
    )
    assert amended.price == new_price and amended.status is OrderStatus.NEW
    canceled = okx_rest.cancel_order(INST, venue_order_id=placed.venue_order_id)
    assert (canceled.status, canceled.venue_order_id, canceled.client_order_id) == (
        OrderStatus.PENDING_CANCEL,
        placed.venue_order_id,
        "itrestlife1",
    )  # one request: the answer names the order; its final state is the venue's to tell
    assert okx_rest.order_by_client_id(INST, "itrestlife1").status is OrderStatus.CANCELED
    with pytest.raises(OrderNotFound):
        okx_rest.cancel_order(INST, venue_order_id=placed.venue_order_id)
    assert okx_rest.order_by_client_id(INST, "nosuchorder1") is None


def test_duplicate_client_id_and_insufficient_funds(okx_rest):
    okx_rest.place_order(resting(okx_rest, "itrestdup1"))
    with pytest.raises(DuplicateClientOrderId):
        okx_rest.place_order(resting(okx_rest, "itrestdup1"))
    huge = OrderRequest(SYMBOL, INST, "itresthuge1", Side.BUY, OrderType.MARKET, D("100000000"))
    with pytest.raises(InsufficientFunds) as info:
        okx_rest.place_order(huge)
    assert info.value.code == "51008"
    okx_rest.cancel_all()


def test_post_only_that_would_take_is_canceled_with_a_reason(okx_rest):
    ask = okx_rest.ticker(INST).best_ask
    request = OrderRequest(
        SYMBOL, INST, "itrestpo1", Side.BUY, OrderType.LIMIT, D("1"), ask + D("50"), post_only=True
    )
    okx_rest.place_order(request)
    order = okx_rest.order_by_client_id(INST, "itrestpo1")
    assert order.status is OrderStatus.CANCELED and order.post_only
    assert order.reject_reason == "post-only order would have taken liquidity"


def test_cancel_all(okx_rest):
    okx_rest.cancel_all()
    for i in range(3):
        okx_rest.place_order(resting(okx_rest, f"itrestall{i}", Side.SELL))
    okx_rest.place_order(
        OrderRequest(
            "ETH/USDT", "ETH-USDT", "itrestalleth", Side.BUY, OrderType.LIMIT, D("0.01"), D("100")
        )
    )
    assert okx_rest.cancel_all(INST) == 3
    assert [o.client_order_id for o in okx_rest.open_orders()] == ["itrestalleth"]
    assert okx_rest.cancel_all() == 1
    assert okx_rest.open_orders() == []


def test_fills_positions_balances(okx_rest):
    start = okx_rest.fills()
    okx_rest.place_order(
        OrderRequest(SYMBOL, INST, "itrestfill1", Side.BUY, OrderType.MARKET, D("2"))
    )
    wait_for(lambda: okx_rest.fills(cursor=start.cursor).fills, 5)
    page = okx_rest.fills(cursor=start.cursor)
    mine = [f for f in page.fills if f.client_order_id == "itrestfill1"]
    assert sum(f.quantity for f in mine) == D("2")
    assert all(f.side is Side.BUY and f.symbol == SYMBOL and f.fee > 0 for f in mine)
    assert okx_rest.fills(cursor=page.cursor).fills == ()
    position = next(p for p in okx_rest.positions() if p.symbol == SYMBOL)
    assert position.quantity >= D("2") and position.entry_price > 0
    balances = {b.currency: b for b in okx_rest.balances()}
    assert balances["USDT"].total > 0 and balances["USDT"].available <= balances["USDT"].total


def test_dead_man_switch_cancels_orders(okx_sim, okx_rest):
    okx_sim.call(okx_sim.faces[Venue.OKX].configure, {"cancel_all_after_scale": 0.02})
    okx_rest.cancel_all()
    okx_rest.place_order(resting(okx_rest, "itrestdms1"))
    okx_rest.set_dead_man_switch(10)  # 10 s x 0.02 = 0.2 s in the simulator
    wait_for(lambda: okx_rest.open_orders() == [], 5)
    assert okx_rest.order_by_client_id(INST, "itrestdms1").status is OrderStatus.CANCELED
    try:
        okx_rest.set_dead_man_switch(0)
    except RateLimited:
        # One a second, counted by the venue in windows from the arming's arrival: the client's
        # bucket (on its own clock) may let the disarm out a millisecond early. The refusal
        # holds the group for retry_after in the client's limiter, so this one waits for it.
        okx_rest.set_dead_man_switch(0)


def test_lost_ack_is_resolved_by_client_id(okx_sim, okx_rest):
    control(okx_sim, "faults", {"lose_acks": 1, "lost_ack_wait_ms": 50})
    update = okx_rest.place_order(resting(okx_rest, "itrestlost1"))
    assert (update.client_order_id, update.status) == ("itrestlost1", OrderStatus.NEW)
    assert okx_rest.order_by_client_id(INST, "itrestlost1").venue_order_id == update.venue_order_id
    okx_rest.cancel_all()


def test_rate_limit_burst_is_reported_and_backed_off(okx_sim, okx_rest):
    control(okx_sim, "faults", {"rate_limit_burst": 1})
    with pytest.raises(RateLimited) as info:
        okx_rest.positions()
    assert info.value.code == "50011"
    assert not okx_rest.limiter.bucket("positions").try_acquire()


def test_bad_signature_and_stale_clock(okx_sim):
    good = okx_sim.credentials[Venue.OKX]
    bad = OkxRestClient(
        endpoints_of(okx_sim), Credentials(good.api_key, good.secret + "x", good.passphrase)
    )
    with pytest.raises(AuthenticationError) as info:
        bad.balances()
    assert info.value.code == "50113"
    skewed = OkxRestClient(endpoints_of(okx_sim), good)
    skewed.clock.offset_ns = -120_000_000_000
    with pytest.raises(ClockSkew):
        skewed.balances()
    skewed.sync_clock()
    assert skewed.balances()


def test_reduce_only_and_amending_a_closed_order(okx_rest):
    okx_rest.cancel_all()
    flat = next((p.quantity for p in okx_rest.positions() if p.symbol == "ETH/USDT:USDT"), D(0))
    side = Side.SELL if flat <= 0 else Side.BUY  # a reduce-only order that would grow the position
    reduce = OrderRequest(
        "ETH/USDT:USDT",
        "ETH-USDT-SWAP",
        "itrestro1",
        side,
        OrderType.MARKET,
        D("1"),
        reduce_only=True,
    )
    with pytest.raises(ReduceOnlyViolation) as info:
        okx_rest.place_order(reduce)
    assert info.value.code == "51169"
    spot = OrderRequest(
        "BTC/USDT",
        "BTC-USDT",
        "itrestro2",
        Side.SELL,
        OrderType.MARKET,
        D("0.001"),
        reduce_only=True,
    )
    with pytest.raises(ReduceOnlyViolation) as info:
        okx_rest.place_order(spot)
    assert info.value.code == "51139"
    placed = okx_rest.place_order(resting(okx_rest, "itrestam1"))
    okx_rest.cancel_order(INST, venue_order_id=placed.venue_order_id)
    with pytest.raises(OrderNotFound) as info:
        okx_rest.amend_order(
            AmendRequest(SYMBOL, INST, venue_order_id=placed.venue_order_id, quantity=D("2"))
        )
    assert info.value.code == "51503"
