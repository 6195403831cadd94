"""Deribit book channels `book.{instrument}.{interval}` and grouped books: change ids, raw and
100 ms publication ("book.{instrument_name}.{interval}").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from exchanges.simulator.deribit.constants import VENUE, ZERO
from exchanges.simulator.deribit.session import Channel, DeribitConnection
from exchanges.simulator.deribit.wire import dumps, ms, notification
from exchanges.venues.base import InstrumentInfo, Venue


@dataclass
class BookFeed:
    """The face's copy of one instrument's book and its `change_id` sequence."""

    symbol: str
    change_id: int
    bids: dict[Decimal, Decimal]
    asks: dict[Decimal, Decimal]
    raw_subs: set[DeribitConnection] = field(default_factory=set)
    # 100ms view: the levels as last published, the changes since and the last id published.
    published_bids: dict[Decimal, Decimal] = field(default_factory=dict)
    published_asks: dict[Decimal, Decimal] = field(default_factory=dict)
    pending_bids: dict[Decimal, Decimal] = field(default_factory=dict)
    pending_asks: dict[Decimal, Decimal] = field(default_factory=dict)
    published_change_id: int = 0
    skipped_since_publish: int | None = None
    last_ts_ms: int = 0


def _level_changes(
    levels: dict[Decimal, Decimal], changes: list[tuple[Decimal, Decimal]] | dict
) -> list[list]:
    """Apply (price, size) changes to `levels`; Deribit `[action, price, amount]` entries."""
    entries: list[list] = []
    items = changes.items() if isinstance(changes, dict) else changes
    for price, size in items:
        before = levels.get(price)
        if size == 0:
            if before is None:
                continue
            del levels[price]
            entries.append(["delete", price, ZERO])
        elif before is None:
            levels[price] = size
            entries.append(["new", price, size])
        elif before != size:
            levels[price] = size
            entries.append(["change", price, size])
    return entries


def _sorted_levels(levels: dict[Decimal, Decimal], descending: bool) -> list[tuple]:
    return sorted(levels.items(), key=lambda item: item[0], reverse=descending)


def _grouped_levels(
    levels: dict[Decimal, Decimal], group: str, depth: int, descending: bool, info: InstrumentInfo
) -> list[tuple[Decimal, Decimal]]:
    """Levels of `book.{instrument}.{group}.{depth}.{interval}`: prices rounded to `group`
    (down for bids, up for asks), sizes summed, best `depth` levels."""
    if group == "none":
        return _sorted_levels(levels, descending)[:depth]
    step = Decimal(group)
    merged: dict[Decimal, Decimal] = {}
    rounding = ROUND_FLOOR if descending else ROUND_CEILING
    for price, size in levels.items():
        bucket = (price / step).to_integral_value(rounding) * step
        merged[bucket] = merged.get(bucket, ZERO) + size
    return _sorted_levels(merged, descending)[:depth]


class DeribitBooks:
    """Publishes the Deribit book channels."""

    def _feed(self, symbol: str) -> BookFeed:
        feed = self._feeds.get(symbol)
        if feed is None:
            bids, asks = self.engine.book(VENUE, symbol)
            base = 130_000_000_000 + next(self._change_base) * 1_000_000_000
            feed = BookFeed(symbol=symbol, change_id=base, bids=dict(bids), asks=dict(asks))
            feed.published_bids = dict(feed.bids)
            feed.published_asks = dict(feed.asks)
            feed.published_change_id = base
            feed.last_ts_ms = ms(self.engine.clock_ns())
            self._feeds[symbol] = feed
        return feed

    def _snapshot_message(
        self,
        channel: str,
        feed: BookFeed,
        bids: dict[Decimal, Decimal],
        asks: dict[Decimal, Decimal],
        change_id: int | None = None,
    ) -> bytes:
        return dumps(
            {
                "jsonrpc": "2.0",
                "method": "subscription",
                "params": {
                    "channel": channel,
                    "data": {
                        "type": "snapshot",
                        "instrument_name": feed.symbol,
                        "timestamp": feed.last_ts_ms,
                        "change_id": feed.change_id if change_id is None else change_id,
                        "prev_change_id": None,
                        "bids": [["new", p, s] for p, s in _sorted_levels(bids, True)],
                        "asks": [["new", p, s] for p, s in _sorted_levels(asks, False)],
                    },
                },
            }
        )

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
        feed = self._feeds.get(symbol)
        if feed is None:
            return
        bids = _level_changes(feed.bids, bid_changes)
        asks = _level_changes(feed.asks, ask_changes)
        if not bids and not asks:
            return
        for price, size in bid_changes:
            feed.pending_bids[price] = size
        for price, size in ask_changes:
            feed.pending_asks[price] = size
        feed.last_ts_ms = ms(ts_ns)
        prev = feed.change_id
        if self.faults.skip_book_sequence and self.faults.take("skip_book_sequence"):
            prev = feed.change_id + 1  # a change the subscribers never receive
            feed.skipped_since_publish = prev
        feed.change_id = prev + 1
        if not feed.raw_subs or self.faults.freeze_books:
            return  # frozen: raw subscribers see a change_id gap when the feed resumes
        head = {
            "type": "change",
            "instrument_name": symbol,
            "timestamp": feed.last_ts_ms,
            "change_id": feed.change_id,
            "prev_change_id": prev,
            "bids": bids,
            "asks": asks,
        }
        payload = notification(f"book.{symbol}.raw", head)
        for conn in feed.raw_subs:
            conn.send(payload)

    def _publish_books(self) -> None:
        """The `100ms` book channels: snapshot to new subscribers, aggregated change to the rest.
        While books are frozen nothing is sent and the changes accumulate for the next one."""
        if self.faults.freeze_books:
            return
        wanted: dict[str, list[tuple[DeribitConnection, str]]] = {}
        for conn in self._conns.values():
            for name, channel in conn.channels.items():
                if channel.family in ("book", "book_grouped") and channel.interval != "raw":
                    wanted.setdefault(channel.instrument, []).append((conn, name))
        for symbol, subscribers in wanted.items():
            feed = self._feed(symbol)
            bids = _level_changes(feed.published_bids, feed.pending_bids)
            asks = _level_changes(feed.published_asks, feed.pending_asks)
            feed.pending_bids.clear()
            feed.pending_asks.clear()
            prev = feed.published_change_id
            if feed.skipped_since_publish is not None:
                prev = feed.skipped_since_publish
                feed.skipped_since_publish = None
            changed = bool(bids or asks)
            if changed:
                feed.published_change_id = feed.change_id
            change = None
            if changed:
                change = {
                    "type": "change",
                    "instrument_name": symbol,
                    "timestamp": feed.last_ts_ms,
                    "change_id": feed.published_change_id,
                    "prev_change_id": prev,
                    "bids": bids,
                    "asks": asks,
                }
            for conn, name in subscribers:
                channel = conn.channels[name]
                if channel.family == "book_grouped":
                    self._publish_grouped(conn, channel, feed)
                elif name in conn.book_pending:
                    conn.book_pending.discard(name)
                    conn.send(
                        self._snapshot_message(
                            name,
                            feed,
                            feed.published_bids,
                            feed.published_asks,
                            feed.published_change_id,
                        )
                    )
                elif change is not None:
                    conn.send(notification(name, change))

    def _publish_grouped(self, conn: DeribitConnection, channel: Channel, feed: BookFeed) -> None:
        info = self.instruments[feed.symbol]
        bids = _grouped_levels(feed.published_bids, channel.group, channel.depth, True, info)
        asks = _grouped_levels(feed.published_asks, channel.group, channel.depth, False, info)
        key = (conn.id, channel.name)
        top = (tuple(bids), tuple(asks))
        last = self._grouped.setdefault(feed.symbol, {})
        if last.get(key) == top:
            return
        last[key] = top
        conn.send(
            notification(
                channel.name,
                {
                    "timestamp": feed.last_ts_ms,
                    "instrument_name": feed.symbol,
                    "change_id": feed.published_change_id,
                    "bids": [[p, s] for p, s in bids],
                    "asks": [[p, s] for p, s in asks],
                },
            )
        )
