"""Bybit streams and REST over real sockets against the simulator's Bybit face.

The simulator runs in its own thread (`SimulatorThread`, Bybit face only); the streams run in the
test's event loop; REST calls are made from a worker thread so the loop keeps reading.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from decimal import Decimal as D

import pytest

from exchanges.simulator.server import SimulatorThread
from exchanges.venues.base import (
    BalanceUpdate,
    BookDelta,
    BookSnapshot,
    ClockSkew,
    Endpoints,
    Event,
    FillEvent,
    OrderRequest,
    OrderStatus,
    OrderType,
    OrderUpdate,
    PositionUpdate,
    RateLimited,
    Side,
    StreamKind,
    StreamState,
    StreamStatus,
    SubmissionUncertain,
    SubmitOutcome,
    Ticker,
    TimeInForce,
    Trade,
    Venue,
)
from exchanges.venues.bybit import ADAPTER
from exchanges.venues.ws import STATUS_HEADROOM, Backoff

FAST = Backoff(initial=0.05, maximum=0.5)


@pytest.fixture
def sim():
    thread = SimulatorThread(venues=[Venue.BYBIT], seed=1, step_interval=0.02)
    thread.start()
    try:
        yield thread
    finally:
        thread.stop()


@pytest.fixture
def endpoints(sim) -> Endpoints:
    urls = sim.urls[Venue.BYBIT]
    return Endpoints(urls["rest"], urls["ws_public"], urls["ws_private"])


@pytest.fixture
def rest(sim, endpoints):
    client = ADAPTER.rest_client(endpoints, sim.credentials[Venue.BYBIT])
    client.sync_clock()
    client.instruments()
    yield client
    client.close()


async def collect(
    iterator, done: Callable[[list[Event]], bool], timeout: float = 15.0
) -> list[Event]:
    """Read events until `done(events)` is true; fail after `timeout` seconds."""
    events: list[Event] = []

    async def run() -> None:
        async for event in iterator:
            events.append(event)
            if done(events):
                return

    try:
        await asyncio.wait_for(run(), timeout)
    except TimeoutError:
        pytest.fail(
            f"condition not met in {timeout}s; got {[type(e).__name__ for e in events][-30:]}"
        )
    return events


def private_stream(sim, endpoints, rest, **options):
    """The simulated account's stream, signing with the REST client's measured clock."""
    return ADAPTER.private_stream(
        endpoints,
        sim.credentials[Venue.BYBIT],
        symbols=rest.symbols,
        clock=rest.clock,
        backoff=FAST,
        **options,
    )


def statuses(events, state):
    return [e for e in events if isinstance(e, StreamStatus) and e.state is state]


def assert_chained(events, symbol):
    """Every delta continues the last snapshot/delta of its symbol, except across a RESYNCING
    (after which only a snapshot may come)."""
    last = None
    for event in events:
        if isinstance(event, StreamStatus) and event.state is StreamState.RESYNCING:
            if event.symbol == symbol:
                last = "resyncing"
        elif isinstance(event, BookSnapshot) and event.symbol == symbol:
            last = event.sequence
        elif isinstance(event, BookDelta) and event.symbol == symbol:
            assert last not in (None, "resyncing"), f"delta {event.sequence} without a book"
            assert event.prev_sequence == last and event.sequence == last + 1
            last = event.sequence


# --------------------------------------------------------------------------- public


async def test_books_trades_and_tickers_in_two_categories(sim, endpoints, rest):
    stream = ADAPTER.public_stream(endpoints, symbols=rest.symbols, backoff=FAST)
    await stream.subscribe(["BTC/USDT:USDT", "BTC/USDT"])
    events_iter = stream.events()

    # a marketable order makes sure both a trade and book changes happen on the perpetual
    async def trade_soon():
        await asyncio.sleep(0.5)
        await asyncio.to_thread(
            rest.place_order,
            OrderRequest(
                "BTC/USDT:USDT",
                "BTCUSDT",
                "it-take-1",
                Side.BUY,
                OrderType.MARKET,
                D("0.01"),
                time_in_force=TimeInForce.IOC,
            ),
        )

    taker = asyncio.create_task(trade_soon())

    def done(events):
        kinds = {(type(e).__name__, getattr(e, "symbol", "")) for e in events}
        return {
            ("BookSnapshot", "BTC/USDT:USDT"),
            ("BookSnapshot", "BTC/USDT"),
            ("BookDelta", "BTC/USDT:USDT"),
            ("Ticker", "BTC/USDT:USDT"),
            ("Ticker", "BTC/USDT"),
            ("Trade", "BTC/USDT:USDT"),
        } <= kinds

    events = await collect(events_iter, done)
    await taker
    for session in stream.sessions.values():
        (book,) = session.books.values()
        assert book.best_bid() is not None and not book.is_crossed()
    await stream.close()
    assert_chained(events, "BTC/USDT:USDT")
    assert_chained(events, "BTC/USDT")
    assert not statuses(events, StreamState.RESYNCING)
    snapshot = next(e for e in events if isinstance(e, BookSnapshot) and e.symbol == "BTC/USDT")
    assert snapshot.bids[0][0] < snapshot.asks[0][0]
    assert len(snapshot.bids) <= 50 and len(snapshot.asks) <= 50
    trade = next(e for e in events if isinstance(e, Trade))
    assert trade.price > 0 and trade.quantity > 0 and trade.venue is Venue.BYBIT
    ticker = next(e for e in events if isinstance(e, Ticker) and e.symbol == "BTC/USDT:USDT")
    assert ticker.best_bid < ticker.best_ask and ticker.mark_price is not None
    assert stream.sessions["linear"].stats.gaps == 0


async def test_a_consumer_that_falls_behind_gets_the_book_rebuilt_not_a_growing_queue(
    sim, endpoints, rest
):
    stream = ADAPTER.public_stream(endpoints, symbols=rest.symbols, backoff=FAST, max_queue=20)
    await stream.subscribe(["BTC/USDT:USDT"], trades=False, tickers=False)
    client = stream.clients["linear"]

    async def behind() -> None:  # nobody reads until book events had to be dropped
        while client.dropped == 0:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(behind(), 15)
    assert len(stream._merged.queue) <= 20 + STATUS_HEADROOM

    def rebuilt(events):
        resync = statuses(events, StreamState.RESYNCING)
        return bool(resync) and isinstance(events[-1], BookSnapshot)

    events = await collect(stream.events(), rebuilt)
    await stream.close()
    (resync, *_) = statuses(events, StreamState.RESYNCING)
    assert (resync.symbol, resync.detail) == (
        "BTC/USDT:USDT",
        "consumer fell behind; BookDelta dropped, resyncing",
    )
    assert_chained(events, "BTC/USDT:USDT")
    assert stream.sessions["linear"].stats.rebuilds >= 1


async def test_reconnect_resubscribes_and_rebuilds(sim, endpoints, rest):
    stream = ADAPTER.public_stream(endpoints, symbols=rest.symbols, backoff=FAST)
    await stream.subscribe(["BTC/USDT:USDT"], trades=False, tickers=False)
    events_iter = stream.events()
    first = await collect(events_iter, lambda ev: any(isinstance(e, BookSnapshot) for e in ev))
    sim.call(sim.faults[Venue.BYBIT].drop_ws)

    def rebuilt(events):
        down = statuses(events, StreamState.DISCONNECTED)
        return bool(down) and any(
            isinstance(e, BookSnapshot) and events.index(e) > events.index(down[0]) for e in events
        )

    events = await collect(events_iter, rebuilt)
    await stream.close()
    assert statuses(events, StreamState.CONNECTED)
    assert stream.clients["linear"].reconnects >= 1
    assert_chained(first + events, "BTC/USDT:USDT")


async def test_sequence_gap_resyncs_without_a_wrong_book(sim, endpoints, rest):
    stream = ADAPTER.public_stream(endpoints, symbols=rest.symbols, backoff=FAST)
    await stream.subscribe(["BTC/USDT:USDT"], trades=False, tickers=False)
    events_iter = stream.events()
    first = await collect(events_iter, lambda ev: any(isinstance(e, BookDelta) for e in ev))
    sim.call(sim.faults[Venue.BYBIT].update, skip_book_sequence=1)

    def recovered(events):
        gaps = statuses(events, StreamState.RESYNCING)
        if not gaps:
            return False
        after = events[events.index(gaps[0]) :]
        return any(isinstance(e, BookDelta) for e in after) and any(
            isinstance(e, BookSnapshot) for e in after
        )

    events = await collect(events_iter, recovered)
    await stream.close()
    gap = statuses(events, StreamState.RESYNCING)[0]
    assert gap.symbol == "BTC/USDT:USDT" and gap.stream is StreamKind.PUBLIC
    assert_chained(first + events, "BTC/USDT:USDT")
    stats = stream.sessions["linear"].stats
    assert (stats.gaps, stats.rebuilds) == (1, 1)


async def test_restart_snapshot_with_u_1_is_taken_as_a_fresh_book(sim, endpoints, rest):
    stream = ADAPTER.public_stream(endpoints, symbols=rest.symbols, backoff=FAST)
    await stream.subscribe(["BTC/USDT:USDT"], trades=False, tickers=False)
    events_iter = stream.events()
    await collect(events_iter, lambda ev: any(isinstance(e, BookDelta) for e in ev))
    sim.call(sim.faces[Venue.BYBIT].configure, {"restart_books": True})
    events = await collect(
        events_iter, lambda ev: any(isinstance(e, BookSnapshot) and e.sequence == 1 for e in ev)
    )
    more = await collect(events_iter, lambda ev: any(isinstance(e, BookDelta) for e in ev))
    await stream.close()
    assert not statuses(events + more, StreamState.RESYNCING)
    delta = next(e for e in more if isinstance(e, BookDelta))
    assert delta.prev_sequence >= 1


# --------------------------------------------------------------------------- private


async def test_order_life_on_the_private_stream(sim, endpoints, rest):
    stream = private_stream(sim, endpoints, rest)
    events_iter = stream.events()
    await collect(events_iter, lambda ev: bool(statuses(ev, StreamState.SUBSCRIBED)))
    book = await asyncio.to_thread(rest.order_book, "BTC/USDT:USDT", 5)
    far = book.bids[-1][0] - 500
    placed = await asyncio.to_thread(
        rest.place_order,
        OrderRequest(
            "BTC/USDT:USDT", "BTCUSDT", "it-rest-1", Side.BUY, OrderType.LIMIT, D("0.002"), far
        ),
    )
    assert placed.status is OrderStatus.NEW
    events = await collect(
        events_iter,
        lambda ev: any(isinstance(e, OrderUpdate) and e.client_order_id == "it-rest-1" for e in ev),
    )
    update = next(e for e in events if isinstance(e, OrderUpdate))
    assert (update.symbol, update.price, update.quantity, update.status) == (
        "BTC/USDT:USDT",
        far,
        D("0.002"),
        OrderStatus.NEW,
    )
    await asyncio.to_thread(
        rest.place_order,
        OrderRequest(
            "BTC/USDT:USDT",
            "BTCUSDT",
            "it-take-2",
            Side.BUY,
            OrderType.MARKET,
            D("0.01"),
            time_in_force=TimeInForce.IOC,
        ),
    )

    def filled(events):
        kinds = {type(e) for e in events}
        return {FillEvent, PositionUpdate, BalanceUpdate} <= kinds and any(
            isinstance(e, OrderUpdate)
            and e.client_order_id == "it-take-2"
            and e.status is OrderStatus.FILLED
            for e in events
        )

    events = await collect(events_iter, filled)
    fills = [e for e in events if isinstance(e, FillEvent) and e.client_order_id == "it-take-2"]
    assert sum(f.quantity for f in fills) == D("0.01")
    assert all(f.fee_currency == "USDT" and f.liquidity == "taker" for f in fills)
    position = [e for e in events if isinstance(e, PositionUpdate)][-1]
    assert position.symbol == "BTC/USDT:USDT" and position.quantity == D("0.01")
    rest_fills = await asyncio.to_thread(rest.fills, venue_symbol="BTC/USDT:USDT")
    assert {f.trade_id for f in fills} <= {f.trade_id for f in rest_fills.fills}
    cancelled = await asyncio.to_thread(
        rest.cancel_order, "BTC/USDT:USDT", client_order_id="it-rest-1"
    )
    assert cancelled.status is OrderStatus.PENDING_CANCEL  # one request; the push says how
    events = await collect(
        events_iter,
        lambda ev: any(
            isinstance(e, OrderUpdate)
            and e.client_order_id == "it-rest-1"
            and e.status is OrderStatus.CANCELED
            for e in ev
        ),
    )
    positions = await asyncio.to_thread(rest.positions)
    assert [p.quantity for p in positions if p.symbol == "BTC/USDT:USDT"] == [D("0.01")]
    await stream.close()


async def test_lost_ack_is_settled_by_client_order_id(sim, endpoints, rest):
    sim.call(sim.faults[Venue.BYBIT].update, lose_acks=1)
    rest.timeout = (2.0, 0.5)
    book = await asyncio.to_thread(rest.order_book, "BTC/USDT", 5)
    update = await asyncio.to_thread(
        rest.place_order,
        OrderRequest(
            "BTC/USDT",
            "BTCUSDT",
            "it-lost-1",
            Side.BUY,
            OrderType.LIMIT,
            D("0.001"),
            book.bids[-1][0] - 100,
        ),
    )
    assert (update.client_order_id, update.status, update.symbol) == (
        "it-lost-1",
        OrderStatus.NEW,
        "BTC/USDT",
    )
    assert sim.faults[Venue.BYBIT].fired.get("lose_acks") == 1


async def test_heartbeats_keep_a_quiet_connection_alive(sim, endpoints):
    sim.call(sim.faces[Venue.BYBIT].configure, {"idle_timeout": 1.5})
    stream = ADAPTER.private_stream(
        endpoints, sim.credentials[Venue.BYBIT], backoff=FAST, ping_interval=0.4, idle_timeout=0
    )
    events_iter = stream.events()
    await collect(events_iter, lambda ev: bool(statuses(ev, StreamState.SUBSCRIBED)))
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(_next_disconnect(events_iter), timeout=5.0)
    assert time.monotonic() - started >= 4.9  # more than three idle timeouts
    await stream.close()

    silent = ADAPTER.private_stream(
        endpoints, sim.credentials[Venue.BYBIT], backoff=FAST, ping_interval=0, idle_timeout=0
    )
    events_iter = silent.events()
    await collect(events_iter, lambda ev: bool(statuses(ev, StreamState.SUBSCRIBED)))
    await asyncio.wait_for(_next_disconnect(events_iter), timeout=5.0)  # cut without pings
    await silent.close()


async def _next_disconnect(iterator) -> StreamStatus:
    async for event in iterator:
        if isinstance(event, StreamStatus) and event.state is StreamState.DISCONNECTED:
            return event
    raise AssertionError("stream ended")


async def test_symbols_added_and_removed_on_a_live_connection(sim, endpoints, rest):
    stream = ADAPTER.public_stream(endpoints, symbols=rest.symbols, backoff=FAST)
    await stream.subscribe(["BTC/USDT:USDT"], trades=False, tickers=False)
    events_iter = stream.events()
    await collect(events_iter, lambda ev: any(isinstance(e, BookSnapshot) for e in ev))
    await stream.subscribe(["ETHUSDT"], trades=False, tickers=False, category="linear")
    await collect(
        events_iter,
        lambda ev: any(isinstance(e, BookSnapshot) and e.symbol == "ETH/USDT:USDT" for e in ev),
    )
    assert len(stream.clients) == 1 and stream.clients["linear"].reconnects == 0
    await stream.unsubscribe(["BTC/USDT:USDT"])
    session = stream.sessions["linear"]
    assert session.unsubscribing == 1

    async def answered() -> None:  # what was on the wire before the answer has arrived
        while session.unsubscribing:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(answered(), 5)
    mark = time.time_ns()
    later = await collect(events_iter, lambda ev: len([e for e in ev if e.receive_ts > mark]) >= 20)
    await stream.close()
    later = [e for e in later if e.receive_ts > mark]
    assert {e.symbol for e in later if isinstance(e, BookDelta | BookSnapshot)} == {"ETH/USDT:USDT"}
    assert list(stream.sessions["linear"].topics) == ["orderbook.50.ETHUSDT"]


async def test_dead_man_switch_cancels_when_the_private_stream_is_gone(sim, endpoints, rest):
    sim.call(sim.faces[Venue.BYBIT].configure, {"dcp_time_scale": 0.1})
    await asyncio.to_thread(rest.set_dead_man_switch, 3)
    stream = private_stream(sim, endpoints, rest, dead_man_switch=True)
    events_iter = stream.events()
    await collect(events_iter, lambda ev: bool(statuses(ev, StreamState.SUBSCRIBED)))
    book = await asyncio.to_thread(rest.order_book, "BTC/USDT:USDT", 5)
    await asyncio.to_thread(
        rest.place_order,
        OrderRequest(
            "BTC/USDT:USDT",
            "BTCUSDT",
            "it-dcp-1",
            Side.SELL,
            OrderType.LIMIT,
            D("0.001"),
            book.asks[-1][0] + 500,
        ),
    )
    await collect(events_iter, lambda ev: any(isinstance(e, OrderUpdate) for e in ev))
    await asyncio.sleep(0.6)  # connected: the window never runs out
    order = await asyncio.to_thread(rest.order_by_client_id, "BTC/USDT:USDT", "it-dcp-1")
    assert order.status is OrderStatus.NEW
    await stream.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        order = await asyncio.to_thread(rest.order_by_client_id, "BTC/USDT:USDT", "it-dcp-1")
        if order.status is OrderStatus.CANCELED:
            break
        await asyncio.sleep(0.1)
    assert order.status is OrderStatus.CANCELED


def test_instruments_match_what_the_simulator_lists(sim, rest):
    listed = sorted(sim.call(sim.engine.instruments_of, Venue.BYBIT), key=lambda i: i.symbol)
    ours = sorted(rest.instruments(), key=lambda i: i.symbol)
    assert ours == listed
    assert {i.symbol for i in ours} >= {"BTC/USDT", "BTC/USDT:USDT", "BTC/USD:BTC"}
    inverse = next(i for i in ours if i.symbol == "BTC/USD:BTC")
    assert (inverse.inverse, inverse.settle, inverse.venue_symbol) == (True, "BTC", "BTCUSD")
    assert rest.symbols.resolve("BTCUSD") == ("inverse", "BTCUSD")


def _far_bid(rest, client_order_id: str, price: D) -> OrderRequest:
    return OrderRequest(
        "BTC/USDT:USDT", "BTCUSDT", client_order_id, Side.BUY, OrderType.LIMIT, D("0.001"), price
    )


def test_placements_stay_under_the_venue_limit(sim, rest):
    """25 placements in a row: the token bucket plus `X-Bapi-Limit-Status` keep the client
    under Bybit's 10 orders per rolling second, so none is refused."""
    price = rest.order_book("BTC/USDT:USDT", 5).bids[-1][0] - 1000
    started = time.monotonic()
    for n in range(25):
        assert rest.place_order(_far_bid(rest, f"it-burst-{n}", price)).status is OrderStatus.NEW
    assert time.monotonic() - started >= 1.4
    assert len(rest.open_orders("BTC/USDT:USDT")) == 25


