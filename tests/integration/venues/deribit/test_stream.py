"""The Deribit adapter against the local simulator over real sockets (127.0.0.1).

REST runs synchronously against the simulator thread; streams run in the test's event loop.
Every wait is bounded by `asyncio.timeout`.
"""

import asyncio
import itertools
import time
from decimal import Decimal

import pytest

from exchanges.venues.base import (
    BalanceUpdate,
    BookDelta,
    BookSnapshot,
    Endpoints,
    FillEvent,
    OrderRequest,
    OrderStatus,
    OrderType,
    PositionUpdate,
    RateLimited,
    Side,
    StreamState,
    StreamStatus,
    Ticker,
    TimeInForce,
    Trade,
    Venue,
)
from exchanges.venues.book import OrderBook
from exchanges.venues.deribit import ADAPTER
from exchanges.venues.ws import Backoff

V = Venue.DERIBIT
PERP = "BTC-PERPETUAL"
FAST = Backoff(initial=0.1, maximum=0.5)


@pytest.fixture
def endpoints(sim_module):
    urls = sim_module.urls[V]
    return Endpoints(urls["rest"], urls["ws_public"], urls["ws_private"])


@pytest.fixture
def rest(sim_module, endpoints):
    client = ADAPTER.rest_client(endpoints, sim_module.credentials[V])
    client.sync_clock()
    yield client
    client.cancel_all()
    client.close()


def faults(sim, **changes):
    return sim.call(sim.faults[V].update, **changes)


async def next_event(iterator, deadline):
    return await asyncio.wait_for(iterator.__anext__(), max(0.01, deadline - time.monotonic()))


async def collect_until(iterator, done, seconds):
    """Events until `done(events)` is true; fails after `seconds`."""
    events = []
    deadline = time.monotonic() + seconds
    while not done(events):
        events.append(await next_event(iterator, deadline))
    return events


def states(events):
    return [e.state for e in events if isinstance(e, StreamStatus)]


def test_rest_against_the_simulator(rest):
    infos = {i.venue_symbol: i for i in rest.instruments()}
    perp = infos[PERP]
    assert perp.symbol == "BTC/USD:BTC"
    assert (perp.tick_size, perp.contract_size, perp.min_size) == (
        Decimal("0.5"),
        Decimal(10),
        Decimal(10),
    )
    assert abs(rest.server_time() - (time.time_ns() + rest.clock.offset_ns)) < 2_000_000_000
    book = rest.order_book(PERP, depth=5)
    assert len(book.bids) == 5 and book.bids[0][0] < book.asks[0][0]
    ticker = rest.ticker(PERP)
    assert ticker.symbol == "BTC/USD:BTC" and ticker.best_bid is not None
    price = book.bids[0][0] - 500
    order = rest.place_order(
        OrderRequest(
            "BTC/USD:BTC", PERP, "it-rest-1", Side.BUY, OrderType.LIMIT, Decimal(20), price
        )
    )
    assert (order.status, order.client_order_id, order.price) == (
        OrderStatus.NEW,
        "it-rest-1",
        price,
    )
    assert rest.order_by_client_id(PERP, "it-rest-1").venue_order_id == order.venue_order_id
    assert [o.client_order_id for o in rest.open_orders(PERP)] == ["it-rest-1"]
    from exchanges.venues.base import AmendRequest

    amended = rest.amend_order(
        AmendRequest("BTC/USD:BTC", PERP, client_order_id="it-rest-1", price=price - 10)
    )
    assert (amended.price, amended.quantity) == (price - 10, Decimal(20))
    canceled = rest.cancel_order(PERP, client_order_id="it-rest-1")
    assert canceled.status is OrderStatus.CANCELED
    assert rest.open_orders(PERP) == []
    balances = {b.currency: b for b in rest.balances()}
    assert balances["BTC"].total > 0
    rest.set_dead_man_switch(30)
    rest.set_dead_man_switch(0)


