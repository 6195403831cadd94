"""The simulator's exchange core: instruments, price-time matching, accounts, fees, margin.

One `Engine` serves every venue. Books, accounts and order ids are kept per venue; the protocol
faces (`deribit.py`, `okx.py`, `bybit.py`) translate the wire into calls on this class and turn
the `Listener` callbacks into the venue's pushes. The market generator (`market.py`) trades
through the same books from two internal accounts per venue, a market maker and a taker.

Conventions a face relies on:

- Symbols are *engine symbols*: the venue symbol, except Bybit spot which is prefixed
  (`instruments.sim_symbol`, `BYBIT_SPOT_PREFIX`).
- Quantities are in the venue's order quantity unit: Deribit `amount` (USD for perpetuals and
  futures, BTC for options), OKX `sz` (base for spot, contracts for swaps), Bybit `qty` (base
  for spot and linear, USD for inverse).
- The engine is single-threaded (one asyncio loop calls it); listener callbacks run
  synchronously inside the call that caused them and receive the live objects, so a face
  serializes what it needs inside the callback.
- Callbacks for one operation arrive in this order: `on_order` (accepted, status NEW), then per
  match `on_trade`, `on_fill` (taker), `on_fill` (maker), `on_order` (maker), then `on_order`
  (the taker's final state), `on_position`, `on_balance`, and last `on_book`.
- A spot fill pays its fee in the coin it receives on OKX and Bybit (`SPOT_FEE_IN_RECEIVED_COIN`:
  a buy in the base coin, a sell in the quote coin), a derivative's in its settlement coin;
  `SimFill.fee_currency` and `SimOrder.fee_currency` say which, `Engine.fee_currency` before
  any fill.
- The internal market-maker and taker accounts never produce `on_order`, `on_fill`,
  `on_position` or `on_balance`; their trades still produce `on_trade`, `on_book` and fills
  for the user accounts they trade with.
- Every CANCELED order carries a `CancelReason`: an IOC remainder `IOC_REMAINDER`, a market
  order's unfilled rest `MARKET_REMAINDER`, an unfillable FOK `FOK_NOT_FILLABLE`, the way the
  venues report them; a market order against an empty book raises NO_LIQUIDITY.
- Venue rules a face chooses per call: `place_order(post_only_action=...)` (refuse a post-only
  order that would take, or record it and end it CANCELED or REJECTED with one `on_order`),
  `place_order(client_id_scope=...)` (a client order id unique among open orders or among all),
  `amend_order(at_or_below_filled=...)` (an amend to the filled size or below: refused or
  filling the order).
  The defaults are the behaviour the Deribit face is written against.
- `SimFill.closed_quantity` is what the fill closed of an opposite position and
  `SimFill.realized_pnl` what closing it earned (fee not included); in `on_fill` the position is
  already the one after the fill.
- `cancel_order(reason=...)` and `cancel_all(reason=...)` say why a face cancels (`DISCONNECT`
  for cancel-on-disconnect, `DEAD_MAN_SWITCH` for a countdown).
- `option_greeks` and `implied_volatility` give an option's model figures (the generator's
  Black-76 on the venue forward), so a face's greeks and volatilities agree with its prices.
"""

from __future__ import annotations

import enum
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

from sortedcontainers import SortedDict

from exchanges.simulator import demo
from exchanges.simulator.instruments import DEFAULT_INSTRUMENTS, sim_symbol
from exchanges.simulator.market import MarketConfig, MarketGenerator, OptionGreeks
from exchanges.venues.base import (
    InstrumentInfo,
    InstrumentKind,
    Liquidity,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    Venue,
)

__all__ = [
    "AmendAtOrBelowFilled",
    "CancelReason",
    "ClientIdScope",
    "Engine",
    "FeeSchedule",
    "Listener",
    "MarketConfig",
    "OptionGreeks",
    "PostOnlyAction",
    "RejectReason",
    "SimAccount",
    "SimBalance",
    "SimFill",
    "SimOrder",
    "SimPosition",
    "SimReject",
    "SimTicker",
    "SimTrade",
]

logger = logging.getLogger(__name__)

ZERO = Decimal(0)
ONE = Decimal(1)
FEE_QUANTUM = Decimal("0.00000001")
PNL_QUANTUM = Decimal("0.0000000001")
DEFAULT_LEVERAGE = Decimal(10)
MAINTENANCE_MARGIN = Decimal("0.005")
# Margin a short option position (or open sell order) ties up per unit of quantity, in the
# settlement coin: a flat simplification of Deribit's option margin formula.
OPTION_SHORT_MARGIN = Decimal("0.1")
# Deribit option fee: 0.0003 BTC per contract, capped at 12.5% of the option price
# (Deribit "Fees" page).
OPTION_FEE_PER_CONTRACT = Decimal("0.0003")
OPTION_FEE_CAP = Decimal("0.125")

# Venues whose spot fills pay the fee in the coin received (a buy in the base coin, a sell in
# the quote coin; the other way round at a negative maker rate): OKX "Get transaction details"
# (feeCcy BTC on a BTC-USDT buy), Bybit "Enums Definitions: Spot Fee Currency Instruction".
# Other venues pay spot fees in the quote coin (Deribit lists no spot instrument here).
SPOT_FEE_IN_RECEIVED_COIN = frozenset({Venue.OKX, Venue.BYBIT})

MAKER_ACCOUNT = "__sim_maker__"
TAKER_ACCOUNT = "__sim_taker__"

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


def tidy(value: Decimal) -> Decimal:
    """`value` rounded to 1e-10 without trailing zeros and never in exponent form (1E+5)."""
    value = value.quantize(PNL_QUANTUM).normalize()
    return value.quantize(ONE) if value.as_tuple().exponent > 0 else value


class RejectReason(enum.StrEnum):
    INSUFFICIENT_FUNDS = "insufficient_funds"
    POST_ONLY_WOULD_CROSS = "post_only_would_cross"
    REDUCE_ONLY = "reduce_only"
    INVALID_PRICE = "invalid_price"
    INVALID_SIZE = "invalid_size"
    ORDER_NOT_FOUND = "order_not_found"
    ORDER_CLOSED = "order_closed"
    DUPLICATE_CLIENT_ORDER_ID = "duplicate_client_order_id"
    UNKNOWN_INSTRUMENT = "unknown_instrument"
    FOK_NOT_FILLABLE = "fok_not_fillable"
    NO_LIQUIDITY = "no_liquidity"


