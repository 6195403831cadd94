"""OKX API v5 facts in one place: paths, channels, rate limits, status maps and error codes.

Sources (see tests/fixtures/venues/okx/SOURCES.md): OKX docs-v5 "Overview" (REST/WS endpoints,
authentication, rate limits), "Order Book Trading" (trade and market-data endpoints with their
per-endpoint rate limits), "Error Code" (REST error table), and the API changelog entry
"Delist initial snapshot and checksum field in order book channels".
"""

from __future__ import annotations

import re

from exchanges.venues.base import (
    AuthenticationError,
    ClockSkew,
    DuplicateClientOrderId,
    Endpoints,
    ErrorTable,
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
    RequestTimeout,
    Side,
    TimeInForce,
    TriggerPrice,
    Venue,
    VenueError,
    VenueUnavailable,
)
from exchanges.venues.ratelimit import Limit

# --------------------------------------------------------------------------- endpoints

LIVE_ENDPOINTS = Endpoints(
    rest_url="https://www.okx.com",
    public_ws_url="wss://ws.okx.com:8443/ws/v5/public",
    private_ws_url="wss://ws.okx.com:8443/ws/v5/private",
)
# Demo trading: the same REST host with DEMO_HEADER on every request, the wspap WebSockets.
TESTNET_ENDPOINTS = Endpoints(
    rest_url="https://www.okx.com",
    public_ws_url="wss://wspap.okx.com:8443/ws/v5/public",
    private_ws_url="wss://wspap.okx.com:8443/ws/v5/private",
)
DEMO_HEADER = ("x-simulated-trading", "1")

PATH_SERVER_TIME = "/api/v5/public/time"
PATH_INSTRUMENTS = "/api/v5/public/instruments"
PATH_TICKER = "/api/v5/market/ticker"
PATH_ORDER_BOOK = "/api/v5/market/books"
PATH_TRADES = "/api/v5/market/trades"  # latest trades, newest first, `limit` up to 500
PATH_ORDER = "/api/v5/trade/order"  # POST place, GET details
PATH_AMEND_ORDER = "/api/v5/trade/amend-order"
PATH_CANCEL_ORDER = "/api/v5/trade/cancel-order"
PATH_CANCEL_BATCH = "/api/v5/trade/cancel-batch-orders"
PATH_OPEN_ORDERS = "/api/v5/trade/orders-pending"
PATH_FILLS = "/api/v5/trade/fills"
PATH_DEAD_MAN_SWITCH = "/api/v5/trade/cancel-all-after"
# Algo orders ("Order Book Trading > Algo Trading"): place / details, cancel, untriggered list
PATH_ORDER_ALGO = "/api/v5/trade/order-algo"  # POST place, GET details (algoId | algoClOrdId)
PATH_CANCEL_ALGOS = "/api/v5/trade/cancel-algos"
PATH_AMEND_ALGOS = "/api/v5/trade/amend-algos"  # one waiting algo by algoId | algoClOrdId
PATH_ALGOS_PENDING = "/api/v5/trade/orders-algo-pending"
PATH_POSITIONS = "/api/v5/account/positions"
PATH_BALANCES = "/api/v5/account/balance"

WS_LOGIN_PATH = "/users/self/verify"  # signed as timestamp + "GET" + this path

# --------------------------------------------------------------------------- rate limits
# Per endpoint group, from each endpoint's "Rate Limit" line in docs-v5 (N requests per 2 s
# becomes rate N/2 per second with burst N). Place/amend/cancel are per instrument at OKX; one
# bucket per group here is the conservative reading.