def test_token_mode_against_the_simulator(sim_module, endpoints):
    client = ADAPTER.rest_client(endpoints, sim_module.credentials[V], auth_mode="token")
    client.positions()
    assert client.token is not None and "trade:read_write" in client.token.scope
    client.close()


def test_rate_limit_burst_raises_and_is_not_retried(sim_module, rest):
    faults(sim_module, rate_limit_burst=1)
    request = OrderRequest(
        "BTC/USD:BTC", PERP, "it-rl-1", Side.BUY, OrderType.LIMIT, Decimal(10), Decimal(50_000)
    )
    with pytest.raises(RateLimited) as caught:
        rest.place_order(request)
    assert caught.value.code == "10028"
    assert rest.order_by_client_id(PERP, "it-rl-1") is None


def test_lost_ack_is_recovered_by_label(sim_module, rest):
    faults(sim_module, lose_acks=1, lost_ack_wait_ms=50)
    price = rest.order_book(PERP, depth=1).bids[0][0] - 1000
    order = rest.place_order(
        OrderRequest(
            "BTC/USD:BTC", PERP, "it-lost-1", Side.BUY, OrderType.LIMIT, Decimal(10), price
        )
    )
    assert order.client_order_id == "it-lost-1"
    assert order.status is OrderStatus.NEW
    assert order.price == price


async def test_public_stream_books_trades_tickers(endpoints):
    stream = ADAPTER.public_stream(endpoints, backoff=FAST)
    await stream.subscribe([PERP])
    events = stream.events().__aiter__()
    try:
        seen = await collect_until(
            events,
            lambda evs: (
                sum(isinstance(e, BookDelta) for e in evs) >= 5
                and any(isinstance(e, Trade) for e in evs)
                and any(isinstance(e, Ticker) for e in evs)
            ),
            15,
        )
        kept = stream.session.books[PERP]
        kept_sequence, kept_top = kept.sequence, kept.top(10)
    finally:
        await stream.close()
    assert states(seen)[:3] == [
        StreamState.CONNECTING,
        StreamState.CONNECTED,
        StreamState.SUBSCRIBED,
    ]
    books = [e for e in seen if isinstance(e, BookSnapshot | BookDelta)]
    assert isinstance(books[0], BookSnapshot)
    mirror = OrderBook("BTC/USD:BTC")
    mirror.apply_snapshot(books[0].bids, books[0].asks, books[0].sequence)
    for delta in books[1:]:
        assert delta.prev_sequence == mirror.sequence
        mirror.apply_delta(delta.bids, delta.asks, delta.sequence)
        assert not mirror.is_crossed()
    assert kept_sequence >= mirror.sequence
    if kept_sequence == mirror.sequence:
        assert kept_top == mirror.top(10)
    assert stream.stats.gaps == 0
    trade = next(e for e in seen if isinstance(e, Trade))
    assert trade.symbol == "BTC/USD:BTC" and trade.quantity > 0
    assert isinstance(trade.price, Decimal)


async def test_disconnect_then_reconnect_resubscribe_and_fresh_snapshot(sim_module, endpoints):
    stream = ADAPTER.public_stream(endpoints, backoff=FAST)
    await stream.subscribe([PERP], trades=False, tickers=False)
    events = stream.events().__aiter__()
    try:
        await collect_until(events, lambda evs: any(isinstance(e, BookSnapshot) for e in evs), 10)
        sim_module.call(sim_module.faults[V].drop_ws)
        after = await collect_until(
            events, lambda evs: any(isinstance(e, BookSnapshot) for e in evs), 15
        )
    finally:
        await stream.close()
    assert states(after)[:4] == [
        StreamState.DISCONNECTED,
        StreamState.CONNECTING,
        StreamState.CONNECTED,
        StreamState.SUBSCRIBED,
    ]
    assert stream.client.reconnects == 1
    assert isinstance(after[-1], BookSnapshot)


