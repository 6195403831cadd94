"""Deribit API v2 facts in one place: endpoints, method groups and rate limits, the
wire-to-normalized maps, and the one error-code table.

Sources (see tests/fixtures/venues/SOURCES.md, "Deribit"):
- Hosts `https://www.deribit.com/api/v2/{method}` and `wss://www.deribit.com/ws/api/v2`,
  test environment `test.deribit.com` (docs: network connectivity).
- Rate limits are credit buckets per account (support article "Rate Limits"; the numbers an
  account reports in `private/get_account_summaries` -> `limits`): non-matching-engine requests
  20/s with a burst of 100, matching-engine (order entry) 5/s burst 20, cancel-all 5/s burst 20.
  Tiers can be higher; pass the REST client a `limiter` built from other limits.
- Error codes: docs "RPC Error Codes".
"""

from __future__ import annotations

from exchanges.venues.base import (
    AuthenticationError,
    ClockSkew,
    DuplicateClientOrderId,
    Endpoints,
    ErrorTable,
    ExecutionKind,
    InstrumentKind,
    InsufficientFunds,
    InvalidOrder,
    InvalidPrice,
    InvalidSize,
    Liquidity,
    OrderNotFound,
    OrderStatus,
    OrderType,
    PermissionDenied,
    PostOnlyWouldCross,
    RateLimited,
    ReduceOnlyViolation,
    Side,
    TimeInForce,
    TriggerPrice,
    Venue,
    VenueError,
    VenueUnavailable,
)
from exchanges.venues.ratelimit import Limit

LIVE_ENDPOINTS = Endpoints(
    rest_url="https://www.deribit.com",
    public_ws_url="wss://www.deribit.com/ws/api/v2",
    private_ws_url="wss://www.deribit.com/ws/api/v2",
)
TESTNET_ENDPOINTS = Endpoints(
    rest_url="https://test.deribit.com",
    public_ws_url="wss://test.deribit.com/ws/api/v2",
    private_ws_url="wss://test.deribit.com/ws/api/v2",
)
API_PREFIX = "/api/v2/"

# --------------------------------------------------------------------------- methods

METHOD_GET_TIME = "public/get_time"
METHOD_AUTH = "public/auth"
METHOD_TEST = "public/test"
METHOD_SET_HEARTBEAT = "public/set_heartbeat"
METHOD_GET_INSTRUMENTS = "public/get_instruments"
METHOD_TICKER = "public/ticker"
METHOD_GET_ORDER_BOOK = "public/get_order_book"
METHOD_LAST_TRADES = "public/get_last_trades_by_instrument"  # `count` up to 1000
LAST_TRADES_MAX = 1000
METHOD_PUBLIC_SUBSCRIBE = "public/subscribe"
METHOD_PUBLIC_UNSUBSCRIBE = "public/unsubscribe"
METHOD_PRIVATE_SUBSCRIBE = "private/subscribe"
METHOD_BUY = "private/buy"
METHOD_SELL = "private/sell"
METHOD_EDIT = "private/edit"
METHOD_EDIT_BY_LABEL = "private/edit_by_label"
METHOD_CANCEL = "private/cancel"
METHOD_CANCEL_BY_LABEL = "private/cancel_by_label"
METHOD_CANCEL_ALL = "private/cancel_all"
METHOD_CANCEL_ALL_BY_INSTRUMENT = "private/cancel_all_by_instrument"
METHOD_GET_OPEN_ORDERS = "private/get_open_orders"
METHOD_GET_OPEN_ORDERS_BY_INSTRUMENT = "private/get_open_orders_by_instrument"
METHOD_GET_ORDER_STATE = "private/get_order_state"
METHOD_GET_ORDER_STATE_BY_LABEL = "private/get_order_state_by_label"
METHOD_GET_USER_TRADES_BY_CURRENCY = "private/get_user_trades_by_currency"
METHOD_GET_USER_TRADES_BY_INSTRUMENT = "private/get_user_trades_by_instrument"
METHOD_GET_POSITIONS = "private/get_positions"
METHOD_GET_ACCOUNT_SUMMARIES = "private/get_account_summaries"
METHOD_ENABLE_CANCEL_ON_DISCONNECT = "private/enable_cancel_on_disconnect"
METHOD_DISABLE_CANCEL_ON_DISCONNECT = "private/disable_cancel_on_disconnect"

WS_SUBSCRIBE_BATCH = 100  # channels per subscribe request, well inside the 32 kB frame limit
WS_PING_INTERVAL = 10  # seconds: public/set_heartbeat interval (Deribit's minimum), test pings
WS_IDLE_TIMEOUT = 3 * WS_PING_INTERVAL  # three missed heartbeats

