"""The connectors' book rules (marketdata/connectors/books.py): when a book may be published,
when it is stale, how it is compared with a REST snapshot; and the health arithmetic
(percentiles, messages per second) and the desired-state diff."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from exchanges.venues.base import BookDelta, BookSnapshot, InstrumentInfo, InstrumentKind, Venue
from marketdata.connectors.books import (
    Drift,
    LiveBook,
    Top,
    drift_verdict,
    is_stale,
    resync_reason,
)
from marketdata.connectors.config import Changes, WantedInstrument, diff
from marketdata.connectors.health import LagWindow, StreamHealth, percentile

SYMBOL = "BTC/USDT:USDT"


def snapshot(sequence, bids, asks):
    return BookSnapshot(Venue.OKX, SYMBOL, tuple(bids), tuple(asks), sequence, 10, 12)


def delta(sequence, bids=(), asks=()):
    return BookDelta(Venue.OKX, SYMBOL, tuple(bids), tuple(asks), sequence, sequence - 1, 20, 25)


def levels(*pairs):
    return [(D(price), D(size)) for price, size in pairs]


BIDS = levels(("100", "1"), ("99", "2"), ("98", "3"))
ASKS = levels(("101", "1"), ("102", "2"), ("103", "3"))


def test_a_book_is_valid_from_its_snapshot_and_publishes_each_applied_event():
    book = LiveBook(SYMBOL, depth=2, now=0.0)
    assert not book.valid and book.invalid_since == 0.0
    assert book.apply(delta(5, levels(("100", "9"))), 1.0) is None  # no snapshot yet: ignored
    assert book.apply(snapshot(5, BIDS, ASKS), 2.0) is True
    assert (book.valid, book.invalid_since, book.last_event_at) == (True, None, 2.0)
    assert book.top() == (BIDS[:2], ASKS[:2])
    assert book.apply(delta(6, levels(("100", "0")), levels(("101", "4"))), 3.0) is True
    assert book.top() == (levels(("99", "2"), ("98", "3")), levels(("101", "4"), ("102", "2")))
    assert (book.exchange_ts, book.receive_ts, book.book.sequence) == (20, 25, 6)


def test_a_crossed_book_is_invalid_until_the_next_snapshot():
    book = LiveBook(SYMBOL, depth=5, now=0.0)
    book.apply(snapshot(5, BIDS, ASKS), 1.0)
    assert book.apply(delta(6, levels(("101", "1"))), 2.0) is False
    assert (book.valid, book.invalid_since, book.book.is_empty, list(book.history)) == (
        False,
        2.0,
        True,
        [],
    )
    assert book.apply(delta(7, levels(("97", "1"))), 3.0) is None
    assert book.apply(snapshot(9, BIDS, ASKS), 4.0) is True
    assert book.valid


def test_invalidate_says_whether_the_book_was_valid():
    book = LiveBook(SYMBOL, depth=5, now=0.0)
    assert book.invalidate(1.0) is False  # never had a snapshot: the wait started at 0
    assert book.invalid_since == 0.0
    book.apply(snapshot(1, BIDS, ASKS), 2.0)
    assert book.invalidate(3.0) is True and book.invalid_since == 3.0
    assert book.invalidate(4.0) is False and book.invalid_since == 3.0
    book.waiting(5.0)
    assert book.invalid_since == 5.0


def test_stale_a_silent_valid_book_and_a_snapshot_that_does_not_come():
    book = LiveBook(SYMBOL, depth=5, now=0.0)
    assert not is_stale(book, 9.9, 10)
    assert is_stale(book, 10.0, 10)  # no snapshot within 10 s of subscribing
    book.apply(snapshot(1, BIDS, ASKS), 10.0)
    assert not is_stale(book, 19.9, 10)
    book.apply(delta(2, levels(("100", "5"))), 15.0)
    assert not is_stale(book, 24.9, 10) and is_stale(book, 25.0, 10)
    book.invalidate(25.0)
    book.waiting(25.0)
    assert not is_stale(book, 34.9, 10) and is_stale(book, 35.0, 10)


def test_the_history_keeps_the_last_tops_by_sequence():
    book = LiveBook(SYMBOL, depth=5, now=0.0, history=3, drift_depth=2)
    book.apply(snapshot(10, BIDS, ASKS), 1.0)
    for sequence in (11, 12, 13):
        book.apply(delta(sequence, levels(("100", str(sequence)))), 2.0)
    assert [top.sequence for top in book.history] == [11, 12, 13]
    assert book.at_sequence(10) is None
    assert book.at_sequence(12) == Top(
        12, tuple(levels(("100", "12"), ("99", "2"))), tuple(ASKS[:2])
    )


def test_drift_verdicts():
    live = Top(7, tuple(BIDS), tuple(ASKS))
    assert drift_verdict(live, BIDS, ASKS) is Drift.MATCH
    assert drift_verdict(live, BIDS + levels(("97", "1")), ASKS, depth=3) is Drift.MATCH
    assert drift_verdict(live, levels(("100", "1"), ("99", "2.5"), ("98", "3")), ASKS) is (
        Drift.MISMATCH
    )
    assert drift_verdict(live, BIDS, ASKS[:2]) is Drift.MISMATCH  # a level missing
    assert drift_verdict(None, BIDS, ASKS) is Drift.NO_SEQUENCE


@pytest.mark.parametrize(
    ("detail", "reason"),
    [
        ("book gap on orderbook.50.BTCUSDT: u=7 after 5; resubscribing", "gap"),
        ("checksum mismatch on BTC-USDT-SWAP", "checksum"),
        ("consumer fell behind; BookDelta dropped, resyncing", "behind"),
    ],
)
def test_resync_reasons(detail, reason):
    assert resync_reason(detail) == reason


def test_percentiles_are_nearest_rank():
    assert percentile([], 0.5) is None
    assert percentile([5], 0.99) == 5
    samples = list(range(1, 101))
    assert (percentile(samples, 0.5), percentile(samples, 0.99), percentile(samples, 1)) == (
        50,
        99,
        100,
    )
    assert percentile([3, 1, 2, 4], 0.5) == 2


def test_the_lag_window_is_bounded_and_in_milliseconds():
    window = LagWindow(size=3)
    for lag_ns in (9_000_000, 1_000_000, 2_500_000, 4_000_000):
        window.add(lag_ns)
    assert list(window.samples) == [1_000_000, 2_500_000, 4_000_000]
    assert (window.percentile_ms(0.5), window.percentile_ms(0.99)) == (D("2.500"), D("4.000"))
    assert LagWindow().percentile_ms(0.5) is None


def test_messages_per_second_over_the_last_interval():
    health = StreamHealth()
    assert health.messages_per_second(100.0) == D(0)
    health.messages = 50
    assert health.messages_per_second(102.0) == D("25.00")
    health.messages = 53
    assert health.messages_per_second(105.0) == D("1.00")
    assert health.messages_per_second(105.0) == D(0)


def info(symbol: str, venue_symbol: str) -> InstrumentInfo:
    return InstrumentInfo(
        venue=Venue.OKX,
        venue_symbol=venue_symbol,
        symbol=symbol,
        kind=InstrumentKind.PERPETUAL,
        base="BTC",
        quote="USDT",
        settle="USDT",
        linear=True,
        contract_size=D("0.01"),
        tick_size=D("0.1"),
        lot_size=D("0.01"),
        min_size=D("0.01"),
    )


def wanted(pk, symbol, **changes):
    values = {"books": True, "book_depth": 20, "trades": True, "tickers": True, **changes}
    return WantedInstrument(instrument_id=pk, info=info(symbol, symbol.replace("/", "-")), **values)


def test_diff_of_two_loads():
    btc, eth, sol = wanted(1, "BTC/USDT:USDT"), wanted(2, "ETH/USDT:USDT"), wanted(3, "SOL/USDT")
    old = {w.symbol: w for w in (btc, eth)}
    assert diff(old, dict(old)) == Changes()
    assert not diff(old, dict(old))
    eth_no_trades = wanted(2, "ETH/USDT:USDT", trades=False)
    btc_deeper = wanted(1, "BTC/USDT:USDT", book_depth=50)
    new = {w.symbol: w for w in (btc_deeper, eth_no_trades, sol)}
    assert diff(old, new) == Changes(
        subscribe=(eth_no_trades, sol), unsubscribe=(eth,), update=(btc_deeper,)
    )
    assert diff(new, {}) == Changes(unsubscribe=(btc_deeper, eth_no_trades, sol))
    assert eth_no_trades.channels == {"books": True, "trades": False, "tickers": True}
