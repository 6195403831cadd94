import random
from decimal import Decimal as D

from exchanges.venues.base import StreamKind, StreamState, StreamStatus, Venue
from exchanges.venues.book import (
    BookResyncs,
    BookStats,
    OrderBook,
    apply_wire_side,
    decode_wire_levels,
)
from exchanges.venues.numbers import DecimalCache


def make_book() -> OrderBook:
    book = OrderBook("BTC/USDT")
    book.apply_snapshot(
        bids=[(D("100.0"), D("1")), (D("99.5"), D("2")), (D("99.0"), D("0"))],
        asks=[(D("100.5"), D("3")), (D("101"), D("4"))],
        sequence=10,
    )
    return book


def test_snapshot_orders_levels_and_drops_empty_ones():
    book = make_book()
    assert book.best_bid() == (D("100.0"), D("1"))
    assert book.best_ask() == (D("100.5"), D("3"))
    assert book.top(5) == (
        [(D("100.0"), D("1")), (D("99.5"), D("2"))],
        [(D("100.5"), D("3")), (D("101"), D("4"))],
    )
    assert book.sequence == 10
    assert book.mid() == D("100.25")


def test_delta_changes_adds_and_removes_levels():
    book = make_book()
    changed = book.apply_delta(
        bids=[(D("100.0"), D("0")), (D("99.75"), D("5"))],
        asks=[(D("100.5"), D("1.5"))],
        sequence=11,
    )
    assert changed == 3
    assert book.top(2) == (
        [(D("99.75"), D("5")), (D("99.5"), D("2"))],
        [(D("100.5"), D("1.5")), (D("101"), D("4"))],
    )
    assert book.sequence == 11


def test_removing_an_absent_level_is_harmless():
    book = make_book()
    book.apply_delta(bids=[(D("1"), D("0"))], asks=[], sequence=11)
    assert len(book.bids) == 2


def test_price_keys_compare_by_value_not_text():
    book = OrderBook("X")
    book.apply_snapshot([(D("100.0"), D("1"))], [], 1)
    book.apply_delta([(D("100"), D("2"))], [], 2)
    assert list(book.bids.items()) == [(D("100.0"), D("2"))]


def test_crossed_and_empty():
    book = OrderBook("X")
    assert book.is_empty and book.best_bid() is None and book.mid() is None
    book.apply_snapshot([(D("101"), D("1"))], [(D("100"), D("1"))], 1)
    assert book.is_crossed()
    book.clear()
    assert book.is_empty and book.sequence is None


def test_stats_as_dict():
    stats = BookStats()
    stats.messages += 3
    stats.gaps += 1
    assert stats.as_dict() == {
        "checksum_mismatches": 0,
        "gaps": 1,
        "messages": 3,
        "rebuilds": 0,
        "updates_applied": 0,
    }


def test_delta_accepts_any_iterable_and_counts_the_levels_given():
    book = make_book()
    changed = book.apply_delta(iter([(D("99.5"), D("5"))]), (lvl for lvl in ()), 11)
    assert changed == 1
    assert book.bids[D("99.5")] == D("5")


def _random_wire_stream(seed: int, count: int) -> list[tuple[list, list]]:
    """Wire levels near a mid: repeated prices, equal prices spelled differently, zero sizes
    as "0" and as "0.000", removals of absent prices."""
    rng = random.Random(seed)

    def level(sign: int) -> list[str]:
        price = D("27450") + sign * D("0.5") * rng.randint(1, 30)
        text = str(price) if rng.random() < 0.5 else f"{price:.2f}"
        size = rng.choice(["0", "0.000", f"{rng.randint(1, 900) / 100:.3f}", "1"])
        return [text, size, "0", "1"]

    return [
        (
            [level(-1) for _ in range(rng.randint(0, 5))],
            [level(1) for _ in range(rng.randint(0, 5))],
        )
        for _ in range(count)
    ]


def test_wire_apply_gives_the_same_book_as_apply_delta():
    """The in-place fast path (`apply_wire_side`) against the plain SortedDict operations."""
    fast, reference = OrderBook("X"), OrderBook("X")
    prices = DecimalCache(limit=7)  # small: the cache is emptied many times on the way
    texts: tuple[dict, dict] = ({}, {})
    for raw_bids, raw_asks in _random_wire_stream(3, 3000):
        bids = apply_wire_side(fast.bids, raw_bids, prices, texts[0])
        asks = apply_wire_side(fast.asks, raw_asks, prices, texts[1])
        assert bids == tuple((D(p), D(s)) for p, s, *_ in raw_bids)
        assert asks == tuple((D(p), D(s)) for p, s, *_ in raw_asks)
        for side, levels in ((reference.bids, bids), (reference.asks, asks)):
            for price, size in levels:
                if size:
                    side[price] = size
                else:
                    side.pop(price, None)
        assert list(fast.bids.items()) == list(reference.bids.items())
        assert list(fast.asks.items()) == list(reference.asks.items())
    assert fast.bids and fast.asks
    for side, side_texts in ((fast.bids, texts[0]), (fast.asks, texts[1])):
        assert set(side_texts) == set(side)
        assert all(D(side_texts[p].split(":")[1]) == size for p, size in side.items())
    fast.bids._check()  # the SortedDict's own invariants hold after the in-place writes
    fast.asks._check()


def test_apply_delta_and_apply_side_agree_with_the_wire_path():
    delta_book, wire_book = OrderBook("X"), OrderBook("X")
    prices = DecimalCache()
    for raw_bids, raw_asks in _random_wire_stream(5, 500):
        bids = apply_wire_side(wire_book.bids, raw_bids, prices)
        asks = apply_wire_side(wire_book.asks, raw_asks, prices)
        delta_book.apply_delta(bids, asks, None)
    assert list(delta_book.bids.items()) == list(wire_book.bids.items())
    assert list(delta_book.asks.items()) == list(wire_book.asks.items())


def test_decode_wire_levels_keeps_order_and_shares_price_objects():
    prices = DecimalCache()
    levels = decode_wire_levels([["100.5", "1", "0", "2"], ["100.50", "0"]], prices)
    assert levels == ((D("100.5"), D("1")), (D("100.5"), D("0")))
    again = decode_wire_levels([["100.5", "3"]], prices)
    assert again[0][0] is levels[0][0]


def test_resyncs_count_at_the_start_and_hold_until_the_snapshot():
    stats = BookStats()
    resyncs = BookResyncs(Venue.OKX, stats)
    status = resyncs.begin("BTC-USDT", "BTC/USDT", "sequence gap", 123)
    assert status == StreamStatus(
        Venue.OKX, StreamKind.PUBLIC, StreamState.RESYNCING, 123, "sequence gap", "BTC/USDT"
    )
    assert "BTC-USDT" in resyncs and stats.rebuilds == 1
    resyncs.done("BTC-USDT")
    assert "BTC-USDT" not in resyncs and stats.rebuilds == 1
    resyncs.begin("ETH-USDT", "ETH/USDT", "checksum mismatch", 124)
    resyncs.clear()
    assert "ETH-USDT" not in resyncs and stats.rebuilds == 2
