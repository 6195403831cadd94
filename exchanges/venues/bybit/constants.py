"""Bybit v5 wire constants: paths, categories, rate limits, status and error tables.

Everything a Bybit message names (paths, topic names, status strings, `retCode`s) that the rest
of the adapter needs lives here, so no other module spells a Bybit code. Sources: Bybit v5 docs
(bybit-exchange.github.io/docs/v5), sections "Rate Limit Rules", "Error Codes", "Enums", "Place
Order", "Get Instruments Info", "Orderbook" (WebSocket), as scraped in rosssaunders/coincise
docs/bybit (see tests/fixtures/venues/SOURCES.md).
"""

from __future__ import annotations

from exchanges.venues import base
from exchanges.venues.base import OrderStatus, TimeInForce
from exchanges.venues.ratelimit import Limit

LIVE_ENDPOINTS = base.Endpoints(
    rest_url="https://api.bybit.com",
    public_ws_url="wss://stream.bybit.com/v5/public",
    private_ws_url="wss://stream.bybit.com/v5/private",
)
TESTNET_ENDPOINTS = base.Endpoints(
    rest_url="https://api-testnet.bybit.com",
    public_ws_url="wss://stream-testnet.bybit.com/v5/public",
    private_ws_url="wss://stream-testnet.bybit.com/v5/private",
)

# --------------------------------------------------------------------------- REST paths

PATH_SERVER_TIME = "/v5/market/time"
PATH_INSTRUMENTS = "/v5/market/instruments-info"
PATH_TICKER = "/v5/market/tickers"
PATH_ORDER_BOOK = "/v5/market/orderbook"
PATH_RECENT_TRADES = "/v5/market/recent-trade"  # newest first; `limit` up to 1000 (spot 60)
PATH_PLACE_ORDER = "/v5/order/create"
PATH_AMEND_ORDER = "/v5/order/amend"
PATH_CANCEL_ORDER = "/v5/order/cancel"
PATH_CANCEL_ALL = "/v5/order/cancel-all"
PATH_OPEN_ORDERS = "/v5/order/realtime"
PATH_FILLS = "/v5/execution/list"
PATH_POSITIONS = "/v5/position/list"
PATH_BALANCES = "/v5/account/wallet-balance"
PATH_DEAD_MAN_SWITCH = "/v5/order/disconnected-cancel-all"

RECV_WINDOW_MS = 5000

# --------------------------------------------------------------------------- categories

SPOT = "spot"
LINEAR = "linear"
INVERSE = "inverse"
OPTION = "option"
CATEGORIES = (LINEAR, INVERSE, SPOT, OPTION)

# Settle coins a linear request without a symbol must name ("Get Open & Closed Orders",
# "Get Position Info": linear needs symbol, baseCoin or settleCoin).
LINEAR_SETTLE_COINS = ("USDT", "USDC")
# Options instruments default to baseCoin=BTC ("Get Instruments Info"); list these.
OPTION_BASE_COINS = ("BTC", "ETH", "SOL")
# DCP products ("Set Disconnect Cancel All"): the window is set per product.
DEAD_MAN_SWITCH_PRODUCTS = ("DERIVATIVES", "SPOT", "OPTIONS")
DEAD_MAN_SWITCH_RANGE = (3, 300)  # timeWindow seconds

PAGE_LIMIT = {PATH_INSTRUMENTS: 1000, PATH_OPEN_ORDERS: 50, PATH_FILLS: 100, PATH_POSITIONS: 200}

# REST `GET /v5/market/orderbook` limit per category ("Get Orderbook").
BOOK_MAX_DEPTH = {SPOT: 200, LINEAR: 500, INVERSE: 500, OPTION: 25}
RECENT_TRADES_MAX = {SPOT: 60, LINEAR: 1000, INVERSE: 1000, OPTION: 1000}
# WebSocket `orderbook.{depth}.{symbol}` depths ("Orderbook", WebSocket public).
WS_BOOK_DEPTHS = {
    SPOT: (1, 50, 200, 1000),
    LINEAR: (1, 50, 200, 500, 1000),
    INVERSE: (1, 50, 200, 500, 1000),
    OPTION: (25, 100),
}
WS_DEFAULT_DEPTH = {SPOT: 50, LINEAR: 50, INVERSE: 50, OPTION: 25}
WS_SUBSCRIBE_BATCH = 10  # spot accepts at most 10 args per subscribe request
WS_PING_INTERVAL = 20.0  # "send the ping heartbeat packet every 20 seconds"
WS_IDLE_TIMEOUT = 60.0
WS_AUTH_EXPIRES_MS = 10_000
PRIVATE_TOPICS = ("order", "execution", "position", "wallet")

# --------------------------------------------------------------------------- rate limits

