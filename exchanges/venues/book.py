"""The one L2 order book every venue's stream maintains (cryptofeed's lesson: one book for all).

Prices are the keys of two `SortedDict`s; a size of zero in a delta removes the level. The book
knows nothing of a venue's sequencing: each venue's stream checks its own sequence numbers (and
OKX's checksum) at the place it applies a message, and rebuilds the book on a gap.

Applying levels is every stream's hot path (`bench/book_path.py`). Most changes replace the
size at a price the side already holds; a `SortedDict` is a dict whose sorted key list only
changes when a key is added or removed, so such a size is written with the plain
`dict.__setitem__` and the sorted list is left alone. `apply_side` and `apply_wire_side` (which
also decodes the venue's price and size texts through a `DecimalCache`) are that one loop.
Their bound methods are not hoisted into locals: Python 3.11 specializes `levels.append(...)`
and `prices.get(...)` called in place, and runs them faster than through a local alias.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from itertools import islice

from sortedcontainers import SortedDict

from exchanges.venues.base import (
    ZERO,
    PriceLevel,
    StreamKind,
    StreamState,
    StreamStatus,
    Venue,
)
from exchanges.venues.numbers import DecimalCache

_set_size = dict.__setitem__


def apply_side(side: SortedDict, levels: Iterable[PriceLevel]) -> None:
    """Apply `(price, size)` changes to one side: size 0 removes the level, a known price gets
    its new size in place (sorted keys untouched), a new price is inserted."""
    for price, size in levels:
        if size:
            if price in side:
                _set_size(side, price, size)
            else:
                side[price] = size
        elif price in side:
            del side[price]


def decode_wire_levels(
    raw_levels: Iterable[Sequence[str]], prices: DecimalCache
) -> tuple[PriceLevel, ...]:
    """`[[price_text, size_text, ...], ...]` -> `((price, size), ...)` in the order sent, the
    prices through the cache (a snapshot's levels, before `OrderBook.apply_snapshot`)."""
    levels = []
    for level in raw_levels:
        text = level[0]
        price = prices.get(text)
        if price is None:
            price = prices[text]
        levels.append((price, Decimal(level[1])))
    return tuple(levels)


def apply_wire_side(
    side: SortedDict,
    raw_levels: Iterable[Sequence[str]],
    prices: DecimalCache,
    texts: dict[Decimal, str] | None = None,
) -> tuple[PriceLevel, ...]:
    """Decode and apply a side's wire levels (`[price_text, size_text, ...]`, as OKX and Bybit
    send them) in one pass; returns the decoded `(price, size)` levels in the order sent.

    Prices go through `prices` (they repeat); a size text "0" is zero without parsing. With
    `texts`, the wire text `"price:size"` of every level present is kept by price (what OKX's
    checksum is built from, docs-v5 "Order book channel > Checksum").
    """
    levels = []
    for level in raw_levels:
        text = level[0]
        price = prices.get(text)
        if price is None:
            price = prices[text]
        size_text = level[1]
        if size_text == "0":
            levels.append((price, ZERO))
            if price in side:
                del side[price]
                if texts is not None:
                    texts.pop(price, None)
            continue
        size = Decimal(size_text)
        levels.append((price, size))
        if size:
            if price in side:
                _set_size(side, price, size)
            else:
                side[price] = size
            if texts is not None:
                texts[price] = f"{text}:{size_text}"
        elif price in side:
            del side[price]
            if texts is not None:
                texts.pop(price, None)
    return tuple(levels)


class OrderBook:
    __slots__ = ("asks", "bids", "sequence", "symbol")

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.bids: SortedDict = SortedDict()
        self.asks: SortedDict = SortedDict()
        self.sequence: int | None = None

    def clear(self) -> None:
        self.bids.clear()
        self.asks.clear()
        self.sequence = None

    def apply_snapshot(
        self, bids: Iterable[PriceLevel], asks: Iterable[PriceLevel], sequence: int | None
    ) -> None:
        self.bids = SortedDict({price: size for price, size in bids if size})
        self.asks = SortedDict({price: size for price, size in asks if size})
        self.sequence = sequence

    def apply_delta(
        self, bids: Iterable[PriceLevel], asks: Iterable[PriceLevel], sequence: int | None
    ) -> int:
        """Apply level changes (size 0 removes a level); returns how many levels were given."""
        if type(bids) is not tuple:
            bids = tuple(bids)
        if type(asks) is not tuple:
            asks = tuple(asks)
        apply_side(self.bids, bids)
        apply_side(self.asks, asks)
        self.sequence = sequence
        return len(bids) + len(asks)

    @property
    def is_empty(self) -> bool:
        return not self.bids and not self.asks

    def best_bid(self) -> PriceLevel | None:
        return self.bids.peekitem(-1) if self.bids else None

    def best_ask(self) -> PriceLevel | None:
        return self.asks.peekitem(0) if self.asks else None

    def is_crossed(self) -> bool:
        bid, ask = self.best_bid(), self.best_ask()
        return bid is not None and ask is not None and bid[0] >= ask[0]

    def mid(self) -> Decimal | None:
        bid, ask = self.best_bid(), self.best_ask()
        if bid is None or ask is None:
            return None
        return (bid[0] + ask[0]) / 2

    def top(self, depth: int) -> tuple[list[PriceLevel], list[PriceLevel]]:
        """The best `depth` levels of each side, best first. (One slice of each side's sorted
        keys, then dict lookups: a third of the time of `peekitem` per level, and the
        connectors take the top of a book after every event.)"""
        bids = self.bids
        n = min(depth, len(bids))
        top_bids = [(price, bids[price]) for price in reversed(bids.keys()[-n:])] if n > 0 else []
        asks = self.asks
        top_asks = [(price, asks[price]) for price in islice(asks, max(depth, 0))]
        return top_bids, top_asks


class BookStats:
    """Counters a book-keeping session exposes (the benchmark and ConnectorStatus read them).

    `messages`: book messages seen; `updates_applied`: deltas applied to a valid book (snapshots
    are not counted); `gaps`: sequence breaks detected; `checksum_mismatches`: checksums that did
    not match the book after applying; `rebuilds`: books dropped and resubscribed for either
    (counted when the rebuild starts, `BookResyncs.begin`).
    """

    __slots__ = ("checksum_mismatches", "gaps", "messages", "rebuilds", "updates_applied")

    def __init__(self) -> None:
        self.messages = 0
        self.updates_applied = 0
        self.gaps = 0
        self.checksum_mismatches = 0
        self.rebuilds = 0

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__slots__}


