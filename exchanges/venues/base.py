"""The normalized vocabulary shared by every venue adapter.

Everything here is venue-neutral: events a stream emits, requests the order path sends, the
instrument description `sync_instruments` stores, the error hierarchy, and credentials
(the protocols an adapter implements are in protocols.py). Amounts are `Decimal`, never float. Timestamps are integers in
nanoseconds since the Unix epoch (`exchange_ts` as stamped by the venue, `receive_ts` taken with
`time.time_ns()` when the message arrived), so latency can be measured without conversion.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

ZERO = Decimal(0)


def now_ns() -> int:
    return time.time_ns()


# --------------------------------------------------------------------------- enumerations


class Venue(enum.StrEnum):
    DERIBIT = "deribit"
    OKX = "okx"
    BYBIT = "bybit"


class Environment(enum.StrEnum):
    LIVE = "live"
    TESTNET = "testnet"
    SIMULATOR = "simulator"


class Side(enum.StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(enum.StrEnum):
    """Plain orders and conditional ones, which wait off the book until their trigger price
    is reached and then execute as a market or limit order (`trigger_direction`). Deribit
    `stop_*`/`take_*`; OKX algo orders (`conditional`); Bybit orders with a `triggerPrice`."""

    LIMIT = "limit"
    MARKET = "market"
    STOP_MARKET = "stop_market"
    STOP_LIMIT = "stop_limit"
    TAKE_PROFIT_MARKET = "take_profit_market"
    TAKE_PROFIT_LIMIT = "take_profit_limit"

    @property
    def is_conditional(self) -> bool:
        return self not in (OrderType.LIMIT, OrderType.MARKET)

    @property
    def is_stop(self) -> bool:
        return self in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT)

    @property
    def executes_as(self) -> OrderType:
        """The plain type the order executes as once triggered (itself for a plain order)."""
        if self in (OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT_LIMIT):
            return OrderType.LIMIT
        return OrderType.MARKET

    @property
    def has_price(self) -> bool:
        """Whether the order carries a limit price."""
        return self.executes_as is OrderType.LIMIT


class TriggerPrice(enum.StrEnum):
    """Which price a conditional order watches."""

    MARK = "mark"
    LAST = "last"
    INDEX = "index"


class TriggerDirection(enum.StrEnum):
    RISE = "rise"  # fires when the price is at or above the trigger
    FALL = "fall"  # fires when the price is at or below the trigger


def trigger_direction(order_type: OrderType, side: Side) -> TriggerDirection:
    """Which move fires a conditional order: a buy stop and a sell take profit on a rise, a
    sell stop and a buy take profit on a fall (`OrderType`)."""
    if not order_type.is_conditional:
        raise ValueError(f"{order_type} orders have no trigger")
    rises = (side is Side.BUY) == order_type.is_stop
    return TriggerDirection.RISE if rises else TriggerDirection.FALL


class TimeInForce(enum.StrEnum):
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"


class OrderStatus(enum.StrEnum):
    """Order life cycle (DESIGN.md). Transitions only go forward; see orders/state.py.
    `untriggered`: a conditional order accepted and waiting for its trigger price."""

    PENDING_NEW = "pending_new"
    UNTRIGGERED = "untriggered"
    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    PENDING_CANCEL = "pending_cancel"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL


_TERMINAL = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)


class InstrumentKind(enum.StrEnum):
    SPOT = "spot"
    PERPETUAL = "perpetual"
    FUTURE = "future"
    OPTION = "option"


class OptionType(enum.StrEnum):
    CALL = "call"
    PUT = "put"


class QuantityUnit(enum.StrEnum):
    """What an order quantity of an instrument counts (`quantities.py` converts it)."""

    BASE = "base"  # the base currency: spot, Bybit linear, Deribit linear and options
    CONTRACTS = "contracts"  # contracts of `contract_size` (OKX swaps, futures, options)
    QUOTE = "quote"  # the quote currency, USD: Deribit and Bybit inverse


class Liquidity(enum.StrEnum):
    MAKER = "maker"
    TAKER = "taker"


class ExecutionKind(enum.StrEnum):
    """What an account execution that is not a trade of one of its orders is."""

    FUNDING = "funding"  # a perpetual's periodic funding payment
    SETTLEMENT = "settlement"  # periodic settlement of a position's PnL (Deribit, Bybit USDC)
    DELIVERY = "delivery"  # a future or option reaching expiry
    ADL = "adl"  # auto-deleveraging closed part of the position
    LIQUIDATION = "liquidation"  # the venue took over the position


class StreamKind(enum.StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"


class StreamState(enum.StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    AUTHENTICATED = "authenticated"
    SUBSCRIBED = "subscribed"
    RESYNCING = "resyncing"  # a book gap or checksum mismatch: rebuilding, book not usable
    DISCONNECTED = "disconnected"
    STOPPED = "stopped"


class SubmitOutcome(enum.StrEnum):
    """What an order lookup found after a placement whose answer was lost."""

    ACCEPTED = "accepted"
    ABSENT = "absent"
    UNKNOWN = "unknown"


# --------------------------------------------------------------------------- reference data


@dataclass(frozen=True, slots=True)
class InstrumentInfo:
    """One tradable instrument as the venue lists it, in normalized form.

    `symbol` is the unified CCXT-style symbol (`BTC/USDT:USDT`), `venue_symbol` the venue's own
    (`BTC-USDT-SWAP`). `contract_size` is how much of the base (linear) or quote (inverse) one
    contract is; `lot_size` the quantity step; `min_size` the smallest order quantity, all in the
    venue's order quantity unit. `min_notional` is the smallest order value (quantity x
    contract size x price, in the quote currency) where the venue publishes and enforces one
    (Bybit spot `minOrderAmt`, Bybit linear `minNotionalValue`); None where it has none.
    """

    venue: Venue
    venue_symbol: str
    symbol: str
    kind: InstrumentKind
    base: str
    quote: str
    settle: str
    linear: bool
    contract_size: Decimal
    tick_size: Decimal
    lot_size: Decimal
    min_size: Decimal
    expiry_ts: int | None = None  # ns since epoch
    strike: Decimal | None = None
    option_type: OptionType | None = None
    active: bool = True
    min_notional: Decimal | None = None

    @property
    def inverse(self) -> bool:
        return not self.linear and self.kind is not InstrumentKind.SPOT


# --------------------------------------------------------------------------- stream events

PriceLevel = tuple[Decimal, Decimal]  # (price, size); size 0 in a delta removes the level


@dataclass(frozen=True, slots=True)
class BookSnapshot:
    venue: Venue
    symbol: str
    bids: tuple[PriceLevel, ...]  # best first
    asks: tuple[PriceLevel, ...]  # best first
    sequence: int
    exchange_ts: int
    receive_ts: int


@dataclass(frozen=True, slots=True)
class BookDelta:
    venue: Venue
    symbol: str
    bids: tuple[PriceLevel, ...]
    asks: tuple[PriceLevel, ...]
    sequence: int
    prev_sequence: int | None
    exchange_ts: int
    receive_ts: int


@dataclass(frozen=True, slots=True)
class Trade:
    venue: Venue
    symbol: str
    trade_id: str
    price: Decimal
    quantity: Decimal
    side: Side  # the taker's side
    exchange_ts: int
    receive_ts: int


@dataclass(frozen=True, slots=True)
class Ticker:
    venue: Venue
    symbol: str
    best_bid: Decimal | None
    best_bid_size: Decimal | None
    best_ask: Decimal | None
    best_ask_size: Decimal | None
    last_price: Decimal | None
    exchange_ts: int
    receive_ts: int
    mark_price: Decimal | None = None
    index_price: Decimal | None = None
    funding_rate: Decimal | None = None
    open_interest: Decimal | None = None
    volume_24h: Decimal | None = None


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """The venue's view of one order at one moment (an ack, a push, a query answer)."""

    venue: Venue
    symbol: str
    client_order_id: str | None
    venue_order_id: str | None
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    price: Decimal | None
    quantity: Decimal
    filled_quantity: Decimal
    average_price: Decimal | None
    status: OrderStatus
    exchange_ts: int
    receive_ts: int
    post_only: bool = False
    reduce_only: bool = False
    reject_reason: str = ""
    trigger_price: Decimal | None = None  # conditional orders (OrderType.is_conditional)
    trigger_by: TriggerPrice | None = None