def test_rate_limit_answer_is_not_retried(sim, rest):
    price = rest.order_book("BTC/USDT:USDT", 5).bids[-1][0] - 1000
    sim.call(sim.faults[Venue.BYBIT].update, rate_limit_burst=1)
    with pytest.raises(RateLimited) as caught:
        rest.place_order(_far_bid(rest, "it-limited-1", price))
    assert caught.value.code == "10006"
    assert not rest.limiter.bucket("order_create").try_acquire()
    assert rest.order_by_client_id("BTC/USDT:USDT", "it-limited-1") is None


def test_clock_skew_is_fixed_by_the_offset_not_by_a_retry(sim, rest):
    price = rest.order_book("BTC/USDT:USDT", 5).bids[-1][0] - 1000
    rest.clock.offset_ns -= 30 * 1_000_000_000  # our clock runs 30 s behind Bybit's
    with pytest.raises(ClockSkew) as caught:
        rest.place_order(_far_bid(rest, "it-skew-1", price))
    assert caught.value.code == "10002"
    assert abs(rest.clock.offset_ns) < 1_000_000_000  # resynced from /v5/market/time
    assert rest.order_by_client_id("BTC/USDT:USDT", "it-skew-1") is None  # nothing was placed
    assert rest.place_order(_far_bid(rest, "it-skew-2", price)).status is OrderStatus.NEW


