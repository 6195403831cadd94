"""The market data service over real sockets against the simulator (all three venues): live
books valid and equal to the venue's REST book, what is published, the heartbeat rows, the
reload of subscriptions and exchanges, and a failing stream restarted while the others go on."""

from __future__ import annotations

import asyncio

import pytest

from exchanges.models import Exchange
from exchanges.venues.base import Trade, Venue
from exchanges.venues.ws import Backoff
from marketdata import feed
from marketdata.connectors.books import Drift
from marketdata.connectors.exchange import open_stream
from marketdata.connectors.persist import Persister, in_thread
from marketdata.models import ConnectorStatus, Subscription, TopOfBookSnapshot, TradeTick
from tests.integration.marketdata.conftest import BOOKS, make_exchanges, subscribe
from tests.support.harness import eventually

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def exchanges(sim_module, transactional_db):
    exchanges = make_exchanges(sim_module)
    for venue, symbol in BOOKS.items():
        subscribe(exchanges[venue], symbol, book_depth=10)
    return exchanges


def valid(connector, symbol: str) -> bool:
    book = connector.books.get(symbol)
    return book is not None and book.valid


def paused(sim, running: bool = False) -> None:
    sim.call(setattr, sim.simulator, "generator_running", running)


def assert_never_crossed(captured) -> None:
    books = [data for name, data in captured.updates if name.startswith("book.")]
    assert books
    for data in books:
        if data["bids"] and data["asks"]:
            assert float(data["bids"][0][0]) < float(data["asks"][0][0]), data


async def statuses() -> dict[str, ConnectorStatus]:
    rows = await in_thread(
        lambda: list(ConnectorStatus.objects.select_related("exchange").filter(stream="public"))
    )
    return {row.exchange.slug: row for row in rows}


async def test_books_of_every_venue_are_valid_and_equal_the_rest_book(
    sim_module, exchanges, start_service, captured
):
    service = await start_service()
    connectors = {c.venue: c for c in service.connectors.values()}
    assert set(connectors) == set(BOOKS)

    def all_valid():
        return all(valid(connectors[v], s) for v, s in BOOKS.items())

    await eventually(all_valid, timeout=15)
    paused(sim_module)
    try:
        for venue, symbol in BOOKS.items():
            connector = connectors[venue]
            name = connector.rest.symbols.venue(symbol)

            async def same(connector=connector, name=name, symbol=symbol):
                rest = await asyncio.to_thread(connector.rest.order_book, name, 50)
                bids, asks = connector.books[symbol].top(10)
                return (bids, asks) == (list(rest.bids[:10]), list(rest.asks[:10]))

            await eventually(same, timeout=10, interval=0.1)
            published = captured.of(feed.book_channel(venue, symbol))
            await eventually(
                lambda venue=venue, symbol=symbol: (
                    captured.of(feed.book_channel(venue, symbol))[-1]["sequence"]
                    == connectors[venue].books[symbol].book.sequence
                )
            )
            last = captured.of(feed.book_channel(venue, symbol))[-1]
            bids, asks = connector.books[symbol].top(10)
            assert last["bids"] == feed.levels_data(bids) and last["asks"] == feed.levels_data(asks)
            assert len(last["bids"]) == 10 and published
            verdict = await connector.check_drift(symbol)
            # Bybit's REST `u` is not the depth stream's: nothing to compare it with
            assert verdict is (Drift.NO_SEQUENCE if venue is Venue.BYBIT else Drift.MATCH)
    finally:
        paused(sim_module, running=True)

    # a row is written every CONNECTOR_STATUS_SECONDS: the first may predate any message
    rows = await eventually(lambda: _all_connected(statuses(), counting=True), timeout=10)
    for row in rows.values():
        assert row.messages > 0 and row.book_rebuilds == 0 and row.books_invalid == 0
        assert row.reconnects == 0 and row.lag_p50_ms is not None
        assert row.lag_p99_ms >= row.lag_p50_ms
    assert {c.health.rebuilds.total() for c in connectors.values()} == {0}
    assert_never_crossed(captured)

    # trades (streamed, and the backfill at subscribe) and top-of-book samples are stored
    def venues_of(model):
        return in_thread(
            lambda: set(model.objects.values_list("instrument__exchange__venue", flat=True))
        )

    async def stored(model):
        return await venues_of(model) == {"deribit", "okx", "bybit"}

    await eventually(lambda: stored(TradeTick), timeout=10)
    await eventually(lambda: stored(TopOfBookSnapshot), timeout=10)
    tickers = captured.of(feed.ticker_channel(Venue.OKX, "BTC/USDT:USDT"))
    assert tickers and tickers[-1]["best_bid"] is not None