class CancelReason(enum.StrEnum):
    """Why an order ended CANCELED; faces map it to the venue's cancel source or type.

    The values are the free-text reasons the engine used before this enum, so a face that still
    compares `cancel_reason` with those strings keeps working (a StrEnum equals its value).
    """

    USER = "canceled by user"
    CANCEL_ALL = "canceled by user (cancel all)"
    IOC_REMAINDER = "ioc"
    MARKET_REMAINDER = "market"
    FOK_NOT_FILLABLE = "fok_not_fillable"
    POST_ONLY_WOULD_TAKE = "post_only_would_take"
    REDUCE_ONLY_SHRUNK = "reduce_only"
    DEAD_MAN_SWITCH = "dead_man_switch"
    DISCONNECT = "cancel_on_disconnect"


class PostOnlyAction(enum.StrEnum):
    """What `place_order` does with a post-only order that would take liquidity.

    RAISE refuses it with `SimReject(POST_ONLY_WOULD_CROSS)` and records nothing (Deribit
    "private/buy" with `reject_post_only`: error 11054). CANCEL records the order, ends it
    CANCELED with `CancelReason.POST_ONLY_WOULD_TAKE` and returns it (OKX "Order channel"
    cancelSource 31; Bybit derivatives, rejectReason EC_PostOnlyWillTakeLiquidity). REJECT records
    it REJECTED with `reject_reason` POST_ONLY_WOULD_CROSS (Bybit spot: orderStatus Rejected).
    """

    RAISE = "raise"
    CANCEL = "cancel"
    REJECT = "reject"


class ClientIdScope(enum.StrEnum):
    """Which earlier orders of the account a new client order id may not repeat: OPEN the open
    ones (the default), ALL every order ever placed (Bybit "Place Order": orderLinkId must be
    unique, retCode 110072 / spot 170141 on any reuse)."""

    OPEN = "open"
    ALL = "all"


class AmendAtOrBelowFilled(enum.StrEnum):
    """What `amend_order` does with a new quantity at or below the order's filled quantity.

    REJECT_BELOW (the default): below is refused (INVALID_SIZE), equal ends the order FILLED
    (Bybit spot: 170313 "cannot be less than ... the filled quantity"). REJECT_AT_OR_BELOW: both
    are refused (Bybit derivatives: 110064 "cannot be less than or equal to the filled
    quantity"). FILL: both end the order FILLED at its filled quantity and price (OKX "Amend
    order", newSz: "If the new quantity of the order is less than or equal to the filled
    quantity ... the order status will be changed to filled").
    """

    REJECT_BELOW = "reject_below"
    REJECT_AT_OR_BELOW = "reject_at_or_below"
    FILL = "fill"


class SimReject(Exception):
    """The engine refused a request; faces map `reason` to the venue's own error code."""

    def __init__(self, reason: RejectReason, message: str = ""):
        super().__init__(f"{reason}: {message}" if message else str(reason))
        self.reason = reason
        self.message = message or str(reason)


# --------------------------------------------------------------------------- records


@dataclass(eq=False)
class SimOrder:
    order_id: str
    client_order_id: str | None
    api_key: str
    venue: Venue
    symbol: str
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    post_only: bool
    reduce_only: bool
    price: Decimal | None
    quantity: Decimal
    filled_quantity: Decimal
    average_price: Decimal | None
    status: OrderStatus
    created_ns: int
    updated_ns: int
    reject_reason: RejectReason | None = None
    cancel_reason: CancelReason | None = None
    fee_paid: Decimal = ZERO  # cumulative, in the fill's fee currency
    fee_currency: str = ""
    last_fill_price: Decimal | None = None
    last_fill_quantity: Decimal = ZERO

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.filled_quantity

    @property
    def is_open(self) -> bool:
        return self.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


@dataclass(frozen=True, slots=True)
class SimFill:
    trade_id: str
    order_id: str
    client_order_id: str | None
    api_key: str
    venue: Venue
    symbol: str
    side: Side
    price: Decimal
    quantity: Decimal
    fee: Decimal  # positive = paid, negative = rebate
    fee_currency: str
    liquidity: Liquidity
    ts_ns: int
    # How much of an opposite position this fill closed (0 for spot and for an opening fill);
    # the position listeners see in `on_fill` is already the one after the fill.
    closed_quantity: Decimal = ZERO
    # The profit or loss of the closed part, in the settlement coin, fee not included (0 for
    # spot and for an opening fill); the position's realized_pnl moved by this minus the fee.
    realized_pnl: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class SimTrade:
    trade_id: str
    venue: Venue
    symbol: str
    price: Decimal
    quantity: Decimal
    taker_side: Side
    ts_ns: int


@dataclass
class SimPosition:
    venue: Venue
    symbol: str
    quantity: Decimal = ZERO  # signed, order quantity units
    entry_price: Decimal | None = None
    realized_pnl: Decimal = ZERO  # settlement currency, fees included
    mark_price: Decimal | None = None
    unrealized_pnl: Decimal = ZERO
    liquidation_price: Decimal | None = None
    updated_ns: int = 0
    leverage: Decimal = DEFAULT_LEVERAGE
    margin: Decimal = ZERO  # initial margin tied up, settlement currency
    settle_currency: str = ""

    @property
    def side(self) -> Side | None:
        if self.quantity > 0:
            return Side.BUY
        if self.quantity < 0:
            return Side.SELL
        return None


@dataclass
class SimBalance:
    currency: str
    total: Decimal
    available: Decimal
    locked: Decimal = ZERO
    updated_ns: int = 0


