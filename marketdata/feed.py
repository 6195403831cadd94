"""The live market data feed: channel names, the JSON shape of each channel's data, and the
publisher the connectors send it through.

One vocabulary for the three places that meet here: the connectors publish, `/ws/stream`
delivers to WebSocket clients, the REST API serves the latest state.

Channels (the names clients subscribe to):

| channel | data |
| --- | --- |
| `book.<venue>.<symbol>` | the top `BOOK_DEPTH` levels of a valid book: `bids`/`asks` as `[price, size]` |
| `ticker.<venue>.<symbol>` | best bid/ask with sizes, last, mark, index, funding, open interest |
| `trades.<venue>.<symbol>` | `{"trades": [...]}`: the trades of one update, oldest first |
| `consolidated.<pair>` | the pair's book merged across venues, sizes in the base currency |
| `arbitrage` | `{"opened"|"updated"|"closed": [...]}` opportunity rows |

`<venue>` is `deribit`, `okx` or `bybit`; `<symbol>` and `<pair>` are unified symbols
(`BTC/USDT:USDT`), which contain no dot. Every price and size is a Decimal string; every time
is ISO 8601 UTC with milliseconds.

Transport. `FeedPublisher.publish` never blocks and never waits on the network: updates queue
in order, and one task sends what has accumulated as one `feed.batch` message to the channel
layer group `FEED_GROUP` (one layer round trip per batch, not per update or per client), and
writes the latest state of each channel to the cache (`latest_key`), which the REST API and the
snapshot a new subscriber gets read. Each web process joins `FEED_GROUP` once and fans the batch
out to its own WebSocket clients (`marketdata/stream/`).

Layer message: `{"type": "feed.batch", "updates": [[channel, data], ...]}`, oldest first.
The publisher's queue is bounded (`max_pending`): past it the oldest updates are dropped and
counted (`dropped`), never memory.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from exchanges.venues.base import PriceLevel, Ticker, Trade, Venue
from marketdata import metrics

if TYPE_CHECKING:  # the data builders only read these
    from marketdata.aggregation import ConsolidatedBook, ConsolidatedLevel

log = logging.getLogger(__name__)

FEED_GROUP = "marketdata.feed"
BATCH_TYPE = "feed.batch"
BOOK_DEPTH = 20  # levels per side in a published book
RECENT_TRADES = 100  # trades kept as a trades channel's latest state
LATEST_PREFIX = "md:latest:"
LATEST_TTL = 24 * 3600  # seconds; a feed that stops leaves its last state readable a day

BOOK, TICKER, TRADES, CONSOLIDATED, ARBITRAGE = (
    "book",
    "ticker",
    "trades",
    "consolidated",
    "arbitrage",
)
VENUE_KINDS = (BOOK, TICKER, TRADES)
KINDS = (*VENUE_KINDS, CONSOLIDATED, ARBITRAGE)


# --------------------------------------------------------------------------- channel names


@dataclass(frozen=True, slots=True)
class Channel:
    """A parsed channel name. `venue` is set for book/ticker/trades, `symbol` for those and
    consolidated (the pair), neither for arbitrage."""

    kind: str
    venue: Venue | None = None
    symbol: str = ""

    @property
    def name(self) -> str:
        if self.kind == ARBITRAGE:
            return ARBITRAGE
        if self.kind == CONSOLIDATED:
            return f"{CONSOLIDATED}.{self.symbol}"
        return f"{self.kind}.{self.venue}.{self.symbol}"


class ChannelError(ValueError):
    """A channel name that does not parse; the message says why."""


def book_channel(venue: Venue | str, symbol: str) -> str:
    return f"{BOOK}.{venue}.{symbol}"


def ticker_channel(venue: Venue | str, symbol: str) -> str:
    return f"{TICKER}.{venue}.{symbol}"


def trades_channel(venue: Venue | str, symbol: str) -> str:
    return f"{TRADES}.{venue}.{symbol}"


def consolidated_channel(pair: str) -> str:
    return f"{CONSOLIDATED}.{pair}"


def parse_channel(name: object) -> Channel:
    """`"book.okx.BTC/USDT:USDT"` -> `Channel("book", Venue.OKX, "BTC/USDT:USDT")`; raises
    `ChannelError` saying what is wrong. Whether the symbol is listed is not checked here."""
    if not isinstance(name, str) or not name:
        raise ChannelError("a channel is a non-empty string")
    if name == ARBITRAGE:
        return Channel(ARBITRAGE)
    kind, _, rest = name.partition(".")
    if kind == CONSOLIDATED:
        if not rest:
            raise ChannelError(f"{name!r}: expected 'consolidated.<pair>'")
        return Channel(CONSOLIDATED, symbol=rest)
    if kind not in VENUE_KINDS:
        raise ChannelError(f"{name!r}: unknown channel kind {kind!r}; one of {', '.join(KINDS)}")
    venue_text, _, symbol = rest.partition(".")
    try:
        venue = Venue(venue_text)
    except ValueError:
        raise ChannelError(
            f"{name!r}: unknown venue {venue_text!r}; one of {', '.join(v.value for v in Venue)}"
        ) from None
    if not symbol:
        raise ChannelError(f"{name!r}: expected '{kind}.<venue>.<symbol>'")
    return Channel(kind, venue, symbol)


def latest_key(channel: str) -> str:
    """The cache key of a channel's latest state."""
    return LATEST_PREFIX + channel


