"""What the Deribit face keeps per WebSocket connection (`DeribitConnection`) and per
subscribed channel (`Channel`, a parsed channel name)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from exchanges.simulator.common.ws import Connection
from exchanges.simulator.deribit.wire import instrument_kind
from exchanges.venues.base import InstrumentInfo


@dataclass
class Channel:
    """A parsed channel name."""

    name: str
    family: str  # book, book_grouped, ticker, trades, user.orders, user.trades, user.changes, user.portfolio
    interval: str = "raw"  # raw | 100ms | agg2
    instrument: str | None = None
    kind: str | None = None  # future | option | any (by-kind channels)
    currency: str | None = None  # BTC | ETH | any
    group: str = "none"
    depth: int = 0

    @property
    def private(self) -> bool:
        return self.family.startswith("user.")

    def matches(self, info: InstrumentInfo) -> bool:
        if self.instrument is not None:
            return info.venue_symbol == self.instrument
        if self.kind not in (None, "any") and instrument_kind(info) != self.kind:
            return False
        return self.currency in (None, "any") or info.base == self.currency


@dataclass(eq=False)
class DeribitConnection(Connection):
    """One Deribit WebSocket connection and everything the face keeps for it."""

    id: int = 0
    remote: str = ""
    api_key: str | None = None
    scope: str = ""
    channels: dict[str, Channel] = field(default_factory=dict)
    book_pending: set[str] = field(default_factory=set)  # 100ms book channels awaiting snapshot
    heartbeat: asyncio.Task | None = None
    heartbeat_unanswered: bool = False
    cancel_on_disconnect: bool = False
    orders_placed: set[str] = field(default_factory=set)
    last_seen: float = 0.0
    logged_out: bool = False
    private_raw: dict[str, list] = field(default_factory=dict)  # channel -> items, flushed soon
    private_batched: dict[str, list] = field(default_factory=dict)  # channel -> items, 100ms
