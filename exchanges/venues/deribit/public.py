"""Deribit public WebSocket: the sans-IO `DeribitPublicSession` (driven by `ws.WsClient`) and
the `DeribitPublicStream` built on it, plus the JSON-RPC plumbing both sessions use (`Rpc`,
`batches`, `answer_test_request`; the private side is in `private.py`).

One socket `{ws}/ws/api/v2` carries JSON-RPC requests, their answers (with `id`) and
notifications (`method: "subscription"`, `params: {channel, data}`; docs "Notifications").

Public session (docs: subscriptions `book.{instrument}.{interval}`,
`ticker.{instrument}.{interval}`, `trades.{instrument}.{interval}`):
- Books: the first push after subscribing is a full `snapshot`, then `change`s of
  `[action, price, amount]` levels; each carries `change_id`, changes `prev_change_id`. A change
  applies only if its `prev_change_id` is the book's last `change_id`; otherwise the book is
  dropped, a RESYNCING status is emitted, and the channel is unsubscribed and subscribed again so
  the venue sends a fresh snapshot (nothing is emitted for that symbol until it arrives).
  `raw` book channels need an authorized connection (error 13778), so the public default is
  `100ms`.
- Heartbeats: `public/set_heartbeat` on connect; a `heartbeat` of type `test_request` must be
  answered with `public/test`, or the venue closes the connection (and cancel-on-disconnect
  fires).
- Subscriptions go out in batches (`constants.WS_SUBSCRIBE_BATCH`, well inside the 32 kB frame
  limit of error -32600) and are all sent again on every connect.
- Error 10028 `too_many_requests` ends the venue's session: the connection is dropped so the
  driver reconnects and subscribes again.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections.abc import Iterable

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
)
from exchanges.venues.book import BookResyncs, BookStats, OrderBook
from exchanges.venues.deribit import constants as C
from exchanges.venues.deribit import parse
from exchanges.venues.deribit.parse import decode_message, ws_levels
from exchanges.venues.deribit.symbols import SymbolTable
from exchanges.venues.numbers import levels
from exchanges.venues.ws import (
    DEFAULT_MAX_QUEUE,
    Backoff,
    Link,
    SocketStream,
    WsClient,
)

log = logging.getLogger(__name__)

VENUE = Venue.DERIBIT
MS = 1_000_000
INTERVALS = ("raw", "100ms", "agg2")

_BOOK, _TRADES, _TICKER, _BOOK_TOP = 0, 1, 2, 3
BOOK_DEPTHS = (1, 10, 20)  # book.{instrument}.{group}.{depth}.{interval}


class Rpc:
    """Request ids and what each pending request was for."""

    __slots__ = ("_ids", "pending")

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.pending: dict[int, tuple[str, object]] = {}

    def request(self, method: str, params: dict, purpose: str, context: object = None) -> dict:
        request_id = next(self._ids)
        self.pending[request_id] = (purpose, context)
        return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}

    def clear(self) -> None:
        self.pending.clear()


def batches(channels: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(channels), C.WS_SUBSCRIBE_BATCH):
        yield channels[start : start + C.WS_SUBSCRIBE_BATCH]


def answer_test_request(message: dict, rpc: Rpc, link: Link) -> None:
    params = message.get("params") or {}
    if params.get("type") == "test_request":
        link.send(rpc.request(C.METHOD_TEST, {}, "test"))


class DeribitPublicSession:
    """Public market data of a set of instruments: books, trades, tickers."""

    def __init__(
        self,
        venue_symbols: Iterable[str] = (),
        *,
        books: bool = True,
        trades: bool = True,
        tickers: bool = True,
        interval: str = "100ms",
        depth: int | None = None,
        group: str = "none",
        heartbeat: int = C.WS_PING_INTERVAL,
        symbols: SymbolTable | None = None,
    ) -> None:
        if depth is not None and depth not in BOOK_DEPTHS:
            raise ValueError(f"Deribit book depth must be one of {BOOK_DEPTHS}, not {depth}")
        self.interval = interval
        self.depth = depth
        self.group = group
        self.heartbeat = heartbeat
        self.ping_interval = float(heartbeat)
        self.idle_timeout = float(heartbeat) * 3
        self.symbols = symbols if symbols is not None else SymbolTable()
        self.stats = BookStats()
        self.books: dict[str, OrderBook] = {}
        self.resyncs = BookResyncs(VENUE, self.stats)
        self.channels: dict[str, tuple[int, str, str]] = {}  # channel -> (kind, name, symbol)
        self.confirmed: set[str] = set()
        self._rpc = Rpc()
        self.add(venue_symbols, books=books, trades=trades, tickers=tickers)

    # -- subscription set ---------------------------------------------------------------

    def channel_names(
        self, venue_symbol: str, *, books: bool = True, trades: bool = True, tickers: bool = True
    ) -> list[tuple[str, int]]:
        names = []
        if books and self.depth:
            channel = f"book.{venue_symbol}.{self.group}.{self.depth}.{self.interval}"
            names.append((channel, _BOOK_TOP))
        elif books:
            names.append((f"book.{venue_symbol}.{self.interval}", _BOOK))
        if trades:
            names.append((f"trades.{venue_symbol}.{self.interval}", _TRADES))
        if tickers:
            names.append((f"ticker.{venue_symbol}.{self.interval}", _TICKER))
        return names

    def add(
        self,
        venue_symbols: Iterable[str],
        *,
        books: bool = True,
        trades: bool = True,
        tickers: bool = True,
    ) -> list[str]:
        """Add instruments to the subscription set; returns the channels that are new."""
        new = []
        for name in venue_symbols:
            symbol = self.symbols.unified(name)
            for channel, kind in self.channel_names(
                name, books=books, trades=trades, tickers=tickers
            ):
                if channel not in self.channels:
                    self.channels[channel] = (kind, name, symbol)
                    new.append(channel)
        return new

    def remove(self, venue_symbols: Iterable[str]) -> list[str]:
        names = set(venue_symbols)
        gone = [channel for channel, (_, name, _) in self.channels.items() if name in names]
        for channel in gone:
            del self.channels[channel]
            self.confirmed.discard(channel)
        for name in names:
            self.books.pop(name, None)
            self.resyncs.done(name)
        return gone

    def subscribe_requests(self, channels: list[str]) -> list[dict]:
        return [
            self._rpc.request(C.METHOD_PUBLIC_SUBSCRIBE, {"channels": batch}, "subscribe", batch)
            for batch in batches(channels)
        ]

    def unsubscribe_requests(self, channels: list[str]) -> list[dict]:
        return [
            self._rpc.request(
                C.METHOD_PUBLIC_UNSUBSCRIBE, {"channels": batch}, "unsubscribe", batch
            )
            for batch in batches(channels)
        ]

    # -- WsSession ----------------------------------------------------------------------

    def on_connect(self, link: Link) -> None:
        self._rpc.clear()
        self.books.clear()
        self.resyncs.clear()
        self.confirmed.clear()
        link.send(
            self._rpc.request(C.METHOD_SET_HEARTBEAT, {"interval": self.heartbeat}, "heartbeat")
        )
        for request in self.subscribe_requests(list(self.channels)):
            link.send(request)

    def on_disconnect(self) -> None:
        self.books.clear()
        self.resyncs.clear()
        self.confirmed.clear()

    def ping(self) -> str | None:
        return json.dumps(self._rpc.request(C.METHOD_TEST, {}, "test"))

    def on_message(self, raw: str | bytes, link: Link) -> list[Event]:
        receive_ts = time.time_ns()
        message = decode_message(raw)
        method = message.get("method")
        if method == "subscription":
            try:
                params = message["params"]
                channel = params["channel"]
                data = params["data"]
            except (KeyError, TypeError) as exc:
                raise ProtocolError(f"malformed notification: {exc}", venue=VENUE) from exc
            target = self.channels.get(channel) or self._alias(channel)
            kind, name, symbol = target
            try:
                if kind == _BOOK:
                    return self._on_book(name, symbol, data, receive_ts, link)
                if kind == _BOOK_TOP:
                    return self._on_book_top(name, symbol, data, receive_ts)
                if kind == _TRADES:
                    return [
                        parse.parse_trade(
                            item, self.symbols.unified(item["instrument_name"]), receive_ts
                        )
                        for item in data
                    ]
                return [
                    parse.parse_ticker(
                        data, self.symbols.unified(data["instrument_name"]), receive_ts
                    )
                ]
            except (KeyError, TypeError, IndexError, ValueError) as exc:
                raise ProtocolError(f"bad {channel} data: {exc!r}", venue=VENUE) from exc
        if method == "heartbeat":
            answer_test_request(message, self._rpc, link)
            return []
        if "id" in message:
            return self._on_response(message, receive_ts, link)
        raise ProtocolError(f"unexpected message method={method!r}", venue=VENUE)

    def _alias(self, channel: str) -> tuple[int, str, str]:
        """The same stream at another interval (`book.X.raw` when `book.X.100ms` is
        subscribed, as a recorded raw feed replays): same data, same change_id chain."""
        family, _, rest = channel.partition(".")
        instrument, _, interval = rest.rpartition(".")
        target = self.channels.get(f"{family}.{instrument}.{self.interval}")
        if target is None or interval not in INTERVALS:
            raise ProtocolError(f"notification of unsubscribed channel {channel}", venue=VENUE)
        return target

    # -- books --------------------------------------------------------------------------

    def _on_book(
        self, name: str, symbol: str, data: dict, receive_ts: int, link: Link
    ) -> list[Event]:
        stats = self.stats
        stats.messages += 1
        change_id = data["change_id"]
        exchange_ts = data["timestamp"] * MS
        if data.get("type") == "snapshot":
            bids = ws_levels(data["bids"])
            asks = ws_levels(data["asks"])
            book = self.books.get(name)
            if book is None:
                book = self.books[name] = OrderBook(symbol)
            book.apply_snapshot(bids, asks, change_id)
            self.resyncs.done(name)
            top_bids, top_asks = book.top(max(len(book.bids), len(book.asks)))
            return [
                BookSnapshot(
                    VENUE,
                    symbol,
                    tuple(top_bids),
                    tuple(top_asks),
                    change_id,
                    exchange_ts,
                    receive_ts,
                )
            ]
        book = self.books.get(name)
        if book is None:
            return []  # waiting for the snapshot after (re)subscribing
        prev = data.get("prev_change_id")
        if prev != book.sequence:
            return self._gap(name, symbol, book.sequence, prev, receive_ts, link)
        bids = ws_levels(data["bids"])
        asks = ws_levels(data["asks"])
        book.apply_delta(bids, asks, change_id)
        stats.updates_applied += 1
        return [BookDelta(VENUE, symbol, bids, asks, change_id, prev, exchange_ts, receive_ts)]

    def _on_book_top(self, name: str, symbol: str, data: dict, receive_ts: int) -> list[Event]:
        """A grouped channel: every message is the whole top `depth` of `[price, amount]`
        levels (no `type`, nothing to chain), so each one replaces the book."""
        self.stats.messages += 1
        bids = levels(data["bids"])
        asks = levels(data["asks"])
        change_id = data["change_id"]
        book = self.books.get(name)
        if book is None:
            book = self.books[name] = OrderBook(symbol)
        book.apply_snapshot(bids, asks, change_id)
        self.stats.updates_applied += 1
        return [
            BookSnapshot(VENUE, symbol, bids, asks, change_id, data["timestamp"] * MS, receive_ts)
        ]

    def resync_book(self, symbol: str, detail: str, link: Link) -> list[Event]:
        """Rebuild the book of unified `symbol` from a fresh snapshot (see ws.py)."""
        for name, book in list(self.books.items()):
            if book.symbol == symbol and name not in self.resyncs:
                return self._rebuild(name, symbol, detail, time.time_ns(), link)
        return []

    def _gap(
        self, name: str, symbol: str, expected: int | None, got: object, receive_ts: int, link: Link
    ) -> list[Event]:
        self.stats.gaps += 1
        detail = f"book gap: prev_change_id {got} after change_id {expected}"
        return self._rebuild(name, symbol, detail, receive_ts, link)

    def _rebuild(
        self, name: str, symbol: str, detail: str, receive_ts: int, link: Link
    ) -> list[Event]:
        """Drop the book, resubscribe its channel for a fresh snapshot, and say so."""
        del self.books[name]
        channel = f"book.{name}.{self.interval}"
        for request in self.unsubscribe_requests([channel]):
            link.send(request)
        for request in self.subscribe_requests([channel]):
            link.send(request)
        return [self.resyncs.begin(name, symbol, detail, receive_ts)]

    # -- answers ------------------------------------------------------------------------

    def _on_response(self, message: dict, receive_ts: int, link: Link) -> list[Event]:
        purpose, context = self._rpc.pending.pop(message["id"], ("", None))
        error = message.get("error")
        if error is not None:
            exc = parse.parse_error(error)
            if exc.code == C.ERROR_TOO_MANY_REQUESTS:
                link.reconnect("too_many_requests ends the session")
                return []
            raise ProtocolError(
                f"{purpose or 'request'} refused: {exc}", venue=VENUE, code=exc.code
            )
        if purpose == "subscribe":
            granted = set(message.get("result") or ())
            asked = list(context or ())
            missing = [channel for channel in asked if channel not in granted]
            self.confirmed.update(granted)
            if missing:
                log.warning("deribit refused channels: %s", ", ".join(missing))
            return [
                StreamStatus(
                    VENUE,
                    StreamKind.PUBLIC,
                    StreamState.SUBSCRIBED,
                    receive_ts,
                    f"{len(granted)} channels" + (f"; refused {missing}" if missing else ""),
                )
            ]
        return []


# --------------------------------------------------------------------------- streams


class DeribitPublicStream(SocketStream):
    """Public Deribit stream over `WsClient`: subscribe instruments, iterate events."""

    venue = VENUE

    def __init__(
        self,
        endpoints: Endpoints,
        *,
        interval: str = "100ms",
        depth: int | None = None,
        group: str = "none",
        heartbeat: int = C.WS_PING_INTERVAL,
        backoff: Backoff | None = None,
        max_queue: int = DEFAULT_MAX_QUEUE,
        symbols: SymbolTable | None = None,
    ) -> None:
        self.session = DeribitPublicSession(
            (),
            interval=interval,
            depth=depth,
            group=group,
            heartbeat=heartbeat,
            symbols=symbols,
        )
        self.client = WsClient(
            endpoints.public_ws_url,
            self.session,
            venue=VENUE,
            kind=StreamKind.PUBLIC,
            backoff=backoff,
            max_queue=max_queue,
        )

    @property
    def stats(self) -> BookStats:
        return self.session.stats

    async def subscribe(
        self,
        venue_symbols: list[str],
        *,
        books: bool = True,
        trades: bool = True,
        tickers: bool = True,
    ) -> None:
        new = self.session.add(venue_symbols, books=books, trades=trades, tickers=tickers)
        link = self.client.link
        if new and link is not None:
            for request in self.session.subscribe_requests(new):
                link.send(request)
        self.client.start()

    async def unsubscribe(self, venue_symbols: list[str]) -> None:
        gone = self.session.remove(venue_symbols)
        link = self.client.link
        if gone and link is not None:
            for request in self.session.unsubscribe_requests(gone):
                link.send(request)