async def test_sequence_gap_resyncs_without_emitting_a_wrong_book(sim_module, endpoints):
    stream = ADAPTER.public_stream(endpoints, backoff=FAST)
    await stream.subscribe([PERP], trades=False, tickers=False)
    events = stream.events().__aiter__()
    try:
        await collect_until(events, lambda evs: any(isinstance(e, BookDelta) for e in evs), 10)
        faults(sim_module, skip_book_sequence=1)
        after = await collect_until(
            events, lambda evs: any(isinstance(e, BookSnapshot) for e in evs), 15
        )
        more = await collect_until(
            events, lambda evs: sum(isinstance(e, BookDelta) for e in evs) >= 3, 10
        )
    finally:
        await stream.close()
    resync = [e for e in after if isinstance(e, StreamStatus) and e.state is StreamState.RESYNCING]
    assert len(resync) == 1 and resync[0].symbol == "BTC/USD:BTC"
    position = after.index(resync[0])
    assert not any(isinstance(e, BookDelta) for e in after[position:])  # nothing until rebuilt
    assert stream.stats.gaps == 1
    assert stream.stats.rebuilds == 1
    snapshot = after[-1]
    chain = [d for d in more if isinstance(d, BookDelta)]
    assert chain[0].prev_sequence == snapshot.sequence
    for earlier, later in itertools.pairwise(chain):
        assert later.prev_sequence == earlier.sequence


async def test_private_stream_sees_order_fill_position_balance(sim_module, endpoints, rest):
    stream = ADAPTER.private_stream(endpoints, sim_module.credentials[V], backoff=FAST)
    events = stream.events().__aiter__()
    try:
        ready = await collect_until(events, lambda evs: StreamState.SUBSCRIBED in states(evs), 10)
        assert StreamState.AUTHENTICATED in states(ready)
        order = rest.place_order(
            OrderRequest(
                "BTC/USD:BTC",
                PERP,
                "it-priv-1",
                Side.BUY,
                OrderType.MARKET,
                Decimal(10),
                time_in_force=TimeInForce.IOC,
            )
        )
        seen = await collect_until(
            events,
            lambda evs: (
                any(isinstance(e, FillEvent) for e in evs)
                and any(isinstance(e, PositionUpdate) for e in evs)
                and any(isinstance(e, BalanceUpdate) for e in evs)
                and any(
                    getattr(e, "client_order_id", None) == "it-priv-1"
                    and getattr(e, "status", None) is OrderStatus.FILLED
                    for e in evs
                )
            ),
            15,
        )
    finally:
        await stream.close()
    fill = next(e for e in seen if isinstance(e, FillEvent))
    assert fill.client_order_id == "it-priv-1"
    assert fill.venue_order_id == order.venue_order_id
    assert fill.quantity == Decimal(10)
    assert fill.side is Side.BUY
    position = next(e for e in seen if isinstance(e, PositionUpdate))
    assert position.symbol == "BTC/USD:BTC" and position.quantity >= Decimal(10)
    balance = next(e for e in seen if isinstance(e, BalanceUpdate))
    assert balance.currency == "BTC"
    # the same fill over REST, by instrument and by currency, and the cursor moves past it
    page = rest.fills(venue_symbol=PERP)
    assert fill.trade_id in [f.trade_id for f in page.fills]
    by_currency = rest.fills()
    mine = next(f for f in by_currency.fills if f.trade_id == fill.trade_id)
    assert (mine.price, mine.quantity, mine.fee) == (fill.price, fill.quantity, fill.fee)
    assert all(f.trade_id != fill.trade_id for f in rest.fills(cursor=by_currency.cursor).fills)


