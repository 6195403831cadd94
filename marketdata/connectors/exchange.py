"""One exchange's public stream: subscribe what is wanted, keep the live books, publish, and
watch the books (stale, drift: `watch.py`).

`run()` is one life of the stream: it opens the stream (the venue adapter reconnects and
resubscribes by itself), reads its events until `stop()`, and raises when something breaks;
the service's supervisor then starts another life after a backoff. Book rules are in
`books.py`; what is published is `marketdata.feed`'s shapes; trades and top-of-book samples
go to the `Persister`.

After each (re)connect and each new trade subscription the recent trades are fetched over REST
(`recent_trades`, where the adapter has it) and stored with the streamed ones: storage keeps
each trade once, so a restart or a dropped socket loses none.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from exchanges.venues.base import (
    BookDelta,
    BookSnapshot,
    StreamState,
    StreamStatus,
    Ticker,
    Trade,
    Venue,
)
from exchanges.venues.protocols import PublicStream, RestClient
from exchanges.venues.registry import get_adapter
from marketdata import feed, metrics
from marketdata.connectors import books as B
from marketdata.connectors.config import WantedExchange, WantedInstrument, diff
from marketdata.connectors.health import StreamHealth
from marketdata.connectors.lifecycle import StreamLife
from marketdata.connectors.persist import Persister
from marketdata.connectors.watch import BookWatch
from marketdata.storage import TopOfBookRow

log = logging.getLogger(__name__)

PUBLIC = "public"
RECENT_TRADES = 100


@dataclass(frozen=True, slots=True)
class Timing:
    """The connector's clocks, in seconds (settings, or short ones in tests)."""

    stale: float = 10.0
    drift: float = 60.0


def make_rest(wanted: WantedExchange) -> RestClient:
    """The exchange's REST client (its rate budget) with the subscribed instruments in its
    symbol table, which the stream shares."""
    from exchanges.clients import rest_client

    client = rest_client(exchange=wanted.exchange)
    client.symbols.add_all(w.info for w in wanted.instruments.values())
    return client


def open_stream(wanted: WantedExchange, rest: RestClient) -> PublicStream:
    """The venue's public stream over the REST client's symbol table. OKX's stream takes the
    REST client itself: it fetches book snapshots over REST when the socket sends none."""
    options: dict[str, Any] = {"symbols": rest.symbols}
    if wanted.venue is Venue.OKX:
        options = {"rest": rest}
    return get_adapter(wanted.venue).public_stream(wanted.endpoints, **options)