# --------------------------------------------------------------------------- rate limits

NON_MATCHING_ENGINE = "non_matching_engine"
MATCHING_ENGINE = "matching_engine"
CANCEL_ALL_GROUP = "cancel_all"

RATE_LIMITS: dict[str, Limit] = {
    NON_MATCHING_ENGINE: Limit(rate=20, burst=100),
    MATCHING_ENGINE: Limit(rate=5, burst=20),
    CANCEL_ALL_GROUP: Limit(rate=5, burst=20),
}
RATE_LIMIT_DEFAULT_GROUP = NON_MATCHING_ENGINE
RATE_LIMIT_GROUPS: dict[str, str] = {
    METHOD_BUY: MATCHING_ENGINE,
    METHOD_SELL: MATCHING_ENGINE,
    METHOD_EDIT: MATCHING_ENGINE,
    METHOD_EDIT_BY_LABEL: MATCHING_ENGINE,
    METHOD_CANCEL: MATCHING_ENGINE,
    METHOD_CANCEL_BY_LABEL: MATCHING_ENGINE,
    METHOD_CANCEL_ALL: CANCEL_ALL_GROUP,
    METHOD_CANCEL_ALL_BY_INSTRUMENT: CANCEL_ALL_GROUP,
}
RATE_LIMIT_PENALTY_SECONDS = 1.0

# --------------------------------------------------------------------------- wire maps

SIDES: dict[str, Side] = {"buy": Side.BUY, "sell": Side.SELL}  # `direction`
INSTRUMENT_KINDS: dict[str, InstrumentKind] = {  # `kind`; a perpetual is a `future` whose
    "future": InstrumentKind.FUTURE,  # `settlement_period` is PERPETUAL_PERIOD
    "option": InstrumentKind.OPTION,
    "spot": InstrumentKind.SPOT,
}
PERPETUAL_PERIOD = "perpetual"

# `order_state`: "untriggered" is a trigger order waiting; "triggered" the trigger order once
# fired (the order it places follows under its own `order_id`, with `trigger_order_id`).
ORDER_STATUS: dict[str, OrderStatus] = {
    "open": OrderStatus.NEW,
    "untriggered": OrderStatus.UNTRIGGERED,
    "triggered": OrderStatus.NEW,
    "filled": OrderStatus.FILLED,
    "rejected": OrderStatus.REJECTED,
    "cancelled": OrderStatus.CANCELED,
}
ORDER_TYPES: dict[str, OrderType] = {
    "limit": OrderType.LIMIT,
    "stop_limit": OrderType.STOP_LIMIT,
    "take_limit": OrderType.TAKE_PROFIT_LIMIT,
    "market": OrderType.MARKET,
    "stop_market": OrderType.STOP_MARKET,
    "take_market": OrderType.TAKE_PROFIT_MARKET,
    "market_limit": OrderType.MARKET,
    "liquidation": OrderType.MARKET,
}
# private/buy|sell `type` ("order_type" enum; a take profit is Deribit's "take").
ORDER_TYPE_WIRE: dict[OrderType, str] = {
    OrderType.LIMIT: "limit",
    OrderType.MARKET: "market",
    OrderType.STOP_LIMIT: "stop_limit",
    OrderType.STOP_MARKET: "stop_market",
    OrderType.TAKE_PROFIT_LIMIT: "take_limit",
    OrderType.TAKE_PROFIT_MARKET: "take_market",
}
# `trigger`: the price a trigger order watches (private/buy "trigger", required for them).
TRIGGERS: dict[str, TriggerPrice] = {
    "index_price": TriggerPrice.INDEX,
    "mark_price": TriggerPrice.MARK,
    "last_price": TriggerPrice.LAST,
}
TRIGGER_WIRE: dict[TriggerPrice, str] = {value: name for name, value in TRIGGERS.items()}
# Trigger-order ids carry letters before the number (documented examples "SLTB-187015",
# "SLIB-370", "SLIS-103"); order ids are numbers, `ETH-100234` outside BTC.
TRIGGER_ORDER_ID_PREFIXES = ("SL", "TP")
TIME_IN_FORCE: dict[str, TimeInForce] = {
    "good_til_cancelled": TimeInForce.GTC,
    "good_til_day": TimeInForce.GTC,
    "immediate_or_cancel": TimeInForce.IOC,
    "fill_or_kill": TimeInForce.FOK,
}
TIME_IN_FORCE_WIRE: dict[TimeInForce, str] = {
    TimeInForce.GTC: "good_til_cancelled",
    TimeInForce.IOC: "immediate_or_cancel",
    TimeInForce.FOK: "fill_or_kill",
}
LIQUIDITY = {"M": Liquidity.MAKER, "T": Liquidity.TAKER}
# a settlement history entry's `type` that is an account execution (a `bankruptcy` entry, the
# socialised loss, is not one of the account's own)
SETTLEMENT_KINDS = {"settlement": ExecutionKind.SETTLEMENT, "delivery": ExecutionKind.DELIVERY}
CLIENT_ORDER_ID_MAX = 64  # `label`: "user defined label for the order (maximum 64 characters)"