async def _all_connected(rows_coroutine, *, counting=False):
    rows = await rows_coroutine
    if len(rows) == 3 and all(
        row.state == "connected" and (row.messages > 0 or not counting) for row in rows.values()
    ):
        return rows
    return None


async def test_subscriptions_and_exchanges_follow_the_database(
    sim_module, exchanges, start_service, captured
):
    service = await start_service()
    okx = next(c for c in service.connectors.values() if c.venue is Venue.OKX)
    await eventually(lambda: valid(okx, "BTC/USDT:USDT"), timeout=10)

    # a new subscription: streamed within the reload interval, no restart
    await in_thread(subscribe, exchanges[Venue.OKX], "ETH/USDT:USDT", trades=False)
    await eventually(lambda: valid(okx, "ETH/USDT:USDT"))
    assert service.connectors[exchanges[Venue.OKX].pk] is okx

    # a disabled subscription: its book is dropped and nothing more is published for it
    await in_thread(
        lambda: Subscription.objects.filter(instrument__symbol="ETH/USDT:USDT").update(
            enabled=False
        )
    )
    await eventually(lambda: "ETH/USDT:USDT" not in okx.books)
    channel = feed.book_channel(Venue.OKX, "ETH/USDT:USDT")
    count = len(captured.of(channel))
    await eventually(lambda: len(captured.of(feed.book_channel(Venue.OKX, "BTC/USDT:USDT"))) > 5)
    before = len(captured.of(feed.book_channel(Venue.OKX, "BTC/USDT:USDT")))
    await eventually(
        lambda: len(captured.of(feed.book_channel(Venue.OKX, "BTC/USDT:USDT"))) > before + 5
    )
    assert len(captured.of(channel)) == count

    # a depth change: published with the new depth, no resubscribe
    await in_thread(
        lambda: Subscription.objects.filter(
            instrument__exchange=exchanges[Venue.OKX], instrument__symbol="BTC/USDT:USDT"
        ).update(book_depth=3)
    )
    await eventually(
        lambda: len(captured.of(feed.book_channel(Venue.OKX, "BTC/USDT:USDT"))[-1]["bids"]) == 3
    )

    # a disabled exchange: its stream stops and its heartbeat says so; the others go on
    await in_thread(
        lambda: Exchange.objects.filter(pk=exchanges[Venue.BYBIT].pk).update(enabled=False)
    )
    await eventually(lambda: exchanges[Venue.BYBIT].pk not in service.connectors)

    async def stopped():
        row = (await statuses())["bybit-sim"]
        return (row.state, row.detail) == ("disconnected", "stopped")

    await eventually(stopped)
    await eventually(lambda: len(service.connectors) == 2)

    await in_thread(
        lambda: Exchange.objects.filter(pk=exchanges[Venue.BYBIT].pk).update(enabled=True)
    )
    await eventually(lambda: exchanges[Venue.BYBIT].pk in service.connectors)
    bybit = service.connectors[exchanges[Venue.BYBIT].pk]
    await eventually(lambda: valid(bybit, "BTC/USDT:USDT"), timeout=10)


