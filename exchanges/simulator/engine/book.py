"""One instrument's price-time priority book and its running 24 h statistics."""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal

from sortedcontainers import SortedDict

from exchanges.simulator.engine.records import ZERO, SimOrder
from exchanges.venues.base import Side


class Book:
    """Price-time priority book of one instrument: price -> FIFO of resting orders."""

    __slots__ = ("asks", "bids", "dirty_asks", "dirty_bids", "last_price", "last_size", "sizes")

    def __init__(self) -> None:
        self.bids: SortedDict = SortedDict()  # best = last key
        self.asks: SortedDict = SortedDict()  # best = first key
        self.sizes: dict[Side, dict[Decimal, Decimal]] = {Side.BUY: {}, Side.SELL: {}}
        self.dirty_bids: set[Decimal] = set()
        self.dirty_asks: set[Decimal] = set()
        self.last_price: Decimal | None = None
        self.last_size: Decimal | None = None

    def side(self, side: Side) -> SortedDict:
        return self.bids if side is Side.BUY else self.asks

    def best(self, side: Side) -> Decimal | None:
        levels = self.side(side)
        if not levels:
            return None
        return levels.peekitem(-1 if side is Side.BUY else 0)[0]

    def mark_dirty(self, side: Side, price: Decimal) -> None:
        (self.dirty_bids if side is Side.BUY else self.dirty_asks).add(price)

    def add(self, order: SimOrder) -> None:
        levels = self.side(order.side)
        queue = levels.get(order.price)
        if queue is None:
            queue = levels[order.price] = deque()
        queue.append(order)
        sizes = self.sizes[order.side]
        sizes[order.price] = sizes.get(order.price, ZERO) + order.remaining
        self.mark_dirty(order.side, order.price)

    def remove(self, order: SimOrder) -> None:
        levels = self.side(order.side)
        queue = levels.get(order.price)
        if queue is None:
            return
        try:
            queue.remove(order)
        except ValueError:
            return
        self.reduce(order.side, order.price, order.remaining)
        if not queue:
            del levels[order.price]

    def reduce(self, side: Side, price: Decimal, quantity: Decimal) -> None:
        sizes = self.sizes[side]
        left = sizes.get(price, ZERO) - quantity
        if left > 0:
            sizes[price] = left
        else:
            sizes.pop(price, None)
        self.mark_dirty(side, price)

    def levels(self, side: Side, depth: int | None) -> list[tuple[Decimal, Decimal]]:
        levels = self.side(side)
        keys = reversed(levels.keys()) if side is Side.BUY else iter(levels.keys())
        sizes = self.sizes[side]
        return [(price, sizes[price]) for price in itertools.islice(keys, depth)]

    def take_changes(self) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        bids = [
            (p, self.sizes[Side.BUY].get(p, ZERO)) for p in sorted(self.dirty_bids, reverse=True)
        ]
        asks = [(p, self.sizes[Side.SELL].get(p, ZERO)) for p in sorted(self.dirty_asks)]
        self.dirty_bids.clear()
        self.dirty_asks.clear()
        return bids, asks


@dataclass
class BookStats:
    volume: Decimal = ZERO
    high: Decimal | None = None
    low: Decimal | None = None
    open: Decimal | None = None
    trades: deque = field(default_factory=lambda: deque(maxlen=1000))
