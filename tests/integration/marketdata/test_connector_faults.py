"""The market data service under the simulator's faults, on all three venues at once: a dropped
socket, a sequence gap and a book feed that stops (while tickers go on) each get the book
rebuilt, counted under its reason, and so is a book found to differ from the venue's REST
book at the same sequence; an invalid or crossed book is never published."""

from __future__ import annotations

import pytest

from exchanges.venues.base import Venue
from marketdata import feed
from marketdata.connectors.books import Drift, Top
from tests.integration.marketdata.conftest import BOOKS, make_exchanges, subscribe
from tests.support.harness import eventually

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def exchanges(sim_module, transactional_db):
    exchanges = make_exchanges(sim_module)
    for venue, symbol in BOOKS.items():
        subscribe(exchanges[venue], symbol, trades=False)
    yield exchanges
    for venue in BOOKS:
        sim_module.call(sim_module.faults[venue].update, skip_book_sequence=0, freeze_books=False)


@pytest.fixture
async def running(exchanges, start_service, captured):
    """The service with every venue's book valid, and a watch on what it publishes: each
    published book must be the connector's valid, uncrossed book at that moment."""
    service = await start_service()
    connectors = {c.venue: c for c in service.connectors.values()}
    violations: list[str] = []
    publish = captured.publisher.publish

    def checked(channel: str, data: dict) -> None:
        if channel.startswith("book."):
            _, venue, symbol = channel.split(".", 2)
            book = connectors[Venue(venue)].books.get(symbol)
            if book is None or not book.valid or book.book.is_crossed():
                violations.append(f"{channel} published while invalid or crossed")
        publish(channel, data)

    captured.publisher.publish = checked
    await eventually(lambda: all(valid(connectors[v], s) for v, s in BOOKS.items()), 15)
    yield connectors, violations
    assert violations == []


def valid(connector, symbol: str) -> bool:
    book = connector.books.get(symbol)
    return book is not None and book.valid


def rebuilt(connectors, reason: str, before: dict[Venue, int]) -> bool:
    return all(
        connectors[v].health.rebuilds[reason] > before[v] and valid(connectors[v], s)
        for v, s in BOOKS.items()
    )


async def test_a_dropped_socket_rebuilds_every_book(sim_module, running):
    connectors, _ = running
    before = {v: c.health.rebuilds["disconnect"] for v, c in connectors.items()}
    for venue in BOOKS:
        sim_module.call(sim_module.faults[venue].drop_ws)
    await eventually(lambda: rebuilt(connectors, "disconnect", before), timeout=15)
    assert all(c.health.reconnects >= 1 for c in connectors.values())


async def test_a_sequence_gap_rebuilds_the_book(sim_module, running):
    connectors, _ = running
    before = {v: c.health.rebuilds["gap"] for v, c in connectors.items()}
    for venue in BOOKS:
        sim_module.call(sim_module.faults[venue].update, skip_book_sequence=1)
    await eventually(lambda: rebuilt(connectors, "gap", before), timeout=15)
    assert {c.health.reconnects for c in connectors.values()} == {0}


async def test_a_frozen_book_is_found_stale_and_rebuilt_while_tickers_go_on(
    sim_module, running, captured
):
    connectors, _ = running
    before = {v: c.health.rebuilds["stale"] for v, c in connectors.items()}
    for venue in BOOKS:
        sim_module.call(sim_module.faults[venue].update, freeze_books=True)

    def stale_everywhere():
        return all(
            connectors[v].health.rebuilds["stale"] > before[v] and not valid(connectors[v], s)
            for v, s in BOOKS.items()
        )

    await eventually(stale_everywhere, timeout=10)
    tickers = {v: len(captured.of(feed.ticker_channel(v, s))) for v, s in BOOKS.items()}
    await eventually(
        lambda: all(
            len(captured.of(feed.ticker_channel(v, s))) > tickers[v] for v, s in BOOKS.items()
        ),
        timeout=10,
    )
    assert not any(valid(connectors[v], s) for v, s in BOOKS.items())  # frozen: still waiting
    cache = captured.publisher.cache  # nothing served for a book known to be wrong
    await eventually(
        lambda: all(
            cache.get(feed.latest_key(feed.book_channel(v, s))) is None for v, s in BOOKS.items()
        )
    )
    for venue in BOOKS:
        sim_module.call(sim_module.faults[venue].update, freeze_books=False)
    await eventually(lambda: all(valid(connectors[v], s) for v, s in BOOKS.items()), timeout=15)
    assert {c.health.reconnects for c in connectors.values()} == {0}
    await eventually(
        lambda: all(
            cache.get(feed.latest_key(feed.book_channel(v, s))) is not None
            for v, s in BOOKS.items()
        )
    )


async def test_a_book_that_drifted_from_the_venue_is_rebuilt(sim_module, running):
    connectors, _ = running
    sim_module.call(setattr, sim_module.simulator, "generator_running", False)
    try:
        for venue in (Venue.DERIBIT, Venue.OKX):
            connector, symbol = connectors[venue], BOOKS[venue]
            book = connector.books[symbol]
            await _quiet(connector, symbol)  # nothing in flight that could undo the tampering
            # as if an update had been missed: the best bid's size is off by one
            price, size = book.book.best_bid()
            book.book.bids[price] = size + 1
            book.history = type(book.history)(
                (
                    Top(t.sequence, ((t.bids[0][0], t.bids[0][1] + 1), *t.bids[1:]), t.asks)
                    for t in book.history
                ),
                maxlen=book.history.maxlen,
            )
            assert await connector.check_drift(symbol) is Drift.MISMATCH
            assert connector.health.rebuilds["drift"] == 1 and not book.valid
            await eventually(lambda c=connector, s=symbol: valid(c, s), timeout=10)
            assert connector.books[symbol].book.best_bid() == (price, size)
            assert await connector.check_drift(symbol) is Drift.MATCH
    finally:
        sim_module.call(setattr, sim_module.simulator, "generator_running", True)


async def _quiet(connector, symbol: str) -> None:
    """Wait until the paused market's book has reached the connector: its top equals the REST
    book's."""
    import asyncio

    name = connector.rest.symbols.venue(symbol)

    async def same() -> bool:
        rest = await asyncio.to_thread(connector.rest.order_book, name, 50)
        bids, asks = connector.books[symbol].top(10)
        return (bids, asks) == (list(rest.bids[:10]), list(rest.asks[:10]))

    await eventually(same, timeout=10, interval=0.1)
