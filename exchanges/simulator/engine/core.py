"""The `Engine`: instruments, accounts, listeners and the read side; order entry, matching,
fees and margin come from the mixins beside it. Prices come from a `PriceSource` the market
generator attaches (`attach_market`), so the engine never imports the generator.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import ROUND_DOWN, Decimal
from typing import Protocol

from exchanges.simulator import demo
from exchanges.simulator.engine.book import Book, BookStats
from exchanges.simulator.engine.fees import EngineFees, FeeSchedule, default_fee
from exchanges.simulator.engine.margin import EngineMargin
from exchanges.simulator.engine.matching import EngineMatching
from exchanges.simulator.engine.orders import EngineOrders
from exchanges.simulator.engine.records import (
    DEFAULT_LEVERAGE,
    MAKER_ACCOUNT,
    TAKER_ACCOUNT,
    ZERO,
    Listener,
    RejectReason,
    SimAccount,
    SimBalance,
    SimFill,
    SimOrder,
    SimPosition,
    SimReject,
    SimTicker,
    SimTrade,
)
from exchanges.simulator.engine.triggers import EngineTriggers
from exchanges.simulator.instruments import DEFAULT_INSTRUMENTS, sim_symbol
from exchanges.simulator.market.pricing import OptionGreeks
from exchanges.venues.base import InstrumentInfo, InstrumentKind, Side, Venue

logger = logging.getLogger(__name__)


# First order id / trade id of each venue: numeric strings of the venue's usual length.
_ORDER_ID_BASE = {
    Venue.DERIBIT: 31_000_000_000,
    Venue.OKX: 700_000_000_000_000_000,
    Venue.BYBIT: 1_900_000_000_000_000_000,
}


_TRADE_ID_BASE = {
    Venue.DERIBIT: 350_000_000,
    Venue.OKX: 600_000_000,
    Venue.BYBIT: 2_100_000_000_000_000_000,
}


class InstrumentMarket(Protocol):
    """What a price source knows of one instrument beyond its book (a ticker reads these)."""

    funding_rate: Decimal
    open_interest: Decimal


class PriceSource(Protocol):
    """Where the engine's prices come from: index and mark prices, the option model, the
    per-instrument funding and open interest, and simulated time (`MarketGenerator`)."""

    time: float

    def index_price(self, asset: str) -> Decimal: ...
    def mark_price(self, venue: Venue, symbol: str) -> Decimal: ...
    def state(self, venue: Venue, symbol: str) -> InstrumentMarket: ...
    def option_greeks(self, venue: Venue, symbol: str) -> OptionGreeks: ...
    def implied_volatility(self, venue: Venue, symbol: str, price: Decimal) -> float: ...
    def step(self, dt: float) -> None: ...


class Engine(EngineOrders, EngineTriggers, EngineMatching, EngineMargin, EngineFees):
    """Matching and accounts for every simulated venue, priced by an attached `PriceSource`
    (`exchanges.simulator.engine` lists the conventions)."""

    def __init__(
        self,
        seed: int = 1,
        instruments: list[InstrumentInfo] | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
    ):
        self.seed = seed
        self.clock_ns = clock_ns
        self.market: PriceSource | None = None
        self.instruments: dict[tuple[Venue, str], InstrumentInfo] = {}
        for info in instruments if instruments is not None else DEFAULT_INSTRUMENTS:
            self.instruments[(info.venue, sim_symbol(info))] = info
        self.fees: dict[tuple[Venue, str], FeeSchedule] = {
            key: default_fee(info) for key, info in self.instruments.items()
        }
        self._books: dict[tuple[Venue, str], Book] = {key: Book() for key in self.instruments}
        self._stats: dict[tuple[Venue, str], BookStats] = {
            key: BookStats() for key in self.instruments
        }
        self._accounts: dict[tuple[Venue, str], SimAccount] = {}
        self._listeners: list[Listener] = []
        self._order_ids = {venue: itertools.count(base) for venue, base in _ORDER_ID_BASE.items()}
        self._trade_ids = {venue: itertools.count(base) for venue, base in _TRADE_ID_BASE.items()}
        self._book_batch = 0
        self._dirty_books: set[tuple[Venue, str]] = set()
        self._pending_positions: dict[tuple[int, str], tuple[SimAccount, SimPosition]] = {}
        self._pending_balances: set[int] = set()
        self._pending_accounts: dict[int, SimAccount] = {}
        for venue in {info.venue for info in self.instruments.values()}:
            self.add_account(venue, MAKER_ACCOUNT, "", balances={}, internal=True)
            self.add_account(venue, TAKER_ACCOUNT, "", balances={}, internal=True)

    def attach_market(self, market: PriceSource) -> None:
        """Take prices, marks, greeks and time steps from `market` (the market generator)."""
        self.market = market

    def instrument(self, venue: Venue, symbol: str) -> InstrumentInfo:
        info = self.instruments.get((venue, symbol))
        if info is None:
            raise SimReject(RejectReason.UNKNOWN_INSTRUMENT, f"{venue} has no instrument {symbol}")
        return info

    def instruments_of(self, venue: Venue) -> list[InstrumentInfo]:
        return [info for (v, _), info in self.instruments.items() if v is venue]

    def symbols_of(self, venue: Venue) -> list[str]:
        """Engine symbols of a venue's instruments, in listing order."""
        return [symbol for (v, symbol) in self.instruments if v is venue]

    def add_account(
        self,
        venue: Venue,
        api_key: str,
        secret: str,
        passphrase: str = "",
        balances: dict[str, Decimal] | None = None,
        *,
        internal: bool = False,
    ) -> SimAccount:
        """Open an account; `balances` None gives it the demo wallet (demo.DEMO_BALANCES)."""
        account = SimAccount(venue, api_key, secret, passphrase, internal=internal)
        wallet = demo.DEMO_BALANCES.get(venue, {}) if balances is None else balances
        now = self.clock_ns()
        for currency, amount in wallet.items():
            amount = Decimal(amount)
            account.balances[currency] = SimBalance(currency, amount, amount, ZERO, now)
        self._accounts[(venue, api_key)] = account
        return account

    def account(self, venue: Venue, api_key: str) -> SimAccount | None:
        return self._accounts.get((venue, api_key))

    def accounts(self, venue: Venue | None = None) -> list[SimAccount]:
        """User accounts (internal market accounts left out)."""
        return [
            a
            for (v, _), a in self._accounts.items()
            if not a.internal and (venue is None or v is venue)
        ]

    def _require_account(self, venue: Venue, api_key: str) -> SimAccount:
        account = self._accounts.get((venue, api_key))
        if account is None:
            raise KeyError(f"no {venue} account {api_key!r}")
        return account

    def set_leverage(self, venue: Venue, api_key: str, symbol: str, leverage: Decimal) -> None:
        """Leverage used for the margin of new orders and of the position in `symbol`."""
        self.instrument(venue, symbol)
        account = self._require_account(venue, api_key)
        account.leverage[symbol] = Decimal(leverage)
        position = account.positions.get(symbol)
        if position is not None:
            position.leverage = Decimal(leverage)
        self._touch_account(account)
        self._flush()

    def leverage_of(self, venue: Venue, api_key: str, symbol: str) -> Decimal:
        account = self._require_account(venue, api_key)
        return account.leverage.get(symbol, DEFAULT_LEVERAGE)

    def add_listener(self, listener: Listener) -> None:
        if listener not in self._listeners:
            self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def open_orders(self, venue: Venue, api_key: str, symbol: str | None = None) -> list[SimOrder]:
        account = self._require_account(venue, api_key)
        return [o for o in account.open_orders.values() if symbol is None or o.symbol == symbol]

    def get_order(
        self,
        venue: Venue,
        api_key: str,
        *,
        order_id: str | None = None,
        client_order_id: str | None = None,
    ) -> SimOrder | None:
        """Any order of the account, closed ones included; by client id, the latest."""
        return self._lookup(self._require_account(venue, api_key), order_id, client_order_id)

    def orders(self, venue: Venue, api_key: str, symbol: str | None = None) -> list[SimOrder]:
        """Every order of the account, oldest first (order history)."""
        account = self._require_account(venue, api_key)
        return [o for o in account.orders.values() if symbol is None or o.symbol == symbol]

    def fills(self, venue: Venue, api_key: str, symbol: str | None = None) -> list[SimFill]:
        account = self._require_account(venue, api_key)
        return [f for f in account.fills if symbol is None or f.symbol == symbol]

    def positions(
        self, venue: Venue, api_key: str, *, include_flat: bool = False
    ) -> list[SimPosition]:
        account = self._require_account(venue, api_key)
        return [p for p in account.positions.values() if include_flat or p.quantity != 0]

    def position(self, venue: Venue, api_key: str, symbol: str) -> SimPosition | None:
        return self._require_account(venue, api_key).positions.get(symbol)

    def balances(self, venue: Venue, api_key: str) -> list[SimBalance]:
        return list(self._require_account(venue, api_key).balances.values())

    def book(
        self, venue: Venue, symbol: str, depth: int | None = None
    ) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        self.instrument(venue, symbol)
        book = self._books[(venue, symbol)]
        return book.levels(Side.BUY, depth), book.levels(Side.SELL, depth)

    def base_for_quote(self, venue: Venue, symbol: str, quote_amount: Decimal) -> Decimal:
        """The base quantity a market buy spending `quote_amount` of the quote coin would take
        from the asks now, rounded down to the lot: how OKX (`tgtCcy` quote_ccy, "Place order")
        and Bybit (`marketUnit` quoteCoin, "Place Order") size a spot market buy."""
        info = self.instrument(venue, symbol)
        left, base = Decimal(quote_amount), ZERO
        for price, size in self._books[(venue, symbol)].levels(Side.SELL, None):
            take = min(size, left / price)
            base += take
            left -= take * price
            if left <= 0:
                break
        return (base / info.lot_size).to_integral_value(ROUND_DOWN) * info.lot_size

    def level_order_count(self, venue: Venue, symbol: str, side: Side, price: Decimal) -> int:
        """How many orders rest at `price` on the `side` of the book (0 for no level): the order
        count OKX books carry per level ("Order book": `[price, size, "0", orders]`)."""
        self.instrument(venue, symbol)
        return len(self._books[(venue, symbol)].side(Side(side)).get(price, ()))

    def ticker(self, venue: Venue, symbol: str) -> SimTicker:
        info = self.instrument(venue, symbol)
        book = self._books[(venue, symbol)]
        stats = self._stats[(venue, symbol)]
        bid = book.best(Side.BUY)
        ask = book.best(Side.SELL)
        state = self.market.state(venue, symbol)
        return SimTicker(
            venue=venue,
            symbol=symbol,
            best_bid=bid,
            best_bid_size=None if bid is None else book.sizes[Side.BUY][bid],
            best_ask=ask,
            best_ask_size=None if ask is None else book.sizes[Side.SELL][ask],
            # before the first trade here, the seeded day's open stands for the last trade
            last_price=book.last_price if book.last_price is not None else stats.open,
            mark_price=self.mark_price(venue, symbol),
            index_price=self.index_price(info.base),
            volume_24h=stats.volume,
            funding_rate=state.funding_rate if info.kind is InstrumentKind.PERPETUAL else None,
            open_interest=state.open_interest,
            ts_ns=self.clock_ns(),
            last_size=book.last_size,
            high_24h=stats.high,
            low_24h=stats.low,
            open_24h=stats.open,
        )

    def recent_trades(self, venue: Venue, symbol: str, limit: int = 100) -> list[SimTrade]:
        """The latest trades, newest first."""
        self.instrument(venue, symbol)
        trades = self._stats[(venue, symbol)].trades
        return list(itertools.islice(reversed(trades), limit))

    def index_price(self, asset: str) -> Decimal:
        return self.market.index_price(asset)

    def mark_price(self, venue: Venue, symbol: str) -> Decimal:
        self.instrument(venue, symbol)
        return self.market.mark_price(venue, symbol)

    def option_greeks(self, venue: Venue, symbol: str) -> OptionGreeks:
        """Model figures of an option now (`MarketGenerator.option_greeks`)."""
        self.instrument(venue, symbol)
        return self.market.option_greeks(venue, symbol)

    def implied_volatility(self, venue: Venue, symbol: str, price: Decimal) -> float:
        """The volatility at which the option model prices the option at `price` (base coin);
        0 where none does (`MarketGenerator.implied_volatility`)."""
        self.instrument(venue, symbol)
        return self.market.implied_volatility(venue, symbol, price)

    def seed_statistics(
        self, venue: Venue, symbol: str, *, volume: Decimal, open_price: Decimal
    ) -> None:
        """Start the ticker's 24 h figures (volume, open, high, low) somewhere plausible. Open,
        high and low are trade prices on the venue, so they sit on the instrument's tick."""
        tick = self.instrument(venue, symbol).tick_size
        stats = self._stats[(venue, symbol)]
        mark = (self.market.mark_price(venue, symbol) / tick).to_integral_value() * tick
        open_price = (open_price / tick).to_integral_value() * tick
        stats.volume = volume
        stats.open = open_price
        stats.high = max(open_price, mark)
        stats.low = min(open_price, mark)

    def step(self, dt_seconds: float) -> None:
        """Advance the market generator by `dt_seconds` of simulated time."""
        self.market.step(dt_seconds)

    @contextmanager
    def batch_book_updates(self) -> Iterator[None]:
        """Hold `on_book` until the block ends, so several orders make one book update."""
        self._book_batch += 1
        try:
            yield
        finally:
            self._book_batch -= 1
            if self._book_batch == 0:
                self._flush()

    def _emit(self, name: str, *args: object) -> None:
        for listener in list(self._listeners):
            try:
                getattr(listener, name)(*args)
            except Exception:
                logger.exception("simulator listener %r failed in %s", listener, name)

    def _emit_order(self, account: SimAccount, order: SimOrder) -> None:
        if not account.internal:
            self._emit("on_order", account, order)

    def _flush(self) -> None:
        """Send the positions, balances and book changes the last operation produced."""
        positions = list(self._pending_positions.values())
        self._pending_positions.clear()
        for account, position in positions:
            self._enforce_reduce_only(account, position)
        for account, position in positions:
            self._emit("on_position", account, position)
        accounts = list(self._pending_accounts.values())
        self._pending_accounts.clear()
        for account in accounts:
            for balance in self._relock(account):
                self._emit("on_balance", account, balance)
        if self._book_batch:
            return
        dirty = sorted(self._dirty_books, key=lambda k: (k[0].value, k[1]))
        self._dirty_books.clear()
        now = self.clock_ns()
        for venue, symbol in dirty:
            bids, asks = self._books[(venue, symbol)].take_changes()
            if bids or asks:
                self._emit("on_book", venue, symbol, bids, asks, now)
