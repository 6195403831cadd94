"""OKX order book channels: one published view per channel and instrument with its `seqId`
chain, the three book modes, the CRC32 checksum, and the timed flush ("Order book channel").
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson

from exchanges.simulator.okx.constants import (
    BOOK_CHANNELS,
    CHECKSUM_LEVELS,
    TICKER_INTERVAL_S,
    VENUE,
    ZERO,
)
from exchanges.simulator.okx.wire import ms
from exchanges.simulator.okx.ws import OkxConnection
from exchanges.venues.base import Side, Venue

logger = logging.getLogger(__name__)


def checksum_string(bids: list[list[str]], asks: list[list[str]]) -> str:
    """The string OKX's book checksum is taken of: the first 25 bids and asks interleaved,
    `bid1px:bid1sz:ask1px:ask1sz:bid2px:...`; when one side is shorter the other's remaining
    levels follow alone (OKX docs "Order book channel", checksum; ccxt okx watchOrderBook)."""
    parts: list[str] = []
    for i in range(CHECKSUM_LEVELS):
        if i < len(bids):
            parts += (bids[i][0], bids[i][1])
        if i < len(asks):
            parts += (asks[i][0], asks[i][1])
    return ":".join(parts)


def book_checksum(bids: list[list[str]], asks: list[list[str]]) -> int:
    """CRC32 of `checksum_string` as a signed 32-bit integer, the way OKX sends it."""
    crc = zlib.crc32(checksum_string(bids, asks).encode())
    return crc - (1 << 32) if crc >= 1 << 31 else crc


@dataclass(eq=False)
class BookView:
    """The published state of one book channel of one instrument, shared by its subscribers,
    so every subscriber sees the same `seqId` chain."""

    channel: str
    inst_id: str
    depth: int
    cadence: str
    incremental: bool
    bids: dict[Decimal, Decimal]
    asks: dict[Decimal, Decimal]
    last_seq: int
    ts_ns: int
    subscribers: set = field(default_factory=set)
    dirty: bool = False
    # prices the engine changed since the last message, sent even when they ended where they
    # began: a client joining a REST book taken in between needs them (`prevSeqId <= seqId`)
    touched_bids: set = field(default_factory=set)
    touched_asks: set = field(default_factory=set)
    last_push: float = 0.0  # loop time of the last message, for the keep-alive update


class OkxBooks:
    """Publishes the OKX book channels from the engine's book changes."""

    def on_book(
        self,
        venue: Venue,
        symbol: str,
        bid_changes: list[tuple[Decimal, Decimal]],
        ask_changes: list[tuple[Decimal, Decimal]],
        ts_ns: int,
    ) -> None:
        if venue is not VENUE or symbol not in self._seq:
            return
        self._seq[symbol] += 1
        self._book_ts[symbol] = ts_ns
        for view in self._views_by_inst[symbol]:
            view.dirty = True
            view.touched_bids.update(price for price, _ in bid_changes)
            view.touched_asks.update(price for price, _ in ask_changes)

    def _view(self, channel: str, inst: str) -> BookView:
        view = self._views.get((channel, inst))
        if view is None:
            depth, cadence, incremental = BOOK_CHANNELS[channel]
            bids, asks = self.engine.book(VENUE, inst, depth)
            view = BookView(
                channel=channel,
                inst_id=inst,
                depth=depth,
                cadence=cadence,
                incremental=incremental,
                bids=dict(bids),
                asks=dict(asks),
                last_seq=self._seq[inst],
                ts_ns=self._book_ts[inst],
                last_push=self._loop.time() if self._loop is not None else 0.0,
            )
            self._views[(channel, inst)] = view
            self._views_by_inst[inst].append(view)
        return view

    def _drop_view_subscriber(self, channel: str, inst: str, conn: OkxConnection) -> None:
        view = self._views.get((channel, inst))
        if view is None:
            return
        view.subscribers.discard(conn)
        if not view.subscribers:
            del self._views[(channel, inst)]
            self._views_by_inst[inst].remove(view)

    def _view_levels(self, view: BookView) -> tuple[list[list[str]], list[list[str]]]:
        bids = sorted(view.bids.items(), reverse=True)
        asks = sorted(view.asks.items())
        return (
            self._levels(view.inst_id, Side.BUY, bids),
            self._levels(view.inst_id, Side.SELL, asks),
        )

    def _checksum(self, bids: list[list[str]], asks: list[list[str]]) -> int:
        if self.options["book_mode"] != "checksum":
            return 0
        value = book_checksum(bids, asks)
        if self.faults.take("corrupt_checksum"):
            value = value + 1 if value < (1 << 31) - 1 else value - 1
        return value

    def _book_snapshot(self, view: BookView) -> bytes:
        """The message a new subscriber of `view` gets first, in the current book mode."""
        bids, asks = self._view_levels(view)
        arg = {"channel": view.channel, "instId": view.inst_id}
        ts = ms(view.ts_ns)
        if not view.incremental:
            return orjson.dumps({"arg": arg, "data": [self._top_item(view, bids, asks, ts)]})
        item = {
            "asks": asks,
            "bids": bids,
            "ts": ts,
            "checksum": self._checksum(bids, asks),
            "prevSeqId": -1,
            "seqId": view.last_seq,
        }
        return orjson.dumps({"arg": arg, "action": "snapshot", "data": [item]})

    @staticmethod
    def _top_item(view: BookView, bids: list, asks: list, ts: str) -> dict[str, Any]:
        if view.channel == "books5":
            return {
                "asks": asks,
                "bids": bids,
                "instId": view.inst_id,
                "ts": ts,
                "seqId": view.last_seq,
            }
        return {"asks": asks, "bids": bids, "ts": ts, "seqId": view.last_seq}

    def _flush_view(self, view: BookView) -> bool:
        """Publish what changed in `view`'s depth since its last message; True if one was sent.
        While books are frozen the view stays dirty and keeps its last sent state."""
        if self.faults.freeze_books:
            return False
        view.dirty = False
        inst = view.inst_id
        bids, asks = self.engine.book(VENUE, inst, view.depth)
        new_bids, new_asks = dict(bids), dict(asks)
        # a full-depth channel (books5, bbo-tbt) resends only when its levels differ
        touched_bids = view.touched_bids if view.incremental else set()
        touched_asks = view.touched_asks if view.incremental else set()
        view.touched_bids, view.touched_asks = set(), set()
        bid_changes = self._diff(view.bids, new_bids, touched_bids, reverse=True)
        ask_changes = self._diff(view.asks, new_asks, touched_asks, reverse=False)
        if not bid_changes and not ask_changes:
            return False
        prev_seq = view.last_seq
        view.bids, view.asks = new_bids, new_asks
        view.last_seq = self._seq[inst]
        view.ts_ns = self._book_ts[inst]
        arg = {"channel": view.channel, "instId": inst}
        ts = ms(view.ts_ns)
        if not view.incremental:
            levels_b, levels_a = self._view_levels(view)
            payload = orjson.dumps(
                {"arg": arg, "data": [self._top_item(view, levels_b, levels_a, ts)]}
            )
        else:
            if self.faults.take("skip_book_sequence"):
                return False
            checksum = 0
            if self.options["book_mode"] == "checksum":
                checksum = self._checksum(*self._view_levels(view))
            item = {
                "asks": self._levels(inst, Side.SELL, ask_changes),
                "bids": self._levels(inst, Side.BUY, bid_changes),
                "ts": ts,
                "checksum": checksum,
                "prevSeqId": prev_seq,
                "seqId": view.last_seq,
            }
            payload = orjson.dumps({"arg": arg, "action": "update", "data": [item]})
        for conn in view.subscribers:
            conn.send(payload)
        return True

    def _keepalive(self, view: BookView) -> None:
        """OKX's keep-alive on a book unchanged for about 60 s: an update with no levels and
        `seqId` equal to `prevSeqId` ("Order book channel", Sequence ID)."""
        if self.faults.freeze_books:
            return
        checksum = 0
        if self.options["book_mode"] == "checksum":
            checksum = self._checksum(*self._view_levels(view))
        item = {
            "asks": [],
            "bids": [],
            "ts": ms(self._now_ns()),
            "checksum": checksum,
            "prevSeqId": view.last_seq,
            "seqId": view.last_seq,
        }
        arg = {"channel": view.channel, "instId": view.inst_id}
        payload = orjson.dumps({"arg": arg, "action": "update", "data": [item]})
        for conn in view.subscribers:
            conn.send(payload)

    @staticmethod
    def _diff(
        old: dict[Decimal, Decimal],
        new: dict[Decimal, Decimal],
        touched: set[Decimal],
        *,
        reverse: bool,
    ) -> list[tuple[Decimal, Decimal]]:
        """Every level that differs between `old` and `new`, plus every touched one at its
        final size (zero when gone): a level that moved and came back, or came and went, between
        two messages is in the update as it would be in OKX's aggregated one."""
        if not touched and old == new:
            return []
        changes = {p: ZERO for p in old if p not in new}
        changes.update((p, q) for p, q in new.items() if old.get(p) != q)
        for price in touched:
            changes.setdefault(price, new.get(price, ZERO))
        return sorted(changes.items(), reverse=reverse)

    async def _flush_loop(self) -> None:
        loop = asyncio.get_running_loop()
        last_book = loop.time()
        while True:
            tbt = any(v.cadence == "tbt" for v in self._views.values())
            book_s = self.options["book_interval_ms"] / 1000
            tick = min(self.options["tbt_interval_ms"] / 1000, book_s) if tbt else book_s
            await asyncio.sleep(tick)
            now = loop.time()
            book_due = now - last_book >= book_s - 1e-4
            if book_due:
                last_book = now
            for ticker in list(self._ticker_pending.values()):
                if now - self._ticker_sent.get(ticker.symbol, -1.0) >= TICKER_INTERVAL_S:
                    self._push_ticker(ticker, now)
            keepalive = self.options["book_keepalive_s"]
            for view in list(self._views.values()):
                try:
                    if view.dirty and (view.cadence == "tbt" or book_due):
                        if self._flush_view(view):
                            view.last_push = now
                    elif view.incremental and not view.dirty and now - view.last_push >= keepalive:
                        self._keepalive(view)
                        view.last_push = now
                except Exception:
                    logger.exception("OKX face failed to publish %s %s", view.channel, view.inst_id)
