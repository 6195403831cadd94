"""OKX streams over real sockets against the simulator's OKX face, in all three book modes.

Book correctness is checked against the venue itself: with the market generator paused, the
book rebuilt from the emitted BookSnapshot/BookDelta events must equal the face's REST book at
the same `seqId`.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from exchanges.venues.base import (
    BalanceUpdate,
    BookDelta,
    BookSnapshot,
    FillEvent,
    OrderRequest,
    OrderStatus,
    OrderType,
    OrderUpdate,
    PositionUpdate,
    Side,
    StreamState,
    StreamStatus,
    Ticker,
    Trade,
    Venue,
)
from exchanges.venues.book import OrderBook
from exchanges.venues.okx.private import OkxPrivateStream
from exchanges.venues.okx.public import OkxPublicStream
from exchanges.venues.ws import Backoff

from .conftest import collect, control, drain, endpoints_of

INST = "BTC-USDT-SWAP"
SYMBOL = "BTC/USDT:USDT"
MODES = ("current", "checksum", "no_snapshot")
FAST = Backoff(initial=0.05, maximum=0.5)


def set_mode(sim, mode: str) -> None:
    sim.call(sim.faces[Venue.OKX].configure, {"book_mode": mode})


class Mirror:
    """A book rebuilt only from the events a stream emitted (what a consumer would hold)."""

    def __init__(self) -> None:
        self.book = OrderBook(SYMBOL)
        self.snapshots = 0
        self.deltas = 0
        self.last_status: StreamStatus | None = None
        self.broken = False  # between RESYNCING and the next snapshot

    def feed(self, event) -> None:
        if isinstance(event, BookSnapshot) and event.symbol == SYMBOL:
            self.book.apply_snapshot(event.bids, event.asks, event.sequence)
            self.snapshots += 1
            self.broken = False
        elif isinstance(event, BookDelta) and event.symbol == SYMBOL:
            assert not self.broken, "a delta was emitted for a book being rebuilt"
            assert event.prev_sequence == self.book.sequence, "delta does not chain"
            self.book.apply_delta(event.bids, event.asks, event.sequence)
            self.deltas += 1
        elif isinstance(event, StreamStatus) and event.state is StreamState.RESYNCING:
            self.broken = True
            self.last_status = event


async def assert_matches_venue(stream, rest, mirror: Mirror, sim) -> None:
    """Pause the market, let the stream catch up to the REST book's seqId, compare all levels."""
    control(sim, "generator", {"running": False})
    try:
        await asyncio.sleep(0.4)  # let the face flush what changed before the pause
        venue_book = await asyncio.to_thread(rest.order_book, INST, 400)
        if mirror.book.sequence != venue_book.sequence:
            await collect(
                stream,
                lambda events: (
                    mirror.feed(events[-1]) or mirror.book.sequence == venue_book.sequence
                ),
                5,
            )
        assert mirror.book.sequence == venue_book.sequence
        bids, asks = mirror.book.top(400)
        assert (tuple(bids), tuple(asks)) == (venue_book.bids, venue_book.asks)
    finally:
        control(sim, "generator", {"running": True})


@pytest.mark.parametrize("mode", MODES)
async def test_books_trades_tickers_in_every_book_mode(okx_sim, okx_rest, mode):
    set_mode(okx_sim, mode)
    stream = OkxPublicStream(endpoints_of(okx_sim), backoff=FAST)
    mirror = Mirror()
    await stream.subscribe([INST])
    try:
        events = await collect(
            stream,
            lambda ev: (
                mirror.feed(ev[-1])
                or (
                    mirror.deltas >= 5
                    and any(isinstance(e, Trade) for e in ev)
                    and any(isinstance(e, Ticker) and e.best_bid for e in ev)
                )
            ),
            20,
        )
        assert mirror.snapshots == 1
        subscribed = {
            e.detail
            for e in events
            if isinstance(e, StreamStatus) and e.state is StreamState.SUBSCRIBED
        }
        assert subscribed == {"books", "trades", "tickers"}
        trade = next(e for e in events if isinstance(e, Trade))
        assert trade.symbol == SYMBOL and trade.price > 0 and trade.quantity > 0
        await assert_matches_venue(stream, okx_rest, mirror, okx_sim)
        stats = stream.stats.as_dict()
        assert stats["gaps"] == stats["checksum_mismatches"] == stats["rebuilds"] == 0
        assert stats["updates_applied"] >= 5
    finally:
        await stream.close()