async def test_too_many_requests_on_the_socket_reconnects_and_reauthenticates(
    sim_module, endpoints
):
    sim_module.call(sim_module.faces[V].configure, {"min_heartbeat_interval": 1.0})
    stream = ADAPTER.private_stream(endpoints, sim_module.credentials[V], heartbeat=1, backoff=FAST)
    events = stream.events().__aiter__()
    try:
        await collect_until(events, lambda evs: StreamState.SUBSCRIBED in states(evs), 10)
        faults(sim_module, rate_limit_burst=1)  # the next request (a heartbeat answer) gets 10028
        again = await collect_until(events, lambda evs: StreamState.SUBSCRIBED in states(evs), 15)
    finally:
        await stream.close()
        sim_module.call(sim_module.faces[V].configure, {"min_heartbeat_interval": 10.0})
    assert states(again)[:4] == [
        StreamState.DISCONNECTED,
        StreamState.CONNECTING,
        StreamState.CONNECTED,
        StreamState.AUTHENTICATED,
    ]
    assert stream.client.reconnects == 1


@pytest.mark.slow
async def test_heartbeats_keep_the_connection_past_the_idle_timeout(sim_module, endpoints):
    face = sim_module.faces[V]
    sim_module.call(face.configure, {"min_heartbeat_interval": 1.0, "idle_timeout": 2.0})
    stream = ADAPTER.public_stream(endpoints, heartbeat=1, backoff=FAST)
    await stream.subscribe([PERP], books=False, trades=False, tickers=False)
    events = stream.events().__aiter__()
    try:
        seen = await collect_until(events, lambda evs: StreamState.CONNECTED in states(evs), 10)
        deadline = time.monotonic() + 7.0  # > 3 heartbeat intervals and > the 2 s idle timeout
        while time.monotonic() < deadline:
            try:
                seen.append(await next_event(events, deadline))
            except TimeoutError:
                break
    finally:
        await stream.close()
        sim_module.call(face.configure, {"min_heartbeat_interval": 10.0, "idle_timeout": 600.0})
    assert StreamState.DISCONNECTED not in states(seen)
    assert stream.client.reconnects == 0


@pytest.mark.slow
async def test_a_client_that_ignores_heartbeats_is_dropped(sim_module, endpoints):
    """The control for the test above: without answers the same settings end the connection."""
    face = sim_module.faces[V]
    sim_module.call(face.configure, {"min_heartbeat_interval": 1.0, "idle_timeout": 2.0})
    stream = ADAPTER.public_stream(endpoints, heartbeat=1, backoff=FAST)
    session = stream.session
    session.ping = lambda: None
    answer = session.on_message

    def deaf(raw, link):
        if '"heartbeat"' in (raw if isinstance(raw, str) else raw.decode()):
            return []
        return answer(raw, link)

    session.on_message = deaf
    await stream.subscribe([PERP], books=False, trades=False, tickers=False)
    events = stream.events().__aiter__()
    try:
        seen = await collect_until(events, lambda evs: StreamState.DISCONNECTED in states(evs), 10)
    finally:
        await stream.close()
        sim_module.call(face.configure, {"min_heartbeat_interval": 10.0, "idle_timeout": 600.0})
    assert StreamState.CONNECTED in states(seen)


def test_simulator_rejections_map_to_typed_errors(rest):
    from exchanges.venues import base

    book = rest.order_book(PERP, depth=1)
    ask, bid = book.asks[0][0], book.bids[0][0]

    def order(cid, side, price, quantity=Decimal(10), **extra):
        return OrderRequest(
            "BTC/USD:BTC", PERP, cid, side, OrderType.LIMIT, quantity, price, **extra
        )

    with pytest.raises(base.PostOnlyWouldCross) as caught:
        rest.place_order(order("it-rej-1", Side.BUY, ask + 100, post_only=True))
    assert caught.value.code == "11054"
    with pytest.raises(base.InsufficientFunds):
        rest.place_order(order("it-rej-2", Side.BUY, bid - 1000, quantity=Decimal(10**12)))
    held = sum((p.quantity for p in rest.positions() if p.symbol == "BTC/USD:BTC"), Decimal(0))
    growing = Side.BUY if held >= 0 else Side.SELL  # a reduce-only order that would not reduce
    far = bid - 1000 if growing is Side.BUY else ask + 1000
    with pytest.raises(base.ReduceOnlyViolation):
        rest.place_order(order("it-rej-3", growing, far, reduce_only=True))
    with pytest.raises(base.InvalidPrice):
        rest.place_order(order("it-rej-4", Side.BUY, bid - Decimal("1000.3")))
    with pytest.raises(base.OrderNotFound):
        rest.cancel_order(PERP, venue_order_id="999999999")
    assert rest.open_orders(PERP) == []


