"""The simulator's Bybit v5 face: Bybit's real REST paths, WebSocket streams, signing and errors.

A client only swaps scheme, host and port (`urls`). Facts this relies on, with their sources
(`../shared/fixtures/venues/SOURCES.md`, the scraped Bybit v5 docs in rosssaunders/coincise
`docs/bybit/**`, and `tests/fixtures/venues/bybit/SOURCES_SIM.md`):

- REST under `/v5/...`, envelope `retCode`/`retMsg`/`result`/`retExtInfo`/`time` (docs
  "Integration guidance"). Signed requests carry `X-BAPI-API-KEY`, `X-BAPI-TIMESTAMP`,
  `X-BAPI-SIGN`, optional `X-BAPI-RECV-WINDOW` (default 5000); the signature is the lowercase
  hex HMAC-SHA256 of timestamp + key + recv_window + (raw query string | raw JSON body), and the
  timestamp must satisfy `server_time - recv_window <= ts < server_time + 1000` (docs
  "Authentication"): 10002 outside the window, 10003 unknown key, 10004 wrong signature.
- Rate limits per UID, per endpoint, per rolling second (docs "Rate Limit Rules" table),
  reported in `X-Bapi-Limit`, `X-Bapi-Limit-Status`, `X-Bapi-Limit-Reset-Timestamp`; over the
  limit retCode 10006 "Too many visits!"; over 600 requests per 5 s from one IP, HTTP 403
  "access too frequent".
- WebSocket public streams `/v5/public/{spot,linear,inverse,option}`, private `/v5/private`
  (docs "Connect"). `{"op":"ping"}` is answered with the public or private pong shape; a
  connection with neither ping-pong nor data for 10 minutes is cut (`idle_timeout` option;
  private `?max_active_time=30s..600s`). Spot takes at most 10 args per subscribe.
- `orderbook.{depth}.{symbol}`: first push a `snapshot`, then `delta`s whose `u` grows by one,
  `seq` the cross sequence; size "0" removes a level; depth 1 sends snapshots only and repeats
  the last one after 3 s without change (same `u`); pushes are coalesced over the depth's
  interval (docs "Orderbook"). A simulated restart (`configure({"restart_books": true})`)
  sends a `u` = 1 snapshot that the client must take as a fresh book.
- Private `{"op":"auth","args":[key, expires, hex HMAC("GET/realtime" + expires)]}`; topics
  `order`, `execution`, `position`, `wallet` (and their `.category` forms) and `dcp`. The same
  auth opens `/v5/trade`, where `order.create|amend|cancel` carry a `header` with
  `X-BAPI-TIMESTAMP` (and recv window) and are answered `{op, retCode, retMsg, connId, reqId,
  data}`.
- Dead-man switch: `POST /v5/order/disconnected-cancel-all` (`timeWindow` 3..300 s, `product`
  OPTIONS|DERIVATIVES|SPOT). It fires when the account's private connections subscribed to
  `dcp` are all gone for `timeWindow` seconds, cancelling with cancelType `CancelByDCP`.
- A post-only order that would take is accepted (retCode 0) and then pushed as cancelled
  (rejected on spot) with rejectReason `EC_PostOnlyWillTakeLiquidity`; a spot market buy's
  `qty` is in the quote coin unless `marketUnit` is `baseCoin` (docs "Place Order").
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from exchanges.simulator.common.faults import Faults, answer_survives
from exchanges.simulator.common.limits import RollingWindow
from exchanges.simulator.common.signing import hmac_sha256
from exchanges.simulator.common.ws import NORMAL_CLOSE, Connection
from exchanges.simulator.engine.core import Engine
from exchanges.simulator.engine.records import (
    AmendAtOrBelowFilled,
    CancelReason,
    ClientIdScope,
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
from exchanges.simulator.instruments import bybit_category, bybit_sim_symbol
from exchanges.venues.base import (
    InstrumentInfo,
    Liquidity,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    Venue,
)

VENUE = Venue.BYBIT
CATEGORIES = ("spot", "linear", "inverse", "option")
ZERO = Decimal(0)
ONE = Decimal(1)

# orderbook depths per category and their push intervals in seconds (docs "Orderbook").
BOOK_DEPTHS: dict[str, dict[int, float]] = {
    "spot": {1: 0.01, 50: 0.02, 200: 0.2, 1000: 0.2},
    "linear": {1: 0.01, 50: 0.02, 200: 0.1, 500: 0.1, 1000: 0.2},
    "inverse": {1: 0.01, 50: 0.02, 200: 0.1, 500: 0.1, 1000: 0.2},
    "option": {25: 0.02, 100: 0.1},
}
REST_BOOK_LIMITS = {
    "spot": (1, 200, 1),
    "linear": (1, 500, 25),
    "inverse": (1, 500, 25),
    "option": (1, 25, 1),
}
SPOT_MAX_ARGS = 10
IP_LIMIT = (600, 5.0)  # requests per window seconds, per IP (docs "HTTP IP limit")

# Per-UID per-second limits: path -> limit by category (docs "API Rate Limit Table").
_TRADE = {"linear": 10, "inverse": 10, "option": 10, "spot": 20}
RATE_LIMITS: dict[str, dict[str, int]] = {
    "/v5/order/create": _TRADE,
    "/v5/order/amend": {"linear": 10, "inverse": 10, "option": 10, "spot": 10},
    "/v5/order/cancel": _TRADE,
    "/v5/order/cancel-all": {"linear": 10, "inverse": 10, "option": 1, "spot": 20},
    "/v5/order/disconnected-cancel-all": {"": 5},
    "/v5/order/realtime": {"": 50},
    "/v5/order/history": {"": 50},
    "/v5/execution/list": {"": 50},
    "/v5/position/list": {"": 50},
    "/v5/account/wallet-balance": {"": 50},
}

DEFAULT_OPTIONS: dict[str, Any] = {
    "idle_timeout": 600.0,  # seconds without ping-pong or data before a connection is cut
    "rate_limits": True,  # per-UID endpoint limits and the per-IP limit
    "book_intervals": True,  # coalesce book pushes over each depth's interval
    "depth1_resend": 3.0,  # seconds after which depth-1 books repeat their snapshot
    "dcp_time_scale": 1.0,  # multiplies DCP timeWindow (tests shorten it)
    "restart_books": False,  # one-shot: every book stream restarts at u = 1
}

STATUS = {
    OrderStatus.NEW: "New",
    OrderStatus.PARTIALLY_FILLED: "PartiallyFilled",
    OrderStatus.FILLED: "Filled",
    OrderStatus.CANCELED: "Cancelled",
    OrderStatus.REJECTED: "Rejected",
    OrderStatus.EXPIRED: "Cancelled",
    OrderStatus.PENDING_NEW: "Created",
    OrderStatus.PENDING_CANCEL: "New",
}
SIDE = {Side.BUY: "Buy", Side.SELL: "Sell"}
SIDE_IN = {"Buy": Side.BUY, "Sell": Side.SELL}
CANCEL_BY_DCP = "CancelByDCP"
# Engine cancel reason -> the order's `cancelType` (docs "Enums Definitions": cancelType).
CANCEL_TYPE: dict[CancelReason, str] = {
    CancelReason.USER: "CancelByUser",
    CancelReason.CANCEL_ALL: "CancelByUser",
    CancelReason.DEAD_MAN_SWITCH: CANCEL_BY_DCP,
}
DCP_PRODUCTS = {"OPTIONS": ("option",), "DERIVATIVES": ("linear", "inverse"), "SPOT": ("spot",)}
MAINTENANCE_RATE = Decimal("0.005")
USD_COINS = ("USDT", "USDC", "USD")
POST_ONLY_REJECT = "EC_PostOnlyWillTakeLiquidity"
REORDER_HOLD_S = 0.2  # the longest a reordered private push is held back
EXEC_NAMESPACE = uuid.UUID("6f1c1a3e-5a0b-4b8e-9a56-0b1b5b7b1e01")


class BybitError(Exception):
    """A request Bybit answers with a non-zero retCode (and, for a few, a non-200 status)."""

    def __init__(
        self, code: int, message: str, *, status: int = 200, headers: dict[str, str] | None = None
    ):
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message
        self.status = status
        self.headers = headers or {}


# (engine refusal, spot?) -> (retCode, retMsg) (docs "Error Codes": UTA 110xxx, spot 170xxx).
REJECT_CODES: dict[tuple[RejectReason, bool], tuple[int, str]] = {
    (RejectReason.INSUFFICIENT_FUNDS, False): (110007, "ab not enough for new order"),
    (RejectReason.INSUFFICIENT_FUNDS, True): (170131, "Insufficient balance."),
    (RejectReason.REDUCE_ONLY, False): (110017, "Reduce-only rule not satisfied"),
    (RejectReason.REDUCE_ONLY, True): (110017, "Reduce-only rule not satisfied"),
    (RejectReason.DUPLICATE_CLIENT_ORDER_ID, False): (110072, "OrderLinkedID is duplicate"),
    (RejectReason.DUPLICATE_CLIENT_ORDER_ID, True): (170141, "Duplicate clientOrderId"),
    (RejectReason.UNKNOWN_INSTRUMENT, False): (10001, "params error: symbol invalid"),
    (RejectReason.UNKNOWN_INSTRUMENT, True): (170121, "Invalid symbol."),
    (RejectReason.NO_LIQUIDITY, False): (
        110118,
        "Unable to retrieve a price of the market order due to low liquidity",
    ),
    (RejectReason.NO_LIQUIDITY, True): (170210, "New order rejected."),
    (RejectReason.ORDER_NOT_FOUND, True): (170213, "Order does not exist."),
    (RejectReason.ORDER_CLOSED, True): (170213, "Order does not exist."),
}


def reject_error(reject: SimReject, category: str, action: str) -> BybitError:
    """Bybit's answer to an engine refusal; `action` is create, amend or cancel."""
    spot = category == "spot"
    reason, text = reject.reason, reject.message
    known = REJECT_CODES.get((reason, spot))
    if known is not None:
        return BybitError(*known)
    if reason in (RejectReason.ORDER_NOT_FOUND, RejectReason.ORDER_CLOSED):
        verb = "replace" if action == "amend" else "cancel"
        return BybitError(110001, f"order not exists or too late to {verb}")
    if reason is RejectReason.INVALID_SIZE and "filled" in text:
        if spot:
            return BybitError(
                170313, "The modified contract quantity cannot be less than to the filled quantity"
            )
        return BybitError(
            110064,
            "The modified contract quantity cannot be less than or equal to the filled quantity.",
        )
    if spot and reason is RejectReason.INVALID_SIZE:
        if "minimum" in text:
            return BybitError(170136, "Order quantity lower than the minimum.")
        return BybitError(170137, "Order volume decimal too long")
    if spot and reason is RejectReason.INVALID_PRICE:
        if "tick" in text:
            return BybitError(170134, "Order price decimal too long.")
        return BybitError(170130, "Data sent for paramter 'price' is not valid.")
    return BybitError(10001, f"params error: {text}")


# --------------------------------------------------------------------------- formatting


def _dec(value: Decimal | None, quantum: Decimal | None = None) -> str:
    """Bybit's decimal string: fixed point, to `quantum` when given, "" for None."""
    if value is None:
        return ""
    if value == 0:
        return "0"
    value = value.quantize(quantum) if quantum is not None else value.normalize()
    return format(value, "f")


