"""What the engine hands to faces and listeners: orders, fills, trades, positions, balances,
tickers and accounts, the reasons an order is refused or canceled, and the `Listener` base.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal

from exchanges.venues.base import (
    Liquidity,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    TriggerDirection,
    TriggerPrice,
    Venue,
)

ZERO = Decimal(0)


ONE = Decimal(1)


DEFAULT_LEVERAGE = Decimal(10)
PNL_QUANTUM = Decimal("0.0000000001")


MAKER_ACCOUNT = "__sim_maker__"


TAKER_ACCOUNT = "__sim_taker__"


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
    BELOW_MIN_NOTIONAL = "below_min_notional"
    ORDER_NOT_FOUND = "order_not_found"
    ORDER_CLOSED = "order_closed"
    DUPLICATE_CLIENT_ORDER_ID = "duplicate_client_order_id"
    UNKNOWN_INSTRUMENT = "unknown_instrument"
    FOK_NOT_FILLABLE = "fok_not_fillable"
    NO_LIQUIDITY = "no_liquidity"
    # a conditional order whose trigger is already reached (it would fire at once), or not on
    # the tick
    INVALID_TRIGGER_PRICE = "invalid_trigger_price"


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
    # a triggered conditional order that could not be placed (margin, reduce-only, no book)
    TRIGGER_FAILED = "trigger_failed"


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
    """The engine refused a request; faces map `reason` to the venue's own error code.
    `watched`: for a trigger refused because the price it watches has already reached it, that
    price (the venues answer that case with a code of its own)."""

    def __init__(self, reason: RejectReason, message: str = "", *, watched: Decimal | None = None):
        super().__init__(f"{reason}: {message}" if message else str(reason))
        self.reason = reason
        self.message = message or str(reason)
        self.watched = watched


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
    # conditional orders (`order_type.is_conditional`, `EngineTriggers`)
    trigger_price: Decimal | None = None
    trigger_by: TriggerPrice | None = None
    trigger_direction: TriggerDirection | None = None
    triggered_ns: int | None = None  # when it fired; None while UNTRIGGERED
    # the id of the order the trigger placed, on venues that give it one of its own (OKX
    # `ordId` beside the algo's `algoId`); `Engine.get_order` finds the order by either
    triggered_order_id: str | None = None

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.filled_quantity

    @property
    def is_open(self) -> bool:
        return self.status in (
            OrderStatus.NEW,
            OrderStatus.PARTIALLY_FILLED,
            OrderStatus.UNTRIGGERED,
        )

    @property
    def is_untriggered(self) -> bool:
        return self.status is OrderStatus.UNTRIGGERED


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
        self.open_orders: dict[str, SimOrder] = {}  # resting on the book
        self.conditional_orders: dict[str, SimOrder] = {}  # untriggered, off the book
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
