"""OKX API v5 protocol face of the simulator: REST under `/api/v5`, WebSockets `/ws/v5/public`
and `/ws/v5/private`, on one port, so an OKX client only swaps scheme, host and port.

What it follows (OKX API v5 docs, www.okx.com/docs-v5/en, sections named; scraped copy in
rosssaunders/coincise docs/okx/*.md), and the recorded payloads in ../shared/fixtures/venues/okx:

- REST authentication ("REST Authentication"): headers `OK-ACCESS-KEY`, `OK-ACCESS-SIGN`,
  `OK-ACCESS-TIMESTAMP` (ISO-8601 with ms), `OK-ACCESS-PASSPHRASE`; sign =
  Base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath(+query) + body)). Errors 50103 /
  50104 (missing header), 50112 (bad timestamp), 50102 (timestamp more than 30 s off), 50111
  (unknown key), 50105 (wrong passphrase), 50113 (bad signature), all HTTP 401 ("Error Code").
- Envelope `{"code": "0", "msg": "", "data": [...]}`; order operations report each order's
  `sCode`/`sMsg` inside `data`, with top-level `code` "1" ("Operation failed.") when the only
  order failed and "2" when a batch partly failed ("Error Code", General Class).
- Rate limits ("Rate Limits" and each endpoint's "Rate Limit" line): 50011 "Too Many Requests",
  HTTP 429.
- WebSocket ("WebSocket": Connect, Login, Subscribe): text `ping` -> `pong`; a connection with
  nothing pushed for 30 s is closed (code 4004 "No data received in 30s", "Error Code"
  WebSocket close frames); login with Unix-seconds timestamp and sign of
  timestamp + "GET" + "/users/self/verify", valid 30 s (errors 60004-60024 as events).
- Books: `books` (400 levels, 100 ms), `books5` (5 levels snapshots, 100 ms), `bbo-tbt`
  (1 level, 10 ms), `books-l2-tbt` (400 levels, 10 ms), `books50-l2-tbt` (50 levels, 10 ms).
  Every update carries `seqId` and `prevSeqId` (= the previous message's `seqId`; -1 on a
  snapshot). One sequence per instrument is shared by every channel and by
  `GET /api/v5/market/books` (its `seqId` is the state the REST book shows), so a client can
  start from the REST book and apply the buffered stream. Three book modes (issue 3; OKX
  announcement "Order Book Channels Checksum Field Deprecation", May 2026):
  `current` (snapshot on subscribe, `checksum` 0), `checksum` (the older CRC32 of the top 25
  levels, interleaved `bid:size:ask:size...`, as a signed 32-bit integer) and `no_snapshot`
  (updates only; the REST book is the start).
- Private channels `orders`, `positions`, `account` ("Order channel", "Positions channel",
  "Account channel"), pushed from the engine's listener events for the logged-in key only.
- `POST /api/v5/trade/cancel-all-after` ("Cancel All After"): timeOut 0 or 10..120 s; when it
  fires every open order of the account is canceled (`cancelSource` "20").

- Private WebSocket order operations `order`, `amend-order`, `cancel-order` ("WS / Place
  order"...), the `channel-conn-count` event on new orders/account/positions subscriptions
  ("Connection count limit"), and the VIP-only `fills` channel refused with 64003.
- Order states: post-only orders that would take are accepted and canceled (`cancelSource`
  31), IOC/market remainders canceled with 14, FOK with 13, user cancels 1 ("Order channel",
  cancelSource). A spot market buy is sized in quote currency unless `tgtCcy` is `base_ccy`.
  An amend with `newSz` at or below the filled size ends the order filled ("Amend order").

Key sets of every message follow the recorded payloads (`okx/*.json`); fields of the docs the
recordings lack are left out so both readings agree. Known simplifications: net position mode
and cross margin only; `books-l2-tbt`/`books50-l2-tbt` need no VIP login.

Run-time switches (`configure`, or `POST /_sim/config` on the face's port): `book_mode`,
`ws_idle_timeout_s` (30), `book_interval_ms` (100), `tbt_interval_ms` (10), `rate_limits`
(true), `cancel_all_after_scale` (1.0; tests shrink the dead-man countdown),
`book_keepalive_s` (60: the empty update OKX sends on a book that has not changed).
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import itertools
import logging
import re
import time
import zlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from exchanges.simulator.common.faults import Faults, answer_survives
from exchanges.simulator.common.limits import FixedWindows
from exchanges.simulator.common.signing import hmac_sha256
from exchanges.simulator.common.ws import Connection
from exchanges.simulator.engine.core import Engine
from exchanges.simulator.engine.margin import MAINTENANCE_MARGIN
from exchanges.simulator.engine.records import (
    AmendAtOrBelowFilled,
    CancelReason,
    Listener,
    PostOnlyAction,
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

logger = logging.getLogger(__name__)

VENUE = Venue.OKX
ZERO = Decimal(0)
BOOK_MODES = ("current", "checksum", "no_snapshot")
CHECKSUM_LEVELS = 25
LOGIN_PATH = "/users/self/verify"
AUTH_WINDOW_S = 30
MAX_QUEUED_MESSAGES = 20_000
REORDER_HOLD_S = 0.5  # the longest a reordered private push is held back
TICKER_INTERVAL_S = 0.1
CANCEL_ALL_AFTER_RANGE = (10, 120)
CL_ORD_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")
STABLE_COINS = frozenset({"USDT", "USDC", "USD"})

DEFAULT_OPTIONS: dict[str, Any] = {
    "book_mode": "current",
    "ws_idle_timeout_s": 30.0,
    "book_interval_ms": 100,
    "tbt_interval_ms": 10,
    "rate_limits": True,
    "cancel_all_after_scale": 1.0,  # tests shrink the dead-man countdown with this factor
    "book_keepalive_s": 60.0,
}


# --------------------------------------------------------------------------- wire schema

# (depth, cadence, incremental, carries checksum) per book channel ("Order book channel").
BOOK_CHANNELS: dict[str, tuple[int, str, bool]] = {
    "books": (400, "book", True),
    "books-l2-tbt": (400, "tbt", True),
    "books50-l2-tbt": (50, "tbt", True),
    "books5": (5, "book", False),
    "bbo-tbt": (1, "tbt", False),
}
PUBLIC_CHANNELS = frozenset({"tickers", "trades", *BOOK_CHANNELS})
PRIVATE_CHANNELS = frozenset({"orders", "positions", "account"})
# WebSocket order operations on /ws/v5/private ("WS / Place order", "Cancel order", "Amend
# order"): op -> rate-limit group.
WS_TRADE_OPS = {"order": "place", "cancel-order": "cancel", "amend-order": "amend"}

# Keys of the recorded payloads (okx/rest_orders_pending.json, ws_orders.json, ...).
ORDER_KEYS = (
    "accFillSz", "algoClOrdId", "algoId", "attachAlgoClOrdId", "attachAlgoOrds", "avgPx",
    "cTime", "cancelSource", "cancelSourceReason", "category", "ccy", "clOrdId", "fee",
    "feeCcy", "fillPx", "fillSz", "fillTime", "instId", "instType", "isTpLimit", "lever",
    "linkedAlgoOrd", "ordId", "ordType", "pnl", "posSide", "px", "pxType", "pxUsd", "pxVol",
    "quickMgnType", "rebate", "rebateCcy", "reduceOnly", "side", "slOrdPx", "slTriggerPx",
    "slTriggerPxType", "source", "state", "stpId", "stpMode", "sz", "tag", "tdMode", "tgtCcy",
    "tpOrdPx", "tpTriggerPx", "tpTriggerPxType", "tradeId", "uTime",
)  # fmt: skip
WS_ORDER_KEYS = (*ORDER_KEYS, "execType")
BALANCE_DETAIL_KEYS = (
    "accAvgPx", "availBal", "availEq", "borrowFroz", "cashBal", "ccy", "clSpotInUseAmt",
    "collateralEnabled", "crossLiab", "disEq", "eq", "eqUsd", "fixedBal", "frozenBal", "imr",
    "interest", "isoEq", "isoLiab", "isoUpl", "liab", "maxLoan", "maxSpotInUseAmt", "mgnRatio",
    "mmr", "notionalLever", "openAvgPx", "ordFrozen", "rewardBal", "smtSyncEq", "spotBal",
    "spotCopyTradingEq", "spotInUseAmt", "spotIsoBal", "spotUpl", "spotUplRatio", "stgyEq",
    "totalPnl", "totalPnlRatio", "twap", "uTime", "upl", "uplLiab",
)  # fmt: skip
WS_BALANCE_DETAIL_KEYS = (
    *BALANCE_DETAIL_KEYS, "coinUsdPrice", "colBorrAutoConversion", "collateralRestrict",
)  # fmt: skip
BALANCE_KEYS = (
    "adjEq", "borrowFroz", "details", "imr", "isoEq", "mgnRatio", "mmr", "notionalUsd",
    "notionalUsdForBorrow", "notionalUsdForFutures", "notionalUsdForOption",
    "notionalUsdForSwap", "ordFroz", "totalEq", "uTime", "upl",
)  # fmt: skip
WS_BALANCE_KEYS = (*BALANCE_KEYS, "availEq")

CANCEL_SOURCE: dict[CancelReason, tuple[str, str]] = {
    CancelReason.USER: ("1", "Order canceled by user"),
    CancelReason.CANCEL_ALL: ("1", "Order canceled by user"),
    CancelReason.FOK_NOT_FILLABLE: ("13", "FOK order was canceled due to incompletely filled"),
    CancelReason.IOC_REMAINDER: (
        "14",
        "IOC order was partially canceled due to incompletely filled",
    ),
    CancelReason.MARKET_REMAINDER: (
        "14",
        "IOC order was partially canceled due to incompletely filled",
    ),
    CancelReason.DEAD_MAN_SWITCH: ("20", "Cancel all after triggered"),
    CancelReason.POST_ONLY_WOULD_TAKE: (
        "31",
        "The post-only order will take liquidity in taker orders",
    ),
}

STATE = {
    OrderStatus.NEW: "live",
    OrderStatus.PENDING_NEW: "live",
    OrderStatus.PARTIALLY_FILLED: "partially_filled",
    OrderStatus.FILLED: "filled",
    OrderStatus.PENDING_CANCEL: "live",
    OrderStatus.CANCELED: "canceled",
    OrderStatus.EXPIRED: "canceled",
    OrderStatus.REJECTED: "canceled",
}

# Published rate limits: (requests, window seconds, keyed by instrument too).
RATE_LIMITS: dict[str, tuple[int, float, bool]] = {
    "place": (60, 2.0, True),
    "amend": (60, 2.0, True),
    "cancel": (60, 2.0, True),
    "cancel-batch": (300, 2.0, False),
    "order": (60, 2.0, True),
    "orders-pending": (60, 2.0, False),
    "fills": (60, 2.0, False),
    "fills-history": (10, 2.0, False),
    "positions": (10, 2.0, False),
    "balance": (10, 2.0, False),
    "cancel-all-after": (1, 1.0, False),
    "instruments": (20, 2.0, False),
    "time": (10, 2.0, False),
    "ticker": (20, 2.0, False),
    "tickers": (20, 2.0, False),
    "books": (40, 2.0, False),
}

# Listing details of the instruments the simulator lists that the fixtures show
# (okx/rest_instruments_swap.json: instIdCode, maxMktSz...).
INSTRUMENT_CODES = {"BTC-USD-SWAP": 10458, "BTC-USDT-SWAP": 10459, "ETH-USDT-SWAP": 10461}
LIST_TIME = "1573557408000"


# --------------------------------------------------------------------------- helpers


def s(value: Decimal | int | None) -> str:
    """An amount as OKX writes it: a plain decimal string, "" when absent."""
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    text = format(value.normalize(), "f") if value else "0"
    return text


def ms(ts_ns: int) -> str:
    return str(ts_ns // 1_000_000)


def _micros() -> str:
    """`inTime`/`outTime`: wall-clock microseconds at the gateway ("Place order" response)."""
    return str(time.time_ns() // 1000)


def sign(secret: str, prehash: str) -> str:
    """Base64(HMAC-SHA256(secret, prehash)): OKX's REST and WebSocket-login signature."""
    return base64.b64encode(hmac_sha256(secret, prehash)).decode()