@dataclass
class SimTicker:
    venue: Venue
    symbol: str
    best_bid: Decimal | None
    best_bid_size: Decimal | None
    best_ask: Decimal | None
    best_ask_size: Decimal | None
    last_price: Decimal | None
    mark_price: Decimal
    index_price: Decimal
    volume_24h: Decimal
    funding_rate: Decimal | None
    open_interest: Decimal
    ts_ns: int
    last_size: Decimal | None = None
    high_24h: Decimal | None = None
    low_24h: Decimal | None = None
    open_24h: Decimal | None = None


class SimAccount:
    """One API key on one venue: wallet, positions, orders and fills."""

    def __init__(
        self,
        venue: Venue,
        api_key: str,
        secret: str,
        passphrase: str = "",
        *,
        internal: bool = False,
    ):
        self.venue = venue
        self.api_key = api_key
        self.secret = secret
        self.passphrase = passphrase
        self.internal = internal
        self.balances: dict[str, SimBalance] = {}
        self.positions: dict[str, SimPosition] = {}
        self.leverage: dict[str, Decimal] = {}
        self.orders: dict[str, SimOrder] = {}  # every order by id, closed ones included
        self.open_orders: dict[str, SimOrder] = {}
        self.by_client_id: dict[str, SimOrder] = {}  # latest order with that client id
        self.fills: list[SimFill] = []

    def __repr__(self) -> str:
        return f"SimAccount({self.venue}, {self.api_key!r})"

    def balance(self, currency: str) -> SimBalance:
        bal = self.balances.get(currency)
        if bal is None:
            bal = self.balances[currency] = SimBalance(currency, ZERO, ZERO)
        return bal


class Listener:
    """Receives everything the engine does. Faces subclass it and override what they push."""

    def on_book(
        self,
        venue: Venue,
        symbol: str,
        bid_changes: list[tuple[Decimal, Decimal]],
        ask_changes: list[tuple[Decimal, Decimal]],
        ts_ns: int,
    ) -> None:
        """Aggregated level changes, best first; size 0 means the level is gone."""

    def on_trade(self, trade: SimTrade) -> None:
        pass

    def on_order(self, account: SimAccount, order: SimOrder) -> None:
        pass

    def on_fill(self, account: SimAccount, fill: SimFill) -> None:
        pass

    def on_position(self, account: SimAccount, position: SimPosition) -> None:
        pass

    def on_balance(self, account: SimAccount, balance: SimBalance) -> None:
        pass

    def on_ticker(self, ticker: SimTicker) -> None:
        pass


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    maker: Decimal
    taker: Decimal


def default_fee(info: InstrumentInfo) -> FeeSchedule:
    """Base-tier fee rates of each venue (fee pages of Deribit, OKX and Bybit, VIP 0)."""
    if info.venue is Venue.DERIBIT:
        return FeeSchedule(ZERO, Decimal("0.0005"))  # options use OPTION_FEE_* instead
    if info.venue is Venue.OKX:
        if info.kind is InstrumentKind.SPOT:
            return FeeSchedule(Decimal("0.0008"), Decimal("0.001"))
        return FeeSchedule(Decimal("0.0002"), Decimal("0.0005"))
    if info.kind is InstrumentKind.SPOT:
        return FeeSchedule(Decimal("0.001"), Decimal("0.001"))
    return FeeSchedule(Decimal("0.0002"), Decimal("0.00055"))


def quantity_unit(info: InstrumentInfo) -> Decimal:
    """How much of the contract currency one unit of order quantity is.

    Deribit's `amount` is already in USD (perpetuals, futures) or BTC (options); OKX swaps count
    contracts of `ctVal`; Bybit's contract size is 1.
    """
    return ONE if info.venue is Venue.DERIBIT else info.contract_size


# --------------------------------------------------------------------------- books


class _Book:
    """Price-time priority book of one instrument: price -> FIFO of resting orders."""

    __slots__ = ("asks", "bids", "dirty_asks", "dirty_bids", "last_price", "last_size", "sizes")

    def __init__(self) -> None:
        self.bids: SortedDict = SortedDict()  # best = last key
        self.asks: SortedDict = SortedDict()  # best = first key
        self.sizes: dict[Side, dict[Decimal, Decimal]] = {Side.BUY: {}, Side.SELL: {}}
        self.dirty_bids: set[Decimal] = set()
        self.dirty_asks: set[Decimal] = set()
        self.last_price: Decimal | None = None
        self.last_size: Decimal | None = None

    def side(self, side: Side) -> SortedDict:
        return self.bids if side is Side.BUY else self.asks

    def best(self, side: Side) -> Decimal | None:
        levels = self.side(side)
        if not levels:
            return None
        return levels.peekitem(-1 if side is Side.BUY else 0)[0]

    def mark_dirty(self, side: Side, price: Decimal) -> None:
        (self.dirty_bids if side is Side.BUY else self.dirty_asks).add(price)

    def add(self, order: SimOrder) -> None:
        levels = self.side(order.side)
        queue = levels.get(order.price)
        if queue is None:
            queue = levels[order.price] = deque()
        queue.append(order)
        sizes = self.sizes[order.side]
        sizes[order.price] = sizes.get(order.price, ZERO) + order.remaining
        self.mark_dirty(order.side, order.price)

    def remove(self, order: SimOrder) -> None:
        levels = self.side(order.side)
        queue = levels.get(order.price)
        if queue is None:
            return
        try:
            queue.remove(order)
        except ValueError:
            return
        self.reduce(order.side, order.price, order.remaining)
        if not queue:
            del levels[order.price]

    def reduce(self, side: Side, price: Decimal, quantity: Decimal) -> None:
        sizes = self.sizes[side]
        left = sizes.get(price, ZERO) - quantity
        if left > 0:
            sizes[price] = left
        else:
            sizes.pop(price, None)
        self.mark_dirty(side, price)

    def levels(self, side: Side, depth: int | None) -> list[tuple[Decimal, Decimal]]:
        levels = self.side(side)
        keys = reversed(levels.keys()) if side is Side.BUY else iter(levels.keys())
        sizes = self.sizes[side]
        return [(price, sizes[price]) for price in itertools.islice(keys, depth)]

    def take_changes(self) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        bids = [
            (p, self.sizes[Side.BUY].get(p, ZERO)) for p in sorted(self.dirty_bids, reverse=True)
        ]
        asks = [(p, self.sizes[Side.SELL].get(p, ZERO)) for p in sorted(self.dirty_asks)]
        self.dirty_bids.clear()
        self.dirty_asks.clear()
        return bids, asks