async def test_spot_market_buy_in_base_coin(sim, endpoints, rest):
    stream = private_stream(sim, endpoints, rest)
    events_iter = stream.events()
    await collect(events_iter, lambda ev: bool(statuses(ev, StreamState.SUBSCRIBED)))
    await asyncio.to_thread(
        rest.place_order,
        OrderRequest(
            "BTC/USDT",
            "BTCUSDT",
            "it-spot-1",
            Side.BUY,
            OrderType.MARKET,
            D("0.0100"),
            time_in_force=TimeInForce.IOC,
        ),
    )
    events = await collect(
        events_iter,
        lambda ev: (
            any(
                isinstance(e, OrderUpdate)
                and e.client_order_id == "it-spot-1"
                and e.status is OrderStatus.FILLED
                for e in ev
            )
            and any(isinstance(e, FillEvent) for e in ev)
        ),
    )
    await stream.close()
    pushed = [e for e in events if isinstance(e, FillEvent)]
    assert {f.symbol for f in pushed} == {"BTC/USDT"}
    assert sum(f.quantity for f in pushed) == D("0.0100")  # base coin, as marketUnit says
    # a taker buy pays its fee in the base coin ("Spot Fee Currency Instruction")
    assert {(f.fee_currency, f.liquidity) for f in pushed} == {("BTC", "taker")}
    listed = await asyncio.to_thread(rest.fills, venue_symbol="BTC/USDT")
    by_id = {f.trade_id: f for f in listed.fills}
    assert [(f.price, f.quantity, f.fee) for f in pushed] == [
        (by_id[f.trade_id].price, by_id[f.trade_id].quantity, by_id[f.trade_id].fee) for f in pushed
    ]


