"""Watching an exchange's live books: a book with no book event for `Timing.stale` seconds
while its stream is up is rebuilt (the feed that silently stops), and every `Timing.drift`
seconds each valid book is compared with the venue's REST book at the same sequence
(`books.drift_verdict`); a mismatch rebuilds it. `ExchangeConnector` runs both as tasks of
each stream life."""

from __future__ import annotations

import asyncio
import logging

from exchanges.venues.registry import get_adapter
from marketdata.connectors import books as B

log = logging.getLogger(__name__)

DRIFT_REST_DEPTH = 50
DRIFT_CATCH_UP_SECONDS = 2.0


class BookWatch:
    """The watching half of `ExchangeConnector` (it provides `books`, `wanted`, `rest`,
    `timing`, `health`, `connected`, `now`, `_name`, `_invalidate`, `resubscribe`)."""

    async def _watch_stale(self) -> None:
        """Rebuild a book with no book event for `stale` seconds while the stream is up."""
        tick = max(0.05, min(1.0, self.timing.stale / 4))
        while True:
            await asyncio.sleep(tick)
            if not self.connected:
                continue  # the reconnect resubscribes every book
            now = self.now()
            for symbol, book in list(self.books.items()):
                if B.is_stale(book, now, self.timing.stale):
                    if self._invalidate(book, B.STALE, now):
                        log.warning(
                            "%s %s: no book event for %.1fs", self.slug, symbol, self.timing.stale
                        )
                    self.resubscribe(symbol)

    async def _watch_drift(self) -> None:
        while True:
            await asyncio.sleep(self.timing.drift)
            for symbol in list(self.books):
                try:
                    await self.check_drift(symbol)
                except Exception:  # a REST error: the next round tries again
                    self.health.drift_skipped += 1
                    log.exception("%s %s: drift check failed", self.slug, symbol)

    async def check_drift(self, symbol: str) -> B.Drift | None:
        """Compare the live book of `symbol` with a REST snapshot at the same sequence; on a
        mismatch rebuild it. None: the book is not valid, nothing to compare."""
        book, wanted = self.books.get(symbol), self.wanted.instruments.get(symbol)
        if book is None or wanted is None or not book.valid:
            return None
        if not get_adapter(self.venue).rest_book_shares_stream_sequence:
            self.health.drift_skipped += 1
            return B.Drift.NO_SEQUENCE
        snapshot = await asyncio.to_thread(
            self.rest.order_book, self._name(wanted), DRIFT_REST_DEPTH
        )
        deadline = self.now() + DRIFT_CATCH_UP_SECONDS
        while book.valid and (book.book.sequence or 0) < snapshot.sequence:
            if self.now() >= deadline:
                break
            await asyncio.sleep(0.02)  # the stream's updates trail the REST answer a little
        if not book.valid:
            return None
        verdict = B.drift_verdict(
            book.at_sequence(snapshot.sequence), snapshot.bids, snapshot.asks, book.drift_depth
        )
        if verdict is B.Drift.NO_SEQUENCE:
            self.health.drift_skipped += 1
        elif verdict is B.Drift.MISMATCH:
            log.warning("%s %s: book differs from REST at %s", self.slug, symbol, snapshot.sequence)
            self._invalidate(book, B.DRIFT)
            self.resubscribe(symbol)
        return verdict