@pytest.mark.parametrize("mode", MODES)
async def test_sequence_gap_rebuilds_without_emitting_a_wrong_book(okx_sim, okx_rest, mode):
    set_mode(okx_sim, mode)
    stream = OkxPublicStream(endpoints_of(okx_sim), backoff=FAST)
    mirror = Mirror()
    await stream.subscribe([INST], trades=False, tickers=False)
    try:
        await collect(stream, lambda ev: mirror.feed(ev[-1]) or mirror.deltas >= 2, 15)
        control(okx_sim, "faults", {"skip_book_sequence": 1})
        await collect(
            stream,
            lambda ev: mirror.feed(ev[-1]) or (mirror.snapshots == 2 and mirror.deltas >= 4),
            15,
        )
        assert mirror.last_status is not None and mirror.last_status.symbol == SYMBOL
        assert "gap" in mirror.last_status.detail
        assert (stream.stats.gaps, stream.stats.rebuilds) == (1, 1)
        await assert_matches_venue(stream, okx_rest, mirror, okx_sim)
    finally:
        await stream.close()


async def test_bad_checksum_rebuilds(okx_sim, okx_rest):
    set_mode(okx_sim, "checksum")
    stream = OkxPublicStream(endpoints_of(okx_sim), backoff=FAST)
    mirror = Mirror()
    await stream.subscribe([INST], trades=False, tickers=False)
    try:
        await collect(stream, lambda ev: mirror.feed(ev[-1]) or mirror.deltas >= 2, 15)
        control(okx_sim, "faults", {"corrupt_checksum": 1})
        await collect(
            stream,
            lambda ev: mirror.feed(ev[-1]) or (mirror.snapshots == 2 and mirror.deltas >= 3),
            15,
        )
        assert "checksum" in mirror.last_status.detail
        assert (stream.stats.checksum_mismatches, stream.stats.rebuilds) == (1, 1)
        await assert_matches_venue(stream, okx_rest, mirror, okx_sim)
    finally:
        await stream.close()


@pytest.mark.parametrize("mode", ("current", "no_snapshot"))
async def test_dropped_connection_reconnects_and_resubscribes(okx_sim, okx_rest, mode):
    set_mode(okx_sim, mode)
    stream = OkxPublicStream(endpoints_of(okx_sim), backoff=FAST)
    mirror = Mirror()
    await stream.subscribe([INST], trades=False)
    try:
        await collect(stream, lambda ev: mirror.feed(ev[-1]) or mirror.deltas >= 2, 15)
        control(okx_sim, "drop")
        events = await collect(
            stream,
            lambda ev: mirror.feed(ev[-1]) or (mirror.snapshots == 2 and mirror.deltas >= 4),
            15,
        )
        states = [e.state for e in events if isinstance(e, StreamStatus)]
        assert StreamState.DISCONNECTED in states
        assert states.index(StreamState.CONNECTED) > states.index(StreamState.DISCONNECTED)
        assert states.count(StreamState.SUBSCRIBED) == 2  # books and tickers again
        assert stream.client.reconnects == 1
        await assert_matches_venue(stream, okx_rest, mirror, okx_sim)
    finally:
        await stream.close()


@pytest.mark.slow
async def test_heartbeats_outlive_the_idle_timeout(okx_sim):
    okx_sim.call(okx_sim.faces[Venue.OKX].configure, {"ws_idle_timeout_s": 1.5})
    control(okx_sim, "generator", {"running": False})
    stream = OkxPublicStream(
        endpoints_of(okx_sim), backoff=FAST, ping_interval=0.5, idle_timeout=1.4
    )
    await stream.subscribe([INST], books=False, trades=True, tickers=False)
    try:
        with pytest.raises(AssertionError, match="condition not met"):
            await collect(
                stream,
                lambda ev: (
                    isinstance(ev[-1], StreamStatus) and ev[-1].state is StreamState.DISCONNECTED
                ),
                6,  # four idle timeouts with nothing but pings and pongs on the wire
            )
        assert stream.client.reconnects == 0
    finally:
        control(okx_sim, "generator", {"running": True})
        await stream.close()


async def test_without_pings_the_venue_drops_an_idle_connection(okx_sim):
    okx_sim.call(okx_sim.faces[Venue.OKX].configure, {"ws_idle_timeout_s": 1.0})
    control(okx_sim, "generator", {"running": False})
    stream = OkxPublicStream(endpoints_of(okx_sim), backoff=FAST, ping_interval=0, idle_timeout=0)
    await stream.subscribe([INST], books=False, trades=True, tickers=False)
    try:
        await collect(
            stream,
            lambda ev: (
                isinstance(ev[-1], StreamStatus) and ev[-1].state is StreamState.DISCONNECTED
            ),
            6,
        )
    finally:
        control(okx_sim, "generator", {"running": True})
        await stream.close()


