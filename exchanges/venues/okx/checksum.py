"""OKX's former book checksum, kept up to date level by level instead of rebuilt per update.

The checksum (docs-v5 "Order book channel > Checksum"; `parse.book_checksum` is the reference
recipe) is the signed CRC32 of the best 25 levels of each side written as the venue sent them,
`bidPx:bidSz:askPx:askSz:...`. `ChecksumTexts` keeps the wire text `"px:sz"` of every level of
one book and, per side, the texts of its best 25 levels in price order. A level change outside
a side's best 25 costs one comparison; inside, a bisection and a list edit; the 26th level moves
up from the book when a best level goes. The checksum is then one join and one CRC32, computed
again only once a change has reached the best levels.
"""

from __future__ import annotations

import zlib
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from decimal import Decimal

from sortedcontainers import SortedDict

from exchanges.venues.base import PriceLevel
from exchanges.venues.okx.constants import CHECKSUM_DEPTH


class _Top:
    """The best `depth` levels of one side, ascending by price (bids: the highest `depth`,
    best last; asks: the lowest `depth`, best first), with their wire texts."""

    __slots__ = ("is_bid", "prices", "texts")

    def __init__(self, is_bid: bool) -> None:
        self.is_bid = is_bid
        self.prices: list[Decimal] = []
        self.texts: list[str] = []

    def rebuild(self, side: SortedDict, wire: dict[Decimal, str], depth: int) -> None:
        keys = side.keys()
        prices = keys[-depth:] if self.is_bid else keys[:depth]
        self.prices = prices
        self.texts = list(map(wire.__getitem__, prices))

    def patch(
        self,
        side: SortedDict,
        wire: dict[Decimal, str],
        changes: Sequence[PriceLevel],
        depth: int,
    ) -> bool:
        """Bring the top in line with `side` after `changes` were applied to it; False when
        none of the changes reached the best `depth` levels (the top is as it was)."""
        prices, texts = self.prices, self.texts
        is_bid = self.is_bid
        full = len(prices) >= depth
        worst = (prices[0] if is_bid else prices[-1]) if full else None
        touched = False
        for price, _ in changes:
            i = bisect_left(prices, price)
            if i < len(prices) and prices[i] == price:
                touched = True
                if price in side:
                    texts[i] = wire[price]
                else:
                    del prices[i]
                    del texts[i]
            elif price in side and (worst is None or (price > worst if is_bid else price < worst)):
                touched = True
                prices.insert(i, price)
                texts.insert(i, wire[price])
        if not touched:
            return False
        excess = len(prices) - depth
        if excess > 0:
            if is_bid:
                del prices[:excess]
                del texts[:excess]
            else:
                del prices[depth:]
                del texts[depth:]
        elif excess < 0 and len(side) > len(prices):
            # the kept levels are the side's best: the next ones come up from the book
            have, size = len(prices), len(side)
            keys = side.keys()
            if is_bid:
                more = keys[max(0, size - depth) : size - have]
                prices[:0] = more
                texts[:0] = map(wire.__getitem__, more)
            else:
                more = keys[have:depth]
                prices += more
                texts += map(wire.__getitem__, more)
        return True


class ChecksumTexts:
    """The wire texts of one OKX book, for checking the checksum after every message."""

    __slots__ = ("_checksum", "ask_wire", "asks", "bid_wire", "bids", "depth")

    def __init__(self, depth: int = CHECKSUM_DEPTH) -> None:
        self.depth = depth
        self.bid_wire: dict[Decimal, str] = {}
        self.ask_wire: dict[Decimal, str] = {}
        self.bids = _Top(is_bid=True)
        self.asks = _Top(is_bid=False)
        self._checksum: int | None = None  # of the tops as they are, once computed

    def start(
        self,
        bid_side: SortedDict,
        ask_side: SortedDict,
        bids: Iterable[PriceLevel],
        asks: Iterable[PriceLevel],
        raw_bids: Iterable[Sequence[str]],
        raw_asks: Iterable[Sequence[str]],
    ) -> None:
        """Take a snapshot's texts: `bids`/`asks` are its decoded levels, `raw_*` as sent."""
        self.bid_wire = {
            price: f"{level[0]}:{level[1]}"
            for (price, _), level in zip(bids, raw_bids, strict=True)
        }
        self.ask_wire = {
            price: f"{level[0]}:{level[1]}"
            for (price, _), level in zip(asks, raw_asks, strict=True)
        }
        self.bids.rebuild(bid_side, self.bid_wire, self.depth)
        self.asks.rebuild(ask_side, self.ask_wire, self.depth)
        self._checksum = None

    def changed(
        self,
        bid_side: SortedDict,
        ask_side: SortedDict,
        bids: Sequence[PriceLevel],
        asks: Sequence[PriceLevel],
    ) -> None:
        """Follow an update: `bids`/`asks` were just applied to the sides and to the wire texts
        (`book.apply_wire_side` with `bid_wire`/`ask_wire`)."""
        if bids and self.bids.patch(bid_side, self.bid_wire, bids, self.depth):
            self._checksum = None
        if asks and self.asks.patch(ask_side, self.ask_wire, asks, self.depth):
            self._checksum = None

    def checksum(self) -> int:
        """The signed CRC32 of `bid1:ask1:bid2:ask2:...` (the longer side's rest alone),
        computed again only after a change reached the best levels."""
        if self._checksum is not None:
            return self._checksum
        bids = self.bids.texts[::-1]  # best first
        asks = self.asks.texts
        common = min(len(bids), len(asks))
        parts = bids[:common] * 2
        parts[0::2] = bids[:common]
        parts[1::2] = asks[:common]
        parts += bids[common:] or asks[common:]
        value = zlib.crc32(":".join(parts).encode())
        self._checksum = value - 0x1_0000_0000 if value & 0x8000_0000 else value
        return self._checksum