def checksum_string(bids: list[list[str]], asks: list[list[str]]) -> str:
    """The string OKX's book checksum is taken of: the first 25 bids and asks interleaved,
    `bid1px:bid1sz:ask1px:ask1sz:bid2px:...`; when one side is shorter the other's remaining
    levels follow alone (OKX docs "Order book channel", checksum; ccxt okx watchOrderBook)."""
    parts: list[str] = []
    for i in range(CHECKSUM_LEVELS):
        if i < len(bids):
            parts += (bids[i][0], bids[i][1])
        if i < len(asks):
            parts += (asks[i][0], asks[i][1])
    return ":".join(parts)


def book_checksum(bids: list[list[str]], asks: list[list[str]]) -> int:
    """CRC32 of `checksum_string` as a signed 32-bit integer, the way OKX sends it."""
    crc = zlib.crc32(checksum_string(bids, asks).encode())
    return crc - (1 << 32) if crc >= 1 << 31 else crc


def _project(data: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    return {key: data[key] for key in keys}


class OkxError(Exception):
    """An answer in OKX's error envelope: `{"code": code, "msg": msg, "data": []}`."""

    def __init__(self, code: str, msg: str, status: int = 200):
        super().__init__(f"{code} {msg}")
        self.code = code
        self.msg = msg
        self.status = status


def _param_error(name: str) -> OkxError:
    return OkxError("51000", f"Parameter {name} error", 400)


def _empty_param(name: str) -> OkxError:
    return OkxError("50014", f"Parameter {name} can not be empty.", 400)


def _reject_code(reject: SimReject, operation: str, info: InstrumentInfo | None) -> tuple[str, str]:
    """The OKX per-order `sCode`/`sMsg` of an engine rejection ("Error Code", Trade Class)."""
    reason = reject.reason
    if reason is RejectReason.INSUFFICIENT_FUNDS:
        if operation == "amend":
            return "51502", "Unable to edit order: insufficient balance or margin."
        ccy = (
            ""
            if info is None
            else (info.quote if info.kind is InstrumentKind.SPOT else info.settle)
        )
        what = "balance" if info is not None and info.kind is InstrumentKind.SPOT else "margin"
        return "51008", f"Order failed. Insufficient {ccy} {what} in account"
    if reason is RejectReason.POST_ONLY_WOULD_CROSS:
        if operation == "amend":
            return (
                "51511",
                "Modification failed as the order price did not meet the requirement for Post Only.",
            )
        return "51000", "Parameter ordType error"
    if reason is RejectReason.REDUCE_ONLY:
        if info is not None and info.kind is InstrumentKind.SPOT:
            return (
                "51139",
                "Reduce-only feature is unavailable for the spot transactions by spot mode.",
            )
        return (
            "51169",
            "Order failed because you don't have any positions in this direction for this "
            "contract to reduce or close.",
        )
    if reason is RejectReason.INVALID_PRICE:
        return "51000", "Parameter px error" if operation != "amend" else "Parameter newPx error"
    if reason is RejectReason.INVALID_SIZE:
        text = reject.message
        if "minimum" in text:
            return "51020", "Your order should meet or exceed the minimum order amount."
        if "multiple of the lot" in text:
            return "51121", "Order quantity must be a multiple of the lot size."
        return "51000", "Parameter sz error" if operation != "amend" else "Parameter newSz error"
    if reason in (RejectReason.ORDER_NOT_FOUND, RejectReason.ORDER_CLOSED):
        if operation == "amend":
            return "51503", "Your order has already been filled or canceled."
        if operation == "cancel":
            return (
                "51400",
                "Order cancellation failed as the order has been filled, canceled or does not exist.",
            )
        return "51603", "Order does not exist."
    if reason is RejectReason.DUPLICATE_CLIENT_ORDER_ID:
        return "51016", "Client order ID already exists."
    if reason is RejectReason.UNKNOWN_INSTRUMENT:
        return "51001", "Instrument ID, Instrument ID code or Spread ID doesn't exist."
    if reason is RejectReason.NO_LIQUIDITY:
        return "51109", "No available offers."
    return "51000", "Parameter ordType error"


@dataclass
class _OrderMeta:
    """What an OKX order carries that the engine does not: the wire order type and modes."""

    ord_type: str
    td_mode: str
    tag: str = ""
    tgt_ccy: str = ""
    wire_sz: str = ""  # a spot market order sized in quote currency keeps its own sz
    req_id: str = ""


@dataclass(eq=False)
class _Conn(Connection):
    """One OKX WebSocket connection: which socket it is, its login and subscriptions."""

    private: bool = False
    api_key: str | None = None
    subs: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)


@dataclass(eq=False)
class _BookView:
    """The published state of one book channel of one instrument, shared by its subscribers,
    so every subscriber sees the same `seqId` chain."""

    channel: str
    inst_id: str
    depth: int
    cadence: str
    incremental: bool
    bids: dict[Decimal, Decimal]
    asks: dict[Decimal, Decimal]
    last_seq: int
    ts_ns: int
    subscribers: set = field(default_factory=set)
    dirty: bool = False
    last_push: float = 0.0  # loop time of the last message, for the keep-alive update


# --------------------------------------------------------------------------- the face


