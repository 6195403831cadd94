from decimal import Decimal as D

from exchanges.venues.book import BookStats, OrderBook


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
