"""Bybit `orderbook.{depth}.{symbol}` streams: one stream per depth and symbol with its own
`u`, snapshots and deltas at the depth's interval, depth-1 resends ("Orderbook").
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from decimal import Decimal

import orjson

from exchanges.simulator.bybit.constants import BOOK_DEPTHS, VENUE, ZERO
from exchanges.simulator.bybit.wire import BybitInstrument, dec
from exchanges.simulator.bybit.ws import BybitConnection
from exchanges.venues.base import Venue


@dataclass(eq=False)
class BookStream:
    """One `orderbook.{depth}.{symbol}` stream shared by its subscribers (a depth's own u)."""

    instrument: BybitInstrument
    depth: int
    interval: float
    topic: str
    u: int = 0
    bids: dict[Decimal, Decimal] = field(default_factory=dict)
    asks: dict[Decimal, Decimal] = field(default_factory=dict)
    subscribers: set[BybitConnection] = field(default_factory=set)
    scheduled: bool = False
    last_push: float = 0.0
    primed: bool = False


def _diff(
    old: dict[Decimal, Decimal], new: dict[Decimal, Decimal], *, reverse: bool
) -> list[tuple[Decimal, Decimal]]:
    """Level changes from `old` to `new` (size 0 = gone), best first."""
    changes = [(p, q) for p, q in new.items() if old.get(p) != q]
    changes += [(p, ZERO) for p in old if p not in new]
    changes.sort(reverse=reverse)
    return changes


def _touches(
    stream: BookStream,
    bid_changes: list[tuple[Decimal, Decimal]],
    ask_changes: list[tuple[Decimal, Decimal]],
) -> bool:
    """Whether engine level changes can alter the stream's top `depth` levels."""
    if len(stream.bids) < stream.depth or len(stream.asks) < stream.depth:
        return True
    worst_bid = min(stream.bids)
    worst_ask = max(stream.asks)
    return any(p >= worst_bid for p, _ in bid_changes) or any(
        p <= worst_ask for p, _ in ask_changes
    )


class BybitBooks:
    """Publishes the Bybit order book streams."""

    def on_book(
        self,
        venue: Venue,
        symbol: str,
        bid_changes: list[tuple[Decimal, Decimal]],
        ask_changes: list[tuple[Decimal, Decimal]],
        ts_ns: int,
    ) -> None:
        if venue is not VENUE:
            return
        self._seq[symbol] = self._seq.get(symbol, 0) + 1
        for stream in self._books_of.get(symbol, ()):
            if (
                stream.subscribers
                and not stream.scheduled
                and _touches(stream, bid_changes, ask_changes)
            ):
                self._schedule_book(stream)

    async def _housekeeping(self) -> None:
        """Repeat depth-1 snapshots after `depth1_resend` seconds without change (docs)."""
        while True:
            await asyncio.sleep(0.25)
            now = time.monotonic()
            resend = float(self.options["depth1_resend"])
            for stream in self._books.values():
                if stream.depth == 1 and stream.subscribers and stream.primed:
                    if now - stream.last_push >= resend:
                        self._push_book(stream, snapshot=True)

    def _book_stream(self, inst: BybitInstrument, depth: int) -> BookStream:
        key = (inst.engine_symbol, depth)
        stream = self._books.get(key)
        if stream is None:
            stream = self._books[key] = BookStream(
                instrument=inst,
                depth=depth,
                interval=BOOK_DEPTHS[inst.category][depth],
                topic=f"orderbook.{depth}.{inst.symbol}",
            )
            self._books_of.setdefault(inst.engine_symbol, []).append(stream)
        return stream

    def _prime(self, stream: BookStream) -> None:
        """Take the engine's current top `depth` levels as the stream's new snapshot."""
        bids, asks = self.engine.book(VENUE, stream.instrument.engine_symbol, stream.depth)
        stream.bids = dict(bids)
        stream.asks = dict(asks)
        stream.u += 1
        stream.primed = True
        stream.last_push = time.monotonic()

    def _book_message(
        self,
        stream: BookStream,
        *,
        snapshot: bool,
        bids: list[tuple[Decimal, Decimal]] | None = None,
        asks: list[tuple[Decimal, Decimal]] | None = None,
    ) -> bytes:
        inst = stream.instrument
        pq, qq = inst.price_q, inst.qty_q
        if snapshot:
            bids = sorted(stream.bids.items(), reverse=True)
            asks = sorted(stream.asks.items())
        now = self._now_ms()
        return orjson.dumps(
            {
                "topic": stream.topic,
                "type": "snapshot" if snapshot else "delta",
                "ts": now,
                "data": {
                    "s": inst.symbol,
                    "b": [[dec(p, pq), dec(q, qq)] for p, q in bids or ()],
                    "a": [[dec(p, pq), dec(q, qq)] for p, q in asks or ()],
                    "u": stream.u,
                    "seq": self._seq.get(inst.engine_symbol, 0),
                },
                "cts": now,
            }
        )

    def _push_book(self, stream: BookStream, *, snapshot: bool, bids=None, asks=None) -> None:
        if self.faults.freeze_books:
            return
        data = self._book_message(stream, snapshot=snapshot, bids=bids, asks=asks)
        for conn in list(stream.subscribers):
            conn.send(data)
        stream.last_push = time.monotonic()

    def _schedule_book(self, stream: BookStream) -> None:
        if stream.scheduled or self._loop is None:
            return
        stream.scheduled = True
        if self.options["book_intervals"]:
            self._loop.call_later(stream.interval, self._flush_book, stream)
        else:
            self._loop.call_soon(self._flush_book, stream)

    def _flush_book(self, stream: BookStream) -> None:
        """Send what changed in the stream's top `depth` levels since its last push."""
        stream.scheduled = False
        if not stream.subscribers or not stream.primed or self.faults.freeze_books:
            return  # frozen: the stream keeps its last sent state, the next delta catches up
        bids, asks = self.engine.book(VENUE, stream.instrument.engine_symbol, stream.depth)
        new_bids, new_asks = dict(bids), dict(asks)
        bid_changes = _diff(stream.bids, new_bids, reverse=True)
        ask_changes = _diff(stream.asks, new_asks, reverse=False)
        if not bid_changes and not ask_changes:
            return
        stream.bids, stream.asks = new_bids, new_asks
        stream.u += 2 if self.faults.take("skip_book_sequence") else 1
        if stream.depth == 1:
            self._push_book(stream, snapshot=True)
        else:
            self._push_book(stream, snapshot=False, bids=bid_changes, asks=ask_changes)

    def _restart_books(self) -> None:
        """A simulated service restart: every book stream starts over with a u = 1 snapshot."""
        for stream in self._books.values():
            stream.u = 0
            if stream.subscribers:
                self._prime(stream)
                self._push_book(stream, snapshot=True)
            else:
                stream.primed = False