class ExchangeConnector(StreamLife, BookWatch):
    def __init__(
        self,
        wanted: WantedExchange,
        *,
        publisher: feed.FeedPublisher,
        persister: Persister,
        timing: Timing = Timing(),
        stream_factory: Callable[[WantedExchange, RestClient], PublicStream] = open_stream,
        rest_factory: Callable[[WantedExchange], RestClient] = make_rest,
    ) -> None:
        self.wanted = wanted
        self.publisher = publisher
        self.persister = persister
        self.timing = timing
        self.stream_factory = stream_factory
        self.rest_factory = rest_factory
        self.health = StreamHealth()
        self.books: dict[str, B.LiveBook] = {}
        self.tickers: dict[str, Ticker] = {}
        self._changed: dict[str, None] = {}  # books changed since the last publish, in order
        self.stream: PublicStream | None = None
        self.rest: RestClient | None = None
        self.connected = False
        self._connections = 0
        self._stopping = False
        self.stopped = asyncio.Event()  # set by stop(): ends the supervisor's backoff too
        self._closed = False
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task] = set()
        self._loop = asyncio.get_running_loop()
        self._lag_metric = metrics.STREAM_LAG.labels(wanted.slug)

    @property
    def slug(self) -> str:
        return self.wanted.slug

    @property
    def venue(self) -> Venue:
        return self.wanted.venue

    def now(self) -> float:
        return self._loop.time()

    # ------------------------------------------------------------------ lifecycle

    async def run(self) -> None:
        """One life of the stream, until `stop()` (returns) or a failure (raises)."""
        self.health.started_at = datetime.now(UTC)
        self.rest = await asyncio.to_thread(self.rest_factory, self.wanted)
        self._closed = False
        self._connections = 0  # a new life's first connection is no reconnect of its own
        try:
            if self._stopping:
                return
            self.stream = self.stream_factory(self.wanted, self.rest)
            self._spawn(self._watch_stale())
            self._spawn(self._watch_drift())
            async with self._lock:
                await self._subscribe(self.wanted.instruments.values())
            async for event in self.stream.events():
                self.on_event(event)
            if not self._stopping:
                raise ConnectionError(f"{self.slug} public stream ended by itself")
        finally:
            for task in list(self._tasks):  # watchers, resubscribes, backfills of this life
                task.cancel()
            await self._close_stream()
            self.stream = None
            if self._stopping:  # not a rebuild: the books are no longer kept at all
                self._set_down(StreamState.STOPPED, count=False)
            else:
                self._set_down(StreamState.DISCONNECTED)
            rest, self.rest = self.rest, None
            await asyncio.to_thread(rest.close)

    async def apply(self, wanted: WantedExchange) -> None:
        """Go over to a new desired state of the same stream (`WantedExchange.same_stream`)."""
        changes = diff(self.wanted.instruments, wanted.instruments)
        self.wanted = wanted
        if not changes or self.stream is None:
            return  # a stream not open yet subscribes the new state when it opens
        async with self._lock:
            if changes.unsubscribe:
                await self.stream.unsubscribe([self._name(w) for w in changes.unsubscribe])
                for w in changes.unsubscribe:
                    if self.books.pop(w.symbol, None) is not None:
                        self._withdraw(w.symbol)
                    self.tickers.pop(w.symbol, None)
            await self._subscribe(changes.subscribe)
        for w in changes.update:
            book = self.books.get(w.symbol)
            if book is not None:
                book.depth = w.book_depth
        log.info(
            "%s: %d subscribed, %d unsubscribed, %d updated",
            self.slug,
            len(changes.subscribe),
            len(changes.unsubscribe),
            len(changes.update),
        )

    def _name(self, wanted: WantedInstrument) -> str:
        """The name the stream and REST client take for the instrument (Bybit: `linear:X`)."""
        return self.rest.symbols.venue(wanted.symbol)

    async def _subscribe(self, wanted: Iterable[WantedInstrument]) -> None:
        wanted = list(wanted)
        if not wanted:
            return
        self.rest.symbols.add_all(w.info for w in wanted)
        groups: dict[tuple, list[WantedInstrument]] = {}
        for w in wanted:
            groups.setdefault(tuple(w.channels.items()), []).append(w)
            if w.books:
                self.books[w.symbol] = B.LiveBook(w.symbol, depth=w.book_depth, now=self.now())
        for channels, group in groups.items():
            await self.stream.subscribe([self._name(w) for w in group], **dict(channels))
        self._backfill([w for w in wanted if w.trades])

    def _spawn(self, coroutine) -> asyncio.Task:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ------------------------------------------------------------------ events

    def on_event(self, event: Any) -> None:
        kind = type(event)
        if kind is StreamStatus:
            self.on_status(event)
            return
        health = self.health
        health.messages += 1
        health.last_message_at = datetime.now(UTC)
        wanted = self.wanted.instruments.get(event.symbol)
        if wanted is None:
            return  # still on the wire after an unsubscribe
        if event.exchange_ts:
            lag = max(0, event.receive_ts - event.exchange_ts)
            health.lag.add(lag)
            self._lag_metric.observe(lag / 1e9)
        if kind is BookSnapshot or kind is BookDelta:
            self._on_book(event)
        elif kind is Trade:
            self.persister.add_trade(wanted.instrument_id, event)
            self.publisher.publish(
                feed.trades_channel(self.venue, event.symbol),
                feed.trades_data(self.venue, event.symbol, [event]),
            )
        elif kind is Ticker:
            self.tickers[event.symbol] = event
            self.publisher.publish(
                feed.ticker_channel(self.venue, event.symbol), feed.ticker_data(event)
            )

    def _on_book(self, event: BookSnapshot | BookDelta) -> None:
        book = self.books.get(event.symbol)
        if book is None:
            return
        applied = book.apply(event, self.now())
        if applied:
            if not self._changed:
                self._loop.call_soon(self._publish_books)
            self._changed[event.symbol] = None
        elif applied is False:
            log.warning("%s %s: crossed book after %s", self.slug, event.symbol, kind_of(event))
            self._count_rebuild(B.CROSSED)
            self._withdraw(event.symbol)
            self.resubscribe(event.symbol)

    def _publish_books(self) -> None:
        """Publish every book changed since the last call, as it is now. Called once the
        events read in one go (the stream hands over whatever arrived together) are applied:
        a book that took one event is published after it, one that took a burst once, after
        the last (the feed carries states, not every step, and never a state already
        replaced). A book found invalid in the meantime is not published."""
        changed, self._changed = self._changed, {}
        for symbol in changed:
            book = self.books.get(symbol)
            if book is None or not book.valid:
                continue
            bids, asks = book.top()
            self.publisher.publish(
                feed.book_channel(self.venue, symbol),
                feed.book_data(
                    self.venue,
                    symbol,
                    bids,
                    asks,
                    sequence=book.book.sequence,
                    exchange_ts=book.exchange_ts,
                    receive_ts=book.receive_ts,
                ),
            )

    def on_status(self, status: StreamStatus) -> None:
        health = self.health
        if status.state is StreamState.RESYNCING:
            book = self.books.get(status.symbol)
            if book is not None:
                self._invalidate(book, B.resync_reason(status.detail))
            return  # the adapter resubscribes that book itself
        if status.state in (StreamState.CONNECTED, StreamState.SUBSCRIBED):
            if not self.connected:
                self._connections += 1
                if self._connections > 1:
                    health.reconnects += 1
                    self._backfill([w for w in self.wanted.instruments.values() if w.trades])
                now = self.now()
                for book in self.books.values():
                    if not book.valid:
                        book.waiting(now)  # the snapshots of the new connection are on the way
            self.connected = True
            if status.state is StreamState.CONNECTED:  # "subscribed" is news of a channel
                health.state, health.detail = status.state, status.detail
            metrics.STREAM_UP.labels(self.slug, PUBLIC).set(1)
        elif status.state is StreamState.DISCONNECTED:
            self._set_down(status.state, status.detail)
        elif status.state is StreamState.CONNECTING and not self.connected:
            health.state, health.detail = status.state, status.detail

    def _set_down(self, state: StreamState, detail: str = "", *, count: bool = True) -> None:
        """A socket is down: every book is invalid until its snapshot after the reconnect.
        (Bybit runs a socket per category and a status does not say which one dropped: the
        books of the sockets still up are resubscribed by the stale watch.)"""
        self.connected = False
        self.health.state, self.health.detail = state, detail
        metrics.STREAM_UP.labels(self.slug, PUBLIC).set(0)
        now = self.now()
        for book in self.books.values():
            if count:
                self._invalidate(book, B.DISCONNECT, now)
            elif book.invalidate(now):
                self._withdraw(book.symbol)

    def _invalidate(self, book: B.LiveBook, reason: str, now: float | None = None) -> bool:
        """Drop a book until its next snapshot; a book that was valid is counted as rebuilt
        for `reason` and its published state withdrawn. True if it was valid."""
        if not book.invalidate(self.now() if now is None else now):
            return False
        self._count_rebuild(reason)
        self._withdraw(book.symbol)
        return True

    def _withdraw(self, symbol: str) -> None:
        self.publisher.withdraw(feed.book_channel(self.venue, symbol))

    def _count_rebuild(self, reason: str) -> None:
        self.health.rebuilds[reason] += 1
        metrics.BOOK_REBUILDS.labels(self.slug, reason).inc()

    def resubscribe(self, symbol: str) -> None:
        """Unsubscribe and subscribe `symbol` again, for a fresh book snapshot."""
        book = self.books.get(symbol)
        if book is not None:
            book.waiting(self.now())
        self._spawn(self._resubscribe(symbol))

    async def _resubscribe(self, symbol: str) -> None:
        async with self._lock:
            wanted = self.wanted.instruments.get(symbol)
            if wanted is None or self.stream is None:
                return
            name = self._name(wanted)
            await self.stream.unsubscribe([name])
            await self.stream.subscribe([name], **wanted.channels)

    # ------------------------------------------------------------------ trades, samples

    def _backfill(self, wanted: list[WantedInstrument]) -> None:
        fetch = getattr(self.rest, "recent_trades", None)
        if fetch is None or not wanted:
            return  # an adapter without `recent_trades`: nothing to backfill from
        self._spawn(self._fetch_trades(fetch, wanted))

    async def _fetch_trades(self, fetch: Callable, wanted: list[WantedInstrument]) -> None:
        for w in wanted:
            try:
                trades = await asyncio.to_thread(fetch, self._name(w), RECENT_TRADES)
            except Exception:
                log.exception("%s %s: recent trades backfill failed", self.slug, w.symbol)
                continue
            for trade in trades:
                self.persister.add_trade(w.instrument_id, trade)

    def top_of_book(self) -> list[TopOfBookRow]:
        """A sample of every subscribed instrument's best bid and ask: its valid book's, or
        else its latest ticker's; instruments with neither are left out."""
        rows = []
        taken_at = datetime.now(UTC)  # the sample's time, as the row's `taken_at` says
        for symbol, wanted in self.wanted.instruments.items():
            book = self.books.get(symbol)
            if book is not None and book.valid:
                bid, ask = book.book.best_bid(), book.book.best_ask()
                rows.append(
                    TopOfBookRow(
                        wanted.instrument_id,
                        bid[0] if bid else None,
                        bid[1] if bid else None,
                        ask[0] if ask else None,
                        ask[1] if ask else None,
                        taken_at,
                    )
                )
            elif (ticker := self.tickers.get(symbol)) is not None:
                rows.append(
                    TopOfBookRow(
                        wanted.instrument_id,
                        ticker.best_bid,
                        ticker.best_bid_size,
                        ticker.best_ask,
                        ticker.best_ask_size,
                        taken_at,
                    )
                )
        return rows

    @property
    def books_invalid(self) -> int:
        return sum(1 for book in self.books.values() if not book.valid)


def kind_of(event: Any) -> str:
    return type(event).__name__