RATE_LIMITS: dict[str, Limit] = {
    "default": Limit(rate=5, burst=10),
    "public_time": Limit(rate=5, burst=10),  # 10 / 2 s, IP
    "instruments": Limit(rate=10, burst=20),  # 20 / 2 s, IP + instType
    "ticker": Limit(rate=10, burst=20),  # 20 / 2 s, IP
    "books": Limit(rate=20, burst=40),  # 40 / 2 s, IP
    "trades": Limit(rate=50, burst=100),  # 100 / 2 s, IP
    "place": Limit(rate=30, burst=60),  # 60 / 2 s, user + instId
    "amend": Limit(rate=30, burst=60),  # 60 / 2 s, user + instId
    "cancel": Limit(rate=30, burst=60),  # 60 / 2 s, user + instId
    "cancel_batch": Limit(rate=150, burst=300),  # 300 orders / 2 s (cost = orders)
    "orders_pending": Limit(rate=30, burst=60),  # 60 / 2 s, user
    "order_details": Limit(rate=30, burst=60),  # 60 / 2 s, user + instId
    "fills": Limit(rate=30, burst=60),  # 60 / 2 s, user
    "positions": Limit(rate=5, burst=10),  # 10 / 2 s, user
    "balance": Limit(rate=5, burst=10),  # 10 / 2 s, user
    "cancel_all_after": Limit(rate=1, burst=1),  # 1 / s, user + tag
    "place_algo": Limit(rate=10, burst=20),  # 20 / 2 s, user + instId
    "cancel_algos": Limit(rate=10, burst=20),  # 20 / 2 s, user + instId
    "amend_algos": Limit(rate=10, burst=20),  # 20 / 2 s, user + instId
    "algo_details": Limit(rate=10, burst=20),  # 20 / 2 s, user
    "algos_pending": Limit(rate=10, burst=20),  # 20 / 2 s, user
}
RATE_LIMIT_DEFAULT_GROUP = "default"  # where a group without its own limit counts
RATE_LIMIT_PENALTY_SECONDS = 2.0  # OKX limits are counted over 2 s windows
CANCEL_BATCH_MAX = 20  # orders per cancel-batch-orders request
CANCEL_ALGOS_MAX = 10  # algo orders per cancel-algos request ("Cancel algo order")
PAGE_LIMIT = 100  # max `limit` of orders-pending and fills
BOOK_MAX_DEPTH = 400  # max `sz` of GET /api/v5/market/books
TRADES_MAX = 500  # max `limit` of GET /api/v5/market/trades
DEAD_MAN_SWITCH_RANGE = (10, 120)  # cancel-all-after timeOut: 0, or 10..120 seconds

# --------------------------------------------------------------------------- WebSocket

WS_PING_INTERVAL = 20.0  # docs: send "ping" if nothing arrived for N < 30 s
WS_IDLE_TIMEOUT = 30.0  # the venue drops a connection silent for 30 s
WS_SUBSCRIBE_BATCH = 50  # args per subscribe request (total request must stay under 64 KB)

BOOK_CHANNELS_SEQUENCED = frozenset({"books", "books-l2-tbt", "books50-l2-tbt", "books-elp"})
BOOK_CHANNEL_DEPTH = {
    "books": 400,
    "books-l2-tbt": 400,
    "books50-l2-tbt": 50,
    "books-elp": 400,
    "books5": 5,
    "bbo-tbt": 1,
}
CHECKSUM_DEPTH = 25  # levels per side in the (former) CRC32 book checksum

# --------------------------------------------------------------------------- client order ids

CLIENT_ORDER_ID = re.compile(r"[A-Za-z0-9]{1,32}")  # clOrdId: 1-32 letters and digits

# --------------------------------------------------------------------------- status maps

SIDES: dict[str, Side] = {"buy": Side.BUY, "sell": Side.SELL}
LIQUIDITY: dict[str, Liquidity] = {"T": Liquidity.TAKER, "M": Liquidity.MAKER}  # execType

# An `orders` push's `category` (docs-v5 "Order Book Trading > Trade > WS / Order channel"):
# orders the venue placed on the account (ADL, liquidation, delivery) rather than ours; their
# executions are `AccountExecution`s of these kinds, never fills.
EXECUTION_CATEGORIES: dict[str, str] = {
    "adl": "adl",
    "full_liquidation": "liquidation",
    "partial_liquidation": "liquidation",
    "delivery": "delivery",
}
# A bill's `type` (docs-v5 "Trading Account > Get bills details"): the ones that are account
# executions, not trades of an order.
BILL_EXECUTION_TYPES: dict[str, str] = {
    "3": "delivery",
    "5": "liquidation",
    "8": "funding",
    "9": "adl",
    "34": "settlement",
}

ORDER_STATUS: dict[str, OrderStatus] = {
    "live": OrderStatus.NEW,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "mmp_canceled": OrderStatus.CANCELED,
}

