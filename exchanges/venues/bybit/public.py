"""Bybit v5 public WebSocket: the sans-IO `BybitPublicSession` (driven by `ws.WsClient`) and the
`BybitPublicStream` wrapper (one connection per category, merged into one event queue), plus
the subscribe batching both sessions use (`batches`; the private side is in `private.py`).

Public (`{public_ws_url}/{category}`, one connection per category): topics
`orderbook.{depth}.{symbol}`, `publicTrade.{symbol}`, `tickers.{symbol}`; subscribe requests carry
at most 10 args (the spot limit); `{"op":"ping"}` every 20 s. Books ("Orderbook", WebSocket
public): the first push is a `snapshot` (reset the book, also when `u` = 1 after a service
restart), then `delta`s whose update id `u` follows the previous one by exactly 1; depth-1
streams only send snapshots (re-sent with the same `u` after 3 s without change). A delta that
does not continue the chain, or arrives with no book, is a gap: the book is dropped, the topic is
unsubscribed and subscribed again (Bybit answers with a fresh snapshot), and a
`StreamStatus(RESYNCING)` is emitted; deltas still in flight for that topic are ignored until the
snapshot, so a wrong book is never emitted. Linear/inverse `tickers` send a snapshot and then
deltas with only the changed fields, merged here into the last full ticker.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import replace
from typing import Any

from exchanges.venues.base import (
    BookDelta,
    BookSnapshot,
    Endpoints,
    Event,
    ProtocolError,
    StreamKind,
    StreamState,
    StreamStatus,
    Venue,
    now_ns,
)
from exchanges.venues.book import (
    BookResyncs,
    BookStats,
    OrderBook,
    apply_wire_side,
    decode_wire_levels,
)
from exchanges.venues.bybit import constants as C
from exchanges.venues.bybit import parse
from exchanges.venues.bybit.parse import loads
from exchanges.venues.bybit.symbols import SymbolError, SymbolTable
from exchanges.venues.numbers import NS_PER_MS, DecimalCache
from exchanges.venues.ws import (
    DEFAULT_MAX_QUEUE,
    Backoff,
    EventQueue,
    Link,
    WsClient,
)

BYBIT = Venue.BYBIT
_time_ns = time.time_ns


def batches(op: str, topics: list[str], req_ids: Iterable[int]) -> list[dict]:
    size = C.WS_SUBSCRIBE_BATCH
    return [
        {"op": op, "args": topics[i : i + size], "req_id": f"{op}-{n}"}
        for i, n in zip(range(0, len(topics), size), req_ids, strict=False)
    ]


class BybitPublicSession:
    """Books, trades and tickers of one Bybit category on one connection (sans IO)."""

    def __init__(
        self,
        category: str,
        venue_symbols: Iterable[str] = (),
        *,
        depth: int | None = None,
        books: bool = True,
        trades: bool = True,
        tickers: bool = True,
        symbols: SymbolTable | None = None,
        ping_interval: float = C.WS_PING_INTERVAL,
        idle_timeout: float = C.WS_IDLE_TIMEOUT,
    ) -> None:
        if category not in C.WS_BOOK_DEPTHS:
            raise ValueError(f"unknown Bybit category {category!r}")
        depth = depth or C.WS_DEFAULT_DEPTH[category]
        if depth not in C.WS_BOOK_DEPTHS[category]:
            raise ValueError(f"Bybit {category} books come in depths {C.WS_BOOK_DEPTHS[category]}")
        self.category = category
        self.depth = depth
        self.symbols = symbols if symbols is not None else SymbolTable()
        self.ping_interval = ping_interval
        self.idle_timeout = idle_timeout
        self.stats = BookStats()
        self.books: dict[str, OrderBook] = {}
        self.topics: dict[str, None] = {}  # the subscription set, in order
        self._resyncs = BookResyncs(BYBIT, self.stats)
        self._resyncing = self._resyncs.pending  # the same set: one lookup on the hot path
        self._tickers: dict[str, dict] = {}
        self._unified: dict[str, str] = {}
        self._prices = DecimalCache()
        self._req_ids = itertools.count(1)
        self._book_prefix = f"orderbook.{depth}."
        self._book_symbols: set[str] = set()
        # unsubscribe requests not answered yet: once 0, nothing of what they removed follows
        self.unsubscribing = 0
        self.add(venue_symbols, books=books, trades=trades, tickers=tickers)

    # ------------------------------------------------------------------ subscription set

    def topics_of(
        self, symbol: str, *, books: bool = True, trades: bool = True, tickers: bool = True
    ) -> list[str]:
        topics = []
        if books:
            topics.append(f"{self._book_prefix}{symbol}")
        if trades:
            topics.append(f"publicTrade.{symbol}")
        if tickers:
            topics.append(f"tickers.{symbol}")
        return topics

    def add(self, venue_symbols: Iterable[str], **channels: bool) -> list[str]:
        """Add symbols to the subscription set; returns the topics that are new."""
        new = []
        for symbol in venue_symbols:
            if channels.get("books", True):
                self._book_symbols.add(symbol)
            for topic in self.topics_of(symbol, **channels):
                if topic not in self.topics:
                    self.topics[topic] = None
                    new.append(topic)
        return new

    def remove(self, venue_symbols: Iterable[str]) -> list[str]:
        """Drop symbols (every channel) from the set; returns the topics removed."""
        gone = []
        for symbol in venue_symbols:
            for topic in self.topics_of(symbol):
                if topic in self.topics:
                    del self.topics[topic]
                    gone.append(topic)
            self._book_symbols.discard(symbol)
            self.books.pop(symbol, None)
            self._resyncs.done(symbol)
            self._tickers.pop(symbol, None)
        return gone

    def requests(self, op: str, topics: list[str]) -> list[dict]:
        """`subscribe`/`unsubscribe` requests for `topics`, at most 10 args each."""
        requests = batches(op, topics, self._req_ids)
        if op == "unsubscribe":
            self.unsubscribing += len(requests)
        return requests

    # ------------------------------------------------------------------ WsSession

    def on_connect(self, link: Link) -> None:
        self.books.clear()
        self._resyncs.clear()
        self._tickers.clear()
        for request in self.requests("subscribe", list(self.topics)):
            link.send(request)

    def on_disconnect(self) -> None:
        self.books.clear()
        self._resyncs.clear()
        self.unsubscribing = 0  # a new connection starts from the subscription set

    def ping(self) -> str:
        return '{"op":"ping"}'

    def on_message(self, raw: str | bytes, link: Link) -> list[Event]:
        message = loads(raw)
        try:
            topic = message["topic"]
        except (KeyError, TypeError):
            return self._on_reply(message)
        try:
            if topic.startswith("orderbook."):
                return self._on_book(message, topic, link)
            if topic.startswith("publicTrade."):
                return self._on_trades(message)
            if topic.startswith("tickers."):
                return self._on_ticker(message)
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise ProtocolError(f"bad {topic} message: {exc!r}", venue=BYBIT) from exc
        raise ProtocolError(f"unexpected topic {topic!r}", venue=BYBIT)

    def _on_reply(self, message: Any) -> list[Event]:
        if not isinstance(message, dict):
            raise ProtocolError("not a Bybit message", venue=BYBIT)
        op = message.get("op")
        if op in ("ping", "pong"):
            return []
        if op in ("subscribe", "unsubscribe"):
            if op == "unsubscribe":
                self.unsubscribing = max(0, self.unsubscribing - 1)
            if not message.get("success"):
                raise ProtocolError(f"{op} refused: {message.get('ret_msg')}", venue=BYBIT)
            if op == "subscribe":
                return [
                    StreamStatus(
                        BYBIT,
                        StreamKind.PUBLIC,
                        StreamState.SUBSCRIBED,
                        now_ns(),
                        detail=f"{self.category} {message.get('req_id', '')}".strip(),
                    )
                ]
            return []
        raise ProtocolError(f"unexpected reply op={op!r}", venue=BYBIT)

    def unified(self, symbol: str) -> str:
        unified = self._unified.get(symbol)
        if unified is None:
            try:
                unified = self._unified[symbol] = self.symbols.unified_in(self.category, symbol)
            except SymbolError as exc:
                raise ProtocolError(str(exc), venue=BYBIT) from exc
        return unified

    # ------------------------------------------------------------------ books

    def _on_book(self, message: dict, topic: str, link: Link) -> list[Event]:
        stats = self.stats
        stats.messages += 1
        data = message["data"]
        symbol = data["s"]
        if symbol not in self._book_symbols:
            return []  # still on the wire after an unsubscribe
        update_id = int(data["u"])
        received = _time_ns()
        exchange_ts = int(message["ts"]) * NS_PER_MS
        unified = self._unified.get(symbol) or self.unified(symbol)
        book = self.books.get(symbol)
        if message["type"] == "snapshot":
            bids = decode_wire_levels(data["b"], self._prices)
            asks = decode_wire_levels(data["a"], self._prices)
            if book is None:
                book = self.books[symbol] = OrderBook(unified)
            book.apply_snapshot(bids, asks, update_id)
            self._resyncs.done(symbol)
            return [BookSnapshot(BYBIT, unified, bids, asks, update_id, exchange_ts, received)]
        if symbol in self._resyncing:
            return []
        previous = book.sequence if book is not None else None
        if previous is None or update_id != previous + 1:
            return self._resync(symbol, unified, topic, previous, update_id, link, received)
        prices = self._prices
        bids = apply_wire_side(book.bids, data["b"], prices)
        asks = apply_wire_side(book.asks, data["a"], prices)
        book.sequence = update_id
        stats.updates_applied += 1
        return [BookDelta(BYBIT, unified, bids, asks, update_id, previous, exchange_ts, received)]

    def _resync(
        self,
        symbol: str,
        unified: str,
        topic: str,
        previous: int | None,
        update_id: int,
        link: Link,
        received: int,
    ) -> list[Event]:
        self.stats.gaps += 1
        detail = f"book gap on {topic}: u={update_id} after {previous}; resubscribing"
        return self._rebuild(symbol, unified, topic, detail, received, link)

    def resync_book(self, symbol: str, detail: str, link: Link) -> list[Event]:
        """Rebuild the book of unified `symbol` from a fresh snapshot (see ws.py)."""
        for name, book in list(self.books.items()):
            if book.symbol == symbol and name not in self._resyncs:
                (topic,) = self.topics_of(name, trades=False, tickers=False)
                return self._rebuild(name, symbol, topic, detail, now_ns(), link)
        return []

    def _rebuild(
        self, symbol: str, unified: str, topic: str, detail: str, received: int, link: Link
    ) -> list[Event]:
        """Drop the book, resubscribe its topic for a fresh snapshot, and say so."""
        self.books.pop(symbol, None)
        for op in ("unsubscribe", "subscribe"):
            for request in self.requests(op, [topic]):
                link.send(request)
        return [self._resyncs.begin(symbol, unified, detail, received)]

    # ------------------------------------------------------------------ trades and tickers

    def _on_trades(self, message: dict) -> list[Event]:
        received = now_ns()
        return [
            parse.parse_trade(item, self.unified(item["s"]), received) for item in message["data"]
        ]

    def _on_ticker(self, message: dict) -> list[Event]:
        data = message["data"]
        symbol = data["symbol"]
        if message.get("type") == "delta":
            state = self._tickers.get(symbol)
            if state is None:
                return []  # a delta before the snapshot: wait for the next snapshot
            state.update(data)
        else:
            state = self._tickers[symbol] = dict(data)
        ticker = parse.parse_ticker(state, self.unified(symbol), now_ns())
        return [replace(ticker, exchange_ts=int(message["ts"]) * NS_PER_MS)]


# --------------------------------------------------------------------------- stream wrappers


class _Merged:
    """Several WsClients' events (one socket per category) as one bounded queue: an event the
    consumer is too far behind to take is dropped by its client's policy (ws.py)."""

    def __init__(self, max_queue: int = DEFAULT_MAX_QUEUE) -> None:
        self.queue = EventQueue(max_queue)
        self.tasks: list[asyncio.Task] = []

    def attach(self, client: WsClient) -> None:
        self.tasks.append(asyncio.ensure_future(self._forward(client)))

    async def _forward(self, client: WsClient) -> None:
        queue = self.queue
        async for event in client.events():
            client.hand_over(event, queue)

    def events(self) -> AsyncIterator[Event]:
        return self.queue.events()

    async def close(self) -> None:
        for task in self.tasks:
            await asyncio.wait_for(asyncio.shield(task), timeout=5)
        self.queue.stop()