def cancel_accepted(
    venue: Venue,
    symbol: str,
    *,
    client_order_id: str | None,
    venue_order_id: str | None,
    receive_ts: int,
) -> OrderUpdate:
    """What a venue's answer to a cancel says when it only names the order (OKX
    `cancel-order`, Bybit `/v5/order/cancel`): the cancel is accepted, the order is
    `pending_cancel`, and its final state comes on the private stream.

    The answer says nothing else about the order, so the update carries no venue time
    (`exchange_ts` 0: a push of the order's own time is never taken as older than it), no
    quantity (0), no price and no fill; side, type and time in force are placeholders.
    `orders.ingest.apply_order_update` takes from it only the status and the ids, and refuses
    to adopt an unknown order from it (an order's quantity is positive)."""
    return OrderUpdate(
        venue=venue,
        symbol=symbol,
        client_order_id=client_order_id,
        venue_order_id=venue_order_id,
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        price=None,
        quantity=ZERO,
        filled_quantity=ZERO,
        average_price=None,
        status=OrderStatus.PENDING_CANCEL,
        exchange_ts=0,
        receive_ts=receive_ts,
    )


@dataclass(frozen=True, slots=True)
class FillEvent:
    venue: Venue
    symbol: str
    trade_id: str  # the venue's execution id: unique per venue, the dedup key
    venue_order_id: str | None
    client_order_id: str | None
    side: Side
    price: Decimal
    quantity: Decimal
    fee: Decimal  # positive = paid, negative = rebate received
    fee_currency: str
    liquidity: Liquidity
    exchange_ts: int
    receive_ts: int