# --------------------------------------------------------------------------- data shapes


def text(value: Decimal | None) -> str | None:
    """A Decimal as the string clients get: plain notation, no exponent, None kept."""
    if value is None:
        return None
    return format(value, "f")


def iso_ns(ns: int | None) -> str | None:
    """Nanoseconds since the epoch -> ISO 8601 UTC with milliseconds ("...T12:00:00.123Z")."""
    if not ns:
        return None
    moment = datetime.fromtimestamp(ns / 1e9, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def levels_data(levels: Iterable[PriceLevel]) -> list[list[str]]:
    return [[format(price, "f"), format(size, "f")] for price, size in levels]


def book_data(
    venue: Venue | str,
    symbol: str,
    bids: Sequence[PriceLevel],
    asks: Sequence[PriceLevel],
    *,
    sequence: int | None,
    exchange_ts: int,
    receive_ts: int,
) -> dict[str, Any]:
    """A book channel's data: the best levels of each side, best first, in the venue's size
    unit (contracts or coins, as the venue counts them)."""
    return {
        "venue": str(venue),
        "symbol": symbol,
        "sequence": sequence,
        "bids": levels_data(bids),
        "asks": levels_data(asks),
        "exchange_time": iso_ns(exchange_ts),
        "received_at": iso_ns(receive_ts),
    }


def ticker_data(ticker: Ticker) -> dict[str, Any]:
    return {
        "venue": str(ticker.venue),
        "symbol": ticker.symbol,
        "best_bid": text(ticker.best_bid),
        "best_bid_size": text(ticker.best_bid_size),
        "best_ask": text(ticker.best_ask),
        "best_ask_size": text(ticker.best_ask_size),
        "last_price": text(ticker.last_price),
        "mark_price": text(ticker.mark_price),
        "index_price": text(ticker.index_price),
        "funding_rate": text(ticker.funding_rate),
        "open_interest": text(ticker.open_interest),
        "exchange_time": iso_ns(ticker.exchange_ts),
        "received_at": iso_ns(ticker.receive_ts),
    }


def trade_data(trade: Trade) -> dict[str, Any]:
    return {
        "trade_id": trade.trade_id,
        "price": format(trade.price, "f"),
        "quantity": format(trade.quantity, "f"),
        "side": str(trade.side),
        "time": iso_ns(trade.exchange_ts),
    }


def trades_data(venue: Venue | str, symbol: str, trades: Iterable[Trade]) -> dict[str, Any]:
    """A trades channel's data: the trades of one update, oldest first."""
    return {"venue": str(venue), "symbol": symbol, "trades": [trade_data(t) for t in trades]}


def iso_datetime(moment: datetime | None) -> str | None:
    """An aware datetime as ISO 8601 UTC with milliseconds, None kept."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _consolidated_side(levels: Sequence[ConsolidatedLevel]) -> tuple[list, list]:
    return (
        [[plain(level.price), plain(level.size)] for level in levels],
        [{str(venue): plain(size) for venue, size in level.sizes} for level in levels],
    )


def consolidated_data(book: ConsolidatedBook) -> dict[str, Any]:
    """A consolidated channel's data: the pair's levels merged across venues, best first,
    sizes in the base currency; `bid_sizes`/`ask_sizes` give each level's size per venue
    (same order as `bids`/`asks`). Figures are `plain`: a size is a product of a venue size
    and a contract size, whose trailing zeros say nothing."""
    bids, bid_sizes = _consolidated_side(book.bids)
    asks, ask_sizes = _consolidated_side(book.asks)
    return {
        "symbol": book.symbol,
        "venues": [str(venue) for venue in book.venues],
        "bids": bids,
        "asks": asks,
        "bid_sizes": bid_sizes,
        "ask_sizes": ask_sizes,
    }


def plain(value: Decimal | None) -> str | None:
    """`text` without the trailing zeros a database column's scale adds ("65005", not
    "65005.000000000000000000")."""
    if value is None:
        return None
    return format(value.normalize() if value else Decimal(0), "f")


def opportunity_data(row: Any) -> dict[str, Any]:
    """One `ArbitrageOpportunity` row (not imported: the models import this module) as the `arbitrage` channel carries it: where to buy and
    sell (exchange slugs and venues), the latest figures and the best seen, and when it
    opened and closed (null while open). Reads `buy_exchange`/`sell_exchange`; figures are
    `plain` decimal strings."""
    return {
        "id": row.pk,
        "symbol": row.symbol,
        "buy_exchange": row.buy_exchange.slug,
        "buy_venue": row.buy_exchange.venue,
        "sell_exchange": row.sell_exchange.slug,
        "sell_venue": row.sell_exchange.venue,
        "buy_price": plain(row.buy_price),
        "sell_price": plain(row.sell_price),
        "size": plain(row.size),
        "net_edge_bps": plain(row.net_edge_bps),
        "net_edge_quote": plain(row.net_edge_quote),
        "best_net_edge_bps": plain(row.best_net_edge_bps),
        "best_net_edge_quote": plain(row.best_net_edge_quote),
        "opened_at": iso_datetime(row.opened_at),
        "last_seen_at": iso_datetime(row.last_seen_at),
        "closed_at": iso_datetime(row.closed_at),
    }


# --------------------------------------------------------------------------- publisher


def merge_latest(channel: str, previous: Mapping[str, Any] | None, data: Mapping[str, Any]):
    """A channel's latest state after `data`: the data itself, except for trades, whose
    latest state is the last `RECENT_TRADES` trades (the new ones appended)."""
    if not channel.startswith(TRADES + ".") or not previous:
        if channel.startswith(TRADES + "."):
            return {**data, "trades": list(data["trades"])[-RECENT_TRADES:]}
        return data
    trades = [*previous.get("trades", ()), *data["trades"]][-RECENT_TRADES:]
    return {**data, "trades": trades}


class FeedPublisher:
    """Sends feed updates to the channel layer in batches and keeps each channel's latest state
    in the cache (module docstring). `publish` is called from the connectors' loop; `run` is a
    task on the same loop; `flush` sends what is queued now (tests, shutdown)."""

    def __init__(
        self,
        layer: Any = None,
        cache: Any = None,
        *,
        max_pending: int = 50_000,
        max_batch: int = 2_000,
    ) -> None:
        if layer is None:
            from channels.layers import get_channel_layer

            layer = get_channel_layer()
        if cache is None:
            from django.core.cache import cache as default_cache

            cache = default_cache
        self.layer = layer
        self.cache = cache
        self.max_pending = max_pending
        self.max_batch = max_batch
        self.pending: collections.deque[tuple[str, dict]] = collections.deque()
        self.latest: dict[str, dict] = {}  # this process's view of each channel's latest state
        self.published = 0  # updates handed to the layer
        self.batches = 0
        self.dropped = 0
        self.errors = 0
        self._wake = asyncio.Event()
        self._closed = False
        self._withdrawn: set[str] = set()  # channels whose latest state is to be deleted

    def publish(self, channel: str, data: dict, *, latest: bool = True) -> None:
        """Queue one update of `channel` (never blocks). `latest=False`: the update is not a
        channel's whole state (an account's order, fill, position or balance row, whose
        snapshots are read from the database, `orders.notify`), so the cache is left alone."""
        if self._closed:
            return
        if len(self.pending) >= self.max_pending:
            self.pending.popleft()
            self.dropped += 1
            if self.dropped == 1:
                log.warning(
                    "feed publisher is %s updates behind: dropping the oldest", self.max_pending
                )
        self.pending.append((channel, data))
        if latest:
            self.latest[channel] = merge_latest(channel, self.latest.get(channel), data)
            self._withdrawn.discard(channel)
        self._wake.set()

    def withdraw(self, channel: str) -> None:
        """The channel's latest state is no longer true (a book found invalid): delete it from
        the cache, so that REST and new subscribers get nothing rather than a wrong book, until
        the next `publish` of the channel (never blocks)."""
        if self._closed:
            return
        self.latest.pop(channel, None)
        self._withdrawn.add(channel)
        self._wake.set()

    async def run(self) -> None:
        """Send batches until `aclose()`."""
        while not self._closed or self.pending or self._withdrawn:
            if not self.pending and not self._withdrawn:
                self._wake.clear()
                if self._closed:
                    break
                await self._wake.wait()
                continue
            await self.flush()

    async def flush(self) -> None:
        """Send everything queued now, in batches of at most `max_batch` updates, then
        delete the latest state of the withdrawn channels."""
        while self.pending:
            n = min(len(self.pending), self.max_batch)
            updates = [self.pending.popleft() for _ in range(n)]
            latest = {latest_key(ch): self.latest[ch] for ch, _ in updates if ch in self.latest}
            try:
                await self.layer.group_send(
                    FEED_GROUP, {"type": BATCH_TYPE, "updates": [list(u) for u in updates]}
                )
                await self.cache.aset_many(latest, timeout=LATEST_TTL)
            except Exception:  # the layer or cache is down: count, log, go on with the next
                self.errors += 1
                log.exception("feed publisher could not send %d updates", n)
                continue
            self.published += n
            self.batches += 1
            metrics.FEED_PUBLISHED.inc(n)
        if self._withdrawn:
            channels, self._withdrawn = self._withdrawn, set()
            try:
                await self.cache.adelete_many([latest_key(channel) for channel in channels])
            except Exception:
                self.errors += 1
                log.exception("feed publisher could not withdraw %d channels", len(channels))

    async def aclose(self) -> None:
        """Stop accepting updates; `run` sends what is queued and returns."""
        self._closed = True
        self._wake.set()


async def read_latest(channels: Iterable[str], cache: Any = None) -> dict[str, dict]:
    """The latest state of each of `channels` that has one (for snapshots and REST)."""
    if cache is None:
        from django.core.cache import cache as default_cache

        cache = default_cache
    names = list(channels)
    found = await cache.aget_many([latest_key(name) for name in names])
    return {name: found[latest_key(name)] for name in names if latest_key(name) in found}