# Endpoint groups and their published per-UID limits ("Rate Limit Rules", UTA rows; the
# lowest category figure where they differ). Public market data only has the IP limit of
# 600 requests per 5 s, kept here as a 100/s bucket.
RATE_LIMIT_GROUPS = {
    PATH_SERVER_TIME: "market",
    PATH_INSTRUMENTS: "market",
    PATH_TICKER: "market",
    PATH_ORDER_BOOK: "market",
    PATH_RECENT_TRADES: "market",
    PATH_PLACE_ORDER: "order_create",
    PATH_AMEND_ORDER: "order_amend",
    PATH_CANCEL_ORDER: "order_cancel",
    PATH_CANCEL_ALL: "order_cancel_all",
    PATH_OPEN_ORDERS: "order_query",
    PATH_FILLS: "executions",
    PATH_POSITIONS: "positions",
    PATH_BALANCES: "wallet",
    PATH_DEAD_MAN_SWITCH: "dcp",
}
RATE_LIMITS = {
    "default": Limit(rate=10, burst=10),
    "market": Limit(rate=100, burst=100),
    "order_create": Limit(rate=10, burst=10),
    "order_amend": Limit(rate=10, burst=10),
    "order_cancel": Limit(rate=10, burst=10),
    "order_cancel_all": Limit(rate=1, burst=1),
    "order_query": Limit(rate=50, burst=50),
    "executions": Limit(rate=50, burst=50),
    "positions": Limit(rate=50, burst=50),
    "wallet": Limit(rate=50, burst=50),
    "dcp": Limit(rate=5, burst=5),
}
RATE_LIMIT_DEFAULT_GROUP = "default"  # where a group without its own limit counts
RATE_LIMIT_PENALTY_SECONDS = 1.0  # when 10006 comes without X-Bapi-Limit-Reset-Timestamp
RATE_LIMIT_RESET_MARGIN_SECONDS = (
    0.05  # the reset timestamp is venue time, ours is offset-corrected
)
IP_BAN_PENALTY_SECONDS = 600.0  # HTTP 403 "access too frequent": wait at least 10 minutes

# --------------------------------------------------------------------------- enumerations