async def test_cancel_on_disconnect_cancels_when_the_private_socket_drops(
    sim_module, endpoints, rest
):
    stream = ADAPTER.private_stream(
        endpoints, sim_module.credentials[V], cancel_on_disconnect=True, backoff=FAST
    )
    events = stream.events().__aiter__()
    price = rest.order_book(PERP, depth=1).bids[0][0] - 2000
    try:
        await collect_until(events, lambda evs: StreamState.SUBSCRIBED in states(evs), 10)
        deadline = time.monotonic() + 5
        while not stream.session.cancel_on_disconnect_enabled:  # the venue's answer
            assert time.monotonic() < deadline, "enable_cancel_on_disconnect unanswered"
            await asyncio.sleep(0.01)
        placed = rest.place_order(
            OrderRequest(
                "BTC/USD:BTC", PERP, "it-cod-1", Side.BUY, OrderType.LIMIT, Decimal(10), price
            )
        )
        assert placed.status is OrderStatus.NEW
        sim_module.call(sim_module.faults[V].drop_ws)
        await collect_until(events, lambda evs: StreamState.DISCONNECTED in states(evs), 10)
    finally:
        await stream.close()
    deadline = time.monotonic() + 5
    while (found := rest.order_by_client_id(PERP, "it-cod-1")).status is not OrderStatus.CANCELED:
        assert time.monotonic() < deadline, found
        await asyncio.sleep(0.05)


async def test_books_at_a_chosen_depth(endpoints):
    stream = ADAPTER.public_stream(endpoints, depth=10, backoff=FAST)
    await stream.subscribe([PERP], trades=False, tickers=False)
    events = stream.events().__aiter__()
    try:
        seen = await collect_until(
            events, lambda evs: sum(isinstance(e, BookSnapshot) for e in evs) >= 3, 10
        )
    finally:
        await stream.close()
    snapshots = [e for e in seen if isinstance(e, BookSnapshot)]
    assert not any(isinstance(e, BookDelta) for e in seen)
    for snapshot in snapshots:
        assert 0 < len(snapshot.bids) <= 10 and 0 < len(snapshot.asks) <= 10
        assert snapshot.bids[0][0] < snapshot.asks[0][0]
        assert [p for p, _ in snapshot.bids] == sorted((p for p, _ in snapshot.bids), reverse=True)


@pytest.mark.parametrize("auth_mode", ["signature", "token"])
def test_post_json_rpc_mode_against_the_simulator(sim_module, endpoints, auth_mode):
    client = ADAPTER.rest_client(
        endpoints, sim_module.credentials[V], http_method="POST", auth_mode=auth_mode
    )
    price = client.order_book(PERP, depth=1).bids[0][0] - 1500
    cid = f"it-post-{auth_mode}"
    order = client.place_order(
        OrderRequest("BTC/USD:BTC", PERP, cid, Side.BUY, OrderType.LIMIT, Decimal(30), price)
    )
    assert (order.price, order.quantity, order.status) == (price, Decimal(30), OrderStatus.NEW)
    assert client.cancel_order(PERP, venue_order_id=order.venue_order_id).status is (
        OrderStatus.CANCELED
    )
    client.close()


def test_a_skewed_clock_heals_itself(sim_module, endpoints):
    client = ADAPTER.rest_client(endpoints, sim_module.credentials[V])
    client.clock.offset_ns = -300 * 1_000_000_000  # five minutes slow: signatures look stale
    assert isinstance(client.positions(), list)
    assert abs(client.clock.offset_ns) < 5 * 1_000_000_000
    client.close()