class BookResyncs:
    """The books a public session is rebuilding after a sequence gap or a checksum mismatch.

    Every venue does the same (only the resubscribe request is the venue's own): the book is
    dropped, `StreamStatus(RESYNCING)` is emitted and the rebuild counted in `stats.rebuilds`
    (`begin`), nothing is emitted for that book until the venue's fresh snapshot (`key in
    resyncs` meanwhile), which ends the rebuild (`done`). Keys are the session's book keys
    (venue symbols).
    """

    __slots__ = ("pending", "stats", "venue")

    def __init__(self, venue: Venue, stats: BookStats) -> None:
        self.venue = venue
        self.stats = stats
        self.pending: set[str] = set()

    def __contains__(self, key: str) -> bool:
        return key in self.pending

    def begin(self, key: str, symbol: str, detail: str, receive_ts: int) -> StreamStatus:
        """Start rebuilding `key` (unified `symbol`); returns the status to emit."""
        self.pending.add(key)
        self.stats.rebuilds += 1
        return StreamStatus(
            self.venue, StreamKind.PUBLIC, StreamState.RESYNCING, receive_ts, detail, symbol
        )

    def done(self, key: str) -> None:
        """The fresh snapshot of `key` arrived (or the book was dropped for good)."""
        self.pending.discard(key)

    def clear(self) -> None:
        """A new connection: every book starts afresh from its snapshot."""
        self.pending.clear()
