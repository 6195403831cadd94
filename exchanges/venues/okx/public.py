"""OKX v5 public WebSocket (`/ws/v5/public`): the sans-IO `OkxPublicSession` (driven by
`ws.WsClient`) and the `OkxPublicStream` built on it.

Channels: `books` (or another sequenced book channel), `trades`, `tickers`, and the
snapshot-only `books5` / `bbo-tbt`. Private channels are in `private.py`.

Book protocol (docs-v5 "WS / Order book channel > Sequence ID"; changelog "Delist initial
snapshot and checksum field in order book channels"; announcement "OKX Order Book Channels
Checksum Field Deprecation", 2026-05-21), verified where each message is applied:

- an update applies only if its `prevSeqId` equals the `seqId` the book is at. That one rule
  also accepts the two documented exceptions: the keep-alive update with no levels
  (`prevSeqId == seqId` == the last one) and the sequence reset after maintenance (`prevSeqId` ==
  the last one, `seqId` smaller);
- `checksum` 0 means absent (always 0 since June 2026); a non-zero one is the CRC32 of the best
  25 levels (`parse.book_checksum`) and must match after the update is applied;
- today and before June 2026 a snapshot (`action: snapshot`, `prevSeqId: -1`) follows every
  subscribe. In the announced form there is none: updates are buffered, the REST book
  (`GET /api/v5/market/books`, carrying `seqId`) is fetched off the event loop, refetched while
  its `seqId` is older than the first buffered `prevSeqId`, buffered updates with `seqId` <= the
  snapshot's are dropped, and the first one applied must satisfy
  `prevSeqId <= snapshot seqId < seqId`; then the chain continues as above.

On a gap or a checksum mismatch the book is dropped, a `StreamStatus(RESYNCING)` is emitted and
counted, and the instrument is resubscribed; no delta of a wrong book is ever emitted.

The update path is the connector's hot path (`bench/book_path.py`): one pass over the levels,
one Decimal per distinct price text (cached), sizes of known prices replaced in place
(`book.apply_wire_side`), and the checksum string joined from the wire texts of the best 25
levels, kept up to date level by level (`checksum.ChecksumTexts`) instead of re-formatted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

import orjson

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
    VenueError,
    now_ns,
)
from exchanges.venues.book import (
    BookResyncs,
    BookStats,
    OrderBook,
    apply_wire_side,
    decode_wire_levels,
)
from exchanges.venues.numbers import DecimalCache
from exchanges.venues.okx import constants as C
from exchanges.venues.okx.checksum import ChecksumTexts
from exchanges.venues.okx.parse import (
    book_checksum,
    parse_funding_rate,
    parse_ticker,
    parse_trade,
)
from exchanges.venues.okx.rest import OkxRestClient, default_endpoints
from exchanges.venues.okx.symbols import SymbolTable
from exchanges.venues.ws import (
    DEFAULT_MAX_QUEUE,
    Backoff,
    Link,
    SocketStream,
    WsClient,
)

log = logging.getLogger(__name__)

OKX = Venue.OKX
PUBLIC = StreamKind.PUBLIC
_loads = orjson.loads
_JSONError = orjson.JSONDecodeError

SnapshotFetcher = Callable[[str], BookSnapshot]


def _batches(args: list[dict], size: int) -> Iterable[list[dict]]:
    for start in range(0, len(args), size):
        yield args[start : start + size]


class _BookState:
    """One instrument's book and where it stands in the venue's sequence."""

    __slots__ = (
        "book",
        "buffer",
        "channel",
        "fetching",
        "generation",
        "inst_id",
        "loose",
        "seq",
        "symbol",
        "synced",
        "texts",
    )

    def __init__(self, inst_id: str, symbol: str, channel: str) -> None:
        self.inst_id = inst_id
        self.symbol = symbol
        self.channel = channel
        self.book = OrderBook(symbol)
        self.seq = -1
        self.synced = False
        self.loose = False  # first update after a REST snapshot: prevSeqId <= seq < seqId
        self.buffer: list[dict] = []
        self.fetching = False
        self.generation = 0
        # While the venue sends checksums: the wire texts of the levels, so the checksum string
        # is joined from what was received instead of re-formatted.
        self.texts: ChecksumTexts | None = None

    def reset(self) -> None:
        self.book.clear()
        self.seq = -1
        self.synced = False
        self.loose = False
        self.buffer = []
        self.fetching = False
        self.generation += 1
        self.texts = None


class OkxPublicSession:
    """Public channels of the OKX v5 public WebSocket (`/ws/v5/public`).

    `book_channel` is `books` (400 levels, 100 ms), `books50-l2-tbt`, `books-l2-tbt` (sequenced)
    or `books5` / `bbo-tbt` (a snapshot every push). `snapshot_fetcher(inst_id) -> BookSnapshot`
    gives the REST book when the stream sends no snapshot; without one such a book waits for a
    WebSocket snapshot. `stats` counts messages, applied updates, gaps, checksum mismatches and
    rebuilds.
    """

    def __init__(
        self,
        venue_symbols: Iterable[str] = (),
        *,
        books: bool = True,
        trades: bool = True,
        tickers: bool = True,
        book_channel: str = "books",
        snapshot_fetcher: SnapshotFetcher | None = None,
        symbols: SymbolTable | None = None,
        verify_checksum: bool = True,
        ping_interval: float = C.WS_PING_INTERVAL,
        idle_timeout: float = C.WS_IDLE_TIMEOUT,
        snapshot_attempts: int = 5,
        max_buffer: int = 10_000,
    ) -> None:
        if book_channel not in C.BOOK_CHANNEL_DEPTH:
            raise ValueError(f"unknown OKX book channel {book_channel!r}")
        self.book_channel = book_channel
        self.snapshot_fetcher = snapshot_fetcher
        self.symbols = symbols if symbols is not None else SymbolTable()
        self.verify_checksum = verify_checksum
        self.ping_interval = ping_interval
        self.idle_timeout = idle_timeout
        self.snapshot_attempts = snapshot_attempts
        self.max_buffer = max_buffer
        self.stats = BookStats()
        self._resyncs = BookResyncs(OKX, self.stats)
        self.books: dict[str, _BookState] = {}
        self._prices = DecimalCache()
        self.subscriptions: dict[tuple[str, str], dict] = {}
        self._link: Link | None = None
        self._handlers = {
            "trades": self._on_trades,
            "tickers": self._on_tickers,
            "funding-rate": self._on_funding,
            "books5": self._on_book_snapshots,
            "bbo-tbt": self._on_book_snapshots,
        }
        for channel in C.BOOK_CHANNELS_SEQUENCED:
            self._handlers[channel] = self._on_book
        self.add(list(venue_symbols), books=books, trades=trades, tickers=tickers)

    # -- subscriptions ------------------------------------------------------------------

    def add(
        self,
        venue_symbols: list[str],
        *,
        books: bool = True,
        trades: bool = True,
        tickers: bool = True,
    ) -> list[dict]:
        """Add channels for `venue_symbols`; sends the subscribe at once when connected."""
        added = []
        for inst_id in venue_symbols:
            channels = []
            if books:
                channels.append(self.book_channel)
                if inst_id not in self.books:
                    self.books[inst_id] = _BookState(
                        inst_id, self.symbols.unified(inst_id), self.book_channel
                    )
            if trades:
                channels.append("trades")
            if tickers:
                channels.append("tickers")
            for channel in channels:
                key = (channel, inst_id)
                if key not in self.subscriptions:
                    arg = {"channel": channel, "instId": inst_id}
                    self.subscriptions[key] = arg
                    added.append(arg)
        if added and self._link is not None:
            self._send("subscribe", added, self._link)
        return added

    def remove(self, venue_symbols: list[str]) -> list[dict]:
        """Drop every channel of `venue_symbols`; sends the unsubscribe when connected."""
        targets = set(venue_symbols)
        removed = [arg for key, arg in self.subscriptions.items() if key[1] in targets]
        for arg in removed:
            del self.subscriptions[(arg["channel"], arg["instId"])]
        for inst_id in targets:
            state = self.books.pop(inst_id, None)
            if state is not None:
                state.reset()
            self._resyncs.done(inst_id)
        if removed and self._link is not None:
            self._send("unsubscribe", removed, self._link)
        return removed

    @staticmethod
    def _send(op: str, args: list[dict], link: Link) -> None:
        for batch in _batches(args, C.WS_SUBSCRIBE_BATCH):
            link.send({"op": op, "args": batch})

    # -- WsSession ----------------------------------------------------------------------

    def on_connect(self, link: Link) -> None:
        self._link = link
        self._resyncs.clear()
        for state in self.books.values():
            state.reset()
        if self.subscriptions:
            self._send("subscribe", list(self.subscriptions.values()), link)

    def on_disconnect(self) -> None:
        self._link = None
        self._resyncs.clear()
        for state in self.books.values():
            state.reset()

    def ping(self) -> str:
        return "ping"

    def on_message(self, raw: str | bytes, link: Link) -> list[Event]:
        if raw == "pong" or raw == b"pong":
            return []
        try:
            msg = _loads(raw)
            data = msg.get("data")
        except (_JSONError, AttributeError):
            raise ProtocolError("not a JSON object", venue=OKX) from None
        if data is None:
            return self._on_event(msg, link)
        try:
            handler = self._handlers[msg["arg"]["channel"]]
        except KeyError:
            raise ProtocolError("push of an unknown channel", venue=OKX) from None
        try:
            return handler(msg, data, link)
        except (KeyError, IndexError, TypeError, ValueError, ArithmeticError) as exc:
            raise ProtocolError(
                f"malformed {msg['arg'].get('channel')} push: {exc!r}", venue=OKX
            ) from None

    def _on_event(self, msg: dict, link: Link) -> list[Event]:
        event = msg.get("event")
        if event == "subscribe":
            arg = msg.get("arg", {})
            inst_id = arg.get("instId", "")
            return [
                StreamStatus(
                    OKX,
                    PUBLIC,
                    StreamState.SUBSCRIBED,
                    now_ns(),
                    detail=arg.get("channel", ""),
                    symbol=self.symbols.unified(inst_id) if inst_id else "",
                )
            ]
        if event in ("unsubscribe", "channel-conn-count"):
            return []
        if event == "notice":
            link.reconnect(f"venue notice {msg.get('code')}: {msg.get('msg')}")
            return []
        if event == "error":
            raise ProtocolError(f"venue error {msg.get('code')}: {msg.get('msg')}", venue=OKX)
        raise ProtocolError("unknown message", venue=OKX)

    # -- trades and tickers -------------------------------------------------------------

    def _on_trades(self, msg: dict, data: list, link: Link) -> list[Event]:
        received = now_ns()
        unified = self.symbols.unified
        return [parse_trade(item, unified(item["instId"]), received) for item in data]

    def _on_tickers(self, msg: dict, data: list, link: Link) -> list[Event]:
        received = now_ns()
        unified = self.symbols.unified
        return [parse_ticker(item, unified(item["instId"]), received) for item in data]

    def _on_funding(self, msg: dict, data: list, link: Link) -> list[Event]:
        received = now_ns()
        unified = self.symbols.unified
        return [parse_funding_rate(item, unified(item["instId"]), received) for item in data]

    def _on_book_snapshots(self, msg: dict, data: list, link: Link) -> list[Event]:
        """books5 / bbo-tbt: every push is the whole top of the book."""
        inst_id = msg["arg"]["instId"]
        state = self.books.get(inst_id)
        symbol = state.symbol if state is not None else self.symbols.unified(inst_id)
        received = now_ns()
        self.stats.messages += 1
        out: list[Event] = []
        for item in data:
            bids = decode_wire_levels(item["bids"], self._prices)
            asks = decode_wire_levels(item["asks"], self._prices)
            seq = int(item.get("seqId", -1))
            if state is not None:
                state.book.apply_snapshot(bids, asks, seq)
                state.seq, state.synced = seq, True
            self.stats.updates_applied += 1
            out.append(
                BookSnapshot(OKX, symbol, bids, asks, seq, int(item["ts"]) * 1_000_000, received)
            )
        return out

    # -- sequenced books ----------------------------------------------------------------

    def _on_book(self, msg: dict, data: list, link: Link) -> list[Event]:
        state = self.books.get(msg["arg"]["instId"])
        if state is None:
            return []  # a push still in flight after an unsubscribe
        self.stats.messages += 1
        received = now_ns()
        out: list[Event] = []
        if msg.get("action") == "snapshot":
            for item in data:
                self._apply_snapshot(state, item, received, out, link)
            return out
        for item in data:
            if not state.synced:
                self._buffer(state, item, link)
            elif not self._apply_update(state, item, received, out, link):
                break
        return out

    def _apply_snapshot(
        self, state: _BookState, item: dict, received: int, out: list, link: Link
    ) -> None:
        state.reset()
        bids = decode_wire_levels(item["bids"], self._prices)
        asks = decode_wire_levels(item["asks"], self._prices)
        seq = item["seqId"]
        state.book.apply_snapshot(bids, asks, seq)
        checksum = item.get("checksum")
        if checksum and self.verify_checksum:
            texts = state.texts = ChecksumTexts()
            book = state.book
            texts.start(book.bids, book.asks, bids, asks, item["bids"], item["asks"])
        if checksum and self.verify_checksum and self._checksum(state) != checksum:
            self.stats.checksum_mismatches += 1
            self._resync(state, f"checksum mismatch on snapshot {seq}", out, link)
            return
        state.seq, state.synced = seq, True
        self._resyncs.done(state.inst_id)
        out.append(
            BookSnapshot(OKX, state.symbol, bids, asks, seq, int(item["ts"]) * 1_000_000, received)
        )

    def _apply_update(
        self, state: _BookState, item: dict, received: int, out: list, link: Link
    ) -> bool:
        """Apply one sequenced update; False when the book had to be dropped."""
        prev = item["prevSeqId"]
        seq = item["seqId"]
        last = state.seq
        if prev != last and not (state.loose and prev <= last < seq):
            self.stats.gaps += 1
            self._resync(state, f"sequence gap: at {last}, got prevSeqId {prev}", out, link)
            return False
        state.loose = False
        raw_bids = item["bids"]
        raw_asks = item["asks"]
        if not raw_bids and not raw_asks:
            state.seq = seq  # keep-alive (seqId == prevSeqId) or a bare sequence reset
            return True
        book = state.book
        texts = state.texts
        prices = self._prices
        if texts is None:
            bids = apply_wire_side(book.bids, raw_bids, prices)
            asks = apply_wire_side(book.asks, raw_asks, prices)
        else:
            bids = apply_wire_side(book.bids, raw_bids, prices, texts.bid_wire)
            asks = apply_wire_side(book.asks, raw_asks, prices, texts.ask_wire)
            texts.changed(book.bids, book.asks, bids, asks)
        checksum = item.get("checksum")
        if checksum and self.verify_checksum and self._checksum(state) != checksum:
            self.stats.checksum_mismatches += 1
            self._resync(state, f"checksum mismatch at seqId {seq}", out, link)
            return False
        state.seq = book.sequence = seq
        self.stats.updates_applied += 1
        out.append(
            BookDelta(
                OKX, state.symbol, bids, asks, seq, last, int(item["ts"]) * 1_000_000, received
            )
        )
        return True

    @staticmethod
    def _checksum(state: _BookState) -> int:
        """The book's checksum: from the kept wire texts, or (when the snapshot carried no
        checksum, so no texts were kept) re-formatted from the book (`parse.book_checksum`)."""
        if state.texts is not None:
            return state.texts.checksum()
        bids, asks = state.book.top(C.CHECKSUM_DEPTH)
        return book_checksum(bids, asks)

    def resync_book(self, symbol: str, detail: str, link: Link) -> list[Event]:
        """Rebuild the book of unified `symbol` from a fresh snapshot (see ws.py)."""
        out: list[Event] = []
        for state in self.books.values():
            if state.symbol == symbol and state.inst_id not in self._resyncs:
                self._resync(state, detail, out, link)
        return out

    def _resync(self, state: _BookState, reason: str, out: list, link: Link) -> None:
        """Drop the book, say so, and resubscribe the instrument for a fresh start."""
        state.reset()
        out.append(self._resyncs.begin(state.inst_id, state.symbol, reason, now_ns()))
        arg = {"channel": state.channel, "instId": state.inst_id}
        link.send({"op": "unsubscribe", "args": [arg]})
        link.send({"op": "subscribe", "args": [arg]})

    # -- the announced protocol: no snapshot on subscribe --------------------------------

    def _buffer(self, state: _BookState, item: dict, link: Link) -> None:
        if self.snapshot_fetcher is None:
            return  # nothing to build from: wait for a WebSocket snapshot
        buffer = state.buffer
        buffer.append(item)
        if len(buffer) > self.max_buffer:
            del buffer[: len(buffer) - self.max_buffer]
        if not state.fetching:
            state.fetching = True
            link.spawn(self._sync_from_rest(state, state.generation, link))

    async def _sync_from_rest(self, state: _BookState, generation: int, link: Link) -> None:
        """Fetch the REST book (blocking call in a worker thread) and join it to the buffer."""
        fetcher = self.snapshot_fetcher
        assert fetcher is not None
        for attempt in range(self.snapshot_attempts):
            try:
                snapshot = await asyncio.to_thread(fetcher, state.inst_id)
            except VenueError as exc:
                log.warning("okx book snapshot for %s failed: %s", state.inst_id, exc)
                snapshot = None
            if state.generation != generation:
                return  # superseded by a WebSocket snapshot, a resync or a reconnect
            if snapshot is not None:
                try:
                    events = self._adopt_snapshot(state, snapshot, link)
                except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
                    log.warning("okx buffered book update of %s malformed: %r", state.inst_id, exc)
                    break
                if events is not None:
                    for event in events:
                        link.emit(event)
                    return
            await asyncio.sleep(min(0.05 * 2**attempt, 2.0))
            if state.generation != generation:
                return
        out: list[Event] = []
        self._resync(state, "no usable REST book snapshot", out, link)
        for event in out:
            link.emit(event)

    def _adopt_snapshot(
        self, state: _BookState, snapshot: BookSnapshot, link: Link
    ) -> list[Event] | None:
        """Join a REST snapshot to the buffered updates (changelog recipe); None = fetch again."""
        snap_seq = snapshot.sequence
        if snap_seq < 0:
            log.warning("okx REST book of %s carries no seqId", state.inst_id)
            return None
        buffered = state.buffer
        if buffered and snap_seq < buffered[0]["prevSeqId"]:
            return None  # older than the stream we hold: fetch again
        pending = [item for item in buffered if item["seqId"] > snap_seq]
        generation = state.generation
        state.reset()
        state.generation = generation  # the same build, not a new one
        state.book.apply_snapshot(snapshot.bids, snapshot.asks, snap_seq)
        state.seq, state.synced, state.loose = snap_seq, True, True
        self._resyncs.done(state.inst_id)
        received = now_ns()
        out: list[Event] = [
            BookSnapshot(
                OKX,
                state.symbol,
                snapshot.bids,
                snapshot.asks,
                snap_seq,
                snapshot.exchange_ts,
                snapshot.receive_ts,
            )
        ]
        for item in pending:
            if not self._apply_update(state, item, received, out, link):
                break
        return out


# --------------------------------------------------------------------------- streams


class OkxPublicStream(SocketStream):
    """PublicStream over the public WebSocket, with the REST client that supplies book
    snapshots when the stream sends none. Options go to `OkxPublicSession`."""

    venue = Venue.OKX

    def __init__(
        self,
        endpoints: Endpoints | None = None,
        *,
        rest: OkxRestClient | None = None,
        book_channel: str = "books",
        backoff: Backoff | None = None,
        max_queue: int = DEFAULT_MAX_QUEUE,
        **session_options,
    ) -> None:
        self.endpoints = endpoints or default_endpoints()
        self._owns_rest = rest is None
        self.rest = rest or OkxRestClient(self.endpoints)
        depth = C.BOOK_CHANNEL_DEPTH[book_channel]
        self.session = OkxPublicSession(
            book_channel=book_channel,
            snapshot_fetcher=lambda inst_id: self.rest.order_book(inst_id, depth),
            symbols=self.rest.symbols,
            **session_options,
        )
        self.client = WsClient(
            self.endpoints.public_ws_url,
            self.session,
            venue=OKX,
            kind=PUBLIC,
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
        self.session.add(venue_symbols, books=books, trades=trades, tickers=tickers)
        self.client.start()

    async def unsubscribe(self, venue_symbols: list[str]) -> None:
        self.session.remove(venue_symbols)

    async def close(self) -> None:
        await super().close()
        if self._owns_rest:
            self.rest.close()