async def test_private_stream_reports_order_fill_position_and_balance(okx_sim, okx_rest):
    credentials = okx_sim.credentials[Venue.OKX]
    stream = OkxPrivateStream(endpoints_of(okx_sim), credentials, rest=okx_rest, backoff=FAST)
    try:
        events = await collect(
            stream,
            lambda ev: (
                sum(isinstance(e, StreamStatus) and e.state is StreamState.SUBSCRIBED for e in ev)
                == 4
            ),
            10,
        )
        assert any(
            isinstance(e, StreamStatus) and e.state is StreamState.AUTHENTICATED for e in events
        )
        request = OrderRequest(
            symbol=SYMBOL,
            venue_symbol=INST,
            client_order_id="itokxpriv1",
            side=Side.BUY,
            order_type=OrderType.MARKET,
            quantity=Decimal("1"),
        )
        ack = await asyncio.to_thread(okx_rest.place_order, request)
        assert ack.client_order_id == "itokxpriv1"

        def done(ev) -> bool:
            return (
                any(
                    isinstance(e, OrderUpdate)
                    and e.client_order_id == "itokxpriv1"
                    and e.status is OrderStatus.FILLED
                    for e in ev
                )
                and any(isinstance(e, FillEvent) and e.client_order_id == "itokxpriv1" for e in ev)
                and any(
                    isinstance(e, PositionUpdate) and e.symbol == SYMBOL and e.quantity > 0
                    for e in ev
                )
                and any(isinstance(e, BalanceUpdate) for e in ev)
            )

        events = await collect(stream, done, 15)
        fills = [
            e for e in events if isinstance(e, FillEvent) and e.client_order_id == "itokxpriv1"
        ]
        assert sum(f.quantity for f in fills) == Decimal("1")
        assert all(
            f.side is Side.BUY and f.price > 0 and f.venue_order_id == ack.venue_order_id
            for f in fills
        )
        assert len({f.trade_id for f in fills}) == len(fills)
    finally:
        await stream.close()


async def test_duplicated_private_pushes_yield_one_fill(okx_sim, okx_rest):
    stream = OkxPrivateStream(
        endpoints_of(okx_sim), okx_sim.credentials[Venue.OKX], rest=okx_rest, backoff=FAST
    )
    try:
        await collect(
            stream,
            lambda ev: (
                sum(isinstance(e, StreamStatus) and e.state is StreamState.SUBSCRIBED for e in ev)
                == 4
            ),
            10,
        )
        control(okx_sim, "faults", {"duplicate_private": 20})
        request = OrderRequest(SYMBOL, INST, "itokxdup1", Side.SELL, OrderType.MARKET, Decimal("1"))
        await asyncio.to_thread(okx_rest.place_order, request)
        events = await collect(
            stream,
            lambda ev: any(
                isinstance(e, FillEvent) and e.client_order_id == "itokxdup1" for e in ev
            ),
            15,
        )
        events += await drain(stream, 0.5)  # the duplicated pushes arrive right behind
        fills = [e for e in events if isinstance(e, FillEvent) and e.client_order_id == "itokxdup1"]
        assert sum(f.quantity for f in fills) == Decimal("1")
        assert len({f.trade_id for f in fills}) == len(fills)
        updates = [
            e for e in events if isinstance(e, OrderUpdate) and e.client_order_id == "itokxdup1"
        ]
        assert len(updates) > len(fills)  # the order pushes did arrive twice
    finally:
        await stream.close()


async def test_private_login_measures_the_venue_clock_first(okx_sim, okx_rest):
    okx_rest.clock.offset_ns = -90_000_000_000  # a local clock 90 s off: OKX would refuse it
    stream = OkxPrivateStream(
        endpoints_of(okx_sim), okx_sim.credentials[Venue.OKX], rest=okx_rest, backoff=FAST
    )
    try:
        events = await collect(
            stream,
            lambda ev: (
                isinstance(ev[-1], StreamStatus) and ev[-1].state is StreamState.AUTHENTICATED
            ),
            10,
        )
        assert abs(okx_rest.clock.offset_ns) < 5_000_000_000
        assert not any(
            isinstance(e, StreamStatus) and e.state is StreamState.DISCONNECTED for e in events
        )
    finally:
        await stream.close()


async def test_private_stream_with_its_own_rest_client(okx_sim):
    stream = OkxPrivateStream(endpoints_of(okx_sim), okx_sim.credentials[Venue.OKX], backoff=FAST)
    try:
        await collect(
            stream,
            lambda ev: (
                sum(isinstance(e, StreamStatus) and e.state is StreamState.SUBSCRIBED for e in ev)
                == 4
            ),
            10,
        )
    finally:
        await stream.close()


async def test_without_clock_sync_a_skewed_login_is_refused(okx_sim, okx_rest):
    okx_rest.clock.offset_ns = -90_000_000_000
    stream = OkxPrivateStream(
        endpoints_of(okx_sim),
        okx_sim.credentials[Venue.OKX],
        rest=okx_rest,
        sync_clock=False,
        backoff=FAST,
    )
    try:
        with pytest.raises(AssertionError, match="condition not met"):
            await collect(
                stream,
                lambda ev: (
                    isinstance(ev[-1], StreamStatus) and ev[-1].state is StreamState.AUTHENTICATED
                ),
                2,
            )
        assert stream.client.reconnects >= 1  # refused, reconnected, refused again
    finally:
        await stream.close()