async def test_a_failing_stream_restarts_while_the_others_go_on(
    sim_module, exchanges, start_service
):
    lives: dict[Venue, int] = {}

    class Failing:
        """OKX's stream whose first life breaks after 20 events."""

        def __init__(self, stream, fail: bool):
            self.stream, self.fail = stream, fail

        def __getattr__(self, name):
            return getattr(self.stream, name)

        async def events(self):
            seen = 0
            async for event in self.stream.events():
                seen += 1
                if self.fail and seen > 20:
                    raise RuntimeError("parser blew up")
                yield event

    def factory(wanted, rest):
        lives[wanted.venue] = lives.get(wanted.venue, 0) + 1
        stream = open_stream(wanted, rest)
        return Failing(stream, wanted.venue is Venue.OKX and lives[wanted.venue] == 1)

    service = await start_service(stream_factory=factory)
    connectors = {c.venue: c for c in service.connectors.values()}
    await eventually(lambda: lives.get(Venue.OKX) == 2, timeout=10)
    await eventually(lambda: valid(connectors[Venue.OKX], "BTC/USDT:USDT"), timeout=10)
    assert connectors[Venue.OKX].health.reconnects == 1
    deribit = connectors[Venue.DERIBIT]
    messages = deribit.health.messages
    await eventually(lambda: deribit.health.messages > messages + 10)
    assert (lives[Venue.DERIBIT], lives[Venue.BYBIT]) == (1, 1)
    assert deribit.health.reconnects == 0 and valid(deribit, "BTC/USD:BTC")
    rows = await eventually(lambda: _okx_row(statuses()))
    assert rows.reconnects == 1


async def _okx_row(rows_coroutine):
    rows = await rows_coroutine
    row = rows.get("okx-sim")
    return row if row is not None and row.reconnects == 1 and row.state == "connected" else None


async def test_a_stream_that_cannot_open_is_retried_and_stopping_ends_the_backoff(
    sim_module, exchanges, start_service
):
    attempts: list[Venue] = []

    def broken(wanted, rest):
        attempts.append(wanted.venue)
        raise ConnectionError(f"{wanted.venue} refused")

    service = await start_service(
        stream_factory=broken, restart_backoff=Backoff(initial=60, maximum=60)
    )
    await eventually(lambda: sorted(attempts) == sorted(BOOKS))
    await eventually(lambda: all(c.health.reconnects == 1 for c in service.connectors.values()))
    health = {c.venue: c.health.detail for c in service.connectors.values()}
    assert health[Venue.OKX] == "restarting after ConnectionError: okx refused"
    supervisors = list(service._supervisors.values())
    await service.stop()
    # each supervisor left its minute of backoff at once, on its own: none had to be cancelled
    assert all(task.done() and not task.cancelled() for task in supervisors)
    assert sorted(attempts) == sorted(BOOKS)


async def test_recent_trades_are_fetched_at_subscribe_so_a_restart_loses_none(
    sim_module, exchanges, start_service
):
    """The streams here carry no trade at all: every trade stored came from the REST
    backfill of each venue, keyed by the instrument's id."""

    class WithoutTrades:
        def __init__(self, stream):
            self.stream = stream

        def __getattr__(self, name):
            return getattr(self.stream, name)

        async def events(self):
            async for event in self.stream.events():
                if not isinstance(event, Trade):
                    yield event

    sim_module.call(sim_module.simulator.advance, 30)  # the venues have traded before
    written: list = []

    def write_trades(rows):
        written.extend(rows)
        return len(rows)

    persister = Persister(
        trade_seconds=0.1, top_seconds=3600, write_trades=write_trades, write_top_of_book=len
    )
    service = await start_service(
        stream_factory=lambda wanted, rest: WithoutTrades(open_stream(wanted, rest)),
        persister=persister,
    )
    ids = await in_thread(
        lambda: {
            s.instrument_id: s.instrument.exchange.venue
            for s in Subscription.objects.select_related("instrument__exchange")
        }
    )
    await eventually(lambda: {row.instrument_id for row in written} == set(ids), timeout=10)
    assert all(row.trade_id and row.price > 0 and row.quantity > 0 for row in written)
    assert len(service.connectors) == 3
