"""The one L2 order book every venue's stream maintains (cryptofeed's lesson: one book for all).

Prices are the keys of two `SortedDict`s; a size of zero in a delta removes the level. The book
knows nothing of a venue's sequencing: each venue's stream checks its own sequence numbers (and
OKX's checksum) at the place it applies a message, and rebuilds the book on a gap.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from sortedcontainers import SortedDict

from exchanges.venues.base import ZERO, PriceLevel


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
        """Apply level changes; returns how many levels changed."""
        changed = 0
        for side, levels in ((self.bids, bids), (self.asks, asks)):
            for price, size in levels:
                if size:
                    side[price] = size
                else:
                    side.pop(price, None)
                changed += 1
        self.sequence = sequence
        return changed

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
        """The best `depth` levels of each side, best first."""
        bids = self.bids
        n = min(depth, len(bids))
        top_bids = [bids.peekitem(-1 - i) for i in range(n)]
        asks = self.asks
        top_asks = [asks.peekitem(i) for i in range(min(depth, len(asks)))]
        return top_bids, top_asks

    def depth_at(self, side_is_bid: bool, price: Decimal) -> Decimal:
        return (self.bids if side_is_bid else self.asks).get(price, ZERO)


class BookStats:
    """Counters a book-keeping session exposes (the benchmark and ConnectorStatus read them).

    `messages`: book messages seen; `updates_applied`: deltas applied to a valid book (snapshots
    are not counted); `gaps`: sequence breaks detected; `checksum_mismatches`: checksums that did
    not match the book after applying; `rebuilds`: books dropped and resubscribed for either.
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