def _quantum(step: Decimal) -> Decimal:
    exponent = step.normalize().as_tuple().exponent
    return Decimal(1).scaleb(min(int(exponent), 0))


def _ms(ns: int) -> int:
    return ns // 1_000_000


def _to_decimal(value: Any, name: str) -> Decimal:
    if isinstance(value, bool) or value is None or value == "":
        raise BybitError(10001, f"params error: {name} invalid")
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise BybitError(10001, f"params error: {name} invalid") from exc
    if not number.is_finite():
        raise BybitError(10001, f"params error: {name} invalid")
    return number


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("true", "1")
    return bool(value)


@dataclass(frozen=True, slots=True)
class _Instrument:
    """One Bybit instrument as the face sees it: wire name, category, engine symbol, precisions."""

    info: InstrumentInfo
    category: str
    symbol: str  # wire symbol
    engine_symbol: str
    price_q: Decimal
    qty_q: Decimal


# --------------------------------------------------------------------------- connections


@dataclass(eq=False)
class _Conn(Connection):
    """One Bybit WebSocket connection: its stream, idle limit, login and topics."""

    private: bool = False
    category: str = ""
    idle_timeout: float = 600.0
    api_key: str | None = None
    topics: set[str] = field(default_factory=set)


@dataclass(eq=False)
class _BookStream:
    """One `orderbook.{depth}.{symbol}` stream shared by its subscribers (a depth's own u)."""

    instrument: _Instrument
    depth: int
    interval: float
    topic: str
    u: int = 0
    bids: dict[Decimal, Decimal] = field(default_factory=dict)
    asks: dict[Decimal, Decimal] = field(default_factory=dict)
    subscribers: set[_Conn] = field(default_factory=set)
    scheduled: bool = False
    last_push: float = 0.0
    primed: bool = False


@dataclass
class _Dcp:
    """Disconnect-cancel-all settings of one account: product -> time window in seconds."""

    windows: dict[str, int] = field(default_factory=dict)
    timer: asyncio.TimerHandle | None = None


# --------------------------------------------------------------------------- the face