class OkxFace(Listener):
    """The OKX v5 REST and WebSocket API on the simulator's engine (module doc)."""

    def __init__(self, engine: Engine, faults: Faults, *, options: dict | None = None):
        self.engine = engine
        self.faults = faults
        self.options = dict(DEFAULT_OPTIONS)
        self.configure(options or {})
        self.instruments: dict[str, InstrumentInfo] = {
            info.venue_symbol: info for info in engine.instruments_of(VENUE)
        }
        self._seq: dict[str, int] = {inst: 1_000_000 for inst in self.instruments}
        self._book_ts: dict[str, int] = {inst: engine.clock_ns() for inst in self.instruments}
        self._views: dict[tuple[str, str], _BookView] = {}
        self._views_by_inst: dict[str, list[_BookView]] = {inst: [] for inst in self.instruments}
        self._conns: set[_Conn] = set()
        self._private: dict[str, set[_Conn]] = {}
        self._topic_subs: dict[tuple[str, str], set[_Conn]] = {}
        self._meta: dict[str, _OrderMeta] = {}
        self._pending_meta: tuple[str, _OrderMeta] | None = None
        self._pushed: dict[str, tuple] = {}
        self._ticker_sent: dict[str, float] = {}
        self._ticker_pending: dict[str, SimTicker] = {}
        self._last_fill: dict[str, SimFill] = {}  # by order id
        self._last_trade: dict[tuple[str, str], str] = {}  # by (api key, instrument)
        self._conn_ids = itertools.count(1)
        self._pos_ids: dict[tuple[str, str], str] = {}
        self._pos_ctime: dict[tuple[str, str], int] = {}
        self._dead_man: dict[str, asyncio.TimerHandle] = {}
        self._limiter = FixedWindows(time.monotonic)
        self._tasks: list[asyncio.Task] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.app = self._build_app()
        engine.add_listener(self)
        faults.on_drop(self._on_drop_requested)

    # ----------------------------------------------------------------- face contract

    def urls(self, host: str, port: int) -> dict[str, str]:
        return {
            "rest": f"http://{host}:{port}",
            "ws_public": f"ws://{host}:{port}/ws/v5/public",
            "ws_private": f"ws://{host}:{port}/ws/v5/private",
        }

    def configure(self, options: dict) -> dict:
        """Apply run-time switches: `book_mode` (current | checksum | no_snapshot),
        `ws_idle_timeout_s`, `book_interval_ms`, `tbt_interval_ms`, `rate_limits`,
        `cancel_all_after_scale`, `book_keepalive_s`; returns the settings now in force."""
        unknown = sorted(set(options) - set(DEFAULT_OPTIONS))
        if unknown:
            raise ValueError(f"unknown OKX face option(s): {', '.join(unknown)}")
        if "book_mode" in options and options["book_mode"] not in BOOK_MODES:
            raise ValueError(f"book_mode must be one of {', '.join(BOOK_MODES)}")
        for name in (
            "ws_idle_timeout_s",
            "book_interval_ms",
            "tbt_interval_ms",
            "cancel_all_after_scale",
            "book_keepalive_s",
        ):
            if name in options:
                value = options[name]
                if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                    raise ValueError(f"{name} must be a positive number")
        if "rate_limits" in options and not isinstance(options["rate_limits"], bool):
            raise ValueError("rate_limits must be true or false")
        self.options.update(options)
        return dict(self.options)

    async def close(self) -> None:
        tasks, self._tasks = list(self._tasks), []
        for task in tasks:
            task.cancel()
        for task in tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        for handle in self._dead_man.values():
            handle.cancel()
        self._dead_man.clear()
        for conn in list(self._conns):
            await conn.close(1001, "server closing")
        self.engine.remove_listener(self)

    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._error_middleware])
        routes = [
            web.get("/api/v5/public/time", self._rest_time),
            web.get("/api/v5/public/instruments", self._rest_instruments),
            web.get("/api/v5/market/ticker", self._rest_ticker),
            web.get("/api/v5/market/tickers", self._rest_tickers),
            web.get("/api/v5/market/books", self._rest_books),
            web.post("/api/v5/trade/order", self._rest_place),
            web.get("/api/v5/trade/order", self._rest_get_order),
            web.post("/api/v5/trade/amend-order", self._rest_amend),
            web.post("/api/v5/trade/cancel-order", self._rest_cancel),
            web.post("/api/v5/trade/cancel-batch-orders", self._rest_cancel_batch),
            web.get("/api/v5/trade/orders-pending", self._rest_orders_pending),
            web.get("/api/v5/trade/fills", self._rest_fills),
            web.get("/api/v5/trade/fills-history", self._rest_fills_history),
            web.get("/api/v5/account/positions", self._rest_positions),
            web.get("/api/v5/account/balance", self._rest_balance),
            web.post("/api/v5/trade/cancel-all-after", self._rest_cancel_all_after),
            web.get("/ws/v5/public", self._ws_public),
            web.get("/ws/v5/private", self._ws_private),
        ]
        app.add_routes(routes)
        app.on_startup.append(self._on_startup)
        app.on_shutdown.append(self._on_shutdown)
        return app

    async def _on_startup(self, app: web.Application) -> None:
        self._loop = asyncio.get_running_loop()
        self._tasks.append(asyncio.create_task(self._flush_loop(), name="okx-book-flush"))

    async def _on_shutdown(self, app: web.Application) -> None:
        await self.close()

    # ----------------------------------------------------------------- REST plumbing

    @web.middleware
    async def _error_middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if not request.path.startswith("/api/v5/"):
            return await handler(request)
        try:
            if self.faults.take("rate_limit_burst"):
                raise OkxError("50011", "Too Many Requests", 429)
            return await handler(request)
        except OkxError as error:
            return self._json({"code": error.code, "msg": error.msg, "data": []}, error.status)

    @staticmethod
    def _json(payload: Any, status: int = 200) -> web.Response:
        return web.Response(
            body=orjson.dumps(payload), status=status, content_type="application/json"
        )

    def _ok(self, data: list, **extra: Any) -> web.Response:
        return self._json({"code": "0", "msg": "", "data": data, **extra})

    def _limit(self, group: str, key: str, inst_id: str = "", cost: int = 1) -> None:
        if not self.options["rate_limits"]:
            return
        limit, window, per_inst = RATE_LIMITS[group]
        who = f"{key}|{inst_id}" if per_inst else key
        if not self._limiter.allow((group, who), limit, window, cost):
            raise OkxError("50011", "Too Many Requests", 429)

    def _now_ns(self) -> int:
        return self.engine.clock_ns()

    async def _authenticate(self, request: web.Request) -> tuple[SimAccount, bytes]:
        """Check the OK-ACCESS-* headers ("REST Authentication"); returns the account and body."""
        body = await request.read()
        headers = request.headers
        key = headers.get("OK-ACCESS-KEY", "")
        passphrase = headers.get("OK-ACCESS-PASSPHRASE", "")
        stamp = headers.get("OK-ACCESS-TIMESTAMP", "")
        signature = headers.get("OK-ACCESS-SIGN", "")
        if not key:
            raise OkxError("50103", 'Request header "OK-ACCESS-KEY" cannot be empty.', 401)
        if not passphrase:
            raise OkxError("50104", 'Request header "OK-ACCESS-PASSPHRASE" cannot be empty.', 401)
        if not stamp:
            raise OkxError("50107", 'Request header "OK-ACCESS-TIMESTAMP" cannot be empty.', 401)
        if not signature:
            raise OkxError("50106", 'Request header "OK-ACCESS-SIGN" cannot be empty.', 401)
        if not stamp.endswith("Z"):
            raise OkxError("50112", "Invalid OK-ACCESS-TIMESTAMP.", 401)
        try:
            sent = datetime.fromisoformat(stamp[:-1] + "+00:00").timestamp()
        except ValueError:
            raise OkxError("50112", "Invalid OK-ACCESS-TIMESTAMP.", 401) from None
        if abs(self._now_ns() / 1e9 - sent) > AUTH_WINDOW_S:
            raise OkxError("50102", "Timestamp request expired.", 401)
        account = self.engine.account(VENUE, key)
        if account is None or account.internal:
            raise OkxError("50111", "Invalid OK-ACCESS-KEY.", 401)
        if not hmac.compare_digest(passphrase, account.passphrase):
            raise OkxError("50105", 'Request header "OK-ACCESS-PASSPHRASE" incorrect.', 401)
        prehash = (
            stamp + request.method.upper() + request.raw_path + body.decode("utf-8", "replace")
        )
        if not hmac.compare_digest(signature, sign(account.secret, prehash)):
            raise OkxError("50113", "Invalid signature.", 401)
        return account, body

    @staticmethod
    def _body_json(body: bytes) -> Any:
        if not body:
            raise OkxError("50000", "Body for POST request cannot be empty.", 400)
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            raise OkxError("50002", "JSON syntax error", 400) from None

    def _instrument(self, inst_id: str | None) -> InstrumentInfo:
        if not inst_id:
            raise _empty_param("instId")
        info = self.instruments.get(inst_id)
        if info is None:
            raise OkxError(
                "51001", "Instrument ID, Instrument ID code or Spread ID doesn't exist.", 200
            )
        return info

    @staticmethod
    def _decimal(value: Any, name: str) -> Decimal:
        if not isinstance(value, str | int) or isinstance(value, bool) or value == "":
            raise _param_error(name)
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise _param_error(name) from None
        if not number.is_finite():
            raise _param_error(name)
        return number

    # ----------------------------------------------------------------- REST: public

    async def _rest_time(self, request: web.Request) -> web.Response:
        self._limit("time", request.remote or "")
        return self._ok([{"ts": ms(self._now_ns())}])

    async def _rest_instruments(self, request: web.Request) -> web.Response:
        self._limit("instruments", request.remote or "")
        inst_type = request.query.get("instType", "")
        if not inst_type:
            raise _empty_param("instType")
        if inst_type not in ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION"):
            raise _param_error("instType")
        inst_id = request.query.get("instId")
        data = [
            self._instrument_json(info)
            for info in self.instruments.values()
            if self._inst_type(info) == inst_type and (not inst_id or info.venue_symbol == inst_id)
        ]
        return self._ok(data)

    async def _rest_ticker(self, request: web.Request) -> web.Response:
        self._limit("ticker", request.remote or "")
        info = self._instrument(request.query.get("instId"))
        return self._ok([self._ticker_json(self.engine.ticker(VENUE, info.venue_symbol))])

    async def _rest_tickers(self, request: web.Request) -> web.Response:
        self._limit("tickers", request.remote or "")
        inst_type = request.query.get("instType", "")
        if not inst_type:
            raise _empty_param("instType")
        family = request.query.get("instFamily")
        data = [
            self._ticker_json(self.engine.ticker(VENUE, info.venue_symbol))
            for info in self.instruments.values()
            if self._inst_type(info) == inst_type
            and (not family or self._inst_family(info) == family)
        ]
        return self._ok(data)

    async def _rest_books(self, request: web.Request) -> web.Response:
        """`GET /api/v5/market/books`: `sz` levels a side (default 1, at most 400) with the
        instrument's current `seqId`, the same sequence the book channels carry."""
        self._limit("books", request.remote or "")
        info = self._instrument(request.query.get("instId"))
        raw_sz = request.query.get("sz", "1")
        if not raw_sz.isdigit() or not 1 <= int(raw_sz) <= 400:
            raise _param_error("sz")
        inst = info.venue_symbol
        bids, asks = self.engine.book(VENUE, inst, int(raw_sz))
        item = {
            "asks": self._levels(inst, Side.SELL, asks),
            "bids": self._levels(inst, Side.BUY, bids),
            "ts": ms(self._book_ts[inst]),
            "seqId": self._seq[inst],
        }
        return self._ok([item])

    # ----------------------------------------------------------------- REST: trading

    async def _rest_place(self, request: web.Request) -> web.Response:
        """`POST /api/v5/trade/order` ("Place order")."""
        account, body = await self._authenticate(request)
        params = self._body_json(body)
        if not isinstance(params, dict):
            raise _param_error("body")
        self._limit("place", account.api_key, str(params.get("instId", "")))
        item = self._place(account, params)
        if item["sCode"] != "0":
            return self._failure([item])
        await self._ack_faults(request)
        return self._ok([item], inTime=_micros(), outTime=_micros())

    def _place(self, account: SimAccount, params: dict[str, Any]) -> dict[str, str]:
        """Place one order from OKX parameters; returns its `data` item (sCode 0 or the
        rejection). Malformed parameters raise `OkxError` (answered for the whole request)."""
        info = self._instrument(params.get("instId"))
        cl_ord_id = params.get("clOrdId", "") or ""
        tag = params.get("tag", "") or ""
        if cl_ord_id and (not isinstance(cl_ord_id, str) or not CL_ORD_ID.match(cl_ord_id)):
            raise _param_error("clOrdId")
        td_mode = params.get("tdMode", "")
        if not td_mode:
            raise _empty_param("tdMode")
        if td_mode not in ("cash", "cross", "isolated", "spot_isolated"):
            raise _param_error("tdMode")
        side_text = params.get("side", "")
        if side_text not in ("buy", "sell"):
            raise _empty_param("side") if not side_text else _param_error("side")
        pos_side = params.get("posSide", "") or "net"
        if pos_side != "net":
            raise _param_error("posSide")
        ord_type = params.get("ordType", "")
        if not ord_type:
            raise _empty_param("ordType")
        kinds = {
            "limit": (OrderType.LIMIT, TimeInForce.GTC, False),
            "post_only": (OrderType.LIMIT, TimeInForce.GTC, True),
            "fok": (OrderType.LIMIT, TimeInForce.FOK, False),
            "ioc": (OrderType.LIMIT, TimeInForce.IOC, False),
            "market": (OrderType.MARKET, TimeInForce.IOC, False),
            "optimal_limit_ioc": (OrderType.MARKET, TimeInForce.IOC, False),
        }
        if ord_type not in kinds or (
            ord_type == "optimal_limit_ioc" and info.kind is InstrumentKind.SPOT
        ):
            raise _param_error("ordType")
        order_type, tif, post_only = kinds[ord_type]
        side = Side(side_text)
        if "sz" not in params or params["sz"] in ("", None):
            raise _empty_param("sz")
        size = self._decimal(params["sz"], "sz")
        price = None
        if order_type is OrderType.LIMIT:
            if params.get("px") in ("", None):
                return self._order_item(
                    params, "51204", "The price for the limit order cannot be empty."
                )
            price = self._decimal(params["px"], "px")
        reduce_only = params.get("reduceOnly", False)
        if isinstance(reduce_only, str):
            reduce_only = reduce_only == "true"
        tgt_ccy = params.get("tgtCcy", "") or ""
        quantity = size
        wire_sz = ""
        if (
            info.kind is InstrumentKind.SPOT
            and order_type is OrderType.MARKET
            and side is Side.BUY
            and tgt_ccy != "base_ccy"
        ):
            quantity = self.engine.base_for_quote(VENUE, info.venue_symbol, size)
            wire_sz = s(size)
            tgt_ccy = tgt_ccy or "quote_ccy"
        self._pending_meta = (account.api_key, _OrderMeta(ord_type, td_mode, tag, tgt_ccy, wire_sz))
        try:
            order = self.engine.place_order(
                VENUE,
                account.api_key,
                info.venue_symbol,
                side=side,
                order_type=order_type,
                quantity=quantity,
                price=price,
                time_in_force=tif,
                post_only=post_only,
                reduce_only=bool(reduce_only),
                client_order_id=cl_ord_id or None,
                post_only_action=PostOnlyAction.CANCEL,
            )
        except SimReject as reject:
            code, msg = _reject_code(reject, "place", info)
            return self._order_item(params, code, msg)
        finally:
            self._pending_meta = None
        return {
            "ordId": order.order_id,
            "clOrdId": cl_ord_id,
            "tag": tag,
            "ts": ms(self._now_ns()),
            "sCode": "0",
            "sMsg": "Order placed",
        }

    def _meta_of(self, order: SimOrder) -> _OrderMeta:
        """The wire details of an order; the one being placed takes those `_rest_place` filed
        (its first engine callback arrives inside `place_order`)."""
        meta = self._meta.get(order.order_id)
        if meta is None:
            pending = self._pending_meta
            if pending is not None and pending[0] == order.api_key:
                meta = pending[1]
                self._pending_meta = None
            else:
                meta = _OrderMeta(self._ord_type_of(order), self._default_td_mode(order))
            self._meta[order.order_id] = meta
        return meta

    @staticmethod
    def _ord_type_of(order: SimOrder) -> str:
        if order.order_type is OrderType.MARKET:
            return "market"
        if order.post_only:
            return "post_only"
        if order.time_in_force is TimeInForce.FOK:
            return "fok"
        if order.time_in_force is TimeInForce.IOC:
            return "ioc"
        return "limit"

    def _default_td_mode(self, order: SimOrder) -> str:
        info = self.instruments.get(order.symbol)
        return "cash" if info is not None and info.kind is InstrumentKind.SPOT else "cross"

    def _order_item(self, params: dict, code: str, msg: str) -> dict[str, str]:
        """The `data` item of a refused placement."""
        return {
            "ordId": params.get("ordId", "") or "",
            "clOrdId": params.get("clOrdId", "") or "",
            "tag": params.get("tag", "") or "",
            "ts": ms(self._now_ns()),
            "sCode": code,
            "sMsg": msg,
        }

    def _failure(self, items: list[dict[str, str]]) -> web.Response:
        """Order operations where every order failed: top-level code "1" (HTTP 200)."""
        now_us = _micros()
        return self._json(
            {
                "code": "1",
                "msg": "Operation failed.",
                "data": items,
                "inTime": now_us,
                "outTime": now_us,
            }
        )

    async def _ack_faults(self, request: web.Request) -> None:
        """Delay or lose the answer of an order the engine already accepted (faults module)."""
        if not await answer_survives(self.faults):
            if request.transport is not None:
                request.transport.abort()
            raise ConnectionResetError("simulated lost acknowledgement")

    async def _rest_amend(self, request: web.Request) -> web.Response:
        """`POST /api/v5/trade/amend-order` ("Amend order")."""
        account, body = await self._authenticate(request)
        params = self._body_json(body)
        if not isinstance(params, dict):
            raise _param_error("body")
        self._limit("amend", account.api_key, str(params.get("instId", "")))
        item = self._amend(account, params)
        if item["sCode"] != "0":
            return self._failure([item])
        return self._ok([item], inTime=_micros(), outTime=_micros())

    def _amend(self, account: SimAccount, params: dict[str, Any]) -> dict[str, str]:
        """Amend one order (`newSz` includes what is filled, `newPx`); returns its item."""
        info = self._instrument(params.get("instId"))
        ord_id = params.get("ordId", "") or ""
        cl_ord_id = params.get("clOrdId", "") or ""
        req_id = params.get("reqId", "") or ""
        if not ord_id and not cl_ord_id:
            return self._amend_item(
                params, "51003", "Either client order ID or order ID is required."
            )
        new_sz = params.get("newSz")
        new_px = params.get("newPx")
        if new_sz in (None, "") and new_px in (None, ""):
            return self._amend_item(params, "51500", "You must enter a price, quantity, or TP/SL")
        quantity = None if new_sz in (None, "") else self._decimal(new_sz, "newSz")
        price = None if new_px in (None, "") else self._decimal(new_px, "newPx")
        existing = self.engine.get_order(
            VENUE,
            account.api_key,
            order_id=ord_id or None,
            client_order_id=None if ord_id else cl_ord_id,
        )
        if existing is not None and existing.order_id in self._meta:
            self._meta[existing.order_id].req_id = req_id
        try:
            order = self.engine.amend_order(
                VENUE,
                account.api_key,
                info.venue_symbol,
                order_id=ord_id or None,
                client_order_id=None if ord_id else cl_ord_id,
                price=price,
                quantity=quantity,
                at_or_below_filled=AmendAtOrBelowFilled.FILL,
            )
        except SimReject as reject:
            code, msg = _reject_code(reject, "amend", info)
            return self._amend_item(params, code, msg)
        return {
            "ordId": order.order_id,
            "clOrdId": order.client_order_id or "",
            "ts": ms(self._now_ns()),
            "reqId": req_id,
            "sCode": "0",
            "sMsg": "",
        }

    def _amend_item(self, params: dict, code: str, msg: str) -> dict[str, str]:
        return {
            "ordId": params.get("ordId", "") or "",
            "clOrdId": params.get("clOrdId", "") or "",
            "ts": ms(self._now_ns()),
            "reqId": params.get("reqId", "") or "",
            "sCode": code,
            "sMsg": msg,
        }

    def _cancel_one(self, account: SimAccount, params: Any) -> dict[str, str]:
        """Cancel one order; returns its `data` item (sCode 0 or the OKX error)."""
        now = ms(self._now_ns())
        if not isinstance(params, dict):
            raise _param_error("body")
        ord_id = params.get("ordId", "") or ""
        cl_ord_id = params.get("clOrdId", "") or ""
        item = {"ordId": ord_id, "clOrdId": cl_ord_id, "ts": now, "sCode": "0", "sMsg": ""}
        try:
            info = self._instrument(params.get("instId"))
        except OkxError as error:
            item.update(sCode=error.code, sMsg=error.msg)
            return item
        if not ord_id and not cl_ord_id:
            item.update(sCode="51003", sMsg="Either client order ID or order ID is required.")
            return item
        try:
            order = self.engine.cancel_order(
                VENUE,
                account.api_key,
                info.venue_symbol,
                order_id=ord_id or None,
                client_order_id=None if ord_id else cl_ord_id,
            )
        except SimReject as reject:
            code, msg = _reject_code(reject, "cancel", info)
            item.update(sCode=code, sMsg=msg)
            return item
        item.update(ordId=order.order_id, clOrdId=order.client_order_id or "")
        return item

    async def _rest_cancel(self, request: web.Request) -> web.Response:
        """`POST /api/v5/trade/cancel-order` ("Cancel order")."""
        account, body = await self._authenticate(request)
        params = self._body_json(body)
        if isinstance(params, dict):
            self._limit("cancel", account.api_key, str(params.get("instId", "")))
        item = self._cancel_one(account, params)
        if item["sCode"] != "0":
            return self._failure([item])
        return self._ok([item], inTime=_micros(), outTime=_micros())

    async def _rest_cancel_batch(self, request: web.Request) -> web.Response:
        """`POST /api/v5/trade/cancel-batch-orders` ("Cancel multiple orders"), at most 20."""
        account, body = await self._authenticate(request)
        params = self._body_json(body)
        if not isinstance(params, list) or not params:
            raise _param_error("body")
        if len(params) > 20:
            raise OkxError("51000", "Parameter body error", 400)
        self._limit("cancel-batch", account.api_key, cost=len(params))
        items = [self._cancel_one(account, one) for one in params]
        failed = sum(item["sCode"] != "0" for item in items)
        if failed == 0:
            code, msg = "0", ""
        elif failed == len(items):
            code, msg = "1", "Operation failed."
        else:
            code, msg = "2", "Bulk operation partially succeeded."
        now_us = _micros()
        return self._json(
            {"code": code, "msg": msg, "data": items, "inTime": now_us, "outTime": now_us}
        )

    async def _rest_get_order(self, request: web.Request) -> web.Response:
        """`GET /api/v5/trade/order` ("Order details"): by ordId, else the latest clOrdId."""
        account, _ = await self._authenticate(request)
        query = request.query
        info = self._instrument(query.get("instId"))
        self._limit("order", account.api_key, info.venue_symbol)
        ord_id = query.get("ordId", "")
        cl_ord_id = query.get("clOrdId", "")
        if not ord_id and not cl_ord_id:
            raise OkxError("51003", "Either client order ID or order ID is required.", 200)
        order = self._find_order(account, ord_id, cl_ord_id)
        if order is None or order.symbol != info.venue_symbol:
            raise OkxError("51603", "Order does not exist.", 200)
        return self._ok([self._order_json(order)])

    def _find_order(self, account: SimAccount, ord_id: str, cl_ord_id: str) -> SimOrder | None:
        return self.engine.get_order(
            VENUE,
            account.api_key,
            order_id=ord_id or None,
            client_order_id=None if ord_id else cl_ord_id,
        )

    async def _rest_orders_pending(self, request: web.Request) -> web.Response:
        """`GET /api/v5/trade/orders-pending` ("Order List"): newest first, paged by ordId."""
        account, _ = await self._authenticate(request)
        self._limit("orders-pending", account.api_key)
        query = request.query
        inst_id = query.get("instId")
        inst_type = query.get("instType")
        ord_type = query.get("ordType")
        state = query.get("state")
        orders = [
            o
            for o in self.engine.open_orders(VENUE, account.api_key)
            if (not inst_id or o.symbol == inst_id)
            and (not inst_type or self._inst_type(self.instruments[o.symbol]) == inst_type)
            and (not ord_type or self._meta_of(o).ord_type == ord_type)
            and (not state or STATE[o.status] == state)
        ]
        orders.sort(key=lambda o: int(o.order_id), reverse=True)
        orders = self._page(orders, query, lambda o: int(o.order_id))
        return self._ok([self._order_json(o) for o in orders])

    @staticmethod
    def _page(items: list, query: Any, key: Callable[[Any], int]) -> list:
        """OKX pagination over newest-first records: `after` older than, `before` newer than,
        `limit` at most 100 (default 100)."""
        after, before = query.get("after"), query.get("before")
        if after:
            if not after.isdigit():
                raise _param_error("after")
            items = [i for i in items if key(i) < int(after)]
        if before:
            if not before.isdigit():
                raise _param_error("before")
            items = [i for i in items if key(i) > int(before)]
        raw_limit = query.get("limit", "100")
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 100:
            raise _param_error("limit")
        return items[: int(raw_limit)]

    async def _rest_fills(self, request: web.Request) -> web.Response:
        return await self._fills(request, "fills")

    async def _rest_fills_history(self, request: web.Request) -> web.Response:
        return await self._fills(request, "fills-history")

    async def _fills(self, request: web.Request, group: str) -> web.Response:
        """`GET /api/v5/trade/fills` / `fills-history` ("Transaction details"): newest first,
        paged by `billId` (a per-account running number of the fill)."""
        account, _ = await self._authenticate(request)
        self._limit(group, account.api_key)
        query = request.query
        inst_id = query.get("instId")
        inst_type = query.get("instType")
        ord_id = query.get("ordId")
        if group == "fills-history" and not inst_type:
            raise _empty_param("instType")
        rows = [
            (index, fill)
            for index, fill in enumerate(self.engine.fills(VENUE, account.api_key))
            if (not inst_id or fill.symbol == inst_id)
            and (not inst_type or self._inst_type(self.instruments[fill.symbol]) == inst_type)
            and (not ord_id or fill.order_id == ord_id)
        ]
        rows.reverse()
        rows = self._page(rows, query, lambda row: self._bill_id(row[0]))
        return self._ok([self._fill_json(fill, self._bill_id(index)) for index, fill in rows])

    @staticmethod
    def _bill_id(index: int) -> int:
        return 500_000_000_000_000_000 + index

    async def _rest_positions(self, request: web.Request) -> web.Response:
        """`GET /api/v5/account/positions`: open (non-flat) positions, net mode."""
        account, _ = await self._authenticate(request)
        self._limit("positions", account.api_key)
        inst_id = request.query.get("instId")
        inst_type = request.query.get("instType")
        data = [
            self._position_json(account, p)
            for p in self.engine.positions(VENUE, account.api_key)
            if (not inst_id or p.symbol in inst_id.split(","))
            and (not inst_type or self._inst_type(self.instruments[p.symbol]) == inst_type)
        ]
        return self._ok(data)

    async def _rest_balance(self, request: web.Request) -> web.Response:
        """`GET /api/v5/account/balance` (trading account, optional `ccy` list)."""
        account, _ = await self._authenticate(request)
        self._limit("balance", account.api_key)
        wanted = request.query.get("ccy")
        balances = self.engine.balances(VENUE, account.api_key)
        if wanted:
            names = set(wanted.split(","))
            balances = [b for b in balances if b.currency in names]
        return self._ok([self._account_json(account, balances, ws=False)])

    async def _rest_cancel_all_after(self, request: web.Request) -> web.Response:
        """`POST /api/v5/trade/cancel-all-after`: arm (10..120 s), re-arm or disarm (0) the
        account's dead-man switch."""
        account, body = await self._authenticate(request)
        self._limit("cancel-all-after", account.api_key)
        params = self._body_json(body)
        if not isinstance(params, dict) or params.get("timeOut") in (None, ""):
            raise _empty_param("timeOut")
        raw = str(params["timeOut"])
        low, high = CANCEL_ALL_AFTER_RANGE
        if not raw.isdigit() or not (int(raw) == 0 or low <= int(raw) <= high):
            raise _param_error("timeOut")
        seconds = int(raw)
        handle = self._dead_man.pop(account.api_key, None)
        if handle is not None:
            handle.cancel()
        now_ns = self._now_ns()
        trigger = "0"
        if seconds:
            loop = asyncio.get_running_loop()
            self._dead_man[account.api_key] = loop.call_later(
                seconds * self.options["cancel_all_after_scale"],
                self._fire_dead_man,
                account.api_key,
            )
            trigger = ms(now_ns + seconds * 1_000_000_000)
        tag = params.get("tag", "") or ""
        return self._ok([{"triggerTime": trigger, "tag": tag, "ts": ms(now_ns)}])

    def _fire_dead_man(self, api_key: str) -> None:
        self._dead_man.pop(api_key, None)
        self.engine.cancel_all(VENUE, api_key, reason=CancelReason.DEAD_MAN_SWITCH)

    # ----------------------------------------------------------------- JSON builders

    @staticmethod
    def _inst_type(info: InstrumentInfo) -> str:
        return {
            InstrumentKind.SPOT: "SPOT",
            InstrumentKind.PERPETUAL: "SWAP",
            InstrumentKind.FUTURE: "FUTURES",
            InstrumentKind.OPTION: "OPTION",
        }[info.kind]

    @staticmethod
    def _inst_family(info: InstrumentInfo) -> str:
        return "" if info.kind is InstrumentKind.SPOT else f"{info.base}-{info.quote}"

    def _instrument_json(self, info: InstrumentInfo) -> dict[str, Any]:
        """One `GET /api/v5/public/instruments` item, keyed as okx/rest_instruments_*.json."""
        common = {
            "alias": "",
            "auctionEndTime": "",
            "category": "1",
            "expTime": "",
            "instId": info.venue_symbol,
            "instType": self._inst_type(info),
            "listTime": LIST_TIME,
            "lotSz": s(info.lot_size),
            "maxIcebergSz": "9999999999.0000000000000000",
            "maxLmtAmt": "20000000",
            "maxLmtSz": "9999999999",
            "maxStopSz": "1000000",
            "maxTriggerSz": "9999999999.0000000000000000",
            "maxTwapSz": "9999999999.0000000000000000",
            "minSz": s(info.min_size),
            "optType": "",
            "ruleType": "normal",
            "state": "live" if info.active else "suspend",
            "stk": "",
            "tickSz": s(info.tick_size),
        }
        if info.kind is InstrumentKind.SPOT:
            return {
                **common,
                "baseCcy": info.base,
                "ctMult": "",
                "ctType": "",
                "ctVal": "",
                "ctValCcy": "",
                "instFamily": "",
                "lever": "",
                "maxMktAmt": "1000000",
                "maxMktSz": "1000000",
                "quoteCcy": info.quote,
                "settleCcy": "",
                "uly": "",
            }
        family = self._inst_family(info)
        return {
            **common,
            "baseCcy": "",
            "contTdSwTime": "",
            "ctMult": "1",
            "ctType": "linear" if info.linear else "inverse",
            "ctVal": s(info.contract_size),
            "ctValCcy": info.base if info.linear else info.quote,
            "futureSettlement": False,
            "instFamily": family,
            "instIdCode": INSTRUMENT_CODES.get(info.venue_symbol, 10_000 + len(info.venue_symbol)),
            "lever": "100",
            "maxMktAmt": "",
            "maxMktSz": "10000",
            "maxPlatOILmt": "",
            "openType": "",
            "posLmtAmt": "",
            "posLmtPct": "",
            "preMktSwTime": "",
            "quoteCcy": "",
            "settleCcy": info.settle,
            "tradeQuoteCcyList": [],
            "uly": family,
        }

    def _ticker_json(self, ticker: SimTicker) -> dict[str, str]:
        """A ticker as `GET /api/v5/market/ticker` and the `tickers` channel send it."""
        info = self.instruments[ticker.symbol]
        volume = ticker.volume_24h
        if info.kind is InstrumentKind.SPOT:
            vol_ccy = volume * (ticker.last_price or ZERO)
        elif info.linear:
            vol_ccy = volume * info.contract_size
        else:
            vol_ccy = volume * info.contract_size / ticker.last_price if ticker.last_price else ZERO
        open_24h = ticker.open_24h if ticker.open_24h is not None else ticker.last_price
        return {
            "instType": self._inst_type(info),
            "instId": ticker.symbol,
            "last": s(ticker.last_price),
            "lastSz": s(ticker.last_size if ticker.last_size is not None else ZERO),
            "askPx": s(ticker.best_ask),
            "askSz": s(ticker.best_ask_size),
            "bidPx": s(ticker.best_bid),
            "bidSz": s(ticker.best_bid_size),
            "open24h": s(open_24h),
            "high24h": s(ticker.high_24h),
            "low24h": s(ticker.low_24h),
            "volCcy24h": s(vol_ccy.quantize(Decimal("0.00000001")) if vol_ccy else ZERO),
            "vol24h": s(volume),
            "sodUtc0": s(open_24h),
            "sodUtc8": s(open_24h),
            "ts": ms(ticker.ts_ns),
        }

    def _levels(
        self, inst: str, side: Side, levels: Iterable[tuple[Decimal, Decimal]]
    ) -> list[list[str]]:
        """Book levels as `[price, size, "0", number of orders]` ("Order book"); a level the
        published view still shows counts at least one order."""
        count = self.engine.level_order_count
        return [
            [s(p), s(q), "0", str(count(VENUE, inst, side, p) or 1) if q else "0"]
            for p, q in levels
        ]

    def _order_json(
        self, order: SimOrder, *, ws: bool = False, fill: SimFill | None = None
    ) -> dict:
        """An order as REST order queries (okx/rest_orders_pending.json) or the `orders`
        channel (okx/ws_orders.json, with `fill` the fill this push reports) send it."""
        info = self.instruments[order.symbol]
        meta = self._meta_of(order)
        spot = info.kind is InstrumentKind.SPOT
        fee_ccy = order.fee_currency or self.engine.fee_currency(VENUE, order.symbol, order.side)
        cancel_source, cancel_text = ("", "")
        if order.status is OrderStatus.CANCELED:
            cancel_source, cancel_text = CANCEL_SOURCE.get(
                order.cancel_reason, ("0", "Order canceled by system")
            )
        if fill is not None:
            fill_px, fill_sz = s(fill.price), s(fill.quantity)
            trade_id, fill_time = fill.trade_id, ms(fill.ts_ns)
            exec_type = "M" if fill.liquidity is Liquidity.MAKER else "T"
        elif order.last_fill_price is not None and not ws:
            fill_px, fill_sz = s(order.last_fill_price), s(order.last_fill_quantity)
            last = self._last_fill.get(order.order_id)
            trade_id = last.trade_id if last else ""
            fill_time = ms(last.ts_ns) if last else ""
            exec_type = ""
        else:
            fill_px, fill_sz, trade_id, fill_time, exec_type = ("", "0", "", "", "")
        if order.average_price is not None:
            avg_px = s(order.average_price.quantize(info.tick_size / 1000).normalize())
        else:
            avg_px = "0" if ws else ""
        lever = "" if spot else s(self.engine.leverage_of(VENUE, order.api_key, order.symbol))
        data = {
            "accFillSz": s(order.filled_quantity),
            "algoClOrdId": "",
            "algoId": "",
            "attachAlgoClOrdId": "",
            "attachAlgoOrds": [],
            "avgPx": avg_px,
            "cTime": ms(order.created_ns),
            "cancelSource": cancel_source,
            "cancelSourceReason": cancel_text,
            "category": "normal",
            "ccy": "" if spot else info.settle,
            "clOrdId": order.client_order_id or "",
            "fee": s(-order.fee_paid),
            "feeCcy": fee_ccy,
            "fillPx": fill_px,
            "fillSz": fill_sz,
            "fillTime": fill_time,
            "instId": order.symbol,
            "instType": self._inst_type(info),
            "isTpLimit": "false",
            "lever": lever,
            "linkedAlgoOrd": {"algoId": ""},
            "ordId": order.order_id,
            "ordType": meta.ord_type,
            "pnl": "0",
            "posSide": "net",
            "px": s(order.price),
            "pxType": "",
            "pxUsd": "",
            "pxVol": "",
            "quickMgnType": "",
            "rebate": "0",
            "rebateCcy": fee_ccy,
            "reduceOnly": "true" if order.reduce_only else "false",
            "side": order.side.value,
            "slOrdPx": "",
            "slTriggerPx": "",
            "slTriggerPxType": "",
            "source": "",
            "state": STATE[order.status],
            "stpId": "",
            "stpMode": "cancel_maker",
            "sz": meta.wire_sz or s(order.quantity),
            "tag": meta.tag,
            "tdMode": meta.td_mode,
            "tgtCcy": meta.tgt_ccy,
            "tpOrdPx": "",
            "tpTriggerPx": "",
            "tpTriggerPxType": "",
            "tradeId": trade_id,
            "uTime": ms(order.updated_ns),
        }
        if ws:
            data["execType"] = exec_type
            return data
        return data

    def _fill_json(self, fill: SimFill, bill_id: int) -> dict[str, str]:
        """One `GET /api/v5/trade/fills` row ("Transaction details", response parameters)."""
        info = self.instruments[fill.symbol]
        spot = info.kind is InstrumentKind.SPOT
        rate = self.engine.fees[(VENUE, fill.symbol)]
        fee_rate = rate.maker if fill.liquidity is Liquidity.MAKER else rate.taker
        return {
            "instType": self._inst_type(info),
            "instId": fill.symbol,
            "tradeId": fill.trade_id,
            "ordId": fill.order_id,
            "clOrdId": fill.client_order_id or "",
            "billId": str(bill_id),
            "subType": "1" if fill.side is Side.BUY else "2",
            "tag": self._meta.get(fill.order_id, _OrderMeta("", "")).tag,
            "fillPx": s(fill.price),
            "fillSz": s(fill.quantity),
            "fillIdxPx": s(self._usd_price(info.base)),
            "fillPnl": s(fill.realized_pnl),
            "fillPxVol": "",
            "fillPxUsd": "",
            "fillMarkVol": "",
            "fillFwdPx": "",
            "fillMarkPx": "" if spot else s(self.engine.mark_price(VENUE, fill.symbol)),
            "side": fill.side.value,
            "posSide": "net",
            "execType": "M" if fill.liquidity is Liquidity.MAKER else "T",
            "feeCcy": fill.fee_currency,
            "fee": s(-fill.fee),
            "ts": ms(fill.ts_ns),
            "fillTime": ms(fill.ts_ns),
            "feeRate": s(-fee_rate) if spot else "",
            "tradeQuoteCcy": info.quote if spot else "",
        }

    def _usd_price(self, ccy: str) -> Decimal:
        if ccy in STABLE_COINS:
            return Decimal(1)
        try:
            return self.engine.index_price(ccy)
        except (KeyError, ValueError):
            return ZERO

    def _position_json(self, account: SimAccount, position: SimPosition) -> dict[str, str]:
        """A position as `GET /api/v5/account/positions` and the `positions` channel send it
        (keys of okx/rest_positions.json; net mode, cross margin)."""
        info = self.instruments[position.symbol]
        key = (account.api_key, position.symbol)
        if key not in self._pos_ids:
            self._pos_ids[key] = str(1_300_000_000_000_000_000 + len(self._pos_ids))
            self._pos_ctime[key] = position.updated_ns or self._now_ns()
        ticker_last = self.engine.ticker(VENUE, position.symbol).last_price
        mark = position.mark_price or self.engine.mark_price(VENUE, position.symbol)
        size = abs(position.quantity) * info.contract_size
        notional_usd = size * mark if info.linear else size
        value = size * mark if info.linear else (size / mark if mark else ZERO)
        margin = position.margin
        upl_ratio = position.unrealized_pnl / margin if margin else ZERO
        upl_last = ZERO
        if ticker_last is not None and position.entry_price is not None and position.quantity:
            signed = position.quantity * info.contract_size
            if info.linear:
                upl_last = signed * (ticker_last - position.entry_price)
            else:
                upl_last = signed * (1 / position.entry_price - 1 / ticker_last)
        q = Decimal("0.00000001")
        return {
            "instId": position.symbol,
            "instType": self._inst_type(info),
            "mgnMode": "cross",
            "posId": self._pos_ids[key],
            "posSide": "net",
            "pos": s(position.quantity),
            "baseBal": "",
            "ccy": info.settle,
            "fee": "0",
            "lever": s(position.leverage),
            "last": s(ticker_last),
            "markPx": s(mark),
            "liqPx": s(position.liquidation_price),
            "mmr": s((value * MAINTENANCE_MARGIN).quantize(q)),
            "interest": "0",
            "tradeId": self._last_trade.get(key, ""),
            "notionalUsd": s(notional_usd.quantize(q)),
            "avgPx": s(position.entry_price),
            "upl": s(position.unrealized_pnl),
            "uplRatio": s(upl_ratio.quantize(q)),
            "uTime": ms(position.updated_ns),
            "margin": s(margin.quantize(q)),
            "mgnRatio": "",
            "adl": "1",
            "cTime": ms(self._pos_ctime[key]),
            "realizedPnl": s(position.realized_pnl),
            "uplLastPx": s(upl_last.quantize(q)),
            "uplRatioLastPx": s((upl_last / margin).quantize(q) if margin else ZERO),
            "availPos": s(abs(position.quantity)),
            "bePx": s(position.entry_price),
            "fundingFee": "0",
            "idxPx": s(self._usd_price(info.base)),
            "liqPenalty": "0",
            "optVal": "",
            "pendingCloseOrdLiabVal": "0",
            "pnl": s(position.realized_pnl),
            "posCcy": "",
            "quoteBal": "0",
            "quoteBorrowed": "0",
            "quoteInterest": "0",
            "spotInUseAmt": "",
            "spotInUseCcy": "",
            "usdPx": s(self._usd_price(info.settle)),
        }

    def _balance_detail(self, account: SimAccount, balance: SimBalance, *, ws: bool) -> dict:
        usd = self._usd_price(balance.currency)
        upl = sum(
            (
                p.unrealized_pnl
                for p in account.positions.values()
                if p.settle_currency == balance.currency and p.quantity
            ),
            ZERO,
        )
        eq = balance.total + upl
        detail = {
            "accAvgPx": "",
            "availBal": s(balance.available),
            "availEq": s(balance.available),
            "borrowFroz": "",
            "cashBal": s(balance.total),
            "ccy": balance.currency,
            "clSpotInUseAmt": "",
            "collateralEnabled": False,
            "crossLiab": "",
            "disEq": s((eq * usd).quantize(Decimal("0.00000001"))),
            "eq": s(eq),
            "eqUsd": s((eq * usd).quantize(Decimal("0.00000001"))),
            "fixedBal": "0",
            "frozenBal": s(balance.locked),
            "imr": "0",
            "interest": "",
            "isoEq": "0",
            "isoLiab": "",
            "isoUpl": "0",
            "liab": "",
            "maxLoan": "",
            "maxSpotInUseAmt": "",
            "mgnRatio": "",
            "mmr": "0",
            "notionalLever": "0",
            "openAvgPx": "",
            "ordFrozen": s(balance.locked),
            "rewardBal": "0",
            "smtSyncEq": "0",
            "spotBal": "",
            "spotCopyTradingEq": "0",
            "spotInUseAmt": "",
            "spotIsoBal": "0",
            "spotUpl": "",
            "spotUplRatio": "",
            "stgyEq": "0",
            "totalPnl": "",
            "totalPnlRatio": "",
            "twap": "0",
            "uTime": ms(balance.updated_ns or self._now_ns()),
            "upl": s(upl),
            "uplLiab": "",
        }
        if ws:
            detail.update(coinUsdPrice=s(usd), colBorrAutoConversion="0", collateralRestrict=False)
            return _project(detail, WS_BALANCE_DETAIL_KEYS)
        return _project(detail, BALANCE_DETAIL_KEYS)

    def _account_json(
        self, account: SimAccount, balances: list[SimBalance], *, ws: bool
    ) -> dict[str, Any]:
        """The trading account (okx/rest_account_balance.json, okx/ws_account.json)."""
        details = [self._balance_detail(account, b, ws=ws) for b in balances]
        total_eq = sum(
            (self._usd_price(b.currency) * b.total for b in account.balances.values()), ZERO
        )
        data = {
            "adjEq": "",
            "availEq": "",
            "borrowFroz": "",
            "details": details,
            "imr": "",
            "isoEq": "0",
            "mgnRatio": "",
            "mmr": "",
            "notionalUsd": "",
            "notionalUsdForBorrow": "",
            "notionalUsdForFutures": "",
            "notionalUsdForOption": "",
            "notionalUsdForSwap": "",
            "ordFroz": "",
            "totalEq": s(total_eq.quantize(Decimal("0.00000001"))),
            "uTime": ms(self._now_ns()),
            "upl": "",
        }
        return _project(data, WS_BALANCE_KEYS if ws else BALANCE_KEYS)

    # ----------------------------------------------------------------- engine events

    def on_book(
        self,
        venue: Venue,
        symbol: str,
        bid_changes: list[tuple[Decimal, Decimal]],
        ask_changes: list[tuple[Decimal, Decimal]],
        ts_ns: int,
    ) -> None:
        if venue is not VENUE or symbol not in self._seq:
            return
        self._seq[symbol] += 1
        self._book_ts[symbol] = ts_ns
        for view in self._views_by_inst[symbol]:
            view.dirty = True

    def on_trade(self, trade: SimTrade) -> None:
        if trade.venue is not VENUE:
            return
        subs = self._topic_subs.get(("trades", trade.symbol))
        if not subs:
            return
        payload = orjson.dumps(
            {
                "arg": {"channel": "trades", "instId": trade.symbol},
                "data": [
                    {
                        "instId": trade.symbol,
                        "tradeId": trade.trade_id,
                        "px": s(trade.price),
                        "sz": s(trade.quantity),
                        "side": trade.taker_side.value,
                        "ts": ms(trade.ts_ns),
                        "count": "1",
                    }
                ],
            }
        )
        for conn in subs:
            conn.send(payload)

    def on_ticker(self, ticker: SimTicker) -> None:
        """Tickers go out at most once per 100 ms per instrument ("Tickers channel": fastest
        rate 1 update/100ms); a newer one inside the window waits for the flush loop."""
        if ticker.venue is not VENUE or not self._topic_subs.get(("tickers", ticker.symbol)):
            return
        now = self._loop.time() if self._loop is not None else 0.0
        if now - self._ticker_sent.get(ticker.symbol, -1.0) < TICKER_INTERVAL_S:
            self._ticker_pending[ticker.symbol] = ticker
            return
        self._push_ticker(ticker, now)

    def _push_ticker(self, ticker: SimTicker, now: float) -> None:
        self._ticker_sent[ticker.symbol] = now
        self._ticker_pending.pop(ticker.symbol, None)
        subs = self._topic_subs.get(("tickers", ticker.symbol))
        if not subs:
            return
        payload = orjson.dumps(
            {
                "arg": {"channel": "tickers", "instId": ticker.symbol},
                "data": [self._ticker_json(ticker)],
            }
        )
        for conn in subs:
            conn.send(payload)

    def on_order(self, account: SimAccount, order: SimOrder) -> None:
        if account.venue is not VENUE:
            return
        self._meta_of(order)
        signature = (order.status, order.filled_quantity, order.quantity, order.price)
        if self._pushed.get(order.order_id) == signature:
            return
        self._pushed[order.order_id] = signature
        self._push_order(account, order, None)

    def on_fill(self, account: SimAccount, fill: SimFill) -> None:
        if account.venue is not VENUE:
            return
        self._last_fill[fill.order_id] = fill
        self._last_trade[(account.api_key, fill.symbol)] = fill.trade_id
        order = self.engine.get_order(VENUE, account.api_key, order_id=fill.order_id)
        if order is None:
            return
        self._pushed[order.order_id] = (
            order.status,
            order.filled_quantity,
            order.quantity,
            order.price,
        )
        self._push_order(account, order, fill)

    def _push_order(self, account: SimAccount, order: SimOrder, fill: SimFill | None) -> None:
        conns = self._private_subscribers(account.api_key, "orders")
        if not conns:
            return
        info = self.instruments[order.symbol]
        data = None
        for conn, arg in conns:
            if not self._matches(arg, info):
                continue
            if data is None:
                data = self._order_json(order, ws=True, fill=fill)
            self._send_private(conn, orjson.dumps({"arg": arg, "data": [data]}))

    def on_position(self, account: SimAccount, position: SimPosition) -> None:
        if account.venue is not VENUE:
            return
        conns = self._private_subscribers(account.api_key, "positions")
        if not conns:
            return
        info = self.instruments[position.symbol]
        data = None
        for conn, arg in conns:
            if not self._matches(arg, info):
                continue
            if data is None:
                data = self._position_json(account, position)
            self._send_private(conn, orjson.dumps({"arg": arg, "data": [data]}))

    def on_balance(self, account: SimAccount, balance: SimBalance) -> None:
        if account.venue is not VENUE:
            return
        conns = self._private_subscribers(account.api_key, "account")
        if not conns:
            return
        for conn, arg in conns:
            if arg.get("ccy") and arg["ccy"] != balance.currency:
                continue
            data = self._account_json(account, [balance], ws=True)
            self._send_private(conn, orjson.dumps({"arg": arg, "data": [data]}))

    def _private_subscribers(self, api_key: str, channel: str) -> list[tuple[_Conn, dict]]:
        found = []
        for conn in self._private.get(api_key, ()):
            for (name, _), arg in conn.subs.items():
                if name == channel:
                    found.append((conn, arg))
        return found

    def _matches(self, arg: dict[str, str], info: InstrumentInfo) -> bool:
        inst_type = arg.get("instType", "ANY")
        if inst_type != "ANY" and inst_type != self._inst_type(info):
            return False
        if arg.get("instId") and arg["instId"] != info.venue_symbol:
            return False
        return not arg.get("instFamily") or arg["instFamily"] == self._inst_family(info)

    # ----------------------------------------------------------------- book channels

    def _view(self, channel: str, inst: str) -> _BookView:
        view = self._views.get((channel, inst))
        if view is None:
            depth, cadence, incremental = BOOK_CHANNELS[channel]
            bids, asks = self.engine.book(VENUE, inst, depth)
            view = _BookView(
                channel=channel,
                inst_id=inst,
                depth=depth,
                cadence=cadence,
                incremental=incremental,
                bids=dict(bids),
                asks=dict(asks),
                last_seq=self._seq[inst],
                ts_ns=self._book_ts[inst],
                last_push=self._loop.time() if self._loop is not None else 0.0,
            )
            self._views[(channel, inst)] = view
            self._views_by_inst[inst].append(view)
        return view

    def _drop_view_subscriber(self, channel: str, inst: str, conn: _Conn) -> None:
        view = self._views.get((channel, inst))
        if view is None:
            return
        view.subscribers.discard(conn)
        if not view.subscribers:
            del self._views[(channel, inst)]
            self._views_by_inst[inst].remove(view)

    def _view_levels(self, view: _BookView) -> tuple[list[list[str]], list[list[str]]]:
        bids = sorted(view.bids.items(), reverse=True)
        asks = sorted(view.asks.items())
        return (
            self._levels(view.inst_id, Side.BUY, bids),
            self._levels(view.inst_id, Side.SELL, asks),
        )

    def _checksum(self, bids: list[list[str]], asks: list[list[str]]) -> int:
        if self.options["book_mode"] != "checksum":
            return 0
        value = book_checksum(bids, asks)
        if self.faults.take("corrupt_checksum"):
            value = value + 1 if value < (1 << 31) - 1 else value - 1
        return value

    def _book_snapshot(self, view: _BookView) -> bytes:
        """The message a new subscriber of `view` gets first, in the current book mode."""
        bids, asks = self._view_levels(view)
        arg = {"channel": view.channel, "instId": view.inst_id}
        ts = ms(view.ts_ns)
        if not view.incremental:
            return orjson.dumps({"arg": arg, "data": [self._top_item(view, bids, asks, ts)]})
        item = {
            "asks": asks,
            "bids": bids,
            "ts": ts,
            "checksum": self._checksum(bids, asks),
            "prevSeqId": -1,
            "seqId": view.last_seq,
        }
        return orjson.dumps({"arg": arg, "action": "snapshot", "data": [item]})

    @staticmethod
    def _top_item(view: _BookView, bids: list, asks: list, ts: str) -> dict[str, Any]:
        if view.channel == "books5":
            return {
                "asks": asks,
                "bids": bids,
                "instId": view.inst_id,
                "ts": ts,
                "seqId": view.last_seq,
            }
        return {"asks": asks, "bids": bids, "ts": ts, "seqId": view.last_seq}

    def _flush_view(self, view: _BookView) -> bool:
        """Publish what changed in `view`'s depth since its last message; True if one was sent."""
        view.dirty = False
        inst = view.inst_id
        bids, asks = self.engine.book(VENUE, inst, view.depth)
        new_bids, new_asks = dict(bids), dict(asks)
        bid_changes = self._diff(view.bids, new_bids, reverse=True)
        ask_changes = self._diff(view.asks, new_asks, reverse=False)
        if not bid_changes and not ask_changes:
            return False
        prev_seq = view.last_seq
        view.bids, view.asks = new_bids, new_asks
        view.last_seq = self._seq[inst]
        view.ts_ns = self._book_ts[inst]
        arg = {"channel": view.channel, "instId": inst}
        ts = ms(view.ts_ns)
        if not view.incremental:
            levels_b, levels_a = self._view_levels(view)
            payload = orjson.dumps(
                {"arg": arg, "data": [self._top_item(view, levels_b, levels_a, ts)]}
            )
        else:
            if self.faults.take("skip_book_sequence"):
                return False
            checksum = 0
            if self.options["book_mode"] == "checksum":
                checksum = self._checksum(*self._view_levels(view))
            item = {
                "asks": self._levels(inst, Side.SELL, ask_changes),
                "bids": self._levels(inst, Side.BUY, bid_changes),
                "ts": ts,
                "checksum": checksum,
                "prevSeqId": prev_seq,
                "seqId": view.last_seq,
            }
            payload = orjson.dumps({"arg": arg, "action": "update", "data": [item]})
        for conn in view.subscribers:
            conn.send(payload)
        return True

    def _keepalive(self, view: _BookView) -> None:
        """OKX's keep-alive on a book unchanged for about 60 s: an update with no levels and
        `seqId` equal to `prevSeqId` ("Order book channel", Sequence ID)."""
        checksum = 0
        if self.options["book_mode"] == "checksum":
            checksum = self._checksum(*self._view_levels(view))
        item = {
            "asks": [],
            "bids": [],
            "ts": ms(self._now_ns()),
            "checksum": checksum,
            "prevSeqId": view.last_seq,
            "seqId": view.last_seq,
        }
        arg = {"channel": view.channel, "instId": view.inst_id}
        payload = orjson.dumps({"arg": arg, "action": "update", "data": [item]})
        for conn in view.subscribers:
            conn.send(payload)

    @staticmethod
    def _diff(
        old: dict[Decimal, Decimal], new: dict[Decimal, Decimal], *, reverse: bool
    ) -> list[tuple[Decimal, Decimal]]:
        changes = [(p, ZERO) for p in old if p not in new]
        changes += [(p, q) for p, q in new.items() if old.get(p) != q]
        changes.sort(reverse=reverse)
        return changes

    async def _flush_loop(self) -> None:
        loop = asyncio.get_running_loop()
        last_book = loop.time()
        while True:
            tbt = any(v.cadence == "tbt" for v in self._views.values())
            book_s = self.options["book_interval_ms"] / 1000
            tick = min(self.options["tbt_interval_ms"] / 1000, book_s) if tbt else book_s
            await asyncio.sleep(tick)
            now = loop.time()
            book_due = now - last_book >= book_s - 1e-4
            if book_due:
                last_book = now
            for ticker in list(self._ticker_pending.values()):
                if now - self._ticker_sent.get(ticker.symbol, -1.0) >= TICKER_INTERVAL_S:
                    self._push_ticker(ticker, now)
            keepalive = self.options["book_keepalive_s"]
            for view in list(self._views.values()):
                try:
                    if view.dirty and (view.cadence == "tbt" or book_due):
                        if self._flush_view(view):
                            view.last_push = now
                    elif view.incremental and not view.dirty and now - view.last_push >= keepalive:
                        self._keepalive(view)
                        view.last_push = now
                except Exception:
                    logger.exception("OKX face failed to publish %s %s", view.channel, view.inst_id)

    # ----------------------------------------------------------------- WebSocket plumbing

    async def _ws_public(self, request: web.Request) -> web.StreamResponse:
        return await self._serve_ws(request, private=False)

    async def _ws_private(self, request: web.Request) -> web.StreamResponse:
        return await self._serve_ws(request, private=True)

    async def _serve_ws(self, request: web.Request, *, private: bool) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=64 * 1024)
        await ws.prepare(request)
        conn = _Conn(
            ws=ws,
            transport=request.transport,
            faults=self.faults,
            conn_id=f"{next(self._conn_ids):08x}",
            max_queue=MAX_QUEUED_MESSAGES,
            overflow=(4005, "Buffer is full, cannot write data"),
            private=private,
        )
        self._conns.add(conn)
        conn.start(f"okx-ws-writer-{conn.conn_id}")
        idle = asyncio.create_task(
            conn.watch_idle(
                lambda: self.options["ws_idle_timeout_s"], 4004, "No data received in 30s"
            ),
            name=f"okx-ws-idle-{conn.conn_id}",
        )
        try:
            async for message in ws:
                if message.type is WSMsgType.TEXT:
                    self._on_text(conn, message.data)
                elif message.type is WSMsgType.ERROR:
                    break
        finally:
            self._forget(conn)
            idle.cancel()
            await conn.stop_writer()
        return ws

    def _forget(self, conn: _Conn) -> None:
        conn.closed = True
        self._conns.discard(conn)
        if conn.api_key is not None:
            peers = self._private.get(conn.api_key)
            if peers is not None:
                peers.discard(conn)
                if not peers:
                    del self._private[conn.api_key]
        for channel, key in list(conn.subs):
            self._unsubscribe_topic(conn, channel, key)
        conn.subs.clear()

    def _send_private(self, conn: _Conn, payload: bytes) -> None:
        """Push one private message, applying the duplicate/reorder faults."""
        conn.push_private(payload, loop=self._loop, hold_s=REORDER_HOLD_S)

    def _on_drop_requested(self) -> None:
        if self._loop is None or self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._drop_all)

    def _drop_all(self) -> None:
        for conn in list(self._conns):
            conn.drop()

    # ----------------------------------------------------------------- WebSocket requests

    def _event(self, conn: _Conn, payload: dict[str, Any], request_id: str | None) -> None:
        if request_id:
            payload = {"id": request_id, **payload}
        conn.send(orjson.dumps(payload))

    def _error(self, conn: _Conn, code: str, msg: str, request_id: str | None = None) -> None:
        self._event(
            conn, {"event": "error", "code": code, "msg": msg, "connId": conn.conn_id}, request_id
        )

    def _on_text(self, conn: _Conn, text: str) -> None:
        if text == "ping":
            conn.send("pong")
            return
        try:
            request = orjson.loads(text)
        except orjson.JSONDecodeError:
            self._error(conn, "60012", f"Invalid request: {text}")
            return
        if not isinstance(request, dict):
            self._error(conn, "60012", f"Invalid request: {text}")
            return
        op = request.get("op")
        request_id = request.get("id") if isinstance(request.get("id"), str) else None
        args = request.get("args")
        if op in WS_TRADE_OPS and conn.private:
            self._ws_trade(conn, request)
            return
        if op not in ("login", "subscribe", "unsubscribe"):
            self._error(conn, "60019", f"Invalid op: {op}", request_id)
            return
        if not isinstance(args, list) or not args or not all(isinstance(a, dict) for a in args):
            self._error(conn, "60012", f"Invalid request: {text}", request_id)
            return
        if op == "login":
            self._login(conn, args[0], request_id)
            return
        for arg in args:
            if op == "subscribe":
                self._subscribe(conn, arg, request_id)
            else:
                self._unsubscribe(conn, arg, request_id)

    def _ws_trade(self, conn: _Conn, request: dict[str, Any]) -> None:
        """An order operation over the private WebSocket; answered as
        `{"id", "op", "code", "msg", "data": [item], "inTime", "outTime"}` ("WS / Place order")."""
        op = request["op"]
        request_id = request.get("id")
        if not isinstance(request_id, str) or not CL_ORD_ID.match(request_id):
            self._error(conn, "60013", "Invalid args")
            return
        if conn.api_key is None:
            self._error(conn, "60011", "Please log in", request_id)
            return
        args = request.get("args")
        if not isinstance(args, list) or len(args) != 1 or not isinstance(args[0], dict):
            self._error(conn, "60013", "Invalid args", request_id)
            return
        account = self.engine.account(VENUE, conn.api_key)
        if account is None:
            self._error(conn, "60011", "Please log in", request_id)
            return
        params = args[0]
        answer: dict[str, Any] = {"id": request_id, "op": op}
        try:
            self._limit(WS_TRADE_OPS[op], account.api_key, str(params.get("instId", "")))
            if op == "order":
                item = self._place(account, params)
            elif op == "amend-order":
                item = self._amend(account, params)
            else:
                item = self._cancel_one(account, params)
        except OkxError as error:
            answer.update(
                code=error.code, msg=error.msg, data=[], inTime=_micros(), outTime=_micros()
            )
            conn.send(orjson.dumps(answer))
            return
        ok = item["sCode"] == "0"
        answer.update(
            code="0" if ok else "1",
            msg="" if ok else "Operation failed.",
            data=[item],
            inTime=_micros(),
            outTime=_micros(),
        )
        payload = orjson.dumps(answer)
        if not ok or op != "order":
            conn.send(payload)
            return
        task = asyncio.ensure_future(self._ws_ack(conn, payload))
        self._tasks.append(task)
        task.add_done_callback(self._forget_task)

    def _forget_task(self, task: asyncio.Future) -> None:
        if task in self._tasks:
            self._tasks.remove(task)

    async def _ws_ack(self, conn: _Conn, payload: bytes) -> None:
        """Send a WebSocket order acknowledgement, delayed or lost per the faults."""
        if await answer_survives(self.faults):
            conn.send(payload)
        else:
            conn.drop()

    def _login(self, conn: _Conn, arg: dict[str, Any], request_id: str | None) -> None:
        """`{"op": "login"}` ("WebSocket" Login): sign of timestamp + GET + /users/self/verify."""
        if conn.api_key is not None:
            self._error(
                conn,
                "60031",
                "The WebSocket endpoint does not allow multiple or repeated logins.",
                request_id,
            )
            return
        key = arg.get("apiKey")
        passphrase = arg.get("passphrase")
        stamp = arg.get("timestamp")
        signature = arg.get("sign")
        if not all(isinstance(v, str) and v for v in (key, passphrase, stamp, signature)):
            self._error(conn, "60009", "Login failure", request_id)
            return
        try:
            sent = float(stamp)
        except ValueError:
            self._error(conn, "60004", "Invalid timestamp", request_id)
            return
        if abs(self._now_ns() / 1e9 - sent) > AUTH_WINDOW_S:
            self._error(conn, "60006", "Timestamp request expired", request_id)
            return
        account = self.engine.account(VENUE, key)
        if account is None or account.internal:
            self._error(conn, "60005", "Invalid apiKey", request_id)
            return
        if not hmac.compare_digest(passphrase, account.passphrase):
            self._error(conn, "60024", "Wrong passphrase", request_id)
            return
        if not hmac.compare_digest(signature, sign(account.secret, stamp + "GET" + LOGIN_PATH)):
            self._error(conn, "60007", "Invalid sign", request_id)
            return
        conn.api_key = key
        self._private.setdefault(key, set()).add(conn)
        self._event(
            conn, {"event": "login", "code": "0", "msg": "", "connId": conn.conn_id}, request_id
        )

    @staticmethod
    def _sub_key(channel: str, arg: dict[str, Any]) -> str:
        return "|".join(str(arg.get(k, "")) for k in ("instId", "instType", "instFamily", "ccy"))

    def _bad_channel(self, conn: _Conn, arg: dict[str, Any], request_id: str | None) -> None:
        described = ",".join(f"{k}:{v}" for k, v in arg.items())
        self._error(
            conn,
            "60018",
            f"Wrong URL or {described} doesn't exist. Please use the correct URL, channel and "
            "parameters referring to API document.",
            request_id,
        )

    def _subscribe(self, conn: _Conn, arg: dict[str, Any], request_id: str | None) -> None:
        channel = arg.get("channel")
        if channel == "fills" and conn.private:
            self._error(
                conn,
                "64003",
                "Your trading fee tier doesn't meet the requirement to access this channel",
                request_id,
            )
            return
        wanted = PRIVATE_CHANNELS if conn.private else PUBLIC_CHANNELS
        if channel not in wanted:
            self._bad_channel(conn, arg, request_id)
            return
        echo = {k: v for k, v in arg.items() if isinstance(v, str)}
        if channel in PRIVATE_CHANNELS:
            if conn.api_key is None:
                self._error(conn, "60011", "Please log in", request_id)
                return
            if channel in ("orders", "positions"):
                inst_type = arg.get("instType")
                if inst_type not in ("ANY", "SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION"):
                    self._bad_channel(conn, arg, request_id)
                    return
            key = self._sub_key(channel, arg)
            first = all(name != channel for name, _ in conn.subs)
            conn.subs[(channel, key)] = echo
            self._event(
                conn, {"event": "subscribe", "arg": echo, "connId": conn.conn_id}, request_id
            )
            if first:
                self._conn_count_event(conn, channel)
            self._initial_private_push(conn, channel, echo)
            return
        inst = arg.get("instId")
        if not isinstance(inst, str) or inst not in self.instruments:
            self._bad_channel(conn, arg, request_id)
            return
        echo = {"channel": channel, "instId": inst}
        key = self._sub_key(channel, arg)
        already = (channel, key) in conn.subs
        conn.subs[(channel, key)] = echo
        self._event(conn, {"event": "subscribe", "arg": echo, "connId": conn.conn_id}, request_id)
        if already:
            return
        if channel in BOOK_CHANNELS:
            view = self._view(channel, inst)
            view.subscribers.add(conn)
            if not view.incremental or self.options["book_mode"] != "no_snapshot":
                conn.send(self._book_snapshot(view))
        else:
            self._topic_subs.setdefault((channel, inst), set()).add(conn)
            if channel == "tickers":
                ticker = self.engine.ticker(VENUE, inst)
                conn.send(orjson.dumps({"arg": echo, "data": [self._ticker_json(ticker)]}))

    def _conn_count_event(self, conn: _Conn, channel: str) -> None:
        """`channel-conn-count`: how many connections of this key now carry `channel`
        ("Connection count limit", sent to new subscriptions of orders/account/positions)."""
        count = sum(
            any(name == channel for name, _ in peer.subs)
            for peer in self._private.get(conn.api_key or "", ())
        )
        payload = {
            "event": "channel-conn-count",
            "channel": channel,
            "connCount": str(count),
            "connId": conn.conn_id,
        }
        conn.send(orjson.dumps(payload))

    def _initial_private_push(self, conn: _Conn, channel: str, arg: dict[str, str]) -> None:
        """The `account` and `positions` channels start with the current state."""
        account = self.engine.account(VENUE, conn.api_key or "")
        if account is None:
            return
        if channel == "account":
            balances = [
                b
                for b in account.balances.values()
                if not arg.get("ccy") or b.currency == arg["ccy"]
            ]
            if balances:
                data = self._account_json(account, balances, ws=True)
                conn.send(orjson.dumps({"arg": arg, "data": [data]}))
        elif channel == "positions":
            data = [
                self._position_json(account, p)
                for p in self.engine.positions(VENUE, account.api_key)
                if self._matches(arg, self.instruments[p.symbol])
            ]
            if data:
                conn.send(orjson.dumps({"arg": arg, "data": data}))

    def _unsubscribe(self, conn: _Conn, arg: dict[str, Any], request_id: str | None) -> None:
        channel = arg.get("channel")
        wanted = PRIVATE_CHANNELS if conn.private else PUBLIC_CHANNELS
        if channel not in wanted:
            self._bad_channel(conn, arg, request_id)
            return
        key = self._sub_key(channel, arg)
        echo = conn.subs.pop((channel, key), None)
        if echo is None:
            echo = {k: v for k, v in arg.items() if isinstance(v, str)}
        else:
            self._unsubscribe_topic(conn, channel, key)
        self._event(conn, {"event": "unsubscribe", "arg": echo, "connId": conn.conn_id}, request_id)

    def _unsubscribe_topic(self, conn: _Conn, channel: str, key: str) -> None:
        inst = key.split("|", 1)[0]
        if channel in BOOK_CHANNELS:
            self._drop_view_subscriber(channel, inst, conn)
        elif channel in ("tickers", "trades"):
            subs = self._topic_subs.get((channel, inst))
            if subs is not None:
                subs.discard(conn)
                if not subs:
                    del self._topic_subs[(channel, inst)]