# ordType -> (order type, time in force, post only)
ORDER_TYPES: dict[str, tuple[OrderType, TimeInForce, bool]] = {
    "limit": (OrderType.LIMIT, TimeInForce.GTC, False),
    "post_only": (OrderType.LIMIT, TimeInForce.GTC, True),
    "ioc": (OrderType.LIMIT, TimeInForce.IOC, False),
    "fok": (OrderType.LIMIT, TimeInForce.FOK, False),
    "market": (OrderType.MARKET, TimeInForce.IOC, False),
    "optimal_limit_ioc": (OrderType.MARKET, TimeInForce.IOC, False),
}

# An algo order's `state` ("Algo order details"): waiting, fired (its order placed), ended.
ALGO_STATUS: dict[str, OrderStatus] = {
    "live": OrderStatus.UNTRIGGERED,
    "pause": OrderStatus.UNTRIGGERED,
    "effective": OrderStatus.NEW,
    "partially_effective": OrderStatus.NEW,
    "canceled": OrderStatus.CANCELED,
    "order_failed": OrderStatus.REJECTED,
    "partially_failed": OrderStatus.REJECTED,
}
ALGO_ORD_TYPE = "conditional"  # one-way stop loss or take profit
ALGO_MARKET_PRICE = "-1"  # slOrdPx / tpOrdPx: execute at market
TRIGGER_PRICE_TYPES: dict[str, TriggerPrice] = {
    "last": TriggerPrice.LAST,
    "mark": TriggerPrice.MARK,
    "index": TriggerPrice.INDEX,
}
TRIGGER_PRICE_NAMES = {value: name for name, value in TRIGGER_PRICE_TYPES.items()}
CANCEL_SOURCE_POST_ONLY = "31"  # "The post-only order will take liquidity in taker orders"

INST_TYPES = ("SPOT", "SWAP", "FUTURES", "OPTION")

# --------------------------------------------------------------------------- error codes
# The one table from OKX codes (envelope `code`, or per-order `sCode`) to typed errors.