class BybitFace(Listener):
    """Bybit v5 over HTTP and WebSocket on one aiohttp app (module doc lists the venue facts)."""

    venue = VENUE

    def __init__(self, engine: Engine, faults: Faults, *, options: dict | None = None):
        self.engine = engine
        self.faults = faults
        self.options: dict[str, Any] = dict(DEFAULT_OPTIONS)
        self.configure(options or {})
        self._instruments: dict[tuple[str, str], _Instrument] = {}
        self._by_engine_symbol: dict[str, _Instrument] = {}
        for info in engine.instruments_of(VENUE):
            category = bybit_category(info)
            inst = _Instrument(
                info=info,
                category=category,
                symbol=info.venue_symbol,
                engine_symbol=bybit_sim_symbol(category, info.venue_symbol),
                price_q=_quantum(info.tick_size),
                qty_q=_quantum(info.lot_size),
            )
            self._instruments[(category, inst.symbol)] = inst
            self._by_engine_symbol[inst.engine_symbol] = inst
        self._conns: set[_Conn] = set()
        self._conn_ids = itertools.count(1)
        self._conn_prefix = hashlib.sha1(f"bybit-sim-{faults.seed}".encode()).hexdigest()[:20]
        self._topic_subs: dict[tuple[str, str], set[_Conn]] = {}  # (category, topic) -> conns
        self._books: dict[tuple[str, int], _BookStream] = {}  # (engine symbol, depth)
        self._books_of: dict[str, list[_BookStream]] = {}
        self._u_floor: dict[tuple[str, int], int] = {}
        self._seq: dict[str, int] = {}
        self._last_trade: dict[str, Decimal] = {}
        self._tick_direction: dict[str, str] = {}
        self._ticker_sent: dict[str, dict[str, str]] = {}  # linear/inverse ticker delta base
        self._private: dict[str, set[_Conn]] = {}
        self._last_price_on_created: dict[str, str] = {}
        self._wallet_dirty: dict[str, SimAccount] = {}
        self._fill_context: dict[str, dict[str, Any]] = {}  # execId -> state at the fill
        self._position_created: dict[str, int] = {}
        self._push_ids = itertools.count(1)
        self._dcp: dict[str, _Dcp] = {}
        self._uid_hits = RollingWindow()
        self._ip_hits = RollingWindow()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._housekeeping_task: asyncio.Task | None = None
        self._tasks: set[asyncio.Task] = set()
        self.app = web.Application()
        self._add_routes()
        engine.add_listener(self)
        faults.on_drop(self._drop_all)

    # ----------------------------------------------------------------- face contract

    def urls(self, host: str, port: int) -> dict[str, str]:
        """REST base, the public stream prefix (a client appends `/spot`, `/linear`, ...), private."""
        return {
            "rest": f"http://{host}:{port}",
            "ws_public": f"ws://{host}:{port}/v5/public",
            "ws_private": f"ws://{host}:{port}/v5/private",
        }

    def configure(self, options: dict) -> dict:
        """Apply run-time switches (DEFAULT_OPTIONS names); returns the current settings."""
        unknown = sorted(set(options) - set(DEFAULT_OPTIONS))
        if unknown:
            raise ValueError(f"unknown Bybit face option(s): {', '.join(unknown)}")
        for name, value in options.items():
            default = DEFAULT_OPTIONS[name]
            if isinstance(default, bool):
                if not isinstance(value, bool):
                    raise ValueError(f"{name} must be true or false")
            elif isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{name} must be a non-negative number")
        self.options.update(options)
        if self.options.get("restart_books"):
            self.options["restart_books"] = False
            if hasattr(self, "_books"):
                self._restart_books()
        return dict(self.options)

    async def close(self) -> None:
        """Close every WebSocket, stop timers and detach from the engine."""
        self.engine.remove_listener(self)
        if self._housekeeping_task is not None:
            self._housekeeping_task.cancel()
            self._housekeeping_task = None
        for state in self._dcp.values():
            if state.timer is not None:
                state.timer.cancel()
                state.timer = None
        for conn in list(self._conns):
            await self._close_conn(conn)
        for task in list(self._tasks):
            task.cancel()

    # ----------------------------------------------------------------- routes

    def _add_routes(self) -> None:
        public = [
            ("GET", "/v5/market/time", self._market_time),
            ("GET", "/v5/market/instruments-info", self._instruments_info),
            ("GET", "/v5/market/tickers", self._tickers),
            ("GET", "/v5/market/orderbook", self._orderbook),
            ("GET", "/v5/market/recent-trade", self._recent_trade),
        ]
        private = [
            ("POST", "/v5/order/create", self._rest_order_create),
            ("POST", "/v5/order/amend", self._order_amend),
            ("POST", "/v5/order/cancel", self._order_cancel),
            ("POST", "/v5/order/cancel-all", self._order_cancel_all),
            ("POST", "/v5/order/disconnected-cancel-all", self._dcp_set),
            ("GET", "/v5/order/realtime", self._order_realtime),
            ("GET", "/v5/order/history", self._order_history),
            ("GET", "/v5/execution/list", self._execution_list),
            ("GET", "/v5/position/list", self._position_list),
            ("GET", "/v5/account/wallet-balance", self._wallet_balance),
        ]
        for method, path, handler in public:
            self.app.router.add_route(method, path, self._rest(handler, path, signed=False))
        for method, path, handler in private:
            self.app.router.add_route(method, path, self._rest(handler, path, signed=True))
        for category in CATEGORIES:
            self.app.router.add_get(f"/v5/public/{category}", self._public_ws(category))
        self.app.router.add_get("/v5/private", self._private_ws)
        self.app.router.add_get("/v5/trade", self._trade_ws)

    # ----------------------------------------------------------------- REST plumbing

    def _now_ms(self) -> int:
        return _ms(self.engine.clock_ns())

    def _envelope(
        self,
        code: int,
        message: str,
        result: Any = None,
        *,
        status: int = 200,
        headers: dict | None = None,
    ) -> web.Response:
        body = {
            "retCode": code,
            "retMsg": message,
            "result": {} if result is None else result,
            "retExtInfo": {},
            "time": self._now_ms(),
        }
        return web.Response(
            body=orjson.dumps(body), status=status, content_type="application/json", headers=headers
        )

    def _rest(
        self,
        handler: Callable[[dict, SimAccount | None, web.Request], Awaitable[Any]],
        path: str,
        *,
        signed: bool,
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def endpoint(request: web.Request) -> web.StreamResponse:
            if self.options["rate_limits"] and not self._ip_allowed(request):
                return web.Response(status=403, text="access too frequent")
            if request.method == "GET":
                payload = request.query_string
                params: dict[str, Any] = dict(request.query)
            else:
                payload = await request.text()
                try:
                    decoded = json.loads(payload, parse_float=Decimal) if payload else {}
                except ValueError:
                    return self._envelope(10001, "params error: request body is not valid JSON")
                if not isinstance(decoded, dict):
                    return self._envelope(10001, "params error: request body is not a JSON object")
                params = decoded
            headers: dict[str, str] = {}
            account = None
            try:
                if signed:
                    account = self._authenticate(request, payload)
                    headers = self._rate_limit(
                        account.api_key, path, str(params.get("category", ""))
                    )
                result = await handler(params, account, request)
            except BybitError as exc:
                return self._envelope(
                    exc.code, exc.message, status=exc.status, headers=exc.headers or headers
                )
            if isinstance(result, web.StreamResponse):
                return result
            return self._envelope(0, "OK", result, headers=headers)

        return endpoint

    def _authenticate(self, request: web.Request, payload: str) -> SimAccount:
        """Check Bybit's HMAC headers (docs "Authentication"); the account or a BybitError."""
        key = request.headers.get("X-BAPI-API-KEY", "")
        timestamp = request.headers.get("X-BAPI-TIMESTAMP", "")
        sign = request.headers.get("X-BAPI-SIGN", "")
        recv_window = request.headers.get("X-BAPI-RECV-WINDOW", "5000")
        if not key or not timestamp or not sign:
            raise BybitError(10003, "API key is invalid.", status=401)
        account = self.engine.account(VENUE, key)
        if account is None:
            raise BybitError(10003, "API key is invalid.")
        try:
            ts = int(timestamp)
            window = int(recv_window)
        except ValueError as exc:
            raise BybitError(
                10001, "params error: X-BAPI-TIMESTAMP or X-BAPI-RECV-WINDOW invalid"
            ) from exc
        server = self._now_ms()
        if not server - window <= ts < server + 1000:
            raise BybitError(
                10002,
                "invalid request, please check your server timestamp or recv_window param. "
                f"req_timestamp[{ts}],server_timestamp[{server}],recv_window[{window}]",
            )
        prehash = f"{timestamp}{key}{recv_window}{payload}"
        expected = hmac_sha256(account.secret, prehash).hex()
        if not hmac.compare_digest(expected, sign):
            raise BybitError(10004, f"error sign! origin_string[{prehash}]")
        return account

    def _ip_allowed(self, request: web.Request) -> bool:
        limit, window = IP_LIMIT
        return self._ip_hits.hit(request.remote or "", limit, window).allowed

    def _rate_limit(self, api_key: str, path: str, category: str) -> dict[str, str]:
        """Count the request against its UID/endpoint limit; the X-Bapi-Limit* headers or 10006."""
        limits = RATE_LIMITS.get(path, {"": 50})
        group = category if category in limits else ""
        limit = limits.get(group) or min(limits.values())
        now_ms = self._now_ms()
        if self.faults.take("rate_limit_burst"):
            raise BybitError(10006, "Too many visits!")
        if not self.options["rate_limits"]:
            return {}
        count = self._uid_hits.hit((api_key, path, group), limit, 1.0)
        reset = now_ms + int(count.resets_in * 1000) if count.used >= limit else now_ms
        headers = {
            "X-Bapi-Limit": str(limit),
            "X-Bapi-Limit-Status": str(limit - count.used),
            "X-Bapi-Limit-Reset-Timestamp": str(reset),
        }
        if not count.allowed:
            raise BybitError(10006, "Too many visits!", headers=headers)
        return headers

    # ----------------------------------------------------------------- parameter helpers

    @staticmethod
    def _category(params: dict, allowed: tuple[str, ...] = CATEGORIES) -> str:
        category = params.get("category")
        if not category:
            raise BybitError(10001, "params error: category is required")
        if category not in allowed:
            raise BybitError(10001, f"params error: category {category} is not supported")
        return str(category)

    def _instrument(self, category: str, symbol: Any) -> _Instrument:
        if not symbol:
            raise BybitError(10001, "params error: symbol is required")
        inst = self._instruments.get((category, str(symbol)))
        if inst is None:
            if category == "spot":
                raise BybitError(170121, "Invalid symbol.")
            raise BybitError(10001, "params error: symbol invalid")
        return inst

    def _instruments_in(self, category: str, params: dict) -> list[_Instrument]:
        """Instruments of `category` filtered by symbol / baseCoin / settleCoin (priority order)."""
        insts = [i for i in self._instruments.values() if i.category == category]
        if params.get("symbol"):
            return [self._instrument(category, params["symbol"])]
        if params.get("baseCoin"):
            return [i for i in insts if i.info.base == params["baseCoin"]]
        if params.get("settleCoin"):
            return [i for i in insts if i.info.settle == params["settleCoin"]]
        return insts

    @staticmethod
    def _require_scope(category: str, params: dict) -> None:
        if category in ("linear", "inverse") and not (
            params.get("symbol") or params.get("baseCoin") or params.get("settleCoin")
        ):
            raise BybitError(
                10001,
                "Missing some parameters that must be filled in, symbol or settleCoin or baseCoin",
            )

    @staticmethod
    def _page(items: list, params: dict, default: int, maximum: int) -> tuple[list, str]:
        """One page of `items` from `cursor` (an opaque offset) of `limit` rows; next cursor."""
        try:
            limit = int(params.get("limit") or default)
            offset = int(params.get("cursor") or 0)
        except ValueError as exc:
            raise BybitError(10001, "params error: limit or cursor invalid") from exc
        if not 1 <= limit <= maximum or offset < 0:
            raise BybitError(10001, "params error: limit or cursor invalid")
        page = items[offset : offset + limit]
        more = offset + limit < len(items)
        return page, (str(offset + limit) if more else "")

    # ----------------------------------------------------------------- market data REST

    async def _market_time(self, params: dict, account: None, request: web.Request) -> dict:
        now = self.engine.clock_ns()
        return {"timeSecond": str(now // 1_000_000_000), "timeNano": str(now)}

    async def _instruments_info(self, params: dict, account: None, request: web.Request) -> dict:
        category = self._category(params)
        insts = [i for i in self._instruments.values() if i.category == category]
        if params.get("symbol"):
            insts = [i for i in insts if i.symbol == params["symbol"]]
        if params.get("baseCoin"):
            insts = [i for i in insts if i.info.base == params["baseCoin"]]
        rows = [self._instrument_row(i) for i in insts]
        page, cursor = self._page(rows, params, 500, 1000)
        return {"category": category, "list": page, "nextPageCursor": cursor}

    def _instrument_row(self, inst: _Instrument) -> dict:
        """One instruments-info row in the current docs' shape (docs "Get Instruments Info")."""
        info = inst.info
        status = "Trading" if info.active else "Closed"
        if inst.category == "spot":
            return {
                "symbol": inst.symbol,
                "baseCoin": info.base,
                "quoteCoin": info.quote,
                "innovation": "0",
                "status": status,
                "marginTrading": "utaOnly",
                "stTag": "0",
                "lotSizeFilter": {
                    "basePrecision": _dec(info.lot_size),
                    "quotePrecision": "0.0000001",
                    "minOrderQty": _dec(info.min_size),
                    "maxOrderQty": "83",
                    "minOrderAmt": "5",
                    "maxOrderAmt": "8000000",
                    "maxLimitOrderQty": "83",
                    "maxMarketOrderQty": "41.5",
                    "postOnlyMaxLimitOrderSize": "60000",
                },
                "priceFilter": {"tickSize": _dec(info.tick_size)},
                "riskParameters": {"priceLimitRatioX": "0.005", "priceLimitRatioY": "0.01"},
                "symbolType": "",
            }
        scale = -int(info.tick_size.normalize().as_tuple().exponent)
        max_qty = "1190.000" if info.linear else "10000000"
        return {
            "symbol": inst.symbol,
            "contractType": "LinearPerpetual" if info.linear else "InversePerpetual",
            "status": status,
            "baseCoin": info.base,
            "quoteCoin": info.quote,
            "launchTime": "1585526400000",
            "deliveryTime": "0",
            "deliveryFeeRate": "",
            "priceScale": str(max(scale, 0)),
            "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
            "priceFilter": {
                "minPrice": _dec(info.tick_size),
                "maxPrice": "1999999.80" if info.linear else "999999.00",
                "tickSize": _dec(info.tick_size),
            },
            "lotSizeFilter": {
                "maxOrderQty": max_qty,
                "minOrderQty": _dec(info.min_size),
                "qtyStep": _dec(info.lot_size),
                "postOnlyMaxOrderQty": max_qty,
                "maxMktOrderQty": "500.000" if info.linear else "2000000",
                "minNotionalValue": "5" if info.linear else "0",
            },
            "unifiedMarginTrade": True,
            "fundingInterval": 480,
            "settleCoin": info.settle,
            "copyTrading": "both",
            "upperFundingRate": "0.00375",
            "lowerFundingRate": "-0.00375",
            "isPreListing": False,
            "preListingInfo": None,
            "riskParameters": {"priceLimitRatioX": "0.01", "priceLimitRatioY": "0.02"},
            "symbolType": "",
        }

    async def _tickers(self, params: dict, account: None, request: web.Request) -> dict:
        category = self._category(params)
        if params.get("symbol"):
            insts = [self._instrument(category, params["symbol"])]
        else:
            insts = [i for i in self._instruments.values() if i.category == category]
        rows = [
            self._ticker_fields(i, self.engine.ticker(VENUE, i.engine_symbol), rest=True)
            for i in insts
        ]
        return {"category": category, "list": rows}

    def _ticker_fields(self, inst: _Instrument, ticker: SimTicker, *, rest: bool) -> dict[str, str]:
        """A tickers row: the REST shape (docs "Get Tickers") or the WS data (fixture ws_tickers)."""
        pq, qq = inst.price_q, inst.qty_q
        last = ticker.last_price if ticker.last_price is not None else ticker.mark_price
        opened = ticker.open_24h if ticker.open_24h is not None else last
        change = (last - opened) / opened if opened else ZERO
        volume = ticker.volume_24h
        turnover = volume * last if inst.info.linear else (volume / last if last else ZERO)
        common = {
            "symbol": inst.symbol,
            "lastPrice": _dec(last, pq),
            "prevPrice24h": _dec(opened, pq),
            "price24hPcnt": _dec(change.quantize(Decimal("0.000001"))),
            "highPrice24h": _dec(ticker.high_24h if ticker.high_24h is not None else last, pq),
            "lowPrice24h": _dec(ticker.low_24h if ticker.low_24h is not None else last, pq),
            "turnover24h": _dec(turnover.quantize(Decimal("0.0001"))),
            "volume24h": _dec(volume, qq),
        }
        bid_ask = {
            "bid1Price": _dec(ticker.best_bid, pq),
            "bid1Size": _dec(ticker.best_bid_size, qq),
            "ask1Price": _dec(ticker.best_ask, pq),
            "ask1Size": _dec(ticker.best_ask_size, qq),
        }
        index = _dec(ticker.index_price, pq)
        if inst.category == "spot":
            row = {**common, "usdIndexPrice": index}
            return {**bid_ask, **row} if rest else row
        oi = ticker.open_interest
        oi_value = (
            oi * ticker.mark_price
            if inst.info.linear
            else (oi / ticker.mark_price if ticker.mark_price else ZERO)
        )
        derivative = {
            "indexPrice": index,
            "markPrice": _dec(ticker.mark_price, pq),
            "prevPrice1h": _dec(opened, pq),
            "openInterest": _dec(oi, qq),
            "openInterestValue": _dec(oi_value.quantize(Decimal("0.01"))),
            "fundingRate": _dec(ticker.funding_rate if ticker.funding_rate is not None else ZERO),
            "nextFundingTime": str(self._next_funding_ms()),
            "fundingIntervalHour": "8",
        }
        if rest:
            return {
                **common,
                **derivative,
                **bid_ask,
                "predictedDeliveryPrice": "",
                "basisRate": "",
                "deliveryFeeRate": "",
                "deliveryTime": "0",
                "basis": "",
                "preOpenPrice": "",
                "preQty": "",
                "curPreListingPhase": "",
                "basisRateYear": "",
                "fundingCap": "0.005",
            }
        return {
            "symbol": inst.symbol,
            "tickDirection": self._tick_direction.get(inst.engine_symbol, "ZeroPlusTick"),
            **{k: v for k, v in common.items() if k != "symbol"},
            **derivative,
            **bid_ask,
        }

    def _next_funding_ms(self) -> int:
        period = 8 * 3600 * 1000
        return (self._now_ms() // period + 1) * period

    async def _orderbook(self, params: dict, account: None, request: web.Request) -> dict:
        category = self._category(params)
        inst = self._instrument(category, params.get("symbol"))
        low, high, default = REST_BOOK_LIMITS[category]
        try:
            limit = int(params.get("limit") or default)
        except ValueError as exc:
            raise BybitError(10001, "params error: limit invalid") from exc
        if not low <= limit <= high:
            raise BybitError(10001, "params error: limit invalid")
        bids, asks = self.engine.book(VENUE, inst.engine_symbol, limit)
        now = self._now_ms()
        seq = self._seq.get(inst.engine_symbol, 0)
        return {
            "s": inst.symbol,
            "b": [[_dec(p, inst.price_q), _dec(q, inst.qty_q)] for p, q in bids],
            "a": [[_dec(p, inst.price_q), _dec(q, inst.qty_q)] for p, q in asks],
            "ts": now,
            "u": seq,
            "seq": seq,
            "cts": now,
        }

    async def _recent_trade(self, params: dict, account: None, request: web.Request) -> dict:
        category = self._category(params)
        inst = self._instrument(category, params.get("symbol"))
        limit = int(params.get("limit") or 60)
        trades = self.engine.recent_trades(VENUE, inst.engine_symbol, max(1, min(limit, 1000)))
        rows = [
            {
                "execId": t.trade_id,
                "symbol": inst.symbol,
                "price": _dec(t.price, inst.price_q),
                "size": _dec(t.quantity, inst.qty_q),
                "side": SIDE[t.taker_side],
                "time": str(_ms(t.ts_ns)),
                "isBlockTrade": False,
            }
            for t in trades
        ]
        return {"category": category, "list": rows}

    # ----------------------------------------------------------------- order entry REST

    async def _order_create(self, params: dict, account: SimAccount, request: web.Request) -> dict:
        category = self._category(params)
        inst = self._instrument(category, params.get("symbol"))
        spot = category == "spot"
        side = SIDE_IN.get(params.get("side", ""))
        if side is None:
            raise (
                BybitError(170117, "Invalid side.")
                if spot
                else BybitError(10001, "params error: side invalid")
            )
        kind = params.get("orderType")
        if kind not in ("Market", "Limit"):
            raise (
                BybitError(170116, "Invalid orderType.")
                if spot
                else BybitError(10001, "params error: orderType invalid")
            )
        order_type = OrderType.MARKET if kind == "Market" else OrderType.LIMIT
        quantity = _to_decimal(params.get("qty"), "qty")
        price = _to_decimal(params.get("price"), "price") if order_type is OrderType.LIMIT else None
        tif_text = params.get("timeInForce") or ("IOC" if order_type is OrderType.MARKET else "GTC")
        if tif_text not in ("GTC", "IOC", "FOK", "PostOnly"):
            raise (
                BybitError(170115, "Invalid timeInForce.")
                if spot
                else BybitError(10001, "params error: timeInForce invalid")
            )
        post_only = tif_text == "PostOnly"
        if post_only and order_type is OrderType.MARKET:
            raise BybitError(10001, "params error: a market order cannot be PostOnly")
        tif = TimeInForce.GTC if tif_text in ("GTC", "PostOnly") else TimeInForce(tif_text.lower())
        reduce_only = _truthy(params.get("reduceOnly", False))
        if reduce_only and spot:
            raise BybitError(10001, "params error: reduceOnly is not supported for spot")
        link = params.get("orderLinkId") or None
        if link is not None:
            link = str(link)
            if len(link) > 36:
                raise BybitError(10001, "params error: orderLinkId is longer than 36 characters")
        if (
            spot
            and order_type is OrderType.MARKET
            and side is Side.BUY
            and params.get("marketUnit", "quoteCoin") != "baseCoin"
        ):
            quantity = self._base_for_quote(inst, quantity)
        try:
            order = self.engine.place_order(
                VENUE,
                account.api_key,
                inst.engine_symbol,
                side=side,
                order_type=order_type,
                quantity=quantity,
                price=price,
                time_in_force=tif,
                post_only=post_only,
                reduce_only=reduce_only,
                client_order_id=link,
                post_only_action=PostOnlyAction.REJECT if spot else PostOnlyAction.CANCEL,
                client_id_scope=ClientIdScope.ALL,
            )
        except SimReject as exc:
            raise reject_error(exc, category, "create") from exc
        return {"orderId": order.order_id, "orderLinkId": order.client_order_id or ""}

    async def _rest_order_create(
        self, params: dict, account: SimAccount, request: web.Request
    ) -> dict:
        result = await self._order_create(params, account, request)
        await self._ack_faults(request)
        return result

    async def _ack_faults(self, request: web.Request) -> None:
        """Faults `ack_delay_ms` and `lose_acks` (cut without an answer) on an accepted order."""
        if not await answer_survives(self.faults):
            if request.transport is not None:
                request.transport.close()
            raise ConnectionResetError("simulated lost order acknowledgement")

    def _base_for_quote(self, inst: _Instrument, amount: Decimal) -> Decimal:
        """Base quantity a spot market buy of `amount` quote coin takes from the asks."""
        base = self.engine.base_for_quote(VENUE, inst.engine_symbol, amount)
        if base < inst.info.min_size:
            raise BybitError(170140, "Order value exceeded lower limit")
        return base

    def _find_order(
        self, account: SimAccount, order_id: str | None, link: str | None
    ) -> SimOrder | None:
        """An order of the account by id or orderLinkId (the latest with that link)."""
        return self.engine.get_order(
            VENUE, account.api_key, order_id=order_id, client_order_id=link
        )

    def _ids(self, params: dict) -> tuple[str | None, str | None]:
        order_id = params.get("orderId") or None
        link = params.get("orderLinkId") or None
        if not order_id and not link:
            raise BybitError(10001, "params error: orderId or orderLinkId is required")
        return (str(order_id) if order_id else None), (str(link) if link else None)

    def _open_order(
        self, account: SimAccount, inst: _Instrument, params: dict, action: str
    ) -> SimOrder:
        order_id, link = self._ids(params)
        order = self._find_order(account, order_id, link)
        if order is None or order.symbol != inst.engine_symbol or not order.is_open:
            raise reject_error(SimReject(RejectReason.ORDER_NOT_FOUND), inst.category, action)
        return order

    async def _order_amend(self, params: dict, account: SimAccount, request: web.Request) -> dict:
        category = self._category(params)
        inst = self._instrument(category, params.get("symbol"))
        order = self._open_order(account, inst, params, "amend")
        quantity = (
            _to_decimal(params["qty"], "qty") if params.get("qty") not in (None, "") else None
        )
        price = (
            _to_decimal(params["price"], "price") if params.get("price") not in (None, "") else None
        )
        if (quantity is None or quantity == order.quantity) and (
            price is None or price == order.price
        ):
            raise BybitError(
                10001,
                "The order remains unchanged as the parameters entered match the existing ones.",
            )
        try:
            order = self.engine.amend_order(
                VENUE,
                account.api_key,
                inst.engine_symbol,
                order_id=order.order_id,
                price=price,
                quantity=quantity,
                at_or_below_filled=(
                    AmendAtOrBelowFilled.REJECT_BELOW
                    if category == "spot"
                    else AmendAtOrBelowFilled.REJECT_AT_OR_BELOW
                ),
            )
        except SimReject as exc:
            raise reject_error(exc, category, "amend") from exc
        return {"orderId": order.order_id, "orderLinkId": order.client_order_id or ""}

    async def _order_cancel(self, params: dict, account: SimAccount, request: web.Request) -> dict:
        category = self._category(params)
        inst = self._instrument(category, params.get("symbol"))
        order = self._open_order(account, inst, params, "cancel")
        try:
            order = self.engine.cancel_order(
                VENUE, account.api_key, inst.engine_symbol, order_id=order.order_id
            )
        except SimReject as exc:
            raise reject_error(exc, category, "cancel") from exc
        return {"orderId": order.order_id, "orderLinkId": order.client_order_id or ""}

    async def _order_cancel_all(
        self, params: dict, account: SimAccount, request: web.Request
    ) -> dict:
        category = self._category(params)
        self._require_scope(category, params)
        canceled: list[SimOrder] = []
        for inst in self._instruments_in(category, params):
            if any(o.symbol == inst.engine_symbol for o in account.open_orders.values()):
                canceled += self.engine.cancel_all(VENUE, account.api_key, inst.engine_symbol)
        return {
            "list": [
                {"orderId": o.order_id, "orderLinkId": o.client_order_id or ""} for o in canceled
            ],
            "success": "1",
        }

    async def _dcp_set(
        self, params: dict, account: SimAccount, request: web.Request
    ) -> web.Response:
        """`POST /v5/order/disconnected-cancel-all`; the docs' answer has only retCode and retMsg."""
        window = params.get("timeWindow")
        if isinstance(window, Decimal) and window == int(window):
            window = int(window)
        if isinstance(window, str) and window.isdigit():
            window = int(window)
        if isinstance(window, bool) or not isinstance(window, int) or not 3 <= window <= 300:
            raise BybitError(10001, "params error: timeWindow must be an integer within [3, 300]")
        product = params.get("product") or "OPTIONS"
        if product not in DCP_PRODUCTS:
            raise BybitError(10001, "params error: product must be OPTIONS, DERIVATIVES or SPOT")
        self._dcp.setdefault(account.api_key, _Dcp()).windows[product] = window
        return web.Response(
            body=orjson.dumps({"retCode": 0, "retMsg": "success"}), content_type="application/json"
        )

    # ----------------------------------------------------------------- account REST

    def _orders_of(self, account: SimAccount, category: str) -> list[SimOrder]:
        return [
            o
            for o in account.orders.values()
            if self._by_engine_symbol[o.symbol].category == category
        ]

    async def _order_realtime(
        self, params: dict, account: SimAccount, request: web.Request
    ) -> dict:
        category = self._category(params)
        order_id, link = params.get("orderId") or None, params.get("orderLinkId") or None
        if order_id or link:
            order = self._find_order(account, order_id, link)
            orders = [] if order is None else [order]
            orders = [o for o in orders if self._by_engine_symbol[o.symbol].category == category]
            if params.get("symbol"):
                orders = [
                    o for o in orders if self._by_engine_symbol[o.symbol].symbol == params["symbol"]
                ]
        else:
            self._require_scope(category, params)
            symbols = {i.engine_symbol for i in self._instruments_in(category, params)}
            orders = [o for o in account.open_orders.values() if o.symbol in symbols]
        orders.sort(key=lambda o: (o.created_ns, int(o.order_id)), reverse=True)
        page, cursor = self._page(orders, params, 20, 50)
        return {
            "category": category,
            "list": [self._order_row(o) for o in page],
            "nextPageCursor": cursor,
        }

    async def _order_history(self, params: dict, account: SimAccount, request: web.Request) -> dict:
        category = self._category(params)
        orders = self._orders_of(account, category)
        if params.get("symbol"):
            inst = self._instrument(category, params["symbol"])
            orders = [o for o in orders if o.symbol == inst.engine_symbol]
        if params.get("orderId"):
            orders = [o for o in orders if o.order_id == params["orderId"]]
        if params.get("orderLinkId"):
            orders = [o for o in orders if o.client_order_id == params["orderLinkId"]]
        if params.get("orderStatus"):
            orders = [o for o in orders if self._status(o) == params["orderStatus"]]
        orders.sort(key=lambda o: (o.created_ns, int(o.order_id)), reverse=True)
        page, cursor = self._page(orders, params, 20, 50)
        return {
            "category": category,
            "list": [self._order_row(o) for o in page],
            "nextPageCursor": cursor,
        }

    async def _execution_list(
        self, params: dict, account: SimAccount, request: web.Request
    ) -> dict:
        category = self._category(params)
        fills = [f for f in account.fills if self._by_engine_symbol[f.symbol].category == category]
        if params.get("symbol"):
            inst = self._instrument(category, params["symbol"])
            fills = [f for f in fills if f.symbol == inst.engine_symbol]
        if params.get("orderId"):
            fills = [f for f in fills if f.order_id == params["orderId"]]
        if params.get("orderLinkId"):
            fills = [f for f in fills if f.client_order_id == params["orderLinkId"]]
        fills.reverse()
        page, cursor = self._page(fills, params, 50, 100)
        return {
            "nextPageCursor": cursor,
            "category": category,
            "list": [self._execution_row(account, f, rest=True) for f in page],
        }

    async def _position_list(self, params: dict, account: SimAccount, request: web.Request) -> dict:
        category = self._category(params, ("linear", "inverse", "option"))
        if category in ("linear", "inverse") and not (
            params.get("symbol") or params.get("settleCoin")
        ):
            raise BybitError(
                10001, "Missing some parameters that must be filled in, symbol or settleCoin"
            )
        rows = []
        if params.get("symbol"):
            inst = self._instrument(category, params["symbol"])
            position = account.positions.get(inst.engine_symbol) or SimPosition(
                venue=VENUE,
                symbol=inst.engine_symbol,
                leverage=self.engine.leverage_of(VENUE, account.api_key, inst.engine_symbol),
                settle_currency=inst.info.settle,
            )
            rows = [position]
        else:
            symbols = {i.engine_symbol for i in self._instruments_in(category, params)}
            rows = [
                p for p in account.positions.values() if p.symbol in symbols and p.quantity != 0
            ]
        page, cursor = self._page(rows, params, 20, 200)
        return {
            "list": [self._position_row(p, rest=True) for p in page],
            "nextPageCursor": cursor,
            "category": category,
        }

    async def _wallet_balance(
        self, params: dict, account: SimAccount, request: web.Request
    ) -> dict:
        if params.get("accountType") != "UNIFIED":
            raise BybitError(10001, "accountType only support UNIFIED.")
        coins = [c for c in str(params.get("coin") or "").split(",") if c]
        return {"list": [self._wallet_row(account, coins, rest=True)]}

    # ----------------------------------------------------------------- serialization

    def _status(self, order: SimOrder) -> str:
        if (
            order.status is OrderStatus.CANCELED
            and order.filled_quantity > 0
            and self._by_engine_symbol[order.symbol].category == "spot"
        ):
            return "PartiallyFilledCanceled"
        return STATUS[order.status]

    @staticmethod
    def _cancel_type(order: SimOrder) -> str:
        if order.status is not OrderStatus.CANCELED:
            return "UNKNOWN"
        return CANCEL_TYPE.get(order.cancel_reason, "UNKNOWN")

    @staticmethod
    def _reject_reason(order: SimOrder) -> str:
        if (
            order.reject_reason is RejectReason.POST_ONLY_WOULD_CROSS
            or order.cancel_reason is CancelReason.POST_ONLY_WOULD_TAKE
        ):
            return POST_ONLY_REJECT
        if order.cancel_reason is CancelReason.FOK_NOT_FILLABLE:
            return "EC_CancelForNoFullFill"
        if (
            order.cancel_reason in (CancelReason.IOC_REMAINDER, CancelReason.MARKET_REMAINDER)
            and order.filled_quantity == 0
        ):
            return "EC_NoImmediateQtyToFill"
        return "EC_NoError"

    def _order_fields(self, order: SimOrder) -> dict[str, Any]:
        """Fields shared by the REST order row and the `order` push."""
        inst = self._by_engine_symbol[order.symbol]
        pq, qq = inst.price_q, inst.qty_q
        leaves = order.remaining if order.is_open else ZERO
        inverse = inst.info.inverse
        price = order.price
        if price:
            leaves_value = leaves / price if inverse else leaves * price
        else:
            leaves_value = ZERO
        avg = order.average_price
        if avg:
            filled_value = order.filled_quantity / avg if inverse else order.filled_quantity * avg
        else:
            filled_value = ZERO
        if order.post_only:
            tif = "PostOnly"
        elif order.order_type is OrderType.MARKET:
            tif = "IOC"
        else:
            tif = order.time_in_force.value.upper()
        return {
            "orderId": order.order_id,
            "orderLinkId": order.client_order_id or "",
            "symbol": inst.symbol,
            "price": _dec(price, pq) if price is not None else "0",
            "qty": _dec(order.quantity, qq),
            "side": SIDE[order.side],
            "orderStatus": self._status(order),
            "cancelType": self._cancel_type(order),
            "rejectReason": self._reject_reason(order),
            "avgPrice": _dec(avg.quantize(Decimal("0.00000001")).normalize()) if avg else "",
            "leavesQty": _dec(leaves, qq),
            "leavesValue": _dec(leaves_value.quantize(Decimal("0.00000001"))),
            "cumExecQty": _dec(order.filled_quantity, qq),
            "cumExecValue": _dec(filled_value.quantize(Decimal("0.00000001"))),
            "cumExecFee": _dec(order.fee_paid),
            "timeInForce": tif,
            "orderType": "Market" if order.order_type is OrderType.MARKET else "Limit",
            "lastPriceOnCreated": self._last_price_on_created.get(order.order_id, ""),
            "reduceOnly": order.reduce_only,
            "createdTime": str(_ms(order.created_ns)),
            "updatedTime": str(_ms(order.updated_ns)),
            "category": inst.category,
            "feeCurrency": order.fee_currency,
        }

    def _order_row(self, order: SimOrder) -> dict[str, Any]:
        """A `/v5/order/realtime` / `history` row (fixture rest_order_realtime.json)."""
        f = self._order_fields(order)
        row = {
            "orderId": f["orderId"],
            "orderLinkId": f["orderLinkId"],
            "blockTradeId": "",
            "symbol": f["symbol"],
            "price": f["price"],
            "qty": f["qty"],
            "side": f["side"],
            "isLeverage": "0",
            "positionIdx": 0,
            "orderStatus": f["orderStatus"],
            "cancelType": f["cancelType"],
            "rejectReason": f["rejectReason"],
            "avgPrice": f["avgPrice"],
            "leavesQty": f["leavesQty"],
            "leavesValue": f["leavesValue"],
            "cumExecQty": f["cumExecQty"],
            "cumExecValue": f["cumExecValue"],
            "cumExecFee": f["cumExecFee"],
            "timeInForce": f["timeInForce"],
            "orderType": f["orderType"],
            "stopOrderType": "",
            "orderIv": "",
            "triggerPrice": "0",
            "takeProfit": "0",
            "stopLoss": "0",
            "tpTriggerBy": "",
            "slTriggerBy": "",
            "triggerDirection": 0,
            "triggerBy": "",
            "lastPriceOnCreated": f["lastPriceOnCreated"],
            "reduceOnly": f["reduceOnly"],
            "closeOnTrigger": False,
            "smpType": "None",
            "smpGroup": 0,
            "smpOrderId": "",
            "tpslMode": "",
            "tpLimitPrice": "0",
            "slLimitPrice": "0",
            "placeType": "",
            "createdTime": f["createdTime"],
            "updatedTime": f["updatedTime"],
        }
        if f["category"] != "spot":
            row["createType"] = "CreateByUser"
        return row

    def _order_push_item(self, order: SimOrder) -> dict[str, Any]:
        """One `order` topic item (fixture ws_order.json)."""
        f = self._order_fields(order)
        inst = self._by_engine_symbol[order.symbol]
        return {
            "category": f["category"],
            "symbol": f["symbol"],
            "orderId": f["orderId"],
            "side": f["side"],
            "orderType": f["orderType"],
            "cancelType": f["cancelType"],
            "price": f["price"],
            "qty": f["qty"],
            "orderIv": "",
            "timeInForce": f["timeInForce"],
            "orderStatus": f["orderStatus"],
            "orderLinkId": f["orderLinkId"],
            "lastPriceOnCreated": f["lastPriceOnCreated"],
            "reduceOnly": f["reduceOnly"],
            "leavesQty": f["leavesQty"],
            "leavesValue": f["leavesValue"],
            "cumExecQty": f["cumExecQty"],
            "cumExecValue": f["cumExecValue"],
            "avgPrice": f["avgPrice"] or "0",
            "blockTradeId": "",
            "positionIdx": 0,
            "cumExecFee": f["cumExecFee"],
            "createdTime": f["createdTime"],
            "updatedTime": f["updatedTime"],
            "rejectReason": f["rejectReason"],
            "triggerPrice": "0",
            "takeProfit": "0",
            "stopLoss": "0",
            "tpTriggerBy": "",
            "slTriggerBy": "",
            "tpLimitPrice": "0",
            "slLimitPrice": "0",
            "closeOnTrigger": False,
            "placeType": "",
            "smpType": "None",
            "smpGroup": 0,
            "smpOrderId": "",
            "feeCurrency": f["feeCurrency"]
            or (inst.info.settle if inst.category != "spot" else ""),
            "triggerBy": "",
            "stopOrderType": "",
            "triggerDirection": 0,
            "tpslMode": "",
            "createType": "CreateByUser",
        }

    @staticmethod
    def exec_id(fill: SimFill) -> str:
        """Bybit's execId: unique per side of a trade (a UUID derived from trade and order id)."""
        return str(uuid.uuid5(EXEC_NAMESPACE, f"{fill.trade_id}:{fill.order_id}"))

    def _execution_row(self, account: SimAccount, fill: SimFill, *, rest: bool) -> dict[str, Any]:
        """A `/v5/execution/list` row (docs example) or an `execution` push item (fixture)."""
        inst = self._by_engine_symbol[fill.symbol]
        pq, qq = inst.price_q, inst.qty_q
        context = self._fill_context.get(self.exec_id(fill), {})
        order = account.orders.get(fill.order_id)
        value = fill.quantity / fill.price if inst.info.inverse else fill.quantity * fill.price
        schedule = self.engine.fees[(VENUE, fill.symbol)]
        rate = schedule.maker if fill.liquidity is Liquidity.MAKER else schedule.taker
        order_type = (
            "Market" if order is not None and order.order_type is OrderType.MARKET else "Limit"
        )
        order_price = order.price if order is not None and order.price is not None else None
        common = {
            "symbol": inst.symbol,
            "orderId": fill.order_id,
            "orderLinkId": fill.client_order_id or "",
            "side": SIDE[fill.side],
            "orderPrice": _dec(order_price, pq) if order_price is not None else "0",
            "orderQty": _dec(order.quantity, qq) if order is not None else "0",
            "leavesQty": context.get("leavesQty", "0"),
            "orderType": order_type,
            "stopOrderType": "UNKNOWN",
            "execFee": _dec(fill.fee),
            "execId": self.exec_id(fill),
            "execPrice": _dec(fill.price, pq),
            "execQty": _dec(fill.quantity, qq),
            "execType": "Trade",
            "execValue": _dec(value.quantize(Decimal("0.00000001"))),
            "execTime": str(_ms(fill.ts_ns)),
            "isMaker": fill.liquidity is Liquidity.MAKER,
            "feeRate": _dec(rate),
            "tradeIv": "",
            "markIv": "",
            "markPrice": context.get("markPrice", ""),
            "indexPrice": "",
            "underlyingPrice": "",
            "blockTradeId": "",
            "closedSize": context.get("closedSize", "0"),
            "seq": context.get("seq", 0),
        }
        if rest:
            return {**common, "feeCurrency": fill.fee_currency, "extraFees": ""}
        return {"category": inst.category, **common, "isLeverage": "0"}

    def _position_row(self, position: SimPosition, *, rest: bool) -> dict[str, Any]:
        """A `/v5/position/list` row or a `position` push item (fixtures)."""
        inst = self._by_engine_symbol[position.symbol]
        pq, qq = inst.price_q, inst.qty_q
        size = abs(position.quantity)
        entry = position.entry_price
        if entry and size:
            value = size / entry if inst.info.inverse else size * entry
        else:
            value = ZERO
        maintenance = (value * MAINTENANCE_RATE).quantize(Decimal("0.00000001"))
        margin = position.margin.quantize(Decimal("0.00000001"))
        side = "" if position.side is None else SIDE[position.side]
        created = self._position_created.setdefault(position.symbol, _ms(position.updated_ns))
        common = {
            "positionIdx": 0,
            "tradeMode": 0,
            "riskId": 1,
            "riskLimitValue": "2000000" if inst.info.linear else "150",
            "symbol": inst.symbol,
            "side": side,
            "size": _dec(size, qq),
            "leverage": _dec(position.leverage),
            "positionValue": _dec(value.quantize(Decimal("0.00000001"))),
            "positionBalance": _dec(margin),
            "markPrice": _dec(position.mark_price, pq),
            "positionIM": _dec(margin),
            "positionMM": _dec(maintenance),
            "takeProfit": "0",
            "stopLoss": "0",
            "trailingStop": "0",
            "unrealisedPnl": _dec(position.unrealized_pnl.quantize(Decimal("0.00000001"))),
            "cumRealisedPnl": _dec(position.realized_pnl.quantize(Decimal("0.00000001"))),
            "curRealisedPnl": _dec(position.realized_pnl.quantize(Decimal("0.00000001"))),
            "createdTime": str(created),
            "updatedTime": str(_ms(position.updated_ns)),
            "tpslMode": "Full",
            "liqPrice": _dec(position.liquidation_price, pq) if position.liquidation_price else "",
            "bustPrice": "",
            "positionStatus": "Normal",
            "adlRankIndicator": 2 if size else 0,
            "autoAddMargin": 0,
            "leverageSysUpdatedTime": "",
            "mmrSysUpdatedTime": "",
            "seq": self._seq.get(position.symbol, 0),
            "isReduceOnly": False,
        }
        if rest:
            return {**common, "avgPrice": _dec(entry, pq) if entry else "0"}
        return {
            **common,
            "entryPrice": _dec(entry) if entry else "0",
            "sessionAvgPrice": "",
            "positionIMByMp": _dec(margin),
            "positionMMByMp": _dec(maintenance),
            "category": inst.category,
        }

    def _usd_price(self, coin: str) -> Decimal:
        if coin in USD_COINS:
            return ONE
        try:
            return self.engine.index_price(coin)
        except (KeyError, ValueError):
            return ZERO

    def _wallet_row(self, account: SimAccount, coins: list[str], *, rest: bool) -> dict[str, Any]:
        """The UNIFIED account: `/v5/account/wallet-balance` list item or `wallet` push item."""
        q8 = Decimal("0.00000001")
        position_im: dict[str, Decimal] = {}
        position_mm: dict[str, Decimal] = {}
        upl: dict[str, Decimal] = {}
        realised: dict[str, Decimal] = {}
        for position in account.positions.values():
            inst = self._by_engine_symbol[position.symbol]
            coin = inst.info.settle
            entry = position.entry_price
            size = abs(position.quantity)
            value = (
                (size / entry if inst.info.inverse else size * entry) if entry and size else ZERO
            )
            position_im[coin] = position_im.get(coin, ZERO) + position.margin
            position_mm[coin] = position_mm.get(coin, ZERO) + value * MAINTENANCE_RATE
            upl[coin] = upl.get(coin, ZERO) + position.unrealized_pnl
            realised[coin] = realised.get(coin, ZERO) + position.realized_pnl
        totals = dict.fromkeys(("wallet", "equity", "upl", "im", "mm", "available"), ZERO)
        rows = []
        for balance in sorted(account.balances.values(), key=lambda b: b.currency):
            coin = balance.currency
            price = self._usd_price(coin)
            im = position_im.get(coin, ZERO)
            order_im = max(balance.locked - im, ZERO)
            mm = position_mm.get(coin, ZERO)
            pnl = upl.get(coin, ZERO)
            equity = balance.total + pnl
            totals["wallet"] += balance.total * price
            totals["equity"] += equity * price
            totals["upl"] += pnl * price
            totals["im"] += (im + order_im) * price
            totals["mm"] += mm * price
            if coins and coin not in coins:
                continue
            item = {
                "coin": coin,
                "equity": _dec(equity.quantize(q8)),
                "walletBalance": _dec(balance.total.quantize(q8)),
                "availableToWithdraw": _dec(balance.available.quantize(q8)),
                "availableToBorrow": "",
                "borrowAmount": "0",
                "accruedInterest": "0",
                "totalOrderIM": _dec(order_im.quantize(q8)),
                "totalPositionIM": _dec(im.quantize(q8)),
                "totalPositionMM": _dec(mm.quantize(q8)),
                "spotBorrow": "0",
            }
            if rest:
                item.update(
                    {
                        "bonus": "0",
                        "usdValue": _dec((equity * price).quantize(q8)),
                        "unrealisedPnl": _dec(pnl.quantize(q8)),
                        "cumRealisedPnl": _dec(realised.get(coin, ZERO).quantize(q8)),
                        "locked": "0",
                        "collateralSwitch": True,
                        "marginCollateral": True,
                    }
                )
            rows.append(item)
        margin_balance = totals["wallet"] + totals["upl"]
        im_rate = totals["im"] / margin_balance if margin_balance else ZERO
        mm_rate = totals["mm"] / margin_balance if margin_balance else ZERO
        row = {
            "accountIMRate": _dec(im_rate.quantize(Decimal("0.0001"))),
            "accountMMRate": _dec(mm_rate.quantize(Decimal("0.0001"))),
            "accountLTV": "0",
            "totalEquity": _dec(totals["equity"].quantize(q8)),
            "totalWalletBalance": _dec(totals["wallet"].quantize(q8)),
            "totalMarginBalance": _dec(margin_balance.quantize(q8)),
            "totalAvailableBalance": _dec((margin_balance - totals["im"]).quantize(q8)),
            "totalInitialMargin": _dec(totals["im"].quantize(q8)),
            "totalMaintenanceMargin": _dec(totals["mm"].quantize(q8)),
            "coin": rows,
        }
        if rest:
            row["accountType"] = "UNIFIED"
            row["totalPerpUPL"] = _dec(totals["upl"].quantize(q8))
        else:
            row["totalPerpUpl"] = _dec(totals["upl"].quantize(q8))
        return row

    # ----------------------------------------------------------------- WebSocket plumbing

    def _new_conn_id(self) -> str:
        return f"{self._conn_prefix}-{next(self._conn_ids):03x}"

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _public_ws(self, category: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handler(request: web.Request) -> web.StreamResponse:
            ws = web.WebSocketResponse(autoping=True)
            await ws.prepare(request)
            conn = _Conn(
                ws=ws,
                transport=request.transport,
                faults=self.faults,
                conn_id=self._new_conn_id(),
                private=False,
                category=category,
                idle_timeout=float(self.options["idle_timeout"]),
            )
            await self._serve(conn, self._on_public_message)
            return ws

        return handler

    async def _private_ws(self, request: web.Request) -> web.StreamResponse:
        return await self._serve_private(request, self._on_private_message)

    async def _serve_private(
        self,
        request: web.Request,
        on_message: Callable[[_Conn, dict], Awaitable[None] | None],
    ) -> web.StreamResponse:
        """Open an authenticated-stream connection (`/v5/private`, `/v5/trade`), whose idle limit
        `?max_active_time=` may shorten, and serve it with `on_message`."""
        idle = float(self.options["idle_timeout"])
        active = _max_active_time(request.query.get("max_active_time", ""))
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        conn = _Conn(
            ws=ws,
            transport=request.transport,
            faults=self.faults,
            conn_id=self._new_conn_id(),
            private=True,
            idle_timeout=min(idle, active) if active else idle,
        )
        await self._serve(conn, on_message)
        return ws

    async def _serve(
        self, conn: _Conn, on_message: Callable[[_Conn, dict], Awaitable[None] | None]
    ) -> None:
        """Read a connection until it closes or idles out; a sender task writes its queue."""
        self._loop = asyncio.get_running_loop()
        if self._housekeeping_task is None:
            self._housekeeping_task = asyncio.create_task(self._housekeeping())
        self._conns.add(conn)
        conn.start(f"bybit-ws-writer-{conn.conn_id}")
        idle = asyncio.create_task(conn.watch_idle(lambda: conn.idle_timeout, NORMAL_CLOSE))
        ws = conn.ws
        try:
            while not ws.closed and not conn.closed:
                msg = await ws.receive()
                if msg.type is WSMsgType.TEXT:
                    try:
                        request = orjson.loads(msg.data)
                    except orjson.JSONDecodeError:
                        request = None
                    if not isinstance(request, dict):
                        self._reply(
                            conn,
                            {
                                "success": False,
                                "ret_msg": "Invalid request",
                                "conn_id": conn.conn_id,
                                "op": "",
                            },
                        )
                        continue
                    pending = on_message(conn, request)
                    if pending is not None:
                        await pending
                elif msg.type in (
                    WSMsgType.CLOSE,
                    WSMsgType.CLOSING,
                    WSMsgType.CLOSED,
                    WSMsgType.ERROR,
                ):
                    break
        finally:
            idle.cancel()
            await conn.stop_writer()
            await self._close_conn(conn)

    async def _close_conn(self, conn: _Conn, *, dropped: bool = False) -> None:
        """Forget a connection and close it; `dropped` aborts it as a network failure does."""
        if conn not in self._conns:
            return
        self._conns.discard(conn)
        had_dcp = any(t.startswith("dcp") for t in conn.topics)
        for topic in list(conn.topics):
            self._unsubscribe(conn, topic)
        if conn.api_key is not None:
            conns = self._private.get(conn.api_key)
            if conns is not None:
                conns.discard(conn)
            if had_dcp:
                self._maybe_arm_dcp(conn.api_key)
        if dropped:
            conn.drop()
        else:
            await conn.close(NORMAL_CLOSE)

    def _drop_all(self) -> None:
        """Faults.drop_ws(): close every WebSocket of the face now."""
        for conn in list(self._conns):
            self._spawn(self._close_conn(conn, dropped=True))

    def _reply(self, conn: _Conn, message: dict) -> None:
        conn.send(orjson.dumps(message))

    async def _housekeeping(self) -> None:
        """Repeat depth-1 snapshots after `depth1_resend` seconds without change (docs)."""
        while True:
            await asyncio.sleep(0.25)
            now = time.monotonic()
            resend = float(self.options["depth1_resend"])
            for stream in self._books.values():
                if stream.depth == 1 and stream.subscribers and stream.primed:
                    if now - stream.last_push >= resend:
                        self._push_book(stream, snapshot=True)

    # ----------------------------------------------------------------- public topics

    def _on_public_message(self, conn: _Conn, request: dict) -> None:
        op = request.get("op")
        req_id = request.get("req_id")
        if op == "ping":
            conn.touch()
            self._reply(conn, self._public_pong(conn, req_id))
            return
        if op not in ("subscribe", "unsubscribe"):
            self._ack(conn, op or "", req_id, f"Invalid op: {op}", success=False)
            return
        args = request.get("args")
        if not isinstance(args, list) or not args or not all(isinstance(a, str) for a in args):
            self._ack(conn, op, req_id, "args must be a non-empty list of topics", success=False)
            return
        if conn.category == "spot" and len(args) > SPOT_MAX_ARGS:
            self._ack(conn, op, req_id, f"args size >{SPOT_MAX_ARGS}", success=False)
            return
        if op == "unsubscribe":
            for topic in args:
                self._unsubscribe(conn, topic)
            self._ack(conn, op, req_id, "")
            return
        for topic in args:
            if self._parse_public_topic(conn.category, topic) is None:
                self._ack(conn, op, req_id, f"Invalid topic: {topic}", success=False)
                return
            if topic in conn.topics:
                self._ack(
                    conn, op, req_id, f"error:already subscribed,topic:{topic}", success=False
                )
                return
        self._ack(conn, op, req_id, "")
        for topic in args:
            self._subscribe_public(conn, topic)

    def _public_pong(self, conn: _Conn, req_id: Any) -> dict[str, Any]:
        """The pong of a public stream; its shape differs per category (docs "Connect")."""
        if conn.category == "option":
            return {"args": [str(self._now_ms())], "op": "pong"}
        reply: dict[str, Any] = {"success": True, "ret_msg": "pong", "conn_id": conn.conn_id}
        if conn.category != "spot" or req_id is not None:
            reply["req_id"] = req_id if req_id is not None else ""
        reply["op"] = "ping"
        return reply

    def _ack(
        self, conn: _Conn, op: str, req_id: Any, message: str, *, success: bool = True
    ) -> None:
        """A (un)subscribe answer: spot says `subscribe`, linear/inverse always echo `req_id`."""
        if success and conn.category == "spot":
            message = op
        reply: dict[str, Any] = {"success": success, "ret_msg": message, "conn_id": conn.conn_id}
        if req_id is not None or (not conn.private and conn.category in ("linear", "inverse")):
            reply["req_id"] = req_id if req_id is not None else ""
        reply["op"] = op
        self._reply(conn, reply)

    def _parse_public_topic(self, category: str, topic: str) -> tuple[str, _Instrument, int] | None:
        parts = topic.split(".")
        if len(parts) == 3 and parts[0] == "orderbook" and parts[1].isdigit():
            depth = int(parts[1])
            inst = self._instruments.get((category, parts[2]))
            if inst is None or depth not in BOOK_DEPTHS[category]:
                return None
            return "orderbook", inst, depth
        if len(parts) == 2 and parts[0] in ("publicTrade", "tickers"):
            inst = self._instruments.get((category, parts[1]))
            return None if inst is None else (parts[0], inst, 0)
        return None

    def _subscribe_public(self, conn: _Conn, topic: str) -> None:
        parsed = self._parse_public_topic(conn.category, topic)
        if parsed is None:
            return
        kind, inst, depth = parsed
        conn.topics.add(topic)
        if kind == "orderbook":
            stream = self._book_stream(inst, depth)
            if not stream.subscribers:
                self._prime(stream)
            stream.subscribers.add(conn)
            conn.send(self._book_message(stream, snapshot=True))
            return
        subscribers = self._topic_subs.setdefault((conn.category, topic), set())
        shared = bool(subscribers)
        subscribers.add(conn)
        if kind == "tickers":
            base = self._ticker_sent.get(inst.engine_symbol)
            if base is None or not shared or inst.category == "spot":
                ticker = self.engine.ticker(VENUE, inst.engine_symbol)
                base = self._ticker_fields(inst, ticker, rest=False)
                self._ticker_sent[inst.engine_symbol] = base
            conn.send(self._ticker_message(inst, topic, "snapshot", base))

    def _unsubscribe(self, conn: _Conn, topic: str) -> None:
        if topic not in conn.topics:
            return
        conn.topics.discard(topic)
        if conn.private:
            return
        parsed = self._parse_public_topic(conn.category, topic)
        if parsed is None:
            return
        kind, inst, depth = parsed
        if kind == "orderbook":
            stream = self._books.get((inst.engine_symbol, depth))
            if stream is not None:
                stream.subscribers.discard(conn)
                if not stream.subscribers:
                    stream.primed = False
            return
        subs = self._topic_subs.get((conn.category, topic))
        if subs is not None:
            subs.discard(conn)

    def _book_stream(self, inst: _Instrument, depth: int) -> _BookStream:
        key = (inst.engine_symbol, depth)
        stream = self._books.get(key)
        if stream is None:
            stream = self._books[key] = _BookStream(
                instrument=inst,
                depth=depth,
                interval=BOOK_DEPTHS[inst.category][depth],
                topic=f"orderbook.{depth}.{inst.symbol}",
            )
            self._books_of.setdefault(inst.engine_symbol, []).append(stream)
        return stream

    def _prime(self, stream: _BookStream) -> None:
        """Take the engine's current top `depth` levels as the stream's new snapshot."""
        bids, asks = self.engine.book(VENUE, stream.instrument.engine_symbol, stream.depth)
        stream.bids = dict(bids)
        stream.asks = dict(asks)
        stream.u += 1
        stream.primed = True
        stream.last_push = time.monotonic()

    def _book_message(
        self,
        stream: _BookStream,
        *,
        snapshot: bool,
        bids: list[tuple[Decimal, Decimal]] | None = None,
        asks: list[tuple[Decimal, Decimal]] | None = None,
    ) -> bytes:
        inst = stream.instrument
        pq, qq = inst.price_q, inst.qty_q
        if snapshot:
            bids = sorted(stream.bids.items(), reverse=True)
            asks = sorted(stream.asks.items())
        now = self._now_ms()
        return orjson.dumps(
            {
                "topic": stream.topic,
                "type": "snapshot" if snapshot else "delta",
                "ts": now,
                "data": {
                    "s": inst.symbol,
                    "b": [[_dec(p, pq), _dec(q, qq)] for p, q in bids or ()],
                    "a": [[_dec(p, pq), _dec(q, qq)] for p, q in asks or ()],
                    "u": stream.u,
                    "seq": self._seq.get(inst.engine_symbol, 0),
                },
                "cts": now,
            }
        )

    def _push_book(self, stream: _BookStream, *, snapshot: bool, bids=None, asks=None) -> None:
        data = self._book_message(stream, snapshot=snapshot, bids=bids, asks=asks)
        for conn in list(stream.subscribers):
            conn.send(data)
        stream.last_push = time.monotonic()

    def _schedule_book(self, stream: _BookStream) -> None:
        if stream.scheduled or self._loop is None:
            return
        stream.scheduled = True
        if self.options["book_intervals"]:
            self._loop.call_later(stream.interval, self._flush_book, stream)
        else:
            self._loop.call_soon(self._flush_book, stream)

    def _flush_book(self, stream: _BookStream) -> None:
        """Send what changed in the stream's top `depth` levels since its last push."""
        stream.scheduled = False
        if not stream.subscribers or not stream.primed:
            return
        bids, asks = self.engine.book(VENUE, stream.instrument.engine_symbol, stream.depth)
        new_bids, new_asks = dict(bids), dict(asks)
        bid_changes = _diff(stream.bids, new_bids, reverse=True)
        ask_changes = _diff(stream.asks, new_asks, reverse=False)
        if not bid_changes and not ask_changes:
            return
        stream.bids, stream.asks = new_bids, new_asks
        stream.u += 2 if self.faults.take("skip_book_sequence") else 1
        if stream.depth == 1:
            self._push_book(stream, snapshot=True)
        else:
            self._push_book(stream, snapshot=False, bids=bid_changes, asks=ask_changes)

    def _restart_books(self) -> None:
        """A simulated service restart: every book stream starts over with a u = 1 snapshot."""
        for stream in self._books.values():
            stream.u = 0
            if stream.subscribers:
                self._prime(stream)
                self._push_book(stream, snapshot=True)
            else:
                stream.primed = False

    def _ticker_message(self, inst: _Instrument, topic: str, kind: str, data: dict) -> bytes:
        return orjson.dumps(
            {
                "topic": topic,
                "type": kind,
                "data": data,
                "cs": self._seq.get(inst.engine_symbol, 0),
                "ts": self._now_ms(),
            }
        )

    # ----------------------------------------------------------------- engine listener

    def on_book(
        self,
        venue: Venue,
        symbol: str,
        bid_changes: list[tuple[Decimal, Decimal]],
        ask_changes: list[tuple[Decimal, Decimal]],
        ts_ns: int,
    ) -> None:
        if venue is not VENUE:
            return
        self._seq[symbol] = self._seq.get(symbol, 0) + 1
        for stream in self._books_of.get(symbol, ()):
            if (
                stream.subscribers
                and not stream.scheduled
                and _touches(stream, bid_changes, ask_changes)
            ):
                self._schedule_book(stream)

    def on_trade(self, trade: SimTrade) -> None:
        if trade.venue is not VENUE:
            return
        symbol = trade.symbol
        self._seq[symbol] = self._seq.get(symbol, 0) + 1
        previous = self._last_trade.get(symbol)
        if previous is not None:
            if trade.price > previous:
                self._tick_direction[symbol] = "PlusTick"
            elif trade.price < previous:
                self._tick_direction[symbol] = "MinusTick"
            else:
                self._tick_direction[symbol] = (
                    "ZeroPlusTick"
                    if self._tick_direction.get(symbol, "PlusTick").endswith("PlusTick")
                    else "ZeroMinusTick"
                )
        self._last_trade[symbol] = trade.price
        inst = self._by_engine_symbol.get(symbol)
        if inst is None:
            return
        topic = f"publicTrade.{inst.symbol}"
        subs = self._topic_subs.get((inst.category, topic))
        if not subs:
            return
        ts = _ms(trade.ts_ns)
        data = orjson.dumps(
            {
                "topic": topic,
                "type": "snapshot",
                "ts": ts,
                "data": [
                    {
                        "T": ts,
                        "s": inst.symbol,
                        "S": SIDE[trade.taker_side],
                        "v": _dec(trade.quantity, inst.qty_q),
                        "p": _dec(trade.price, inst.price_q),
                        "i": trade.trade_id,
                        "BT": False,
                    }
                ],
            }
        )
        for conn in list(subs):
            conn.send(data)

    def on_ticker(self, ticker: SimTicker) -> None:
        if ticker.venue is not VENUE:
            return
        inst = self._by_engine_symbol.get(ticker.symbol)
        if inst is None:
            return
        topic = f"tickers.{inst.symbol}"
        subs = self._topic_subs.get((inst.category, topic))
        if not subs:
            return
        fields = self._ticker_fields(inst, ticker, rest=False)
        if inst.category == "spot":
            data = self._ticker_message(inst, topic, "snapshot", fields)
        else:
            base = self._ticker_sent.get(inst.engine_symbol, {})
            changed = {k: v for k, v in fields.items() if base.get(k) != v}
            if not changed:
                return
            self._ticker_sent[inst.engine_symbol] = fields
            data = self._ticker_message(inst, topic, "delta", {"symbol": inst.symbol, **changed})
        for conn in list(subs):
            conn.send(data)

    def on_order(self, account: SimAccount, order: SimOrder) -> None:
        if account.venue is not VENUE:
            return
        if order.order_id not in self._last_price_on_created:
            last = self._last_trade.get(order.symbol)
            inst = self._by_engine_symbol[order.symbol]
            self._last_price_on_created[order.order_id] = _dec(last, inst.price_q) if last else ""
        conns = self._private.get(account.api_key)
        if not conns:
            return
        category = self._by_engine_symbol[order.symbol].category
        self._push_private(conns, ("order", f"order.{category}"), [self._order_push_item(order)])

    def on_fill(self, account: SimAccount, fill: SimFill) -> None:
        if account.venue is not VENUE:
            return
        inst = self._by_engine_symbol[fill.symbol]
        order = account.orders.get(fill.order_id)
        self._fill_context[self.exec_id(fill)] = {
            "leavesQty": _dec(
                order.remaining if order is not None and order.is_open else ZERO, inst.qty_q
            ),
            "closedSize": _dec(fill.closed_quantity, inst.qty_q),
            "markPrice": _dec(self.engine.mark_price(VENUE, fill.symbol), inst.price_q),
            "seq": self._seq.get(fill.symbol, 0),
        }
        conns = self._private.get(account.api_key)
        if conns:
            item = self._execution_row(account, fill, rest=False)
            self._push_private(conns, ("execution", f"execution.{inst.category}"), [item])

    def on_position(self, account: SimAccount, position: SimPosition) -> None:
        if account.venue is not VENUE:
            return
        conns = self._private.get(account.api_key)
        if conns:
            category = self._by_engine_symbol[position.symbol].category
            item = self._position_row(position, rest=False)
            self._push_private(conns, ("position", f"position.{category}"), [item])

    def on_balance(self, account: SimAccount, balance: SimBalance) -> None:
        if account.venue is not VENUE or not self._private.get(account.api_key):
            return
        if account.api_key not in self._wallet_dirty and self._loop is not None:
            self._wallet_dirty[account.api_key] = account
            self._loop.call_soon(self._flush_wallet, account.api_key)

    def _flush_wallet(self, api_key: str) -> None:
        account = self._wallet_dirty.pop(api_key, None)
        conns = self._private.get(api_key)
        if account is None or not conns:
            return
        self._push_private(conns, ("wallet",), [self._wallet_row(account, [], rest=False)])

    def _push_private(self, conns: set[_Conn], topics: tuple[str, ...], data: list) -> None:
        """Send one private push to each connection subscribed to one of `topics`."""
        encoded: dict[str, bytes] = {}
        for conn in list(conns):
            topic = next((t for t in topics if t in conn.topics), None)
            if topic is None:
                continue
            message = encoded.get(topic)
            if message is None:
                message = encoded[topic] = orjson.dumps(
                    {
                        "id": f"{self._conn_prefix[:14]}-{next(self._push_ids)}",
                        "topic": topic,
                        "creationTime": self._now_ms(),
                        "data": data,
                    }
                )
            self._send_private(conn, message)

    def _send_private(self, conn: _Conn, message: bytes) -> None:
        """Send with the private-push faults: reorder (hold one back) and duplicate."""
        conn.push_private(message, loop=self._loop, hold_s=REORDER_HOLD_S)

    # ----------------------------------------------------------------- private stream

    def _on_private_message(self, conn: _Conn, request: dict) -> None:
        op = request.get("op")
        req_id = request.get("req_id")
        if op == "ping":
            conn.touch()
            if conn.api_key is not None:
                self._disarm_dcp(conn.api_key)
            self._reply(
                conn,
                {
                    "req_id": req_id or "",
                    "op": "pong",
                    "args": [str(self._now_ms())],
                    "conn_id": conn.conn_id,
                },
            )
            return
        if op == "auth":
            self._auth(conn, request.get("args"), req_id)
            return
        if op not in ("subscribe", "unsubscribe"):
            self._ack(conn, op or "", req_id, f"Invalid op: {op}", success=False)
            return
        if conn.api_key is None:
            self._ack(conn, op, req_id, "Request not authorized", success=False)
            return
        args = request.get("args")
        if not isinstance(args, list) or not args or not all(isinstance(a, str) for a in args):
            self._ack(conn, op, req_id, "args must be a non-empty list of topics", success=False)
            return
        if op == "unsubscribe":
            for topic in args:
                conn.topics.discard(topic)
            self._ack(conn, op, req_id, "")
            return
        for topic in args:
            if topic not in PRIVATE_TOPICS:
                self._ack(conn, op, req_id, f"Invalid topic: {topic}", success=False)
                return
        conn.topics.update(args)
        if any(t.startswith("dcp") for t in args):
            self._disarm_dcp(conn.api_key)
        self._ack(conn, op, req_id, "")

    def _auth(self, conn: _Conn, args: Any, req_id: Any) -> None:
        """`op: auth` (docs "Connect"): key, expires (ms, in the future), hex HMAC of GET/realtime+expires."""

        def answer(code: int, message: str) -> None:
            reply: dict[str, Any] = {
                "op": "auth",
                "success": code == 0,
                "retCode": code,
                "retMsg": message,
                "connId": conn.conn_id,
            }
            if req_id is not None:
                reply["req_id"] = req_id
            self._reply(conn, reply)

        if not isinstance(args, list) or len(args) != 3:
            answer(10001, "Params Error")
            return
        key, expires, sign = args
        account = self.engine.account(VENUE, str(key))
        if account is None:
            answer(10003, "Invalid apikey")
            return
        try:
            expires_ms = int(expires)
        except (TypeError, ValueError):
            answer(10001, "Params Error")
            return
        if expires_ms <= self._now_ms():
            answer(10002, "Request expired")
            return
        expected = hmac_sha256(account.secret, f"GET/realtime{expires}").hex()
        if not isinstance(sign, str) or not hmac.compare_digest(expected, sign):
            answer(10004, "Invalid sign")
            return
        conn.api_key = account.api_key
        self._private.setdefault(account.api_key, set()).add(conn)
        answer(0, "")

    # ----------------------------------------------------------------- order entry stream

    async def _trade_ws(self, request: web.Request) -> web.StreamResponse:
        """`/v5/trade`: order entry over WebSocket (docs "WebSocket Trade Guideline")."""
        return await self._serve_private(request, self._on_trade_message)

    def _on_trade_message(self, conn: _Conn, request: dict) -> Awaitable[None] | None:
        op = request.get("op")
        if op in ("ping", "auth"):
            self._on_private_message(conn, request)
            return None
        if op in TRADE_OPS:
            return self._trade_op(conn, request)
        self._trade_reply(conn, request, 10404, "op type is not found", {})
        return None

    def _trade_reply(self, conn: _Conn, request: dict, code: int, message: str, data: dict) -> None:
        """An order-entry answer (fixture ws_trade_order_create_response.json)."""
        self._reply(
            conn,
            {
                "op": request.get("op", ""),
                "retCode": code,
                "retMsg": message,
                "connId": conn.conn_id,
                "reqId": request.get("reqId", ""),
                "data": data,
            },
        )

    async def _trade_op(self, conn: _Conn, request: dict) -> None:
        """order.create / order.amend / order.cancel with the REST handlers, limits and faults."""
        account = None if conn.api_key is None else self.engine.account(VENUE, conn.api_key)
        args = request.get("args")
        try:
            if account is None:
                raise BybitError(10007, "User authentication failed.")
            if not isinstance(args, list) or len(args) != 1 or not isinstance(args[0], dict):
                raise BybitError(10001, "params error: args must hold one order")
            self._check_trade_header(request.get("header"))
            params = {
                k: (Decimal(str(v)) if isinstance(v, float) else v) for k, v in args[0].items()
            }
            path, handler = TRADE_OPS[request["op"]]
            self._rate_limit(account.api_key, path, str(params.get("category", "")))
            result = await getattr(self, handler)(params, account, None)
        except BybitError as exc:
            self._trade_reply(conn, request, exc.code, exc.message, {})
            return
        if request["op"] == "order.create" and not await answer_survives(self.faults):
            await self._close_conn(conn, dropped=True)
            return
        self._trade_reply(conn, request, 0, "OK", result)

    def _check_trade_header(self, header: Any) -> None:
        """The request header's X-BAPI-TIMESTAMP must lie in the recv window (same rule as REST)."""
        if not isinstance(header, dict) or "X-BAPI-TIMESTAMP" not in header:
            raise BybitError(10001, "params error: header X-BAPI-TIMESTAMP is required")
        try:
            ts = int(header["X-BAPI-TIMESTAMP"])
            window = int(header.get("X-BAPI-RECV-WINDOW", 5000))
        except (TypeError, ValueError) as exc:
            raise BybitError(10001, "params error: header X-BAPI-TIMESTAMP invalid") from exc
        server = self._now_ms()
        if not server - window <= ts < server + 1000:
            raise BybitError(
                10002,
                "invalid request, please check your server timestamp or recv_window param. "
                f"req_timestamp[{ts}],server_timestamp[{server}],recv_window[{window}]",
            )

    # ----------------------------------------------------------------- dead-man switch

    def _maybe_arm_dcp(self, api_key: str) -> None:
        """Start the DCP countdown when no `dcp`-subscribed private connection is left."""
        state = self._dcp.get(api_key)
        if state is None or not state.windows or state.timer is not None or self._loop is None:
            return
        for conn in self._private.get(api_key, ()):
            if any(t.startswith("dcp") for t in conn.topics):
                return
        window = min(state.windows.values()) * float(self.options["dcp_time_scale"])
        state.timer = self._loop.call_later(window, self._fire_dcp, api_key)

    def _disarm_dcp(self, api_key: str) -> None:
        state = self._dcp.get(api_key)
        if state is not None and state.timer is not None:
            state.timer.cancel()
            state.timer = None

    def _fire_dcp(self, api_key: str) -> None:
        """DCP fired: cancel the account's orders of every product with a DCP window."""
        state = self._dcp.get(api_key)
        account = self.engine.account(VENUE, api_key)
        if state is None or account is None:
            return
        state.timer = None
        categories = {c for product in state.windows for c in DCP_PRODUCTS[product]}
        symbols = sorted(
            {
                o.symbol
                for o in account.open_orders.values()
                if self._by_engine_symbol[o.symbol].category in categories
            }
        )
        for symbol in symbols:
            self.engine.cancel_all(VENUE, api_key, symbol, reason=CancelReason.DEAD_MAN_SWITCH)


TRADE_OPS: dict[str, tuple[str, str]] = {
    "order.create": ("/v5/order/create", "_order_create"),
    "order.amend": ("/v5/order/amend", "_order_amend"),
    "order.cancel": ("/v5/order/cancel", "_order_cancel"),
}

PRIVATE_TOPICS = frozenset(
    {
        "order",
        *(f"order.{c}" for c in CATEGORIES),
        "execution",
        *(f"execution.{c}" for c in CATEGORIES),
        "position",
        "position.linear",
        "position.inverse",
        "position.option",
        "wallet",
        "dcp",
        "dcp.future",
        "dcp.spot",
        "dcp.option",
    }
)


def _max_active_time(text: str) -> float | None:
    """Private `max_active_time` (30s..600s, or minutes like `1m`) in seconds; None if absent."""
    if not text:
        return None
    try:
        seconds = (
            int(text[:-1]) * (60 if text.endswith("m") else 1) if text[-1] in "sm" else int(text)
        )
    except ValueError:
        return None
    return float(min(max(seconds, 30), 600))


def _diff(
    old: dict[Decimal, Decimal], new: dict[Decimal, Decimal], *, reverse: bool
) -> list[tuple[Decimal, Decimal]]:
    """Level changes from `old` to `new` (size 0 = gone), best first."""
    changes = [(p, q) for p, q in new.items() if old.get(p) != q]
    changes += [(p, ZERO) for p in old if p not in new]
    changes.sort(reverse=reverse)
    return changes


def _touches(
    stream: _BookStream,
    bid_changes: list[tuple[Decimal, Decimal]],
    ask_changes: list[tuple[Decimal, Decimal]],
) -> bool:
    """Whether engine level changes can alter the stream's top `depth` levels."""
    if len(stream.bids) < stream.depth or len(stream.asks) < stream.depth:
        return True
    worst_bid = min(stream.bids)
    worst_ask = max(stream.asks)
    return any(p >= worst_bid for p, _ in bid_changes) or any(
        p <= worst_ask for p, _ in ask_changes
    )