# --------------------------------------------------------------------------- errors

ERROR_TOO_MANY_REQUESTS = "10028"

# code -> (error class, Deribit's short name). Codes not listed map to VenueError.
ERRORS: ErrorTable = {
    "10000": (AuthenticationError, "authorization_required"),
    "10002": (InvalidSize, "qty_too_low"),
    "10004": (OrderNotFound, "order_not_found"),
    "10005": (InvalidPrice, "price_too_low"),
    "10006": (InvalidPrice, "price_too_low4idx"),
    "10007": (InvalidPrice, "price_too_high"),
    "10009": (InsufficientFunds, "not_enough_funds"),
    "10010": (OrderNotFound, "already_closed"),
    "10011": (InvalidPrice, "price_not_allowed"),
    "10012": (VenueUnavailable, "book_closed"),
    "10019": (PermissionDenied, "locked_by_admin"),
    "10020": (InvalidOrder, "invalid_or_unsupported_instrument"),
    "10021": (InvalidSize, "invalid_amount"),
    "10022": (InvalidSize, "invalid_quantity"),
    "10023": (InvalidPrice, "invalid_price"),
    "10025": (OrderNotFound, "invalid_order_id"),
    "10026": (InvalidPrice, "price_precision_exceeded"),
    "10027": (InvalidSize, "non_integer_contract_amount"),
    "10028": (RateLimited, "too_many_requests"),
    "10029": (PermissionDenied, "not_owner_of_order"),
    "10032": (InvalidSize, "whole_cost_too_low"),
    "10039": (InsufficientFunds, "not_enough_funds_in_currency"),
    "10040": (VenueUnavailable, "retry"),
    "10041": (VenueUnavailable, "settlement_in_progress"),
    "10034": (InvalidOrder, "trigger_price_too_high"),  # a fall must reach it: already below
    "10035": (InvalidOrder, "trigger_price_too_low"),  # a rise must reach it: already above
    "10043": (InvalidPrice, "price_wrong_tick"),
    "10044": (InvalidOrder, "trigger_price_wrong_tick"),
    "10047": (RateLimited, "matching_engine_queue_full"),
    "10066": (RateLimited, "too_many_concurrent_requests"),
    "11008": (OrderNotFound, "already_filled"),
    "11029": (InvalidOrder, "invalid_arguments"),
    "11036": (InvalidOrder, "invalid_trigger_price"),
    "11042": (PermissionDenied, "permission_denied"),
    "11043": (InvalidOrder, "bad_argument"),
    "11044": (OrderNotFound, "not_open_order"),
    "11049": (InvalidOrder, "bad_arguments"),
    "11050": (InvalidOrder, "bad_request"),
    "11051": (VenueUnavailable, "system_maintenance"),
    "11054": (PostOnlyWouldCross, "post_only_reject"),
    "11094": (VenueUnavailable, "internal_server_error"),
    "11098": (PermissionDenied, "account_locked"),
    "13004": (AuthenticationError, "invalid_credentials"),
    "13009": (AuthenticationError, "unauthorized"),
    "13021": (PermissionDenied, "forbidden"),
    "13028": (VenueUnavailable, "temporarily_unavailable"),
    "13032": (DuplicateClientOrderId, "non_unique_order_label"),
    "13403": (PermissionDenied, "scope_exceeded"),
    "13503": (VenueUnavailable, "unavailable"),
    "13888": (ClockSkew, "timed_out"),
}
# Deribit names no reduce-only code of its own; its rejection arrives as 11030
# "other_reject reduce_only..." and is recognized from the message.
REDUCE_ONLY_HINT = "reduce_only"


def error_for(code: str | int, message: str, http_status: int | None = None) -> VenueError:
    """The typed error for a JSON-RPC error `code` (the HTTP status adds nothing: Deribit
    answers errors inside the JSON-RPC envelope)."""
    cls = ERRORS.get(str(code), (VenueError, None))[0]
    if cls is VenueError and REDUCE_ONLY_HINT in message:
        cls = ReduceOnlyViolation
    return cls(message, venue=Venue.DERIBIT, code=code)