@dataclass
class _Stats:
    volume: Decimal = ZERO
    high: Decimal | None = None
    low: Decimal | None = None
    open: Decimal | None = None
    trades: deque = field(default_factory=lambda: deque(maxlen=1000))


# --------------------------------------------------------------------------- engine


class Engine:
    """Matching, accounts and the market generator for every simulated venue (module doc)."""

    def __init__(
        self,
        seed: int = 1,
        instruments: list[InstrumentInfo] | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
        config: MarketConfig | None = None,
    ):
        self.seed = seed
        self.clock_ns = clock_ns
        self.config = config or MarketConfig()
        self.instruments: dict[tuple[Venue, str], InstrumentInfo] = {}
        for info in instruments if instruments is not None else DEFAULT_INSTRUMENTS:
            self.instruments[(info.venue, sim_symbol(info))] = info
        self.fees: dict[tuple[Venue, str], FeeSchedule] = {
            key: default_fee(info) for key, info in self.instruments.items()
        }
        self._books: dict[tuple[Venue, str], _Book] = {key: _Book() for key in self.instruments}
        self._stats: dict[tuple[Venue, str], _Stats] = {key: _Stats() for key in self.instruments}
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
        self.market = MarketGenerator(self, self.config, seed)

    # ----------------------------------------------------------------- reference data

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

    # ----------------------------------------------------------------- accounts

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

    # ----------------------------------------------------------------- order entry

    def place_order(
        self,
        venue: Venue,
        api_key: str,
        symbol: str,
        *,
        side: Side,
        order_type: OrderType,
        quantity: Decimal,
        price: Decimal | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
        post_only: bool = False,
        reduce_only: bool = False,
        client_order_id: str | None = None,
        post_only_action: PostOnlyAction = PostOnlyAction.RAISE,
        client_id_scope: ClientIdScope = ClientIdScope.OPEN,
    ) -> SimOrder:
        """Validate, accept and match an order; returns it in its state after matching.

        A post-only order that would take is handled as `post_only_action` says
        (`PostOnlyAction`); a market order is never post-only (POST_ONLY_WOULD_CROSS). A
        `client_order_id` already used within `client_id_scope` is refused
        (DUPLICATE_CLIENT_ORDER_ID).
        """
        info = self.instrument(venue, symbol)
        account = self._require_account(venue, api_key)
        book = self._books[(venue, symbol)]
        side = Side(side)
        order_type = OrderType(order_type)
        time_in_force = TimeInForce(time_in_force)
        quantity = Decimal(quantity)
        price = None if price is None or order_type is OrderType.MARKET else Decimal(price)
        self._validate_size(info, quantity)
        if order_type is OrderType.LIMIT:
            self._validate_price(info, price)
        if client_order_id:
            existing = account.by_client_id.get(client_order_id)
            if existing is not None and (existing.is_open or client_id_scope is ClientIdScope.ALL):
                raise SimReject(
                    RejectReason.DUPLICATE_CLIENT_ORDER_ID,
                    f"client order id {client_order_id} is in use",
                )
        opposite_best = book.best(side.opposite)
        would_take = post_only and (
            order_type is OrderType.MARKET
            or (opposite_best is not None and self._crosses(side, price, opposite_best))
        )
        if would_take and (
            order_type is OrderType.MARKET or post_only_action is PostOnlyAction.RAISE
        ):
            raise SimReject(
                RejectReason.POST_ONLY_WOULD_CROSS,
                f"post-only {side} at {price} would take {opposite_best}",
            )
        if order_type is OrderType.MARKET and opposite_best is None:
            raise SimReject(RejectReason.NO_LIQUIDITY, f"no {side.opposite} orders in {symbol}")
        if reduce_only and not would_take:
            self._check_reduce_only(account, info, symbol, side, quantity)
        if not account.internal and not would_take:
            self._check_funds(account, info, book, side, order_type, quantity, price, reduce_only)

        now = self.clock_ns()
        order = SimOrder(
            order_id=str(next(self._order_ids[venue])),
            client_order_id=client_order_id or None,
            api_key=api_key,
            venue=venue,
            symbol=symbol,
            side=side,
            order_type=order_type,
            time_in_force=time_in_force,
            post_only=post_only,
            reduce_only=reduce_only,
            price=price,
            quantity=quantity,
            filled_quantity=ZERO,
            average_price=None,
            status=OrderStatus.NEW,
            created_ns=now,
            updated_ns=now,
        )
        if not account.internal:
            account.orders[order.order_id] = order
            if order.client_order_id:
                account.by_client_id[order.client_order_id] = order
        if would_take:
            if post_only_action is PostOnlyAction.REJECT:
                order.status = OrderStatus.REJECTED
                order.reject_reason = RejectReason.POST_ONLY_WOULD_CROSS
            else:
                order.status = OrderStatus.CANCELED
                order.cancel_reason = CancelReason.POST_ONLY_WOULD_TAKE
            self._emit_order(account, order)
            return order
        fok_short = time_in_force is TimeInForce.FOK and (
            self._fillable(book, side, price, quantity) < quantity
        )
        if fok_short:
            order.status = OrderStatus.CANCELED
            order.cancel_reason = CancelReason.FOK_NOT_FILLABLE
            self._emit_order(account, order)
            return order

        self._emit_order(account, order)
        self._match(account, info, book, order)
        rests = (
            order.remaining > 0
            and order.order_type is OrderType.LIMIT
            and order.time_in_force is TimeInForce.GTC
        )
        if rests:
            book.add(order)
            account.open_orders[order.order_id] = order
            self._dirty_books.add((venue, symbol))
            if not account.internal:
                self._touch_account(account)
        elif order.remaining > 0:
            order.status = OrderStatus.CANCELED
            order.cancel_reason = (
                CancelReason.IOC_REMAINDER
                if order.order_type is OrderType.LIMIT
                else CancelReason.MARKET_REMAINDER
            )
            order.updated_ns = self.clock_ns()
        if order.filled_quantity > 0 or order.status is not OrderStatus.NEW:
            self._emit_order(account, order)
        self._flush()
        return order

    def amend_order(
        self,
        venue: Venue,
        api_key: str,
        symbol: str,
        *,
        order_id: str | None = None,
        client_order_id: str | None = None,
        price: Decimal | None = None,
        quantity: Decimal | None = None,
        at_or_below_filled: AmendAtOrBelowFilled = AmendAtOrBelowFilled.REJECT_BELOW,
    ) -> SimOrder:
        """Change price and/or total quantity of an open order.

        A new price sends the order to the back of its new level (and it may match at once);
        a smaller quantity keeps its place, a larger one loses it. A quantity at or below the
        filled quantity is handled as `at_or_below_filled` says (`AmendAtOrBelowFilled`).
        """
        info = self.instrument(venue, symbol)
        account = self._require_account(venue, api_key)
        order = self._find_open(account, symbol, order_id, client_order_id)
        book = self._books[(venue, symbol)]
        new_price = order.price if price is None else Decimal(price)
        new_quantity = order.quantity if quantity is None else Decimal(quantity)
        if price is not None:
            self._validate_price(info, new_price)
        if quantity is not None:
            self._validate_size(info, new_quantity)
            rule = AmendAtOrBelowFilled(at_or_below_filled)
            filled = order.filled_quantity
            if rule is AmendAtOrBelowFilled.FILL and new_quantity <= filled:
                new_quantity, new_price = filled, order.price
            elif new_quantity < filled or (
                new_quantity == filled and rule is AmendAtOrBelowFilled.REJECT_AT_OR_BELOW
            ):
                raise SimReject(
                    RejectReason.INVALID_SIZE,
                    f"quantity {new_quantity} is not above the filled {filled}",
                )
        price_changed = new_price != order.price
        if price_changed and order.post_only:
            opposite_best = book.best(order.side.opposite)
            if opposite_best is not None and self._crosses(order.side, new_price, opposite_best):
                raise SimReject(
                    RejectReason.POST_ONLY_WOULD_CROSS,
                    f"post-only {order.side} at {new_price} would take {opposite_best}",
                )
        if not account.internal and (price_changed or new_quantity > order.quantity):
            extra = (new_quantity - order.filled_quantity, new_price)
            self._check_funds(
                account,
                info,
                book,
                order.side,
                OrderType.LIMIT,
                extra[0],
                extra[1],
                order.reduce_only,
                replacing=order,
            )

        keeps_priority = not price_changed and new_quantity <= order.quantity
        if keeps_priority:
            book.reduce(order.side, order.price, order.quantity - new_quantity)
            order.quantity = new_quantity
        else:
            book.remove(order)
            order.quantity = new_quantity
            order.price = new_price
        order.updated_ns = self.clock_ns()
        self._dirty_books.add((venue, symbol))
        if order.remaining == 0:
            order.status = OrderStatus.FILLED
            account.open_orders.pop(order.order_id, None)
            if keeps_priority:
                book.remove(order)
            self._emit_order(account, order)
        elif keeps_priority:
            self._emit_order(account, order)
        else:
            self._emit_order(account, order)
            before = order.filled_quantity
            self._match(account, info, book, order)
            if order.remaining > 0:
                book.add(order)
            else:
                account.open_orders.pop(order.order_id, None)
            if order.filled_quantity != before:
                self._emit_order(account, order)
        if not account.internal:
            self._touch_account(account)
        self._flush()
        return order

    def cancel_order(
        self,
        venue: Venue,
        api_key: str,
        symbol: str,
        *,
        order_id: str | None = None,
        client_order_id: str | None = None,
        reason: CancelReason = CancelReason.USER,
    ) -> SimOrder:
        """Cancel one open order with `reason` (`DISCONNECT` when a face's cancel-on-disconnect
        fires)."""
        self.instrument(venue, symbol)
        account = self._require_account(venue, api_key)
        order = self._find_open(account, symbol, order_id, client_order_id)
        self._cancel(account, order, CancelReason(reason))
        self._flush()
        return order

    def cancel_all(
        self,
        venue: Venue,
        api_key: str,
        symbol: str | None = None,
        *,
        reason: CancelReason = CancelReason.CANCEL_ALL,
    ) -> list[SimOrder]:
        """Cancel every open order of the account (in `symbol` only, if given) with `reason`
        (`DEAD_MAN_SWITCH` when a face's countdown fires)."""
        if symbol is not None:
            self.instrument(venue, symbol)
        account = self._require_account(venue, api_key)
        canceled = [
            order
            for order in list(account.open_orders.values())
            if symbol is None or order.symbol == symbol
        ]
        for order in canceled:
            self._cancel(account, order, CancelReason(reason))
        self._flush()
        return canceled

    def _cancel(self, account: SimAccount, order: SimOrder, reason: CancelReason) -> None:
        self._books[(order.venue, order.symbol)].remove(order)
        self._dirty_books.add((order.venue, order.symbol))
        account.open_orders.pop(order.order_id, None)
        order.status = OrderStatus.CANCELED
        order.cancel_reason = reason
        order.updated_ns = self.clock_ns()
        if not account.internal:
            self._touch_account(account)
        self._emit_order(account, order)

    def _find_open(
        self, account: SimAccount, symbol: str, order_id: str | None, client_order_id: str | None
    ) -> SimOrder:
        order = self._lookup(account, order_id, client_order_id)
        if order is None or order.symbol != symbol:
            raise SimReject(
                RejectReason.ORDER_NOT_FOUND,
                f"order {order_id or client_order_id} not found in {symbol}",
            )
        if not order.is_open:
            raise SimReject(RejectReason.ORDER_CLOSED, f"order {order.order_id} is {order.status}")
        return order

    @staticmethod
    def _lookup(
        account: SimAccount, order_id: str | None, client_order_id: str | None
    ) -> SimOrder | None:
        if order_id:
            order = account.orders.get(order_id) or account.open_orders.get(order_id)
            if order is not None and client_order_id and order.client_order_id != client_order_id:
                return None
            return order
        if client_order_id:
            return account.by_client_id.get(client_order_id)
        return None

    # ----------------------------------------------------------------- queries

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
            last_price=book.last_price,
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
        """Start the ticker's 24 h figures (volume, open, high, low) somewhere plausible."""
        stats = self._stats[(venue, symbol)]
        mark = self.market.mark_price(venue, symbol)
        stats.volume = volume
        stats.open = open_price
        stats.high = max(open_price, mark)
        stats.low = min(open_price, mark)

    def step(self, dt_seconds: float) -> None:
        """Advance the market generator by `dt_seconds` of simulated time."""
        self.market.step(dt_seconds)

    # ----------------------------------------------------------------- batching

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

    # ----------------------------------------------------------------- checks

    @staticmethod
    def _validate_price(info: InstrumentInfo, price: Decimal | None) -> None:
        if price is None or not price.is_finite() or price <= 0:
            raise SimReject(RejectReason.INVALID_PRICE, f"price {price} must be positive")
        if price % info.tick_size != 0:
            raise SimReject(
                RejectReason.INVALID_PRICE,
                f"price {price} is not a multiple of the tick {info.tick_size}",
            )

    @staticmethod
    def _validate_size(info: InstrumentInfo, quantity: Decimal) -> None:
        if not quantity.is_finite() or quantity <= 0:
            raise SimReject(RejectReason.INVALID_SIZE, f"quantity {quantity} must be positive")
        if quantity < info.min_size:
            raise SimReject(
                RejectReason.INVALID_SIZE,
                f"quantity {quantity} is below the minimum {info.min_size}",
            )
        if quantity % info.lot_size != 0:
            raise SimReject(
                RejectReason.INVALID_SIZE,
                f"quantity {quantity} is not a multiple of the lot {info.lot_size}",
            )

    @staticmethod
    def _crosses(side: Side, price: Decimal | None, opposite: Decimal) -> bool:
        if price is None:
            return True
        return price >= opposite if side is Side.BUY else price <= opposite

    @staticmethod
    def _fillable(book: _Book, side: Side, price: Decimal | None, quantity: Decimal) -> Decimal:
        total = ZERO
        for level_price, size in book.levels(side.opposite, None):
            if price is not None and not Engine._crosses(side, price, level_price):
                break
            total += size
            if total >= quantity:
                break
        return total

    def _check_reduce_only(
        self, account: SimAccount, info: InstrumentInfo, symbol: str, side: Side, quantity: Decimal
    ) -> None:
        if info.kind is InstrumentKind.SPOT:
            raise SimReject(RejectReason.REDUCE_ONLY, "reduce-only is not available for spot")
        position = account.positions.get(symbol)
        held = ZERO if position is None else position.quantity
        if held == 0 or (held > 0) == (side is Side.BUY) or quantity > abs(held):
            raise SimReject(
                RejectReason.REDUCE_ONLY,
                f"reduce-only {side} {quantity} would increase the position {held}",
            )

    def _check_funds(
        self,
        account: SimAccount,
        info: InstrumentInfo,
        book: _Book,
        side: Side,
        order_type: OrderType,
        quantity: Decimal,
        price: Decimal | None,
        reduce_only: bool,
        *,
        replacing: SimOrder | None = None,
    ) -> None:
        if reduce_only:
            return
        if order_type is OrderType.MARKET or price is None:
            cost, filled = ZERO, ZERO
            for level_price, size in book.levels(side.opposite, None):
                take = min(size, quantity - filled)
                cost += take * level_price
                filled += take
                if filled >= quantity:
                    break
            price = cost / filled if filled else ONE
        currency, needed = self._order_margin(account, info, side, quantity, price)
        if info.kind is InstrumentKind.SPOT and currency == self._spot_fee_currency(
            info, side, self.fees[(info.venue, sim_symbol(info))].taker
        ):
            needed += needed * self.fees[(info.venue, sim_symbol(info))].taker
        balance = account.balances.get(currency)
        available = ZERO if balance is None else balance.available
        if replacing is not None and replacing.price is not None:
            available += self._order_margin(
                account, info, replacing.side, replacing.remaining, replacing.price
            )[1]
        if needed > available:
            raise SimReject(
                RejectReason.INSUFFICIENT_FUNDS,
                f"needs {needed.quantize(FEE_QUANTUM)} {currency}, available "
                f"{available.quantize(FEE_QUANTUM)}",
            )

    def _order_margin(
        self,
        account: SimAccount,
        info: InstrumentInfo,
        side: Side,
        quantity: Decimal,
        price: Decimal,
    ) -> tuple[str, Decimal]:
        """Currency and amount an open order of `quantity` at `price` ties up."""
        if info.kind is InstrumentKind.SPOT:
            if side is Side.BUY:
                return info.quote, quantity * price
            return info.base, quantity
        unit = quantity_unit(info)
        if info.kind is InstrumentKind.OPTION:
            if side is Side.BUY:
                return info.settle, quantity * unit * price
            return info.settle, quantity * unit * OPTION_SHORT_MARGIN
        leverage = account.leverage.get(sim_symbol(info), DEFAULT_LEVERAGE)
        if info.linear:
            return info.settle, quantity * unit * price / leverage
        return info.settle, quantity * unit / price / leverage

    # ----------------------------------------------------------------- matching

    def _match(
        self, account: SimAccount, info: InstrumentInfo, book: _Book, order: SimOrder
    ) -> None:
        opposite = book.side(order.side.opposite)
        key = (order.venue, order.symbol)
        while order.remaining > 0 and opposite:
            level_price, queue = opposite.peekitem(-1 if order.side is Side.SELL else 0)
            if order.order_type is OrderType.LIMIT and not self._crosses(
                order.side, order.price, level_price
            ):
                break
            while queue and order.remaining > 0:
                maker = queue[0]
                quantity = min(maker.remaining, order.remaining)
                maker_account = self._accounts[(maker.venue, maker.api_key)]
                book.reduce(maker.side, level_price, quantity)
                self._execute(
                    info, key, account, order, maker_account, maker, level_price, quantity
                )
                if maker.remaining == 0:
                    queue.popleft()
                    maker_account.open_orders.pop(maker.order_id, None)
                self._emit_order(maker_account, maker)
            if not queue:
                del opposite[level_price]
            self._dirty_books.add(key)

    def _execute(
        self,
        info: InstrumentInfo,
        key: tuple[Venue, str],
        taker_account: SimAccount,
        taker: SimOrder,
        maker_account: SimAccount,
        maker: SimOrder,
        price: Decimal,
        quantity: Decimal,
    ) -> None:
        now = self.clock_ns()
        venue = taker.venue
        trade = SimTrade(
            trade_id=str(next(self._trade_ids[venue])),
            venue=venue,
            symbol=taker.symbol,
            price=price,
            quantity=quantity,
            taker_side=taker.side,
            ts_ns=now,
        )
        book = self._books[key]
        book.last_price = price
        book.last_size = quantity
        stats = self._stats[key]
        stats.volume += quantity
        stats.trades.append(trade)
        stats.open = stats.open if stats.open is not None else price
        stats.high = price if stats.high is None else max(stats.high, price)
        stats.low = price if stats.low is None else min(stats.low, price)
        self.market.on_trade(key, taker.side, quantity)
        self._emit("on_trade", trade)
        for acct, order, liquidity in (
            (taker_account, taker, Liquidity.TAKER),
            (maker_account, maker, Liquidity.MAKER),
        ):
            self._fill_order(order, price, quantity, now)
            if acct.internal:
                continue
            fee, fee_currency = self._fee(info, key, order.side, price, quantity, liquidity)
            order.fee_paid += fee
            order.fee_currency = fee_currency
            closed = self._closing(acct, order.symbol, order.side, quantity)
            pnl = self._settle(
                acct, info, order.symbol, order.side, price, quantity, fee, fee_currency, now
            )
            fill = SimFill(
                trade_id=trade.trade_id,
                order_id=order.order_id,
                client_order_id=order.client_order_id,
                api_key=order.api_key,
                venue=venue,
                symbol=order.symbol,
                side=order.side,
                price=price,
                quantity=quantity,
                fee=fee,
                fee_currency=fee_currency,
                liquidity=liquidity,
                ts_ns=now,
                closed_quantity=closed,
                realized_pnl=pnl,
            )
            acct.fills.append(fill)
            self._emit("on_fill", acct, fill)

    @staticmethod
    def _closing(account: SimAccount, symbol: str, side: Side, quantity: Decimal) -> Decimal:
        """How much of the account's position in `symbol` a fill of `side` would close."""
        position = account.positions.get(symbol)
        held = ZERO if position is None else position.quantity
        if held == 0 or (held > 0) == (side is Side.BUY):
            return ZERO
        return min(quantity, abs(held))

    @staticmethod
    def _fill_order(order: SimOrder, price: Decimal, quantity: Decimal, now: int) -> None:
        before = order.filled_quantity
        order.filled_quantity = before + quantity
        if order.average_price is None:
            order.average_price = price
        else:
            order.average_price = tidy(
                (order.average_price * before + price * quantity) / order.filled_quantity
            )
        order.last_fill_price = price
        order.last_fill_quantity = quantity
        order.status = OrderStatus.FILLED if order.remaining == 0 else OrderStatus.PARTIALLY_FILLED
        order.updated_ns = now

    def fee_currency(
        self, venue: Venue, symbol: str, side: Side, liquidity: Liquidity = Liquidity.TAKER
    ) -> str:
        """The coin a fill of `side` in `symbol` pays its fee in (`SPOT_FEE_IN_RECEIVED_COIN`
        for spot, the settlement coin otherwise), also for an order that has no fill yet."""
        info = self.instrument(venue, symbol)
        if info.kind is not InstrumentKind.SPOT:
            return info.settle
        schedule = self.fees[(venue, symbol)]
        rate = schedule.maker if liquidity is Liquidity.MAKER else schedule.taker
        return self._spot_fee_currency(info, Side(side), rate)

    @staticmethod
    def _spot_fee_currency(info: InstrumentInfo, side: Side, rate: Decimal) -> str:
        if info.venue not in SPOT_FEE_IN_RECEIVED_COIN:
            return info.quote
        receives_base = (side is Side.BUY) == (rate >= 0)
        return info.base if receives_base else info.quote

    def _fee(
        self,
        info: InstrumentInfo,
        key: tuple[Venue, str],
        side: Side,
        price: Decimal,
        quantity: Decimal,
        liquidity: Liquidity,
    ) -> tuple[Decimal, str]:
        unit = quantity_unit(info)
        if info.kind is InstrumentKind.SPOT:
            rate = self.fees[key].maker if liquidity is Liquidity.MAKER else self.fees[key].taker
            currency = self._spot_fee_currency(info, side, rate)
            amount = quantity if currency == info.base else quantity * price
            return (amount * rate).quantize(FEE_QUANTUM), currency
        if info.kind is InstrumentKind.OPTION and info.venue is Venue.DERIBIT:
            fee = min(
                OPTION_FEE_PER_CONTRACT * quantity * unit, OPTION_FEE_CAP * price * quantity * unit
            )
            return fee.quantize(FEE_QUANTUM), info.settle
        rate = self.fees[key].maker if liquidity is Liquidity.MAKER else self.fees[key].taker
        if info.kind is InstrumentKind.OPTION or info.linear:
            notional = quantity * unit * price
        else:
            notional = quantity * unit / price
        return (notional * rate).quantize(FEE_QUANTUM), info.settle

    def _settle(
        self,
        account: SimAccount,
        info: InstrumentInfo,
        symbol: str,
        side: Side,
        price: Decimal,
        quantity: Decimal,
        fee: Decimal,
        fee_currency: str,
        now: int,
    ) -> Decimal:
        """Move the wallet and the position for one fill of `account`; a spot fee comes out of
        `fee_currency`, a derivative's out of the settlement coin. Returns the profit or loss
        the fill realized (fee not included)."""
        if info.kind is InstrumentKind.SPOT:
            base = account.balance(info.base)
            quote = account.balance(info.quote)
            if side is Side.BUY:
                base.total += quantity
                quote.total -= quantity * price
            else:
                base.total -= quantity
                quote.total += quantity * price
            account.balance(fee_currency).total -= fee
            self._touch_account(account)
            return ZERO
        unit = quantity_unit(info)
        position = account.positions.get(symbol)
        if position is None:
            position = account.positions[symbol] = SimPosition(
                venue=info.venue,
                symbol=symbol,
                leverage=account.leverage.get(symbol, DEFAULT_LEVERAGE),
                settle_currency=info.settle,
            )
        held = position.quantity
        signed = quantity if side is Side.BUY else -quantity
        pnl = ZERO
        if held == 0 or (held > 0) == (signed > 0):
            size = abs(held) + quantity
            if position.entry_price is None or held == 0:
                position.entry_price = price
            elif info.linear or info.kind is InstrumentKind.OPTION:
                position.entry_price = (position.entry_price * abs(held) + price * quantity) / size
            else:
                position.entry_price = size / (abs(held) / position.entry_price + quantity / price)
        else:
            closed = min(quantity, abs(held))
            direction = 1 if held > 0 else -1
            pnl = self._pnl(info, closed * unit * direction, position.entry_price, price)
            if quantity > abs(held):
                position.entry_price = price
            elif quantity == abs(held):
                position.entry_price = None
        position.quantity = held + signed
        if position.entry_price is not None:
            position.entry_price = tidy(position.entry_price)
        settle = account.balance(info.settle)
        if info.kind is InstrumentKind.OPTION:
            premium = quantity * unit * price
            settle.total += (-premium if side is Side.BUY else premium) - fee
        else:
            settle.total += pnl - fee
        position.realized_pnl = tidy(position.realized_pnl + pnl - fee)
        position.updated_ns = now
        self._revalue(info, position)
        self._pending_positions[(id(account), symbol)] = (account, position)
        self._touch_account(account)
        return pnl

    @staticmethod
    def _pnl(
        info: InstrumentInfo, signed_value: Decimal, entry: Decimal, price: Decimal
    ) -> Decimal:
        """PnL in the settlement currency of `signed_value` (contract currency) from entry to price."""
        if info.linear or info.kind is InstrumentKind.OPTION:
            return tidy(signed_value * (price - entry))
        return tidy(signed_value * (ONE / entry - ONE / price))

    def _revalue(self, info: InstrumentInfo, position: SimPosition) -> None:
        mark = self.market.mark_price(info.venue, position.symbol)
        position.mark_price = mark
        unit = quantity_unit(info)
        if position.quantity == 0 or position.entry_price is None:
            position.unrealized_pnl = ZERO
            position.liquidation_price = None
            position.margin = ZERO
            return
        position.unrealized_pnl = self._pnl(
            info, position.quantity * unit, position.entry_price, mark
        )
        size = abs(position.quantity) * unit
        entry = position.entry_price
        if info.kind is InstrumentKind.OPTION:
            position.margin = size * OPTION_SHORT_MARGIN if position.quantity < 0 else ZERO
            position.liquidation_price = None
            return
        lev = position.leverage
        step = ONE / lev - MAINTENANCE_MARGIN
        if info.linear:
            position.margin = tidy(size * entry / lev)
            liq = entry * (ONE - step) if position.quantity > 0 else entry * (ONE + step)
        else:
            position.margin = tidy(size / entry / lev)
            liq = entry / (ONE + step) if position.quantity > 0 else entry / (ONE - step)
        position.liquidation_price = max(liq, ZERO).quantize(info.tick_size, ROUND_HALF_EVEN)

    def revalue_positions(self) -> None:
        """Mark every user position to the current mark price (no pushes)."""
        for account in self._accounts.values():
            if account.internal:
                continue
            for position in account.positions.values():
                info = self.instruments[(account.venue, position.symbol)]
                self._revalue(info, position)

    # ----------------------------------------------------------------- wallet

    def _touch_account(self, account: SimAccount) -> None:
        if not account.internal:
            self._pending_accounts[id(account)] = account

    def _relock(self, account: SimAccount) -> list[SimBalance]:
        """Recompute locked/available of every currency; returns the balances that changed."""
        locked: dict[str, Decimal] = {}
        for order in account.open_orders.values():
            if order.price is None or order.reduce_only:
                continue
            info = self.instruments[(order.venue, order.symbol)]
            currency, amount = self._order_margin(
                account, info, order.side, order.remaining, order.price
            )
            locked[currency] = locked.get(currency, ZERO) + amount
        for position in account.positions.values():
            if position.margin:
                currency = position.settle_currency
                locked[currency] = locked.get(currency, ZERO) + position.margin
        changed = []
        now = self.clock_ns()
        for currency in sorted(set(locked) | set(account.balances)):
            balance = account.balance(currency)
            new_locked = tidy(locked.get(currency, ZERO).quantize(FEE_QUANTUM, ROUND_DOWN))
            new_total = tidy(balance.total)
            new_available = new_total - new_locked
            if (new_locked, new_available, new_total) != (
                balance.locked,
                balance.available,
                balance.total,
            ):
                balance.locked = new_locked
                balance.total = new_total
                balance.available = new_available
                balance.updated_ns = now
                changed.append(balance)
        return changed

    def _enforce_reduce_only(self, account: SimAccount, position: SimPosition) -> None:
        """After the position moved, resting reduce-only orders may only close what is left:
        those that would now open or increase it are canceled, larger ones are cut down."""
        held = position.quantity
        for order in list(account.open_orders.values()):
            if not order.reduce_only or order.symbol != position.symbol:
                continue
            if held == 0 or (held > 0) == (order.side is Side.BUY):
                self._cancel(account, order, CancelReason.REDUCE_ONLY_SHRUNK)
            elif order.remaining > abs(held):
                book = self._books[(order.venue, order.symbol)]
                book.reduce(order.side, order.price, order.remaining - abs(held))
                order.quantity = order.filled_quantity + abs(held)
                order.updated_ns = self.clock_ns()
                self._dirty_books.add((order.venue, order.symbol))
                self._emit_order(account, order)

    # ----------------------------------------------------------------- events

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
