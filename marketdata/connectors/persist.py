"""Public trades and top-of-book samples into the database, in batches, off the event loop.

The connectors add rows as events arrive; `run` writes the trades every `trade_seconds` and
takes a top-of-book sample of every subscribed instrument every `top_seconds`
(`MARKETDATA_TOP_OF_BOOK_SECONDS`), each batch in one call of `marketdata.storage` in a worker
thread. Storage skips trades it already has, so a trade seen twice (the live stream and the
backfill after a reconnect) is stored once. A batch that fails is kept and retried with the
next, up to `max_pending` rows; beyond that the oldest are dropped and counted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from django.db import close_old_connections

from exchanges.venues.base import Trade
from marketdata import metrics, storage
from marketdata.storage import TopOfBookRow, TradeRow

log = logging.getLogger(__name__)

MAX_PENDING = 100_000


def moment(ns: int) -> datetime:
    """Nanoseconds since the epoch -> aware UTC datetime (microseconds)."""
    seconds, nanos = divmod(ns, 1_000_000_000)
    return datetime.fromtimestamp(seconds, tz=UTC).replace(microsecond=nanos // 1_000)


def trade_row(instrument_id: int, trade: Trade) -> TradeRow:
    return TradeRow(
        instrument_id=instrument_id,
        trade_id=trade.trade_id,
        price=trade.price,
        quantity=trade.quantity,
        side=str(trade.side),
        traded_at=moment(trade.exchange_ts or trade.receive_ts),
    )


_DB_THREAD: ThreadPoolExecutor | None = None


def db_executor() -> ThreadPoolExecutor:
    """The one thread the service's database calls run in: one connection, writes in the
    order they were made, and no two of them contending for SQLite's write lock."""
    global _DB_THREAD
    if _DB_THREAD is None:
        _DB_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="marketdata-db")
    return _DB_THREAD


async def in_thread(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a synchronous database call in the database thread (`db_executor`), with the
    connection hygiene Django's request cycle would give it (a broken or expired connection
    is replaced)."""

    def call() -> Any:
        close_old_connections()
        try:
            return fn(*args, **kwargs)
        finally:
            close_old_connections()

    return await asyncio.get_running_loop().run_in_executor(db_executor(), call)


class Persister:
    """The pending trades and samples of every connector of one service."""

    def __init__(
        self,
        *,
        trade_seconds: float = 1.0,
        top_seconds: float = 5.0,
        write_trades: Callable[[Sequence[TradeRow]], int] | None = None,
        write_top_of_book: Callable[[Sequence[TopOfBookRow]], int] | None = None,
        max_pending: int = MAX_PENDING,
    ) -> None:
        self.trade_seconds = trade_seconds
        self.top_seconds = top_seconds
        self._write_trades = write_trades or storage.write_trades
        self._write_top = write_top_of_book or storage.write_top_of_book
        self.max_pending = max_pending
        self.trades: list[TradeRow] = []
        self.tops: list[TopOfBookRow] = []
        self.trades_written = 0  # new trades storage reported
        self.tops_written = 0
        self.dropped = 0
        self.errors = 0

    def add_trade(self, instrument_id: int, trade: Trade) -> None:
        self.trades.append(trade_row(instrument_id, trade))
        self._bound(self.trades)

    def add_tops(self, rows: Sequence[TopOfBookRow]) -> None:
        self.tops.extend(rows)
        self._bound(self.tops)

    def _bound(self, rows: list) -> None:
        excess = len(rows) - self.max_pending
        if excess > 0:
            del rows[:excess]
            self.dropped += excess
            log.warning("market data writes behind: %d rows dropped", excess)

    async def flush_trades(self) -> int:
        rows, self.trades = self.trades, []
        if not rows:
            return 0
        try:
            written = await in_thread(self._write_trades, rows)
        except Exception:  # the database is away: keep the rows for the next batch
            self.errors += 1
            log.exception("could not write %d trades; retrying with the next batch", len(rows))
            self.trades[:0] = rows
            self._bound(self.trades)
            return 0
        self.trades_written += written
        metrics.TRADES_STORED.inc(written)
        return written

    async def flush_tops(self) -> int:
        rows, self.tops = self.tops, []
        if not rows:
            return 0
        try:
            written = await in_thread(self._write_top, rows)
        except Exception:
            self.errors += 1
            log.exception("could not write %d top-of-book samples; retrying", len(rows))
            self.tops[:0] = rows
            self._bound(self.tops)
            return 0
        self.tops_written += written
        return written

    async def run(self, sample: Callable[[], list[TopOfBookRow]]) -> None:
        """Write batches until cancelled; `sample()` gives the top-of-book rows of now."""
        loop = asyncio.get_running_loop()
        next_trades = loop.time() + self.trade_seconds
        next_top = loop.time() + self.top_seconds
        while True:
            await asyncio.sleep(max(0.0, min(next_trades, next_top) - loop.time()))
            now = loop.time()
            if now >= next_trades:
                next_trades = now + self.trade_seconds
                await self.flush_trades()
            if now >= next_top:
                next_top = now + self.top_seconds
                self.add_tops(sample())
                await self.flush_tops()

    async def flush(self) -> None:
        """Write everything pending now (at shutdown)."""
        await self.flush_trades()
        await self.flush_tops()