SIDES = {"Buy": base.Side.BUY, "Sell": base.Side.SELL}
SIDE_WIRE = {base.Side.BUY: "Buy", base.Side.SELL: "Sell"}
ORDER_TYPES = {"Limit": base.OrderType.LIMIT, "Market": base.OrderType.MARKET}
ORDER_TYPE_WIRE = {base.OrderType.LIMIT: "Limit", base.OrderType.MARKET: "Market"}
POST_ONLY_TIFS = frozenset({"PostOnly", "RPI"})
TIME_IN_FORCE = {
    "GTC": TimeInForce.GTC,
    "IOC": TimeInForce.IOC,
    "FOK": TimeInForce.FOK,
    "PostOnly": TimeInForce.GTC,
    "RPI": TimeInForce.GTC,
}
TIME_IN_FORCE_WIRE = {TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC", TimeInForce.FOK: "FOK"}

# "Enums" > orderStatus. `Untriggered`: a conditional order waiting for its trigger;
# `Triggered`: "instantaneous state for conditional orders from Untriggered to New";
# `Deactivated`: a conditional order cancelled before it fired.
ORDER_STATUS = {
    "Created": OrderStatus.PENDING_NEW,
    "New": OrderStatus.NEW,
    "Untriggered": OrderStatus.UNTRIGGERED,
    "Triggered": OrderStatus.NEW,
    "Active": OrderStatus.NEW,
    "PartiallyFilled": OrderStatus.PARTIALLY_FILLED,
    "Filled": OrderStatus.FILLED,
    "Cancelled": OrderStatus.CANCELED,
    "PartiallyFilledCanceled": OrderStatus.CANCELED,
    "Deactivated": OrderStatus.CANCELED,
    "Rejected": OrderStatus.REJECTED,
}
# Conditional orders ("Place Order": triggerPrice, triggerDirection, triggerBy, orderFilter;
# "Enums": triggerBy, stopOrderType). An order with a `triggerPrice` is conditional; it keeps
# its `orderId` when it fires (unified account). `triggerDirection` 1 fires on a rise to the
# trigger, 2 on a fall, and with `triggerBy` is sent for linear and inverse only; spot
# conditional orders are created (and cancelled) with `orderFilter` "StopOrder" and watch the
# last price. Options take none.
TRIGGER_BY = {
    "LastPrice": base.TriggerPrice.LAST,
    "IndexPrice": base.TriggerPrice.INDEX,
    "MarkPrice": base.TriggerPrice.MARK,
}
TRIGGER_BY_WIRE = {value: name for name, value in TRIGGER_BY.items()}
TRIGGER_DIRECTION = {1: base.TriggerDirection.RISE, 2: base.TriggerDirection.FALL}
TRIGGER_DIRECTION_WIRE = {value: code for code, value in TRIGGER_DIRECTION.items()}
STOP_ORDER_TYPE_CONDITIONAL = "Stop"  # stopOrderType of a conditional order
ORDER_FILTER_CONDITIONAL = "StopOrder"  # spot: create, cancel, cancel-all of conditional orders

# "Enums" > execType: executions that are trades of the account's orders.
# `execType` (docs v5 "Enums > execType"): trades of the account's own orders are fills; the
# executions the venue made on the account are `AccountExecution`s of the kind below (ADL and
# a liquidation takeover close the position by the venue's hand, no order of ours).
TRADE_EXEC_TYPES = frozenset({"Trade", "BlockTrade", "MovePosition", "FutureSpread"})
EXECUTION_KINDS = {
    "Funding": "funding",
    "Settle": "settlement",  # inverse futures settlement, position closed by delisting
    "Delivery": "delivery",  # USDC futures delivery
    "AdlTrade": "adl",
    "BustTrade": "liquidation",
}

# --------------------------------------------------------------------------- errors

# The one retCode -> error table ("Error Codes": UTA and Spot Trade sections). 10002 is a
# clock problem (the client resyncs its offset); 10006 a rate limit (the bucket is emptied
# until X-Bapi-Limit-Reset-Timestamp); 10000/170146 leave a placement's outcome unknown.
ERRORS: base.ErrorTable = {
    "10000": (base.RequestTimeout, "Server Timeout"),
    "10001": (base.InvalidOrder, "Request parameter error"),
    "10002": (base.ClockSkew, "The request time exceeds the time window range"),
    "10003": (base.AuthenticationError, "API key is invalid"),
    "10004": (base.AuthenticationError, "Error sign"),
    "10005": (base.PermissionDenied, "Permission denied"),
    "10006": (base.RateLimited, "Too many visits"),
    "10007": (base.AuthenticationError, "User authentication failed"),
    "10008": (base.PermissionDenied, "Common banned"),
    "10009": (base.PermissionDenied, "IP has been banned"),
    "10010": (base.PermissionDenied, "Unmatched IP"),
    "10016": (base.VenueUnavailable, "Server error / service restarting"),
    "10027": (base.PermissionDenied, "Transactions are banned"),
    "10429": (base.RateLimited, "System level frequency protection"),
    "33004": (base.AuthenticationError, "(Derivatives) api key has expired"),
    "-2015": (base.AuthenticationError, "(Spot) api key has expired"),
    "110001": (base.OrderNotFound, "Order does not exist"),
    "110003": (base.InvalidPrice, "Order price exceeds the allowable range"),
    "110004": (base.InsufficientFunds, "Wallet balance is insufficient"),
    "110006": (base.InsufficientFunds, "Assets unable to cover the position margin"),
    "110007": (base.InsufficientFunds, "Available balance is insufficient"),
    "110008": (base.OrderNotFound, "The order has been completed or cancelled"),
    "110010": (base.OrderNotFound, "The order has been cancelled"),
    "110012": (base.InsufficientFunds, "Insufficient available balance"),
    "110017": (base.ReduceOnlyViolation, "Reduce-only rule not satisfied"),
    "110044": (base.InsufficientFunds, "Available margin is insufficient"),
    "110045": (base.InsufficientFunds, "Wallet balance is insufficient"),
    "110072": (base.DuplicateClientOrderId, "OrderLinkedID is duplicate"),
    "110092": (base.InvalidOrder, "expect Rising, but trigger_price <= current"),
    "110093": (base.InvalidOrder, "expect Falling, but trigger_price >= current"),
    "110094": (base.InvalidSize, "Order notional value below the lower limit"),
    "110120": (base.InvalidPrice, "Order price cannot be smaller than ..."),
    "110121": (base.InvalidPrice, "Order price cannot be higher than ..."),
    "170005": (base.RateLimited, "Too many new orders"),
    "170007": (base.VenueUnavailable, "Timeout waiting for response from backend server"),
    "170130": (base.InvalidOrder, "Data sent for paramter '%s' is not valid."),
    "170131": (base.InsufficientFunds, "Balance insufficient"),
    "170132": (base.InvalidPrice, "Order price too high"),
    "170133": (base.InvalidPrice, "Order price lower than the minimum"),
    "170134": (base.InvalidPrice, "Order price decimal too long"),
    "170136": (base.InvalidSize, "Order quantity lower than the minimum"),
    "170137": (base.InvalidSize, "Order volume decimal too long"),
    "170140": (base.InvalidSize, "Order value exceeded lower limit"),
    "170141": (base.DuplicateClientOrderId, "Duplicate clientOrderId"),
    "170146": (base.RequestTimeout, "Order creation timeout"),
    "170213": (base.OrderNotFound, "Order does not exist"),
    "170218": (base.PostOnlyWouldCross, "The LIMIT-MAKER order is rejected due to invalid price"),
    "170222": (base.RateLimited, "Too many requests in this time frame"),
    "170312": (base.InvalidOrder, "The current order does not support modification"),
}
ERROR_CLOCK_SKEW = "10002"


def error_for(code: str | int, message: str, http_status: int | None = None) -> base.VenueError:
    """The typed error for a Bybit `retCode` (codes not in `ERRORS` are plain `VenueError`;
    HTTP statuses are handled by the client before the envelope is read)."""
    cls = ERRORS.get(str(code), (base.VenueError, None))[0]
    return cls(message, venue=base.Venue.BYBIT, code=code)
