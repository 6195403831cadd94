"""The protocols a venue adapter implements (`<venue>/auth.py`, `symbols.py`, `rest.py`,
`public.py`, `private.py`), over the vocabulary of `base.py`, which re-exports them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # annotations only
    from exchanges.venues.base import (
        AmendRequest,
        BalanceUpdate,
        BookSnapshot,
        Credentials,
        Event,
        FillPage,
        InstrumentInfo,
        OrderRequest,
        OrderUpdate,
        PositionUpdate,
        Ticker,
        Trade,
        Venue,
    )
    from exchanges.venues.clock import Clock


@runtime_checkable
class Signer(Protocol):
    """Signs the requests of one API key, timestamps taken from the venue clock (`clock.Clock`,
    shared with the REST client that measures its offset). One per venue, in `<venue>/auth.py`,
    named `<Venue>Signer`.

    `rest_headers` returns the headers that authenticate one HTTP request (`request_path` with
    its query string, `body` the raw text sent); `ws_login` the venue's WebSocket login: the
    whole message (OKX `login`, Bybit `auth`) or, for Deribit's JSON-RPC, the `public/auth`
    params (the session puts them into a request with its own id).
    """

    credentials: Credentials
    clock: Clock

    def rest_headers(self, method: str, request_path: str, body: str = "") -> dict[str, str]: ...
    def ws_login(self) -> dict: ...


@runtime_checkable
class SymbolTable(Protocol):
    """A venue's instruments by its own symbol and by unified symbol: `SymbolTable` in
    `<venue>/symbols.py`, built from the listing (`SymbolTable(instruments)`); a name not in
    it is derived from the venue's naming rules and cached, so a stream can name a symbol
    before the listing is loaded. `unified(venue(symbol)) == symbol`.

    `venue_symbol` is the venue's own name (`BTC-USDT-SWAP`, `BTC-PERPETUAL`); for Bybit,
    whose bare names repeat across categories, `category:NAME` (`linear:BTCUSDT`), or the bare
    name when it is listed in one category only (see bybit/symbols.py).
    """

    def __len__(self) -> int: ...
    def add(self, info: InstrumentInfo) -> None: ...
    def add_all(self, instruments: Iterable[InstrumentInfo]) -> None: ...
    def info(self, venue_symbol: str) -> InstrumentInfo | None: ...
    def instruments(self) -> list[InstrumentInfo]: ...
    def unified(self, venue_symbol: str) -> str: ...
    def venue(self, symbol: str) -> str: ...


@runtime_checkable
class RestClient(Protocol):
    """Synchronous REST client of one venue account (or anonymous for public data).

    `venue_symbol` arguments take the venue's own symbol (`BTC-USDT-SWAP`, `BTC-PERPETUAL`).
    A client may also accept the unified symbol there, and must where the venue's own name does
    not identify one instrument: Bybit's `BTCUSDT` is both a spot pair and a linear perpetual,
    so its client resolves `BTC/USDT` / `BTC/USDT:USDT` (or `spot:BTCUSDT`) through its
    symbol table (bybit/symbols.py). `close()` releases the pooled connections; the client is
    not used after it.
    """

    venue: Venue

    def server_time(self) -> int: ...  # ns since epoch
    def sync_clock(self) -> int: ...  # measure and store the offset (ns) used when signing
    def instruments(self) -> list[InstrumentInfo]: ...
    def ticker(self, venue_symbol: str) -> Ticker: ...
    def order_book(self, venue_symbol: str, depth: int = 50) -> BookSnapshot: ...
    def recent_trades(self, venue_symbol: str, limit: int = 100) -> list[Trade]: ...  # oldest first
    def place_order(self, request: OrderRequest) -> OrderUpdate: ...
    def amend_order(self, request: AmendRequest) -> OrderUpdate: ...
    def cancel_order(
        self,
        venue_symbol: str,
        *,
        client_order_id: str | None = None,
        venue_order_id: str | None = None,
        conditional: bool = False,  # an untriggered conditional order (OrderType.is_conditional)
    ) -> OrderUpdate: ...
    def cancel_all(self, venue_symbol: str | None = None) -> int: ...
    def open_orders(self, venue_symbol: str | None = None) -> list[OrderUpdate]: ...
    def order_by_client_id(self, venue_symbol: str, client_order_id: str) -> OrderUpdate | None: ...
    def fills(self, *, cursor: str | None = None, venue_symbol: str | None = None) -> FillPage: ...
    def positions(self) -> list[PositionUpdate]: ...
    def balances(self) -> list[BalanceUpdate]: ...
    def set_dead_man_switch(self, timeout_seconds: int) -> None: ...  # 0 turns it off
    def close(self) -> None: ...


@runtime_checkable
class PublicStream(Protocol):
    """Public WebSocket stream: books, trades and tickers for a set of venue symbols
    (`<Venue>PublicStream` in `<venue>/public.py`, over a sans-IO `<Venue>PublicSession`).

    The first `subscribe()` opens the socket; `events()` only reads, until `close()`. A
    consumer that falls behind loses events rather than memory: a book it missed a message of
    is rebuilt and announced with `StreamStatus(RESYNCING)` (ws.py, "A consumer that falls
    behind").
    """

    venue: Venue

    def events(self) -> AsyncIterator[Event]: ...
    async def subscribe(
        self,
        venue_symbols: list[str],
        *,
        books: bool = True,
        trades: bool = True,
        tickers: bool = True,
    ) -> None: ...
    async def unsubscribe(self, venue_symbols: list[str]) -> None: ...
    async def close(self) -> None: ...


@runtime_checkable
class PrivateStream(Protocol):
    """Private WebSocket stream: orders, fills, positions and balances after login
    (`<Venue>PrivateStream` over a sans-IO `<Venue>PrivateSession`). Iterating `events()`
    opens the socket; the session logs in and subscribes its channels itself."""

    venue: Venue

    def events(self) -> AsyncIterator[Event]: ...
    async def close(self) -> None: ...
