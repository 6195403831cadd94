"""Market data persistence: public trades, 1-minute candles built from them, top-of-book
snapshots, and their retention. (Being written: signatures fixed, bodies follow.)"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class TradeRow:
    """One public trade as stored: `side` is the taker's side (`buy`/`sell`)."""

    instrument_id: int
    trade_id: str
    price: Decimal
    quantity: Decimal
    side: str
    traded_at: datetime


@dataclass(frozen=True, slots=True)
class TopOfBookRow:
    instrument_id: int
    best_bid: Decimal | None
    best_bid_size: Decimal | None
    best_ask: Decimal | None
    best_ask_size: Decimal | None
    taken_at: datetime


def write_trades(rows: Sequence[TradeRow]) -> int:
    """Store `rows` in one batch, skipping trades already stored (same instrument and trade
    id), and bring the 1-minute candles of the minutes they fall in up to date. Returns how
    many trades were new. Synchronous: the connectors call it from a worker thread."""
    raise NotImplementedError


def write_top_of_book(rows: Sequence[TopOfBookRow]) -> int:
    """Store top-of-book samples in one batch; returns how many were written."""
    raise NotImplementedError