ERRORS: ErrorTable = {
    # service / availability
    "50001": (VenueUnavailable, "service temporarily unavailable"),
    "50004": (RequestTimeout, "endpoint request timeout: outcome unknown, check the order"),
    "50005": (VenueUnavailable, "endpoint inactive or unavailable"),
    "50013": (VenueUnavailable, "systems are busy"),
    "50026": (VenueUnavailable, "system error"),
    "51149": (RequestTimeout, "order timed out: outcome unknown, check the order"),
    # rate limits
    "50011": (RateLimited, "rate limit reached (HTTP 200 or 429)"),
    "50061": (RateLimited, "sub-account order rate limit"),
    "50040": (RateLimited, "too frequent operations"),
    # authentication
    "50100": (AuthenticationError, "API frozen"),
    "50101": (AuthenticationError, "APIKey does not match current environment"),
    "50102": (ClockSkew, "timestamp request expired"),
    "50103": (AuthenticationError, None),
    "50104": (AuthenticationError, None),
    "50105": (AuthenticationError, "passphrase incorrect"),
    "50106": (AuthenticationError, None),
    "50107": (AuthenticationError, None),
    "50111": (AuthenticationError, "invalid OK-ACCESS-KEY"),
    "50112": (ClockSkew, "invalid OK-ACCESS-TIMESTAMP"),
    "50113": (AuthenticationError, "invalid signature"),
    "50114": (AuthenticationError, "invalid authorization"),
    "50119": (AuthenticationError, "API key doesn't exist"),
    # permission
    "50030": (PermissionDenied, "no permission to use this endpoint"),
    "50110": (PermissionDenied, "IP not in the key's whitelist"),
    "50120": (PermissionDenied, "key lacks the permission"),
    "50121": (PermissionDenied, "IP not allowed"),
    "50007": (PermissionDenied, "user blocked"),
    "50027": (PermissionDenied, "account restricted from trading"),
    # order parameters
    "51000": (InvalidOrder, "parameter error"),
    "51001": (InvalidOrder, "instrument doesn't exist"),
    "50014": (InvalidOrder, "a required parameter is empty"),
    "51109": (InvalidOrder, "no available offers (market order into an empty book)"),
    "51006": (InvalidPrice, "price not within the price limit"),
    "51137": (InvalidPrice, "highest price limit for buy orders"),
    "51138": (InvalidPrice, "lowest price limit for sell orders"),
    "51282": (InvalidPrice, "price variance range"),
    "51020": (InvalidSize, "below the minimum order amount"),
    "51120": (InvalidSize, "order amount less than minimum"),
    "51121": (InvalidSize, "not a multiple of the lot size"),
    "51005": (InvalidSize, "exceeds the max order amount"),
    "51202": (InvalidSize, "market order amount exceeds the maximum"),
    "51008": (InsufficientFunds, "insufficient balance / margin"),
    "51502": (InsufficientFunds, "amend: insufficient balance or margin"),
    "51127": (InsufficientFunds, "available balance is 0"),
    "51131": (InsufficientFunds, "insufficient balance"),
    "51511": (PostOnlyWouldCross, "amended price does not meet the Post Only requirement"),
    "51169": (ReduceOnlyViolation, "no position in this direction to reduce"),
    "51170": (ReduceOnlyViolation, "reduce-only order in the position's direction"),
    "51205": (ReduceOnlyViolation, "reduce only is not available"),
    "51139": (ReduceOnlyViolation, "reduce-only unavailable for spot in spot mode"),
    "51016": (DuplicateClientOrderId, "client order ID already exists"),
    "51065": (DuplicateClientOrderId, "algoClOrdId already exists"),
    # conditional (algo) orders: the trigger is already reached by the price it watches
    "51277": (InvalidOrder, "TP trigger price cannot be higher than the last price"),
    "51278": (InvalidOrder, "SL trigger price cannot be lower than the last price"),
    "51279": (InvalidOrder, "TP trigger price cannot be lower than the last price"),
    "51280": (InvalidOrder, "SL trigger price cannot be higher than the last price"),
    "51300": (InvalidOrder, "TP trigger price cannot be higher than the mark price"),
    "51302": (InvalidOrder, "SL trigger price cannot be lower than the mark price"),
    "51303": (InvalidOrder, "TP trigger price cannot be lower than the mark price"),
    "51304": (InvalidOrder, "SL trigger price cannot be higher than the mark price"),
    "51305": (InvalidOrder, "TP trigger price cannot be higher than the index price"),
    "51306": (InvalidOrder, "SL trigger price cannot be lower than the index price"),
    "51307": (InvalidOrder, "TP trigger price cannot be lower than the index price"),
    "51308": (InvalidOrder, "SL trigger price cannot be higher than the index price"),
    "51058": (ReduceOnlyViolation, "no available position for this algo order"),
    # amending (amend-order, amend-algos)
    "50015": (InvalidOrder, "one of two parameters is required"),
    "51500": (InvalidOrder, "nothing to amend: no price, quantity or TP/SL"),
    "51523": (InvalidOrder, "a stop closing the whole position keeps its order price"),
    "51524": (InvalidOrder, "a stop closing the whole position keeps its quantity"),
    "51526": (InvalidOrder, "a stop order's TP/SL legs cannot be added or removed"),
    "51528": (InvalidOrder, "the trigger price type cannot be changed"),
    "51531": (InvalidOrder, "a stop order keeps a take profit or a stop loss"),
    "51011": (DuplicateClientOrderId, "order ID already exists"),
    # order state
    "51603": (OrderNotFound, "order does not exist"),
    "51400": (OrderNotFound, "cancel failed: filled, canceled or does not exist"),
    "51401": (OrderNotFound, "already canceled"),
    "51402": (OrderNotFound, "already completed"),
    "51503": (OrderNotFound, "amend failed: filled or canceled"),
    "51527": (OrderNotFound, "amend failed: the stop order does not exist"),
    "51509": (OrderNotFound, None),
    "51510": (OrderNotFound, None),
}

ORDER_NOT_FOUND_CODES = frozenset({"51603"})


def error_for(code: str | int, message: str, http_status: int | None = None) -> VenueError:
    """The typed error for an OKX `code`/`sCode` (HTTP 429 is a rate limit whatever the code)."""
    spec = ERRORS.get(str(code))
    if spec is not None:
        cls = spec[0]
    else:
        if http_status == 429:
            cls = RateLimited
        elif http_status is not None and http_status >= 500:
            cls = VenueUnavailable
        elif http_status == 401:
            cls = AuthenticationError
        else:
            cls = VenueError
    return cls(message, venue=Venue.OKX, code=code)