async def test_private_stream_logs_in_again_after_a_drop(sim, endpoints, rest):
    stream = private_stream(sim, endpoints, rest)
    events_iter = stream.events()
    await collect(events_iter, lambda ev: bool(statuses(ev, StreamState.SUBSCRIBED)))
    sim.call(sim.faults[Venue.BYBIT].drop_ws)
    events = await collect(
        events_iter,
        lambda ev: (
            bool(statuses(ev, StreamState.DISCONNECTED))
            and bool(statuses(ev, StreamState.SUBSCRIBED))
        ),
    )
    assert statuses(events, StreamState.AUTHENTICATED)
    book = await asyncio.to_thread(rest.order_book, "BTC/USDT:USDT", 5)
    await asyncio.to_thread(
        rest.place_order, _far_bid(rest, "it-after-drop", book.bids[-1][0] - 500)
    )
    events = await collect(
        events_iter,
        lambda ev: any(
            isinstance(e, OrderUpdate) and e.client_order_id == "it-after-drop" for e in ev
        ),
    )
    await stream.close()
    assert stream.client.reconnects == 1


def test_slow_ack_past_the_read_timeout_is_found_and_accepted(sim, rest):
    price = rest.order_book("BTC/USDT:USDT", 5).bids[-1][0] - 1000
    sim.call(sim.faults[Venue.BYBIT].update, ack_delay_ms=1500)
    rest.timeout = (2.0, 0.4)
    update = rest.place_order(_far_bid(rest, "it-slow-1", price))
    assert (update.client_order_id, update.status) == ("it-slow-1", OrderStatus.NEW)
    sim.call(sim.faults[Venue.BYBIT].update, ack_delay_ms=0)
    assert [o.client_order_id for o in rest.open_orders("BTC/USDT:USDT")] == ["it-slow-1"]


def test_unreachable_venue_leaves_the_placement_unknown(sim, rest):
    price = rest.order_book("BTC/USDT:USDT", 5).bids[-1][0] - 1000
    sim.call(sim.faults[Venue.BYBIT].update, refuse_connections=True)
    with pytest.raises(SubmissionUncertain) as caught:
        rest.place_order(_far_bid(rest, "it-refused-1", price))
    assert caught.value.outcome is SubmitOutcome.UNKNOWN
    sim.call(sim.faults[Venue.BYBIT].update, refuse_connections=False)
    assert rest.order_by_client_id("BTC/USDT:USDT", "it-refused-1") is None