class BybitPublicStream:
    """Public market data over one WebSocket per Bybit category (`PublicStream`).

    Symbols may be unified (`BTC/USDT:USDT`), category-qualified (`spot:BTCUSDT`) or bare when
    the instrument table names one category (or `category=` is given)."""

    venue = BYBIT

    def __init__(
        self,
        endpoints: Endpoints,
        *,
        symbols: SymbolTable | None = None,
        depth: int | dict[str, int] | None = None,
        backoff: Backoff | None = None,
        ping_interval: float = C.WS_PING_INTERVAL,
        idle_timeout: float = C.WS_IDLE_TIMEOUT,
        **client_options: Any,
    ) -> None:
        self.endpoints = endpoints
        self.symbols = symbols if symbols is not None else SymbolTable()
        self.depth = depth
        self.backoff = backoff
        self.ping_interval = ping_interval
        self.idle_timeout = idle_timeout
        self.client_options = client_options
        self.sessions: dict[str, BybitPublicSession] = {}
        self.clients: dict[str, WsClient] = {}
        self._merged = _Merged(client_options.get("max_queue", DEFAULT_MAX_QUEUE))

    def url(self, category: str) -> str:
        return f"{self.endpoints.public_ws_url.rstrip('/')}/{category}"

    def _depth(self, category: str) -> int | None:
        if isinstance(self.depth, dict):
            return self.depth.get(category)
        if self.depth is not None and self.depth in C.WS_BOOK_DEPTHS[category]:
            return self.depth
        return None

    def _group(self, venue_symbols: list[str], category: str | None) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = {}
        for name in venue_symbols:
            if category is not None and ":" not in name and "/" not in name:
                cat, symbol = category, name
            else:
                cat, symbol = self.symbols.resolve(name)
            grouped.setdefault(cat, []).append(symbol)
        return grouped

    async def subscribe(
        self,
        venue_symbols: list[str],
        *,
        books: bool = True,
        trades: bool = True,
        tickers: bool = True,
        category: str | None = None,
    ) -> None:
        for cat, names in self._group(venue_symbols, category).items():
            session = self.sessions.get(cat)
            if session is None:
                session = self.sessions[cat] = BybitPublicSession(
                    cat,
                    names,
                    depth=self._depth(cat),
                    books=books,
                    trades=trades,
                    tickers=tickers,
                    symbols=self.symbols,
                    ping_interval=self.ping_interval,
                    idle_timeout=self.idle_timeout,
                )
                client = self.clients[cat] = WsClient(
                    self.url(cat),
                    session,
                    venue=BYBIT,
                    kind=StreamKind.PUBLIC,
                    backoff=self.backoff,
                    **self.client_options,
                )
                client.start()
                self._merged.attach(client)
                continue
            new = session.add(names, books=books, trades=trades, tickers=tickers)
            for request in session.requests("subscribe", new):
                self.clients[cat].send(request)

    async def unsubscribe(self, venue_symbols: list[str], *, category: str | None = None) -> None:
        for cat, names in self._group(venue_symbols, category).items():
            session = self.sessions.get(cat)
            if session is None:
                continue
            for request in session.requests("unsubscribe", session.remove(names)):
                self.clients[cat].send(request)

    def events(self) -> AsyncIterator[Event]:
        return self._merged.events()

    async def close(self) -> None:
        for client in self.clients.values():
            await client.close()
        await self._merged.close()