@dataclass(frozen=True, slots=True)
class AccountExecution:
    """An execution on the account that is not a trade of one of its orders (funding,
    settlement, delivery, ADL, liquidation): never a fill, recorded as what it is.

    `amount` is the cash it moved, signed from the account's side (positive received, negative
    paid), in `currency`. `quantity` (signed like a position change, contracts) and `price` are
    set when it changed the position (delivery, ADL, liquidation), zero/None for funding."""

    venue: Venue
    symbol: str
    kind: ExecutionKind
    execution_id: str  # the venue's id: the dedup key, with the symbol
    amount: Decimal
    currency: str
    exchange_ts: int
    receive_ts: int
    quantity: Decimal = ZERO
    price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class PositionUpdate:
    venue: Venue
    symbol: str
    quantity: Decimal  # signed: positive long, negative short, in contracts (or base for spot)
    entry_price: Decimal | None
    exchange_ts: int
    receive_ts: int
    mark_price: Decimal | None = None
    unrealized_pnl: Decimal | None = None
    realized_pnl: Decimal | None = None
    liquidation_price: Decimal | None = None
    leverage: Decimal | None = None


@dataclass(frozen=True, slots=True)
class BalanceUpdate:
    venue: Venue
    currency: str
    total: Decimal
    available: Decimal
    exchange_ts: int
    receive_ts: int
    locked: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class StreamStatus:
    venue: Venue
    stream: StreamKind
    state: StreamState
    receive_ts: int
    detail: str = ""
    symbol: str = ""


Event = (
    BookSnapshot
    | BookDelta
    | Trade
    | Ticker
    | OrderUpdate
    | FillEvent
    | AccountExecution
    | PositionUpdate
    | BalanceUpdate
    | StreamStatus
)


# --------------------------------------------------------------------------- order requests


@dataclass(frozen=True, slots=True)
class OrderRequest:
    symbol: str  # unified
    venue_symbol: str
    client_order_id: str
    side: Side
    order_type: OrderType
    quantity: Decimal
    price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    post_only: bool = False
    reduce_only: bool = False
    trigger_price: Decimal | None = None  # required for a conditional order type
    trigger_by: TriggerPrice = TriggerPrice.MARK


@dataclass(frozen=True, slots=True)
class AmendRequest:
    symbol: str
    venue_symbol: str
    client_order_id: str | None = None
    venue_order_id: str | None = None
    price: Decimal | None = None
    quantity: Decimal | None = None
    trigger_price: Decimal | None = None  # only with `conditional`
    conditional: OrderType | None = None  # the type of an untriggered conditional order


@dataclass(frozen=True, slots=True)
class FillPage:
    """One page of the account's executions: its `fills` (trades of its orders) and the
    `executions` of the same page that are no trade of an order (funding, settlement,
    delivery, ADL, liquidation), where the venue lists them together."""

    fills: tuple[FillEvent, ...]
    cursor: str | None  # pass back to continue after the last fill returned
    executions: tuple[AccountExecution, ...] = ()


# --------------------------------------------------------------------------- credentials


@dataclass(frozen=True, slots=True)
class Credentials:
    api_key: str
    secret: str = field(repr=False)
    passphrase: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where a venue lives: live, testnet and the local simulator differ only here.

    For Bybit `public_ws_url` is the prefix (`wss://stream.bybit.com/v5/public`) to which the
    adapter appends the category (`/spot`, `/linear`, `/inverse`, `/option`).
    """

    rest_url: str
    public_ws_url: str
    private_ws_url: str


# --------------------------------------------------------------------------- errors


class VenueError(Exception):
    """A venue said no (or could not be reached). Carries the venue's own code and message."""

    def __init__(self, message: str = "", *, venue: Venue | str = "", code: str | int = ""):
        super().__init__(message)
        self.venue = venue
        self.code = str(code)
        self.message = message

    def __str__(self) -> str:
        prefix = f"{self.venue} {self.code}".strip()
        return f"[{prefix}] {self.message}" if prefix else self.message


class AuthenticationError(VenueError):
    """Bad key, bad signature, expired token."""


class ClockSkew(AuthenticationError):
    """The request's timestamp was outside the venue's window (Bybit 10002, OKX 50102)."""


class PermissionDenied(VenueError):
    """The key lacks the permission (read-only key trading, IP not whitelisted)."""


class RateLimited(VenueError):
    def __init__(self, message: str = "", *, retry_after: float | None = None, **kw):
        super().__init__(message, **kw)
        self.retry_after = retry_after


class InvalidOrder(VenueError):
    """The venue rejected the order's parameters."""


class InvalidPrice(InvalidOrder):
    pass


class InvalidSize(InvalidOrder):
    pass


class InsufficientFunds(InvalidOrder):
    pass


class PostOnlyWouldCross(InvalidOrder):
    pass


class ReduceOnlyViolation(InvalidOrder):
    pass


class DuplicateClientOrderId(InvalidOrder):
    pass


class OrderNotFound(VenueError):
    pass


class VenueUnavailable(VenueError):
    """Maintenance, overload, 5xx, connection refused: nothing was decided."""


class RequestTimeout(VenueUnavailable):
    """The request may or may not have reached the venue."""


class SubmissionUncertain(VenueError):
    """A placement timed out and the lookup by client order id did not find the order
    (`outcome` ABSENT) or could not tell (`outcome` UNKNOWN). Never retried blindly:
    reconciliation settles it."""

    def __init__(self, message: str = "", *, outcome: SubmitOutcome, **kw):
        super().__init__(message, **kw)
        self.outcome = outcome


class ProtocolError(VenueError):
    """A message we cannot make sense of. Logged with its raw text and skipped."""


ErrorSpec = tuple[type[VenueError], str | None]
"""One row of a venue's error table: the error a code stands for, and a hint for a reader (the
venue's own short name or message for the code, or what it means here; None when there is none)."""

ErrorTable = Mapping[str, ErrorSpec]
"""A venue's one error table (`ERRORS` in `<venue>/constants.py`): the venue's error code, as
text, to its `ErrorSpec`. `constants.error_for(code, message, http_status)` reads it."""
