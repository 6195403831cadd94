"""Deribit API v2 face of the simulator: JSON-RPC 2.0 over HTTP and WebSocket on one port.

What a client sees (Deribit docs "JSON-RPC", "Authentication", "Notifications", the method and
subscription pages, "RPC Error Codes"; ../shared/fixtures/venues/SOURCES.md "Deribit"):

- HTTP `GET /api/v2/{method}` with the parameters in the query string, `POST /api/v2/{method}`
  and `POST /api/v2` with a JSON-RPC body; WebSocket `/ws/api/v2` on the same port.
- Every answer is `{"jsonrpc","id","result"|"error","usIn","usOut","usDiff","testnet"}`
  (`id` only when the request had one); errors are `{"code","message","data"}` with the codes of
  the "RPC Error Codes" table (HTTP status 401 for 13004/13009, 429 for 10028, 400 for the
  rest). Prices and amounts are JSON numbers with the exact digits of the
  engine's Decimals (encoded through `orjson.Fragment`, parsed back with `parse_float=Decimal`).
- `public/auth` grants `client_credentials`, `client_signature` (hex HMAC-SHA256 of
  `timestamp + "\\n" + nonce + "\\n" + data`, timestamp valid 60 s, nonce single use) and
  `refresh_token`; HTTP private calls carry `Authorization: Bearer <token>`, `Basic
  base64(id:secret)` or `deri-hmac-sha256 id=..,ts=..,sig=..,nonce=..` (data = METHOD + "\\n" +
  URI + "\\n" + body + "\\n"); WebSocket private calls use the connection's login or
  `access_token`.
- Rate limits per account in the credit buckets Deribit reports in `get_account_summary.limits`
  (matching engine: buy/sell/edit/cancel; cancel_all; everything else), error 10028
  `too_many_requests`; over WebSocket the session is closed after that answer.
- `public/set_heartbeat`: a `test_request` every interval; a connection that has not answered
  the previous one with `public/test` is closed (and cancel-on-disconnect fires).
- Channels `book.{instrument}.{raw|100ms}` (snapshot then changes chained by
  `change_id`/`prev_change_id`), `book.{instrument}.{group}.{depth}.{interval}`,
  `ticker.{instrument}.{raw|100ms}`, `trades.{instrument|kind.currency}.{raw|100ms}` (raw
  channels only on an authorized connection, else 13778), and, after login,
  `user.orders.*`, `user.trades.*`, `user.changes.*` (by instrument or by kind and currency) and
  `user.portfolio.{currency}`.

Faults (faults.py): rate_limit_burst answers 10028; ack_delay_ms and lose_acks act on
private/buy, sell, edit and edit_by_label; duplicate_private and reorder_private act on the
private notifications; skip_book_sequence makes a `prev_change_id` point at a change never sent;
drop_ws() and drop_ws_probability close sockets; refuse_connections is the server's middleware.

Deliberate simplifications (said in the report too): funding is not charged, so
`realized_funding` is 0 and `interest_value` is the current funding rate; option greeks and
implied volatilities come from the generator's own Black-76 model; cancel-on-disconnect cancels
every open order of the account (option `cod_cancels` "connection" limits it to orders placed
over the closing connection, as the docs describe); labels are kept by the face, so, as on
Deribit, several orders may share one (the engine's client order ids are unique).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import itertools
import json
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from exchanges.simulator.common.faults import Faults, answer_survives
from exchanges.simulator.common.limits import CreditBucket
from exchanges.simulator.common.signing import hmac_sha256
from exchanges.simulator.common.ws import Connection
from exchanges.simulator.engine.core import Engine
from exchanges.simulator.engine.fees import OPTION_FEE_PER_CONTRACT
from exchanges.simulator.engine.margin import MAINTENANCE_MARGIN
from exchanges.simulator.engine.records import (
    CancelReason,
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
from exchanges.venues.base import (
    InstrumentInfo,
    InstrumentKind,
    Liquidity,
    OptionType,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    Venue,
)

__all__ = ["DeribitFace", "RpcError", "client_signature", "dumps", "http_request_data", "loads"]

logger = logging.getLogger(__name__)

VENUE = Venue.DERIBIT
API_VERSION = "1.2.26"
ZERO = Decimal(0)
ONE = Decimal(1)
PERPETUAL_EXPIRY_MS = 32503708800000  # what Deribit lists as a perpetual's expiration
MAX_BODY = 32 * 1024  # "request entity too large" above 32 kB (error -32600)

DEFAULT_OPTIONS: dict[str, Any] = {
    "testnet": False,
    "token_ttl": 900,  # seconds an access token lives
    "signature_window_ms": 60_000,  # "valid for 60 seconds since generation"
    "min_heartbeat_interval": 10.0,  # seconds; tests lower it
    "idle_timeout": 600.0,  # seconds without a frame from the client ("10 minutes of inactivity")
    "flush_interval_ms": 100,  # the `100ms` channels
    "book_depth_default": 20,
    "price_band": "0.015",  # max_price/min_price around the mark for futures (ticker fields)
    "raw_requires_auth": True,  # error 13778 for raw channels on an unauthorized connection
    "cod_cancels": "account",  # or "connection"
    "reorder_max_hold_ms": 1000,  # a push held by reorder_private waits this long for its pair
    # Deribit's per-account credit buckets, as `get_account_summary.limits` reports them
    # (docs example of private/get_account_summary): rate per second and burst.
    "limits": {
        "non_matching_engine": {"rate": 1000, "burst": 1500},
        "matching_engine": {"rate": 200, "burst": 250},
        "cancel_all": {"rate": 200, "burst": 250},
    },
}

TIF_TO_WIRE = {
    TimeInForce.GTC: "good_til_cancelled",
    TimeInForce.IOC: "immediate_or_cancel",
    TimeInForce.FOK: "fill_or_kill",
}
TIF_FROM_WIRE = {v: k for k, v in TIF_TO_WIRE.items()}
STATE_TO_WIRE = {
    OrderStatus.PENDING_NEW: "open",
    OrderStatus.NEW: "open",
    OrderStatus.PARTIALLY_FILLED: "open",
    OrderStatus.PENDING_CANCEL: "open",
    OrderStatus.FILLED: "filled",
    OrderStatus.CANCELED: "cancelled",
    OrderStatus.EXPIRED: "cancelled",
    OrderStatus.REJECTED: "rejected",
}
CURRENCIES = ("BTC", "ETH", "USDC", "USDT", "EURR")


# --------------------------------------------------------------------------- wire encoding


def _encode_default(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return orjson.Fragment(format(obj, "f"))
    raise TypeError(f"cannot encode {type(obj).__name__}")


def dumps(obj: Any) -> bytes:
    """JSON with every Decimal written as a JSON number with its exact digits."""
    return orjson.dumps(obj, default=_encode_default)


def loads(raw: bytes | str) -> Any:
    """Parse JSON keeping non-integer numbers exact (Decimal), as Deribit sends numbers."""
    return json.loads(raw, parse_float=Decimal)


# --------------------------------------------------------------------------- signing


def client_signature(secret: str, timestamp: int | str, nonce: str, data: str) -> str:
    """Hex HMAC-SHA256 of `timestamp\\nnonce\\ndata` (docs "Deribit signature credentials")."""
    return hmac_sha256(secret, f"{timestamp}\n{nonce}\n{data}").hex()


def http_request_data(method: str, uri: str, body: str) -> str:
    """The `data` part of a `deri-hmac-sha256` signature: METHOD, URI (with query) and body."""
    return f"{method.upper()}\n{uri}\n{body}\n"


def _parse_hmac_header(value: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for part in value.split(","):
        name, eq, text = part.strip().partition("=")
        if eq:
            fields[name.strip()] = text.strip()
    return fields


# --------------------------------------------------------------------------- errors


class RpcError(Exception):
    """A JSON-RPC error answer: Deribit code, short message, optional data."""

    def __init__(self, code: int, message: str, data: Any = None, *, http_status: int = 400):
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message
        self.data = data
        self.http_status = http_status

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


def _unauthorized(reason: str = "") -> RpcError:
    return RpcError(13009, "unauthorized", {"reason": reason} if reason else None, http_status=401)


def _invalid_credentials(reason: str = "") -> RpcError:
    return RpcError(
        13004, "invalid_credentials", {"reason": reason} if reason else None, http_status=401
    )


def _invalid_params(param: str, reason: str) -> RpcError:
    return RpcError(-32602, "Invalid params", {"reason": reason, "param": param})


def _too_many_requests() -> RpcError:
    return RpcError(10028, "too_many_requests", http_status=429)


# Engine rejections in Deribit's words ("RPC Error Codes").
REJECT_ERRORS: dict[RejectReason, tuple[int, str]] = {
    RejectReason.INSUFFICIENT_FUNDS: (10009, "not_enough_funds"),
    RejectReason.POST_ONLY_WOULD_CROSS: (11054, "post_only_reject"),
    RejectReason.REDUCE_ONLY: (11030, "other_reject reduce_only"),
    RejectReason.INVALID_PRICE: (10023, "invalid_price"),
    RejectReason.INVALID_SIZE: (10021, "invalid_amount"),
    RejectReason.ORDER_NOT_FOUND: (10004, "order_not_found"),
    RejectReason.ORDER_CLOSED: (11044, "not_open_order"),
    RejectReason.DUPLICATE_CLIENT_ORDER_ID: (13032, "non_unique_order_label"),
    RejectReason.UNKNOWN_INSTRUMENT: (10020, "invalid_or_unsupported_instrument"),
    RejectReason.FOK_NOT_FILLABLE: (11030, "other_reject fill_or_kill"),
    RejectReason.NO_LIQUIDITY: (11030, "other_reject no_liquidity"),
}


def _reject_error(reject: SimReject) -> RpcError:
    code, message = REJECT_ERRORS.get(reject.reason, (10001, "error"))
    return RpcError(code, message, {"reason": reject.message})


# --------------------------------------------------------------------------- parameters


def _text(params: dict, name: str, default: str | None = None, *, required: bool = False) -> str:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise _invalid_params(name, "value required")
        return default  # type: ignore[return-value]
    if not isinstance(value, str):
        raise _invalid_params(name, "must be a string")
    return value


def _decimal(params: dict, name: str) -> Decimal | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise _invalid_params(name, "must be a number")
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise _invalid_params(name, "must be a number") from None
    if not number.is_finite():
        raise _invalid_params(name, "must be a number")
    return number


def _integer(params: dict, name: str, default: int | None = None) -> int | None:
    number = _decimal(params, name)
    if number is None:
        return default
    if number != number.to_integral_value():
        raise _invalid_params(name, "must be an integer")
    return int(number)


def _boolean(params: dict, name: str, default: bool = False) -> bool:
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _invalid_params(name, "must be a boolean")


def _ms(ns: int) -> int:
    return ns // 1_000_000


# --------------------------------------------------------------------------- rate limits


MATCHING_ENGINE_METHODS = frozenset(
    {
        "private/buy",
        "private/sell",
        "private/edit",
        "private/edit_by_label",
        "private/cancel",
        "private/cancel_by_label",
    }
)
CANCEL_ALL_METHODS = frozenset(
    {"private/cancel_all", "private/cancel_all_by_instrument", "private/cancel_all_by_currency"}
)
ORDER_ENTRY_METHODS = frozenset({"private/buy", "private/sell", "private/edit"})
_TRADE_READ = (
    "get_open_orders",
    "get_open_orders_by_currency",
    "get_open_orders_by_instrument",
    "get_order_state",
    "get_order_state_by_label",
    "get_order_history_by_currency",
    "get_order_history_by_instrument",
    "get_user_trades_by_currency",
    "get_user_trades_by_instrument",
    "get_user_trades_by_order",
    "get_positions",
    "get_position",
)
# the access each private method needs (docs: each method's "Scope:" line)
METHOD_SCOPES: dict[str, tuple[str, str]] = {
    **{m: ("trade", "read_write") for m in MATCHING_ENGINE_METHODS | CANCEL_ALL_METHODS},
    **{f"private/{m}": ("trade", "read") for m in _TRADE_READ},
    "private/get_account_summary": ("account", "read"),
    "private/get_account_summaries": ("account", "read"),
    "private/get_cancel_on_disconnect": ("account", "read"),
    "private/enable_cancel_on_disconnect": ("account", "read_write"),
    "private/disable_cancel_on_disconnect": ("account", "read_write"),
}


# --------------------------------------------------------------------------- sessions


@dataclass
class _Token:
    access_token: str
    refresh_token: str
    api_key: str
    scope: str
    expires_at: float  # time.time()
    connection: _Conn | None  # a `connection`-scoped WebSocket token is valid on that socket only


@dataclass
class _Channel:
    """A parsed channel name."""

    name: str
    family: str  # book, book_grouped, ticker, trades, user.orders, user.trades, user.changes, user.portfolio
    interval: str = "raw"  # raw | 100ms | agg2
    instrument: str | None = None
    kind: str | None = None  # future | option | any (by-kind channels)
    currency: str | None = None  # BTC | ETH | any
    group: str = "none"
    depth: int = 0

    @property
    def private(self) -> bool:
        return self.family.startswith("user.")

    def matches(self, info: InstrumentInfo) -> bool:
        if self.instrument is not None:
            return info.venue_symbol == self.instrument
        if self.kind not in (None, "any") and _kind(info) != self.kind:
            return False
        return self.currency in (None, "any") or info.base == self.currency


def _kind(info: InstrumentInfo) -> str:
    if info.kind is InstrumentKind.OPTION:
        return "option"
    if info.kind is InstrumentKind.SPOT:
        return "spot"
    return "future"


@dataclass(eq=False)
class _Conn(Connection):
    """One Deribit WebSocket connection and everything the face keeps for it."""

    id: int = 0
    remote: str = ""
    api_key: str | None = None
    scope: str = ""
    channels: dict[str, _Channel] = field(default_factory=dict)
    book_pending: set[str] = field(default_factory=set)  # 100ms book channels awaiting snapshot
    heartbeat: asyncio.Task | None = None
    heartbeat_unanswered: bool = False
    cancel_on_disconnect: bool = False
    orders_placed: set[str] = field(default_factory=set)
    last_seen: float = 0.0
    logged_out: bool = False
    private_raw: dict[str, list] = field(default_factory=dict)  # channel -> items, flushed soon
    private_batched: dict[str, list] = field(default_factory=dict)  # channel -> items, 100ms


@dataclass
class _BookFeed:
    """The face's copy of one instrument's book and its `change_id` sequence."""

    symbol: str
    change_id: int
    bids: dict[Decimal, Decimal]
    asks: dict[Decimal, Decimal]
    raw_subs: set[_Conn] = field(default_factory=set)
    # 100ms view: the levels as last published, the changes since and the last id published.
    published_bids: dict[Decimal, Decimal] = field(default_factory=dict)
    published_asks: dict[Decimal, Decimal] = field(default_factory=dict)
    pending_bids: dict[Decimal, Decimal] = field(default_factory=dict)
    pending_asks: dict[Decimal, Decimal] = field(default_factory=dict)
    published_change_id: int = 0
    skipped_since_publish: int | None = None
    last_ts_ms: int = 0


def _level_changes(
    levels: dict[Decimal, Decimal], changes: list[tuple[Decimal, Decimal]] | dict
) -> list[list]:
    """Apply (price, size) changes to `levels`; Deribit `[action, price, amount]` entries."""
    entries: list[list] = []
    items = changes.items() if isinstance(changes, dict) else changes
    for price, size in items:
        before = levels.get(price)
        if size == 0:
            if before is None:
                continue
            del levels[price]
            entries.append(["delete", price, ZERO])
        elif before is None:
            levels[price] = size
            entries.append(["new", price, size])
        elif before != size:
            levels[price] = size
            entries.append(["change", price, size])
    return entries


def _sorted_levels(levels: dict[Decimal, Decimal], descending: bool) -> list[tuple]:
    return sorted(levels.items(), key=lambda item: item[0], reverse=descending)


@dataclass
class _TradeMeta:
    trade_seq: int
    tick_direction: int
    index_price: Decimal
    mark_price: Decimal


# --------------------------------------------------------------------------- the face


class DeribitFace(Listener):
    """The Deribit wire protocol on top of the shared engine (module doc)."""

    def __init__(self, engine: Engine, faults: Faults, *, options: dict | None = None):
        self.engine = engine
        self.faults = faults
        self.options: dict[str, Any] = {**DEFAULT_OPTIONS}
        self.configure(options or {})
        self.started_ms = _ms(engine.clock_ns())
        self.instruments: dict[str, InstrumentInfo] = {
            info.venue_symbol: info for info in engine.instruments_of(VENUE)
        }
        self._instrument_ids = {
            name: (124972 if name == "BTC-PERPETUAL" else 210000 + index)
            for index, name in enumerate(self.instruments)
        }
        self._user_ids: dict[str, int] = {}
        self._tokens: dict[str, _Token] = {}
        self._refresh: dict[str, _Token] = {}
        self._nonces: OrderedDict[tuple[str, str, str], float] = OrderedDict()
        self._buckets: dict[tuple[str, str], CreditBucket] = {}
        self._cod_account: dict[str, bool] = {}
        self._labels: dict[str, str] = {}  # engine order id -> label
        self._reject_post_only: set[str] = set()
        self._replaced: set[str] = set()
        self._conns: dict[int, _Conn] = {}
        self._conn_ids = itertools.count(1)
        self._feeds: dict[str, _BookFeed] = {}
        # instrument -> (connection id, channel) -> last levels sent on a grouped book channel
        self._grouped: dict[str, dict[tuple[int, str], tuple]] = {}
        self._change_base = itertools.count(0)
        self._trade_meta: OrderedDict[str, _TradeMeta] = OrderedDict()
        self._fill_meta: dict[str, _TradeMeta] = {}
        self._trade_seq: dict[str, int] = {}
        self._last_trade: dict[str, tuple[Decimal, int]] = {}
        self._pending_trades: dict[str, list[dict]] = {}  # instrument -> public trades (raw)
        self._batched_trades: dict[str, list[dict]] = {}  # instrument -> public trades (100ms)
        self._latest_ticker: dict[str, dict] = {}  # instrument -> ticker data awaiting 100ms
        self._capture: list[tuple[str, dict]] | None = None  # user trades of the running call
        self._capture_key = ""
        # the order being placed: (api_key, label, reject_post_only, conn); its first on_order
        # names it, so the acceptance push already carries the label
        self._placing: tuple[str, str, bool, _Conn | None] | None = None
        self._flush_scheduled = False
        self._private_dirty: set[_Conn] = set()
        self._ticker_task: asyncio.Task | None = None
        self._background: set[asyncio.Task] = set()
        self._closed = False
        self._methods: dict[str, Callable[[_Call, dict], Awaitable[Any]]] = {
            "public/auth": self._public_auth,
            "public/get_time": self._public_get_time,
            "public/test": self._public_test,
            "public/hello": self._public_hello,
            "public/set_heartbeat": self._public_set_heartbeat,
            "public/disable_heartbeat": self._public_disable_heartbeat,
            "public/get_instruments": self._public_get_instruments,
            "public/get_instrument": self._public_get_instrument,
            "public/ticker": self._public_ticker,
            "public/get_order_book": self._public_get_order_book,
            "public/get_last_trades_by_instrument": self._public_get_last_trades_by_instrument,
            "public/subscribe": self._subscribe,
            "public/unsubscribe": self._unsubscribe,
            "public/unsubscribe_all": self._unsubscribe_all,
            "private/subscribe": self._subscribe,
            "private/unsubscribe": self._unsubscribe,
            "private/unsubscribe_all": self._unsubscribe_all,
            "private/logout": self._private_logout,
            "private/buy": self._private_buy,
            "private/sell": self._private_sell,
            "private/edit": self._private_edit,
            "private/edit_by_label": self._private_edit_by_label,
            "private/cancel": self._private_cancel,
            "private/cancel_by_label": self._private_cancel_by_label,
            "private/cancel_all": self._private_cancel_all,
            "private/cancel_all_by_instrument": self._private_cancel_all_by_instrument,
            "private/cancel_all_by_currency": self._private_cancel_all_by_currency,
            "private/get_open_orders": self._private_get_open_orders,
            "private/get_open_orders_by_currency": self._private_get_open_orders_by_currency,
            "private/get_open_orders_by_instrument": self._private_get_open_orders_by_instrument,
            "private/get_order_state": self._private_get_order_state,
            "private/get_order_state_by_label": self._private_get_order_state_by_label,
            "private/get_order_history_by_currency": self._private_get_order_history_by_currency,
            "private/get_order_history_by_instrument": (
                self._private_get_order_history_by_instrument
            ),
            "private/get_user_trades_by_currency": self._private_get_user_trades_by_currency,
            "private/get_user_trades_by_instrument": self._private_get_user_trades_by_instrument,
            "private/get_user_trades_by_order": self._private_get_user_trades_by_order,
            "private/get_positions": self._private_get_positions,
            "private/get_position": self._private_get_position,
            "private/get_account_summary": self._private_get_account_summary,
            "private/get_account_summaries": self._private_get_account_summaries,
            "private/enable_cancel_on_disconnect": self._private_enable_cod,
            "private/disable_cancel_on_disconnect": self._private_disable_cod,
            "private/get_cancel_on_disconnect": self._private_get_cod,
        }
        self.app = web.Application(client_max_size=MAX_BODY)
        self.app.router.add_get("/ws/api/v2", self._ws_handler)
        self.app.router.add_get("/ws/api/v2/", self._ws_handler)
        self.app.router.add_post("/api/v2", self._http_handler)
        self.app.router.add_post("/api/v2/", self._http_handler)
        self.app.router.add_route(
            "GET", "/api/v2/{group:public|private}/{name}", self._http_handler
        )
        self.app.router.add_route(
            "POST", "/api/v2/{group:public|private}/{name}", self._http_handler
        )
        self.app.on_startup.append(self._on_startup)
        self.app.on_cleanup.append(self._on_cleanup)
        engine.add_listener(self)
        faults.on_drop(self._drop_all)

    # ----------------------------------------------------------------- face contract

    def urls(self, host: str, port: int) -> dict[str, str]:
        """Where a Deribit client points: REST base (it appends /api/v2/...) and the socket."""
        ws = f"ws://{host}:{port}/ws/api/v2"
        return {"rest": f"http://{host}:{port}", "ws_public": ws, "ws_private": ws}

    def configure(self, options: dict) -> dict:
        """Change run-time switches (keys of DEFAULT_OPTIONS); returns the current settings."""
        unknown = sorted(set(options) - set(DEFAULT_OPTIONS))
        if unknown:
            raise KeyError(f"unknown Deribit face option(s): {', '.join(unknown)}")
        if "cod_cancels" in options and options["cod_cancels"] not in ("account", "connection"):
            raise ValueError("cod_cancels must be 'account' or 'connection'")
        if "limits" in options:
            limits = {**self.options["limits"], **options["limits"]}
            for name, bucket in limits.items():
                if name not in DEFAULT_OPTIONS["limits"] or set(bucket) != {"rate", "burst"}:
                    raise ValueError(f"limits.{name} must be one of the buckets with rate/burst")
            options = {**options, "limits": limits}
            self._buckets = {}
        self.options.update(options)
        return dict(self.options)

    async def close(self) -> None:
        """Close every WebSocket (cancel-on-disconnect applies) and stop the flush task."""
        self._closed = True
        self.engine.remove_listener(self)
        for task in list(self._background):
            task.cancel()
        for conn in list(self._conns.values()):
            await self._close_conn(conn, code=1001)
        if self._ticker_task is not None:
            self._ticker_task.cancel()
            try:
                await self._ticker_task
            except asyncio.CancelledError:
                pass
            self._ticker_task = None

    async def _on_startup(self, app: web.Application) -> None:
        self._ensure_ticker()

    async def _on_cleanup(self, app: web.Application) -> None:
        await self.close()

    def _ensure_ticker(self) -> None:
        if self._ticker_task is None or self._ticker_task.done():
            self._closed = False
            self.engine.add_listener(self)
            self._ticker_task = asyncio.get_running_loop().create_task(
                self._tick_loop(), name="deribit-face-tick"
            )

    # ----------------------------------------------------------------- HTTP transport

    async def _http_handler(self, request: web.Request) -> web.StreamResponse:
        us_in = time.time_ns() // 1000
        request_id: Any = None
        body_text = ""
        try:
            if request.method == "GET":
                method = f"{request.match_info['group']}/{request.match_info['name']}"
                params: dict[str, Any] = dict(request.query)
                if "id" in params:
                    request_id = params.pop("id")
            else:
                try:
                    raw = await request.read()
                except web.HTTPRequestEntityTooLarge:
                    raise RpcError(-32600, "request entity too large") from None
                body_text = raw.decode("utf-8", "replace")
                try:
                    message = loads(raw) if raw else {}
                except ValueError:
                    raise RpcError(-32700, "Parse error") from None
                if not isinstance(message, dict):
                    raise RpcError(11050, "bad_request")
                request_id = message.get("id")
                params = message.get("params") or {}
                if "group" in request.match_info:
                    method = f"{request.match_info['group']}/{request.match_info['name']}"
                else:
                    method = str(message.get("method", "")).lstrip("/")
                if not isinstance(params, dict):
                    raise RpcError(11050, "bad_request")
            call = _Call(self, None, request=request, body=body_text)
            result = await self._dispatch(call, method, params)
        except RpcError as error:
            return self._http_answer(request_id, us_in, error=error)
        if call.order_entry and not await answer_survives(self.faults):
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=204)  # never reaches the client: the socket is closed
        return self._http_answer(request_id, us_in, result=result)

    def _http_answer(
        self, request_id: Any, us_in: int, *, result: Any = None, error: RpcError | None = None
    ) -> web.Response:
        body = self._envelope(request_id, us_in, result=result, error=error)
        status = 200 if error is None else error.http_status
        return web.Response(body=body, status=status, content_type="application/json")

    def _envelope(
        self, request_id: Any, us_in: int, *, result: Any = None, error: RpcError | None = None
    ) -> bytes:
        message: dict[str, Any] = {"jsonrpc": "2.0"}
        if request_id is not None:
            message["id"] = request_id
        if error is None:
            message["result"] = result
        else:
            message["error"] = error.body()
        us_out = time.time_ns() // 1000
        message["usIn"] = us_in
        message["usOut"] = us_out
        message["usDiff"] = us_out - us_in
        message["testnet"] = bool(self.options["testnet"])
        return dumps(message)

    # ----------------------------------------------------------------- WebSocket transport

    async def _ws_handler(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(
            autoping=False, compress=False, max_msg_size=MAX_BODY, timeout=2.0
        )
        await ws.prepare(request)
        self._ensure_ticker()
        loop = asyncio.get_running_loop()
        conn_id = next(self._conn_ids)
        conn = _Conn(
            ws=ws,
            transport=request.transport,
            faults=self.faults,
            conn_id=str(conn_id),
            id=conn_id,
            remote=request.remote or "",
            last_seen=loop.time(),
        )
        self._conns[conn.id] = conn
        conn.start(f"deribit-ws-{conn.id}")
        try:
            async for msg in ws:
                conn.last_seen = loop.time()
                if msg.type == WSMsgType.TEXT:
                    await self._ws_request(conn, msg.data)
                elif msg.type == WSMsgType.PING:
                    await ws.pong(msg.data)
                elif msg.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                    break
                if conn.closing:
                    break
        finally:
            await self._close_conn(conn)
        return ws

    async def _ws_request(self, conn: _Conn, data: str) -> None:
        us_in = time.time_ns() // 1000
        request_id: Any = None
        try:
            try:
                message = loads(data)
            except ValueError:
                raise RpcError(-32700, "Parse error") from None
            if not isinstance(message, dict) or not isinstance(message.get("method"), str):
                raise RpcError(11050, "bad_request")
            request_id = message.get("id")
            params = message.get("params") or {}
            if not isinstance(params, dict):
                raise RpcError(11050, "bad_request")
            method = message["method"].lstrip("/")
            if method.startswith("api/v2/"):
                method = method[len("api/v2/") :]
            call = _Call(self, conn)
            result = await self._dispatch(call, method, params)
        except RpcError as error:
            conn.send(self._envelope(request_id, us_in, error=error))
            if error.code == 10028:
                conn.finish()
            return
        if call.order_entry and (self.faults.ack_delay_ms or self.faults.lose_acks):
            self._answer_later(conn, request_id, us_in, result)
            return
        conn.send(self._envelope(request_id, us_in, result=result))
        if call.close_after:
            conn.finish()

    def _answer_later(self, conn: _Conn, request_id: Any, us_in: int, result: Any) -> None:
        """Answer an accepted order through the answer faults (`common.answer_survives`):
        later (ack_delay_ms), or not at all and close the socket (lose_acks), while the
        connection goes on reading and answering other requests."""

        async def run() -> None:
            if await answer_survives(self.faults):
                conn.send(self._envelope(request_id, us_in, result=result))
            else:
                conn.finish()

        task = asyncio.get_running_loop().create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _close_conn(self, conn: _Conn, code: int = 1000) -> None:
        if self._conns.pop(conn.id, None) is None:
            return
        conn.finish()
        if conn.heartbeat is not None:
            conn.heartbeat.cancel()
        for feed in self._feeds.values():
            feed.raw_subs.discard(conn)
        for published in self._grouped.values():
            for key in [k for k in published if k[0] == conn.id]:
                del published[key]
        self._private_dirty.discard(conn)
        await conn.stop_writer(flush_s=1.0)
        await conn.close(code)
        for token in [t for t in self._tokens.values() if t.connection is conn]:
            self._tokens.pop(token.access_token, None)
            self._refresh.pop(token.refresh_token, None)
        if conn.cancel_on_disconnect and conn.api_key and not conn.logged_out:
            self._cancel_on_disconnect(conn)

    def _cancel_on_disconnect(self, conn: _Conn) -> None:
        api_key = conn.api_key
        if api_key is None or self.engine.account(VENUE, api_key) is None:
            return
        if self.options["cod_cancels"] == "account":
            orders = self.engine.open_orders(VENUE, api_key)
        else:
            orders = [
                o
                for o in self.engine.open_orders(VENUE, api_key)
                if o.order_id in conn.orders_placed
            ]
        with self.engine.batch_book_updates():
            for order in orders:
                try:
                    self.engine.cancel_order(
                        VENUE,
                        api_key,
                        order.symbol,
                        order_id=order.order_id,
                        reason=CancelReason.DISCONNECT,
                    )
                except SimReject:
                    continue

    def _drop_all(self) -> None:
        for conn in list(self._conns.values()):
            conn.drop()

    # ----------------------------------------------------------------- dispatch

    async def _dispatch(self, call: _Call, method: str, params: dict) -> Any:
        handler = self._methods.get(method)
        if handler is None:
            raise RpcError(-32601, "Method not found")
        call.method_is_private = method.startswith("private/")
        if call.method_is_private:
            call.account = self._authenticate(call, params)
            self._check_scope(call, method)
        self._rate_limit(call, method)
        result = await handler(call, params)
        call.order_entry = method in ORDER_ENTRY_METHODS or method == "private/edit_by_label"
        return result

    def _rate_limit(self, call: _Call, method: str) -> None:
        if self.faults.rate_limit_burst and self.faults.take("rate_limit_burst"):
            raise _too_many_requests()
        if method in MATCHING_ENGINE_METHODS:
            group = "matching_engine"
        elif method in CANCEL_ALL_METHODS:
            group = "cancel_all"
        else:
            group = "non_matching_engine"
        who = call.account.api_key if call.account is not None else f"ip:{call.remote}"
        bucket = self._buckets.get((who, group))
        now = time.monotonic()
        if bucket is None:
            limits = self.options["limits"][group]
            bucket = self._buckets[(who, group)] = CreditBucket(
                limits["rate"], limits["burst"], now
            )
        if not bucket.take(now):
            raise _too_many_requests()

    # ----------------------------------------------------------------- authentication

    def _authenticate(self, call: _Call, params: dict) -> SimAccount:
        token_text = params.get("access_token")
        if call.conn is None:
            header = call.request.headers.get("Authorization", "") if call.request else ""
            scheme, _, credentials = header.strip().partition(" ")
            scheme = scheme.lower()
            if scheme == "bearer":
                token_text = credentials.strip()
            elif scheme == "basic":
                return self._basic_auth(credentials.strip())
            elif scheme == "deri-hmac-sha256":
                return self._hmac_auth(call, credentials)
            elif header and not token_text:
                raise _unauthorized("unsupported authorization scheme")
        if token_text:
            token = self._tokens.get(str(token_text))
            if token is None or token.expires_at < time.time():
                raise _unauthorized("invalid or expired token")
            if token.connection is not None and token.connection is not call.conn:
                raise _unauthorized("connection scope token used on another connection")
            account = self.engine.account(VENUE, token.api_key)
            if account is None:
                raise _unauthorized("account gone")
            call.scope = token.scope
            return account
        if call.conn is not None and call.conn.api_key is not None:
            account = self.engine.account(VENUE, call.conn.api_key)
            if account is not None:
                call.scope = call.conn.scope
                return account
        raise _unauthorized()

    @staticmethod
    def _check_scope(call: _Call, method: str) -> None:
        """Tokens carry `trade:`/`account:` access levels (docs "Access scope"); a method
        beyond them is refused with 13021 `forbidden`. Key-based HTTP auth has full access."""
        needed = METHOD_SCOPES.get(method)
        if needed is None or call.scope is None:
            return
        area, level = needed
        granted = next(
            (s.split(":", 1)[1] for s in call.scope.split() if s.startswith(f"{area}:")), "none"
        )
        if granted == "none" or (level == "read_write" and granted != "read_write"):
            raise RpcError(13021, "forbidden", {"reason": f"scope {area}:{level} required"})

    def _basic_auth(self, encoded: str) -> SimAccount:
        try:
            client_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise _invalid_credentials("malformed basic credentials") from None
        account = self.engine.account(VENUE, client_id)
        if account is None or account.internal or not hmac.compare_digest(account.secret, secret):
            raise _invalid_credentials()
        return account

    def _hmac_auth(self, call: _Call, credentials: str) -> SimAccount:
        fields = _parse_hmac_header(credentials)
        client_id, ts, sig, nonce = (fields.get(k, "") for k in ("id", "ts", "sig", "nonce"))
        if not client_id or not ts or not sig:
            raise _unauthorized("malformed deri-hmac-sha256 header")
        account = self.engine.account(VENUE, client_id)
        if account is None or account.internal:
            raise _unauthorized("unknown client id")
        self._check_timestamp(ts, unauthorized=True)
        request = call.request
        data = http_request_data(request.method, request.raw_path, call.body)
        expected = client_signature(account.secret, ts, nonce, data)
        if not hmac.compare_digest(expected, sig.lower()):
            raise _unauthorized("bad signature")
        self._use_nonce(client_id, ts, nonce, unauthorized=True)
        return account

    def _check_timestamp(self, ts: Any, *, unauthorized: bool) -> None:
        fail = _unauthorized if unauthorized else _invalid_credentials
        try:
            stamp = int(ts)
        except (TypeError, ValueError):
            raise fail("bad timestamp") from None
        now_ms = time.time_ns() // 1_000_000
        if abs(now_ms - stamp) > self.options["signature_window_ms"]:
            raise fail("timestamp out of the 60 s window")

    def _use_nonce(self, client_id: str, ts: str, nonce: str, *, unauthorized: bool) -> None:
        now = time.time()
        window = self.options["signature_window_ms"] / 1000 * 2
        while self._nonces:
            key, seen = next(iter(self._nonces.items()))
            if now - seen <= window:
                break
            self._nonces.popitem(last=False)
        key = (client_id, str(ts), nonce)
        if nonce and key in self._nonces:
            raise (_unauthorized if unauthorized else _invalid_credentials)("nonce already used")
        self._nonces[key] = now

    def _user_id(self, api_key: str) -> int:
        user_id = self._user_ids.get(api_key)
        if user_id is None:
            user_id = self._user_ids[api_key] = 96103 + len(self._user_ids)
        return user_id

    def _grant(self, account: SimAccount, conn: _Conn | None, requested_scope: str) -> dict:
        requested = requested_scope.split()
        session = [s for s in requested if s.startswith("session:")]
        scopes = {"mainaccount"}
        scopes.add(session[0] if session else "connection")
        access = {"account": "read_write", "trade": "read_write", "wallet": "read_write"}
        for item in requested:
            area, colon, level = item.partition(":")
            if colon and area in access and level in ("read", "read_write", "none"):
                access[area] = level
        scopes.update(f"{area}:{level}" for area, level in access.items())
        for item in requested:
            if item.startswith("expires:"):
                scopes.add(item)
        scope = " ".join(sorted(scopes))
        ttl = self.options["token_ttl"]
        for item in requested:
            if item.startswith("expires:") and item[8:].isdigit():
                ttl = int(item[8:])
        stamp = time.time_ns() // 1_000_000
        token = _Token(
            access_token=f"{stamp}.{secrets.token_urlsafe(6)}.{secrets.token_urlsafe(32)}",
            refresh_token=f"{stamp}.{secrets.token_urlsafe(6)}.{secrets.token_urlsafe(32)}",
            api_key=account.api_key,
            scope=scope,
            expires_at=time.time() + ttl,
            connection=conn if conn is not None and not session else None,
        )
        self._tokens[token.access_token] = token
        self._refresh[token.refresh_token] = token
        if conn is not None:
            if conn.api_key != account.api_key:
                conn.cancel_on_disconnect = self._cod_account.get(account.api_key, False)
            conn.api_key = account.api_key
            conn.scope = scope
        return {
            "access_token": token.access_token,
            "expires_in": ttl,
            "refresh_token": token.refresh_token,
            "scope": scope,
            "enabled_features": [],
            "token_type": "bearer",
        }

    async def _public_auth(self, call: _Call, params: dict) -> dict:
        grant = _text(params, "grant_type", required=True)
        scope = _text(params, "scope", "")
        if grant == "client_credentials":
            client_id = _text(params, "client_id", required=True)
            secret = _text(params, "client_secret", required=True)
            account = self.engine.account(VENUE, client_id)
            if (
                account is None
                or account.internal
                or not hmac.compare_digest(account.secret, secret)
            ):
                raise _invalid_credentials()
        elif grant == "client_signature":
            client_id = _text(params, "client_id", required=True)
            signature = _text(params, "signature", required=True)
            timestamp = params.get("timestamp")
            if timestamp is None:
                raise _invalid_params("timestamp", "value required")
            nonce = str(params.get("nonce") or "")
            data = str(params.get("data") or "")
            account = self.engine.account(VENUE, client_id)
            if account is None or account.internal:
                raise _invalid_credentials()
            self._check_timestamp(timestamp, unauthorized=False)
            expected = client_signature(account.secret, int(timestamp), nonce, data)
            if not hmac.compare_digest(expected, signature.lower()):
                raise _invalid_credentials("bad signature")
            self._use_nonce(client_id, str(int(timestamp)), nonce, unauthorized=False)
        elif grant == "refresh_token":
            refresh = _text(params, "refresh_token", required=True)
            old = self._refresh.pop(refresh, None)
            if old is None or (old.connection is not None and old.connection is not call.conn):
                raise _invalid_credentials("invalid refresh token")
            self._tokens.pop(old.access_token, None)
            account = self.engine.account(VENUE, old.api_key)
            if account is None:
                raise _invalid_credentials()
            scope = scope or " ".join(s for s in old.scope.split() if s != "mainaccount")
        else:
            raise _invalid_params(
                "grant_type", "must be client_credentials, client_signature or refresh_token"
            )
        result = self._grant(account, call.conn, scope)
        state = params.get("state")
        if state is not None:
            result["state"] = state
        return result

    async def _private_logout(self, call: _Call, params: dict) -> Any:
        if call.conn is None:
            raise RpcError(10030, "must_be_websocket_request")
        if _boolean(params, "invalidate_token", True):
            for token in [t for t in self._tokens.values() if t.api_key == call.account.api_key]:
                if token.connection in (None, call.conn):
                    self._tokens.pop(token.access_token, None)
                    self._refresh.pop(token.refresh_token, None)
        call.conn.logged_out = True
        call.close_after = True
        return "ok"

    # ----------------------------------------------------------------- public methods

    async def _public_get_time(self, call: _Call, params: dict) -> int:
        return _ms(self.engine.clock_ns())

    async def _public_test(self, call: _Call, params: dict) -> dict:
        if call.conn is not None:
            call.conn.heartbeat_unanswered = False
        if params.get("expected_result") == "exception":
            raise RpcError(11094, "internal_server_error", {"reason": "expected_result exception"})
        return {"version": API_VERSION}

    async def _public_hello(self, call: _Call, params: dict) -> dict:
        return {"version": API_VERSION}

    async def _public_set_heartbeat(self, call: _Call, params: dict) -> str:
        if call.conn is None:
            raise RpcError(10030, "must_be_websocket_request")
        interval = _decimal(params, "interval")
        if interval is None:
            raise _invalid_params("interval", "value required")
        if interval < Decimal(str(self.options["min_heartbeat_interval"])):
            raise _invalid_params(
                "interval", f"must be at least {self.options['min_heartbeat_interval']}"
            )
        conn = call.conn
        if conn.heartbeat is not None:
            conn.heartbeat.cancel()
        conn.heartbeat_unanswered = False
        conn.heartbeat = asyncio.get_running_loop().create_task(
            self._heartbeat(conn, float(interval)), name=f"deribit-heartbeat-{conn.id}"
        )
        return "ok"

    async def _public_disable_heartbeat(self, call: _Call, params: dict) -> str:
        if call.conn is not None and call.conn.heartbeat is not None:
            call.conn.heartbeat.cancel()
            call.conn.heartbeat = None
        return "ok"

    async def _heartbeat(self, conn: _Conn, interval: float) -> None:
        test_request = dumps(
            {"jsonrpc": "2.0", "method": "heartbeat", "params": {"type": "test_request"}}
        )
        while not conn.closing:
            await asyncio.sleep(interval)
            if conn.heartbeat_unanswered:
                conn.heartbeat = None
                conn.finish()
                await self._close_conn(conn, code=1000)
                if conn.transport is not None:
                    conn.transport.close()
                return
            conn.heartbeat_unanswered = True
            conn.send(test_request)

    def _info(self, params: dict, name: str = "instrument_name") -> InstrumentInfo:
        instrument = _text(params, name, required=True)
        info = self.instruments.get(instrument)
        if info is None:
            raise RpcError(
                10020,
                "invalid_or_unsupported_instrument",
                {"reason": f"instrument {instrument} not found", "param": name},
            )
        return info

    def _currency(self, params: dict, *, allow_any: bool) -> str:
        currency = _text(params, "currency", required=True)
        if currency not in CURRENCIES and not (allow_any and currency == "any"):
            raise _invalid_params("currency", "must be one of " + ", ".join(CURRENCIES))
        return currency

    async def _public_get_instruments(self, call: _Call, params: dict) -> list[dict]:
        currency = self._currency(params, allow_any=True)
        kind = _text(params, "kind")
        if _boolean(params, "expired"):
            return []
        return [
            self._instrument_data(info)
            for info in self.instruments.values()
            if (currency == "any" or info.base == currency or info.settle == currency)
            and (kind is None or _kind(info) == kind)
        ]

    async def _public_get_instrument(self, call: _Call, params: dict) -> dict:
        return self._instrument_data(self._info(params))

    async def _public_ticker(self, call: _Call, params: dict) -> dict:
        info = self._info(params)
        return self._ticker_data(info, self.engine.ticker(VENUE, info.venue_symbol))

    async def _public_get_order_book(self, call: _Call, params: dict) -> dict:
        info = self._info(params)
        depth = _integer(params, "depth", self.options["book_depth_default"])
        if depth is None or depth < 1:
            raise _invalid_params("depth", "must be a positive integer")
        bids, asks = self.engine.book(VENUE, info.venue_symbol, depth)
        result = self._ticker_data(info, self.engine.ticker(VENUE, info.venue_symbol))
        result["asks"] = [[p, s] for p, s in asks]
        result["bids"] = [[p, s] for p, s in bids]
        result["change_id"] = self._feed(info.venue_symbol).change_id
        return dict(sorted(result.items()))

    async def _public_get_last_trades_by_instrument(self, call: _Call, params: dict) -> dict:
        info = self._info(params)
        count = _integer(params, "count", 10) or 10
        trades = self.engine.recent_trades(VENUE, info.venue_symbol, min(count + 1, 1000))
        has_more = len(trades) > count
        trades = trades[:count]
        data = [self._public_trade_data(t) for t in trades]
        if _text(params, "sorting", "desc") == "asc":
            data.reverse()
        return {"trades": data, "has_more": has_more}

    # ----------------------------------------------------------------- subscriptions

    def _parse_channel(self, name: str) -> _Channel | None:
        parts = name.split(".")
        family = parts[0]
        if family in ("book", "ticker", "trades") and len(parts) == 3:
            if parts[2] not in ("raw", "100ms", "agg2") or parts[1] not in self.instruments:
                return None
            if family == "ticker" and parts[2] == "agg2":
                return None
            return _Channel(name, family, parts[2], instrument=parts[1])
        if family == "book" and len(parts) == 5:
            instrument, group, depth, interval = parts[1:]
            if instrument not in self.instruments or interval not in ("100ms", "agg2"):
                return None
            if depth not in ("1", "10", "20") or (group != "none" and not _is_number(group)):
                return None
            return _Channel(
                name, "book_grouped", interval, instrument=instrument, group=group, depth=int(depth)
            )
        if family == "trades" and len(parts) == 4:
            kind, currency, interval = parts[1:]
            if kind not in ("future", "option", "any") or currency not in (*CURRENCIES, "any"):
                return None
            if interval not in ("raw", "100ms"):
                return None
            return _Channel(name, family, interval, kind=kind, currency=currency)
        if family == "user" and len(parts) >= 3:
            sub = parts[1]
            if sub == "portfolio" and len(parts) == 3:
                currency = parts[2].upper()
                if currency not in (*CURRENCIES, "ANY"):
                    return None
                return _Channel(
                    name, "user.portfolio", "raw", currency=currency.replace("ANY", "any")
                )
            if sub not in ("orders", "trades", "changes"):
                return None
            interval = parts[-1]
            if interval not in ("raw", "100ms", "agg2"):
                return None
            if len(parts) == 4 and parts[2] in self.instruments:
                return _Channel(name, f"user.{sub}", interval, instrument=parts[2])
            if len(parts) == 5:
                kind, currency = parts[2], parts[3]
                if kind not in ("future", "option", "spot", "any") or currency not in (
                    *CURRENCIES,
                    "any",
                ):
                    return None
                return _Channel(name, f"user.{sub}", interval, kind=kind, currency=currency)
        return None

    async def _subscribe(self, call: _Call, params: dict) -> list[str]:
        conn = call.conn
        if conn is None:
            raise RpcError(10030, "must_be_websocket_request")
        channels = params.get("channels")
        if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
            raise _invalid_params("channels", "must be a list of channel names")
        private = call.method_is_private
        authorized = conn.api_key is not None or call.account is not None
        subscribed: list[str] = []
        for name in channels:
            channel = self._parse_channel(name)
            if channel is None:
                continue
            if channel.private and not private:
                continue
            if (
                channel.interval == "raw"
                and not channel.private
                and not authorized
                and self.options["raw_requires_auth"]
            ):
                raise RpcError(13778, "raw_subscriptions_not_available_for_unauthorized")
            if name not in conn.channels:
                conn.channels[name] = channel
                self._start_channel(conn, channel)
            subscribed.append(name)
        return subscribed

    def _start_channel(self, conn: _Conn, channel: _Channel) -> None:
        if channel.family == "book_grouped":
            self._grouped.get(channel.instrument, {}).pop((conn.id, channel.name), None)
        if channel.family != "book":
            return
        feed = self._feed(channel.instrument)
        if channel.interval == "raw":
            conn.send(self._snapshot_message(channel.name, feed, feed.bids, feed.asks))
            feed.raw_subs.add(conn)
        else:
            conn.book_pending.add(channel.name)

    async def _unsubscribe(self, call: _Call, params: dict) -> list[str]:
        conn = call.conn
        if conn is None:
            raise RpcError(10030, "must_be_websocket_request")
        channels = params.get("channels")
        if not isinstance(channels, list):
            raise _invalid_params("channels", "must be a list of channel names")
        removed = []
        for name in channels:
            if isinstance(name, str) and conn.channels.pop(name, None) is not None:
                self._stop_channel(conn, name)
                removed.append(name)
        return removed

    async def _unsubscribe_all(self, call: _Call, params: dict) -> str:
        conn = call.conn
        if conn is None:
            raise RpcError(10030, "must_be_websocket_request")
        for name in list(conn.channels):
            conn.channels.pop(name)
            self._stop_channel(conn, name)
        return "ok"

    def _stop_channel(self, conn: _Conn, name: str) -> None:
        conn.book_pending.discard(name)
        conn.private_raw.pop(name, None)
        conn.private_batched.pop(name, None)
        parts = name.split(".")
        if parts[0] == "book" and len(parts) == 3 and parts[2] == "raw":
            feed = self._feeds.get(parts[1])
            if feed is not None and not any(
                c.family == "book" and c.interval == "raw" and c.instrument == parts[1]
                for c in conn.channels.values()
            ):
                feed.raw_subs.discard(conn)

    # ----------------------------------------------------------------- books

    def _feed(self, symbol: str) -> _BookFeed:
        feed = self._feeds.get(symbol)
        if feed is None:
            bids, asks = self.engine.book(VENUE, symbol)
            base = 130_000_000_000 + next(self._change_base) * 1_000_000_000
            feed = _BookFeed(symbol=symbol, change_id=base, bids=dict(bids), asks=dict(asks))
            feed.published_bids = dict(feed.bids)
            feed.published_asks = dict(feed.asks)
            feed.published_change_id = base
            feed.last_ts_ms = _ms(self.engine.clock_ns())
            self._feeds[symbol] = feed
        return feed

    def _snapshot_message(
        self,
        channel: str,
        feed: _BookFeed,
        bids: dict[Decimal, Decimal],
        asks: dict[Decimal, Decimal],
        change_id: int | None = None,
    ) -> bytes:
        return dumps(
            {
                "jsonrpc": "2.0",
                "method": "subscription",
                "params": {
                    "channel": channel,
                    "data": {
                        "type": "snapshot",
                        "instrument_name": feed.symbol,
                        "timestamp": feed.last_ts_ms,
                        "change_id": feed.change_id if change_id is None else change_id,
                        "prev_change_id": None,
                        "bids": [["new", p, s] for p, s in _sorted_levels(bids, True)],
                        "asks": [["new", p, s] for p, s in _sorted_levels(asks, False)],
                    },
                },
            }
        )

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
        feed = self._feeds.get(symbol)
        if feed is None:
            return
        bids = _level_changes(feed.bids, bid_changes)
        asks = _level_changes(feed.asks, ask_changes)
        if not bids and not asks:
            return
        for price, size in bid_changes:
            feed.pending_bids[price] = size
        for price, size in ask_changes:
            feed.pending_asks[price] = size
        feed.last_ts_ms = _ms(ts_ns)
        prev = feed.change_id
        if self.faults.skip_book_sequence and self.faults.take("skip_book_sequence"):
            prev = feed.change_id + 1  # a change the subscribers never receive
            feed.skipped_since_publish = prev
        feed.change_id = prev + 1
        if not feed.raw_subs:
            return
        head = {
            "type": "change",
            "instrument_name": symbol,
            "timestamp": feed.last_ts_ms,
            "change_id": feed.change_id,
            "prev_change_id": prev,
            "bids": bids,
            "asks": asks,
        }
        payload = _notification(f"book.{symbol}.raw", head)
        for conn in feed.raw_subs:
            conn.send(payload)

    def _publish_books(self) -> None:
        """The `100ms` book channels: snapshot to new subscribers, aggregated change to the rest."""
        wanted: dict[str, list[tuple[_Conn, str]]] = {}
        for conn in self._conns.values():
            for name, channel in conn.channels.items():
                if channel.family in ("book", "book_grouped") and channel.interval != "raw":
                    wanted.setdefault(channel.instrument, []).append((conn, name))
        for symbol, subscribers in wanted.items():
            feed = self._feed(symbol)
            bids = _level_changes(feed.published_bids, feed.pending_bids)
            asks = _level_changes(feed.published_asks, feed.pending_asks)
            feed.pending_bids.clear()
            feed.pending_asks.clear()
            prev = feed.published_change_id
            if feed.skipped_since_publish is not None:
                prev = feed.skipped_since_publish
                feed.skipped_since_publish = None
            changed = bool(bids or asks)
            if changed:
                feed.published_change_id = feed.change_id
            change = None
            if changed:
                change = {
                    "type": "change",
                    "instrument_name": symbol,
                    "timestamp": feed.last_ts_ms,
                    "change_id": feed.published_change_id,
                    "prev_change_id": prev,
                    "bids": bids,
                    "asks": asks,
                }
            for conn, name in subscribers:
                channel = conn.channels[name]
                if channel.family == "book_grouped":
                    self._publish_grouped(conn, channel, feed)
                elif name in conn.book_pending:
                    conn.book_pending.discard(name)
                    conn.send(
                        self._snapshot_message(
                            name,
                            feed,
                            feed.published_bids,
                            feed.published_asks,
                            feed.published_change_id,
                        )
                    )
                elif change is not None:
                    conn.send(_notification(name, change))

    def _publish_grouped(self, conn: _Conn, channel: _Channel, feed: _BookFeed) -> None:
        info = self.instruments[feed.symbol]
        bids = _grouped_levels(feed.published_bids, channel.group, channel.depth, True, info)
        asks = _grouped_levels(feed.published_asks, channel.group, channel.depth, False, info)
        key = (conn.id, channel.name)
        top = (tuple(bids), tuple(asks))
        last = self._grouped.setdefault(feed.symbol, {})
        if last.get(key) == top:
            return
        last[key] = top
        conn.send(
            _notification(
                channel.name,
                {
                    "timestamp": feed.last_ts_ms,
                    "instrument_name": feed.symbol,
                    "change_id": feed.published_change_id,
                    "bids": [[p, s] for p, s in bids],
                    "asks": [[p, s] for p, s in asks],
                },
            )
        )

    # ----------------------------------------------------------------- trades and tickers

    def on_trade(self, trade: SimTrade) -> None:
        if trade.venue is not VENUE:
            return
        info = self.instruments.get(trade.symbol)
        if info is None:
            return
        seq = self._trade_seq.get(trade.symbol, 0) + 1
        self._trade_seq[trade.symbol] = seq
        last = self._last_trade.get(trade.symbol)
        if last is None or trade.price > last[0]:
            tick = 0
        elif trade.price < last[0]:
            tick = 2
        else:
            tick = 1 if last[1] in (0, 1) else 3
        self._last_trade[trade.symbol] = (trade.price, tick)
        meta = _TradeMeta(
            trade_seq=seq,
            tick_direction=tick,
            index_price=self.engine.index_price(info.base),
            mark_price=self.engine.mark_price(VENUE, trade.symbol),
        )
        self._trade_meta[trade.trade_id] = meta
        if len(self._trade_meta) > 100_000:
            self._trade_meta.popitem(last=False)
        data = self._public_trade_data(trade, meta)
        self._pending_trades.setdefault(trade.symbol, []).append(data)
        self._batched_trades.setdefault(trade.symbol, []).append(data)
        self._schedule_flush()

    def on_ticker(self, ticker: SimTicker) -> None:
        if ticker.venue is not VENUE:
            return
        info = self.instruments.get(ticker.symbol)
        if info is None:
            return
        data = None
        for conn in self._conns.values():
            for name, channel in conn.channels.items():
                if channel.family != "ticker" or channel.instrument != ticker.symbol:
                    continue
                if data is None:
                    data = self._ticker_data(info, ticker)
                if channel.interval == "raw":
                    conn.send(_notification(name, data))
        if data is not None:
            self._latest_ticker[ticker.symbol] = data

    def _flush_public_trades(self, interval: str) -> None:
        source = self._pending_trades if interval == "raw" else self._batched_trades
        if not source:
            return
        batches = dict(source)
        source.clear()
        for conn in self._conns.values():
            for name, channel in conn.channels.items():
                if channel.family != "trades" or channel.interval != interval:
                    continue
                if channel.instrument is not None:
                    trades = batches.get(channel.instrument)
                else:
                    trades = [
                        t
                        for symbol, items in batches.items()
                        if channel.matches(self.instruments[symbol])
                        for t in items
                    ]
                if trades:
                    conn.send(_notification(name, trades))

    def _publish_tickers(self) -> None:
        if not self._latest_ticker:
            return
        latest = dict(self._latest_ticker)
        self._latest_ticker.clear()
        for conn in self._conns.values():
            for name, channel in conn.channels.items():
                if channel.family == "ticker" and channel.interval == "100ms":
                    data = latest.get(channel.instrument)
                    if data is not None:
                        conn.send(_notification(name, data))

    # ----------------------------------------------------------------- private events

    def on_order(self, account: SimAccount, order: SimOrder) -> None:
        if account.venue is not VENUE:
            return
        placing = self._placing
        if placing is not None and placing[0] == account.api_key:
            self._placing = None
            _, label, reject_post_only, conn = placing
            if label:
                self._labels[order.order_id] = label
            if reject_post_only:
                self._reject_post_only.add(order.order_id)
            if conn is not None:
                conn.orders_placed.add(order.order_id)
        data = self._order_data(order)
        self._private_event(account.api_key, order.symbol, "order", data)

    def on_fill(self, account: SimAccount, fill: SimFill) -> None:
        if account.venue is not VENUE:
            return
        meta = self._trade_meta.get(fill.trade_id)
        if meta is not None:
            self._fill_meta[f"{fill.trade_id}:{fill.order_id}"] = meta
        data = self._user_trade_data(fill, account)
        if self._capture is not None and account.api_key == self._capture_key:
            self._capture.append((fill.order_id, data))
        self._private_event(account.api_key, fill.symbol, "trade", data)

    def on_position(self, account: SimAccount, position: SimPosition) -> None:
        if account.venue is not VENUE:
            return
        info = self.instruments.get(position.symbol)
        if info is None:
            return
        data = self._position_data(info, position, account)
        self._private_event(account.api_key, position.symbol, "position", data)
        self._queue_portfolio(account, info.settle)

    def on_balance(self, account: SimAccount, balance: SimBalance) -> None:
        if account.venue is VENUE:
            self._queue_portfolio(account, balance.currency)

    def _queue_portfolio(self, account: SimAccount, currency: str) -> None:
        """`user.portfolio.{currency}` follows every balance and position change."""
        data = None
        for conn in self._conns.values():
            if conn.api_key != account.api_key:
                continue
            for name, channel in conn.channels.items():
                if channel.family != "user.portfolio" or channel.currency not in ("any", currency):
                    continue
                if data is None:
                    data = self._portfolio_data(account, currency)
                self._queue_private(conn, name, data, raw=True)

    def _private_event(self, api_key: str, symbol: str, kind: str, data: dict) -> None:
        info = self.instruments.get(symbol)
        if info is None:
            return
        for conn in self._conns.values():
            if conn.api_key != api_key:
                continue
            for name, channel in conn.channels.items():
                family = channel.family
                if family == "user.changes":
                    if channel.matches(info):
                        self._queue_private(conn, name, (kind, data), raw=channel.interval == "raw")
                elif (family == "user.orders" and kind == "order") or (
                    family == "user.trades" and kind == "trade"
                ):
                    if channel.matches(info):
                        self._queue_private(conn, name, data, raw=channel.interval == "raw")

    def _queue_private(self, conn: _Conn, channel: str, item: Any, *, raw: bool) -> None:
        target = conn.private_raw if raw else conn.private_batched
        target.setdefault(channel, []).append(item)
        if raw:
            self._private_dirty.add(conn)
            self._schedule_flush()

    def _schedule_flush(self) -> None:
        if self._flush_scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._flush_scheduled = True
        loop.call_soon(self._flush_soon)

    def _flush_soon(self) -> None:
        self._flush_scheduled = False
        self._flush_public_trades("raw")
        dirty = list(self._private_dirty)
        self._private_dirty.clear()
        for conn in dirty:
            self._flush_private(conn, conn.private_raw, raw=True)

    def _flush_private(self, conn: _Conn, pending: dict[str, list], *, raw: bool) -> None:
        if not pending or conn.closing:
            pending.clear()
            return
        items = dict(pending)
        pending.clear()
        for name, entries in items.items():
            channel = conn.channels.get(name)
            if channel is None:
                continue
            for data in _private_payloads(channel, entries, raw):
                self._send_private(conn, _notification(name, data))

    def _send_private(self, conn: _Conn, payload: bytes) -> None:
        """Push one private notification through the duplicate/reorder faults."""
        conn.push_private(
            payload,
            loop=asyncio.get_running_loop(),
            hold_s=self.options["reorder_max_hold_ms"] / 1000,
        )

    # ----------------------------------------------------------------- the 100 ms tick

    async def _tick_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._closed:
            await asyncio.sleep(self.options["flush_interval_ms"] / 1000)
            try:
                self._tick(loop.time())
            except Exception:
                logger.exception("deribit face tick failed")

    def _tick(self, now: float) -> None:
        if self._private_dirty or self._pending_trades:
            self._flush_soon()
        self._publish_books()
        self._flush_public_trades("100ms")
        self._publish_tickers()
        idle = float(self.options["idle_timeout"])
        for conn in list(self._conns.values()):
            self._flush_private(conn, conn.private_batched, raw=False)
            if now - conn.last_seen > idle and not conn.closing:
                conn.finish()

    # ----------------------------------------------------------------- orders

    async def _private_buy(self, call: _Call, params: dict) -> dict:
        return self._place(call, params, Side.BUY)

    async def _private_sell(self, call: _Call, params: dict) -> dict:
        return self._place(call, params, Side.SELL)

    def _amount(self, params: dict, info: InstrumentInfo, *, required: bool) -> Decimal | None:
        amount = _decimal(params, "amount")
        contracts = _decimal(params, "contracts")
        if contracts is not None:
            from_contracts = contracts * info.contract_size
            if amount is not None and amount != from_contracts:
                raise _invalid_params("contracts", "amount and contracts do not match")
            amount = from_contracts
        if amount is None:
            if required:
                raise _invalid_params("amount", "value required")
            return None
        if amount <= 0:
            raise RpcError(
                10021, "invalid_amount", {"reason": "must be positive", "param": "amount"}
            )
        if amount < info.min_size:
            raise RpcError(10002, "qty_too_low", {"reason": f"minimum is {info.min_size}"})
        if amount % info.lot_size != 0:
            raise RpcError(
                10021,
                "invalid_amount",
                {"reason": f"must be a multiple of {info.lot_size}", "param": "amount"},
            )
        return amount

    def _price(self, params: dict, info: InstrumentInfo, side: Side) -> Decimal | None:
        price = _decimal(params, "price")
        if price is None:
            return None
        if price <= 0:
            raise RpcError(10023, "invalid_price", {"reason": "must be positive", "param": "price"})
        if price % info.tick_size != 0:
            raise RpcError(10043, "price_wrong_tick", {"reason": f"tick is {info.tick_size}"})
        low, high = self._price_band(info)
        if high is not None and side is Side.BUY and price > high:
            raise RpcError(10007, f"price_too_high {high}")
        if low is not None and side is Side.SELL and price < low:
            raise RpcError(10005, f"price_too_low {low}")
        return price

    def _price_band(self, info: InstrumentInfo) -> tuple[Decimal | None, Decimal | None]:
        if info.kind is InstrumentKind.OPTION:
            return None, None
        mark = self.engine.mark_price(VENUE, info.venue_symbol)
        band = Decimal(str(self.options["price_band"]))
        high = (mark * (ONE + band) / info.tick_size).to_integral_value(
            ROUND_FLOOR
        ) * info.tick_size
        low = (mark * (ONE - band) / info.tick_size).to_integral_value(
            ROUND_CEILING
        ) * info.tick_size
        return low, high

    def _post_only_price(
        self, info: InstrumentInfo, side: Side, price: Decimal, reject: bool
    ) -> Decimal:
        """Deribit re-prices a crossing post-only order just inside the spread unless
        `reject_post_only` is set (private/buy "post_only")."""
        if reject:
            return price
        bids, asks = self.engine.book(VENUE, info.venue_symbol, 1)
        if side is Side.BUY and asks and price >= asks[0][0]:
            return asks[0][0] - info.tick_size
        if side is Side.SELL and bids and price <= bids[0][0]:
            return bids[0][0] + info.tick_size
        return price

    def _check_valid_until(self, params: dict) -> None:
        valid_until = _integer(params, "valid_until")
        if valid_until is not None and _ms(self.engine.clock_ns()) > valid_until:
            raise RpcError(13888, "timed_out")

    def _place(self, call: _Call, params: dict, side: Side) -> dict:
        account = call.account
        self._check_valid_until(params)
        info = self._info(params)
        amount = self._amount(params, info, required=True)
        order_type = _text(params, "type", "limit")
        if order_type not in ("limit", "market"):
            raise RpcError(11030, f"other_reject order type {order_type} not supported")
        tif_text = _text(params, "time_in_force", "good_til_cancelled")
        if tif_text not in TIF_FROM_WIRE:
            raise _invalid_params("time_in_force", "unsupported value")
        tif = TIF_FROM_WIRE[tif_text]
        post_only = _boolean(params, "post_only")
        reject_post_only = _boolean(params, "reject_post_only")
        reduce_only = _boolean(params, "reduce_only")
        label = _text(params, "label", "")
        if len(label) > 64:
            raise _invalid_params("label", "at most 64 characters")
        if post_only and tif is not TimeInForce.GTC:
            raise RpcError(11055, "post_only_not_allowed")
        price = None
        if order_type == "limit":
            price = self._price(params, info, side)
            if price is None:
                raise _invalid_params("price", "value required")
            if post_only:
                price = self._post_only_price(info, side, price, reject_post_only)
        elif post_only:
            raise RpcError(11055, "post_only_not_allowed")
        self._placing = (account.api_key, label, post_only and reject_post_only, call.conn)
        with self._capturing(account.api_key) as trades:
            try:
                order = self.engine.place_order(
                    VENUE,
                    account.api_key,
                    info.venue_symbol,
                    side=side,
                    order_type=OrderType(order_type),
                    quantity=amount,
                    price=price,
                    time_in_force=tif,
                    post_only=post_only,
                    reduce_only=reduce_only,
                )
            except SimReject as reject:
                raise _reject_error(reject) from None
            finally:
                self._placing = None
        return {
            "order": self._order_data(order),
            "trades": [data for order_id, data in trades if order_id == order.order_id],
        }

    @contextmanager
    def _capturing(self, api_key: str) -> Iterator[list[tuple[str, dict]]]:
        """Collect the user trades `api_key` gets during one engine call: the `trades` of
        private/buy, private/sell and private/edit answers."""
        trades: list[tuple[str, dict]] = []
        self._capture, self._capture_key = trades, api_key
        try:
            yield trades
        finally:
            self._capture = None

    def _find_order(self, account: SimAccount, wire_id: str) -> SimOrder:
        order = self.engine.get_order(VENUE, account.api_key, order_id=self._engine_id(wire_id))
        if order is None:
            raise RpcError(10004, "order_not_found")
        return order

    def _open_by_label(
        self, account: SimAccount, label: str, info: InstrumentInfo | None = None
    ) -> list[SimOrder]:
        return [
            o
            for o in self.engine.open_orders(VENUE, account.api_key)
            if self._labels.get(o.order_id) == label
            and (info is None or o.symbol == info.venue_symbol)
        ]

    async def _private_edit(self, call: _Call, params: dict) -> dict:
        order_id = _text(params, "order_id", required=True)
        order = self._find_order(call.account, order_id)
        return self._edit(call, params, order)

    async def _private_edit_by_label(self, call: _Call, params: dict) -> dict:
        label = _text(params, "label", required=True)
        info = self._info(params)
        orders = self._open_by_label(call.account, label, info)
        if not orders:
            raise RpcError(10004, "order_not_found")
        if len(orders) > 1:
            raise RpcError(13032, "non_unique_order_label")
        return self._edit(call, params, orders[0])

    def _edit(self, call: _Call, params: dict, order: SimOrder) -> dict:
        account = call.account
        self._check_valid_until(params)
        info = self.instruments[order.symbol]
        if not order.is_open:
            raise RpcError(11044, "not_open_order")
        amount = self._amount(params, info, required=True)
        price = self._price(params, info, order.side)
        post_only = _boolean(params, "post_only", order.post_only)
        reject = _boolean(params, "reject_post_only", order.order_id in self._reject_post_only)
        if price is not None and post_only:
            price = self._post_only_price(info, order.side, price, reject)
        with self._capturing(account.api_key) as trades:
            try:
                self.engine.amend_order(
                    VENUE,
                    account.api_key,
                    order.symbol,
                    order_id=order.order_id,
                    price=price,
                    quantity=amount,
                )
            except SimReject as rejected:
                raise _reject_error(rejected) from None
        self._replaced.add(order.order_id)
        return {
            "order": self._order_data(order),
            "trades": [data for order_id, data in trades if order_id == order.order_id],
        }

    async def _private_cancel(self, call: _Call, params: dict) -> dict:
        order = self._find_order(call.account, _text(params, "order_id", required=True))
        if not order.is_open:
            raise RpcError(11044, "not_open_order")
        try:
            self.engine.cancel_order(
                VENUE, call.account.api_key, order.symbol, order_id=order.order_id
            )
        except SimReject as rejected:
            raise _reject_error(rejected) from None
        return self._order_data(order)

    def _cancel_many(self, account: SimAccount, orders: list[SimOrder]) -> int:
        count = 0
        with self.engine.batch_book_updates():
            for order in orders:
                try:
                    self.engine.cancel_order(
                        VENUE, account.api_key, order.symbol, order_id=order.order_id
                    )
                except SimReject:
                    continue
                count += 1
        return count

    async def _private_cancel_by_label(self, call: _Call, params: dict) -> int:
        label = _text(params, "label", required=True)
        currency = _text(params, "currency")
        orders = [
            o
            for o in self._open_by_label(call.account, label)
            if currency is None or self.instruments[o.symbol].base == currency
        ]
        return self._cancel_many(call.account, orders)

    async def _private_cancel_all(self, call: _Call, params: dict) -> int:
        return self._cancel_many(call.account, self.engine.open_orders(VENUE, call.account.api_key))

    async def _private_cancel_all_by_instrument(self, call: _Call, params: dict) -> int:
        info = self._info(params)
        orders = self.engine.open_orders(VENUE, call.account.api_key, info.venue_symbol)
        return self._cancel_many(call.account, self._by_type(orders, params))

    async def _private_cancel_all_by_currency(self, call: _Call, params: dict) -> int:
        currency = self._currency(params, allow_any=False)
        kind = _text(params, "kind", "any")
        orders = [
            o
            for o in self.engine.open_orders(VENUE, call.account.api_key)
            if self.instruments[o.symbol].base == currency
            and kind in ("any", _kind(self.instruments[o.symbol]))
        ]
        return self._cancel_many(call.account, self._by_type(orders, params))

    @staticmethod
    def _by_type(orders: list[SimOrder], params: dict) -> list[SimOrder]:
        kind = _text(params, "type", "all")
        if kind in ("all", "limit"):
            return orders
        return []  # stop, take, trailing_stop, trigger_all: the simulator has no trigger orders

    # ----------------------------------------------------------------- order queries

    async def _private_get_open_orders(self, call: _Call, params: dict) -> list[dict]:
        orders = self.engine.open_orders(VENUE, call.account.api_key)
        kind = _text(params, "kind")
        return [
            self._order_data(o)
            for o in self._by_type(orders, params)
            if kind in (None, "any", _kind(self.instruments[o.symbol]))
        ]

    async def _private_get_open_orders_by_currency(self, call: _Call, params: dict) -> list[dict]:
        currency = self._currency(params, allow_any=True)
        kind = _text(params, "kind", "any")
        orders = self.engine.open_orders(VENUE, call.account.api_key)
        return [
            self._order_data(o)
            for o in self._by_type(orders, params)
            if currency in ("any", self.instruments[o.symbol].base)
            and kind in ("any", _kind(self.instruments[o.symbol]))
        ]

    async def _private_get_open_orders_by_instrument(self, call: _Call, params: dict) -> list[dict]:
        info = self._info(params)
        orders = self.engine.open_orders(VENUE, call.account.api_key, info.venue_symbol)
        return [self._order_data(o) for o in self._by_type(orders, params)]

    async def _private_get_order_state(self, call: _Call, params: dict) -> dict:
        order = self._find_order(call.account, _text(params, "order_id", required=True))
        return self._order_data(order)

    async def _private_get_order_state_by_label(self, call: _Call, params: dict) -> list[dict]:
        currency = self._currency(params, allow_any=False)
        label = _text(params, "label", required=True)
        return [
            self._order_data(o)
            for o in self.engine.orders(VENUE, call.account.api_key)
            if self._labels.get(o.order_id) == label and self.instruments[o.symbol].base == currency
        ]

    def _history(self, account: SimAccount, params: dict, orders: list[SimOrder]) -> list[dict]:
        count = _integer(params, "count", 20) or 20
        offset = _integer(params, "offset", 0) or 0
        newest_first = list(reversed(orders))
        return [self._order_data(o) for o in newest_first[offset : offset + count]]

    async def _private_get_order_history_by_currency(self, call: _Call, params: dict) -> list[dict]:
        currency = self._currency(params, allow_any=False)
        kind = _text(params, "kind", "any")
        orders = [
            o
            for o in self.engine.orders(VENUE, call.account.api_key)
            if not o.is_open
            and self.instruments[o.symbol].base == currency
            and kind in ("any", _kind(self.instruments[o.symbol]))
        ]
        return self._history(call.account, params, orders)

    async def _private_get_order_history_by_instrument(
        self, call: _Call, params: dict
    ) -> list[dict]:
        info = self._info(params)
        orders = [
            o
            for o in self.engine.orders(VENUE, call.account.api_key, info.venue_symbol)
            if not o.is_open
        ]
        return self._history(call.account, params, orders)

    # ----------------------------------------------------------------- fills

    def _trades_page(self, account: SimAccount, fills: list[SimFill], params: dict) -> dict:
        count = _integer(params, "count", 10) or 10
        if not 1 <= count <= 1000:
            raise _invalid_params("count", "must be within 1..1000")
        start_ts = _integer(params, "start_timestamp")
        end_ts = _integer(params, "end_timestamp")
        start_id = _text(params, "start_id")
        end_id = _text(params, "end_id")
        start_seq = _integer(params, "start_seq")
        end_seq = _integer(params, "end_seq")
        selected = []
        for fill in fills:
            ts = _ms(fill.ts_ns)
            number = int(fill.trade_id)
            if start_ts is not None and ts < start_ts:
                continue
            if end_ts is not None and ts > end_ts:
                continue
            if start_id is not None and number < int(self._engine_id(start_id)):
                continue
            if end_id is not None and number > int(self._engine_id(end_id)):
                continue
            meta = self._fill_meta.get(f"{fill.trade_id}:{fill.order_id}")
            if meta is not None and start_seq is not None and meta.trade_seq < start_seq:
                continue
            if meta is not None and end_seq is not None and meta.trade_seq > end_seq:
                continue
            selected.append(fill)
        sorting = _text(params, "sorting", "default")
        ascending = sorting == "asc" or (
            sorting == "default"
            and (start_ts is not None or start_id is not None or start_seq is not None)
        )
        selected.sort(key=lambda f: (int(f.trade_id), f.ts_ns), reverse=not ascending)
        page = selected[:count]
        return {
            "trades": [self._user_trade_data(f, account) for f in page],
            "has_more": len(selected) > count,
        }

    async def _private_get_user_trades_by_currency(self, call: _Call, params: dict) -> dict:
        currency = self._currency(params, allow_any=False)
        kind = _text(params, "kind", "any")
        fills = [
            f
            for f in self.engine.fills(VENUE, call.account.api_key)
            if self.instruments[f.symbol].base == currency
            and kind in ("any", _kind(self.instruments[f.symbol]))
        ]
        return self._trades_page(call.account, fills, params)

    async def _private_get_user_trades_by_instrument(self, call: _Call, params: dict) -> dict:
        info = self._info(params)
        fills = self.engine.fills(VENUE, call.account.api_key, info.venue_symbol)
        return self._trades_page(call.account, fills, params)

    async def _private_get_user_trades_by_order(self, call: _Call, params: dict) -> list[dict]:
        order = self._find_order(call.account, _text(params, "order_id", required=True))
        fills = [
            f
            for f in self.engine.fills(VENUE, call.account.api_key, order.symbol)
            if f.order_id == order.order_id
        ]
        if _text(params, "sorting", "asc") == "desc":
            fills.reverse()
        return [self._user_trade_data(f, call.account) for f in fills]

    # ----------------------------------------------------------------- positions and account

    async def _private_get_positions(self, call: _Call, params: dict) -> list[dict]:
        currency = _text(params, "currency", "any")
        kind = _text(params, "kind")
        result = []
        for position in self.engine.positions(VENUE, call.account.api_key, include_flat=True):
            info = self.instruments[position.symbol]
            if currency not in ("any", info.base) or kind not in (None, _kind(info)):
                continue
            result.append(self._position_data(info, position, call.account))
        return result

    async def _private_get_position(self, call: _Call, params: dict) -> dict:
        info = self._info(params)
        position = self.engine.position(VENUE, call.account.api_key, info.venue_symbol)
        if position is None:
            position = SimPosition(
                venue=VENUE,
                symbol=info.venue_symbol,
                leverage=self.engine.leverage_of(VENUE, call.account.api_key, info.venue_symbol),
                settle_currency=info.settle,
                mark_price=self.engine.mark_price(VENUE, info.venue_symbol),
            )
        return self._position_data(info, position, call.account)

    async def _private_get_account_summary(self, call: _Call, params: dict) -> dict:
        currency = self._currency(params, allow_any=False)
        data = self._portfolio_data(call.account, currency)
        data["limits"] = self._limits_data()
        if _boolean(params, "extended"):
            data.update(self._account_identity(call.account))
        return data

    async def _private_get_account_summaries(self, call: _Call, params: dict) -> dict:
        account = call.account
        currencies = sorted(account.balances)
        summaries = []
        for currency in currencies:
            data = self._portfolio_data(account, currency)
            data["limits"] = self._limits_data()
            summaries.append(data)
        result = {"id": self._user_id(account.api_key)}
        if _boolean(params, "extended"):
            result.update(self._account_identity(account))
        result["summaries"] = summaries
        return result

    def _account_identity(self, account: SimAccount) -> dict:
        return {
            "id": self._user_id(account.api_key),
            "type": "main",
            "username": account.api_key,
            "system_name": account.api_key,
            "email": f"{account.api_key.lower()}@simulator.invalid",
            "creation_timestamp": self.started_ms,
            "referrer_id": None,
            "login_enabled": False,
            "security_keys_enabled": False,
            "mmp_enabled": False,
            "interuser_transfers_enabled": False,
            "self_trading_reject_mode": "cancel_maker",
            "self_trading_extended_to_subaccounts": False,
        }

    def _limits_data(self) -> dict:
        limits = self.options["limits"]
        return {
            "limits_per_currency": False,
            "non_matching_engine": dict(limits["non_matching_engine"]),
            "matching_engine": {
                "trading": {"total": dict(limits["matching_engine"])},
                "cancel_all": dict(limits["cancel_all"]),
            },
        }

    # ----------------------------------------------------------------- cancel on disconnect

    def _cod_scope(self, call: _Call, params: dict) -> str:
        scope = _text(params, "scope", "connection")
        if scope not in ("connection", "account"):
            raise _invalid_params("scope", "must be connection or account")
        if scope == "connection" and call.conn is None:
            raise RpcError(10030, "must_be_websocket_request")
        return scope

    async def _private_enable_cod(self, call: _Call, params: dict) -> str:
        return self._set_cod(call, params, True)

    async def _private_disable_cod(self, call: _Call, params: dict) -> str:
        return self._set_cod(call, params, False)

    def _set_cod(self, call: _Call, params: dict, enabled: bool) -> str:
        scope = self._cod_scope(call, params)
        if scope == "account":
            self._cod_account[call.account.api_key] = enabled
        if call.conn is not None:
            call.conn.cancel_on_disconnect = enabled
            call.conn.api_key = call.conn.api_key or call.account.api_key
        return "ok"

    async def _private_get_cod(self, call: _Call, params: dict) -> dict:
        scope = self._cod_scope(call, params)
        if scope == "account":
            enabled = self._cod_account.get(call.account.api_key, False)
        else:
            enabled = call.conn.cancel_on_disconnect
        return {"enabled": enabled, "scope": scope}

    # ----------------------------------------------------------------- wire records

    @staticmethod
    def _wire_id(engine_id: str, symbol: str) -> str:
        """Deribit ids: bare numbers for BTC instruments, `ETH-<n>` for ETH ones."""
        currency = symbol.split("-", 1)[0].split("_", 1)[0]
        return engine_id if currency == "BTC" else f"{currency}-{engine_id}"

    @staticmethod
    def _engine_id(wire_id: str) -> str:
        return wire_id.rsplit("-", 1)[-1]

    def _order_data(self, order: SimOrder) -> dict:
        info = self.instruments[order.symbol]
        state = STATE_TO_WIRE[order.status]
        price = order.price
        if price is None:
            low, high = self._price_band(info)
            band = high if order.side is Side.BUY else low
            price = band if band is not None else (order.average_price or ZERO)
        data: dict[str, Any] = {
            "label": self._labels.get(order.order_id, ""),
            "price": price,
            "user_id": self._user_id(order.api_key),
            "amount": order.quantity,
            "direction": order.side.value,
            "time_in_force": TIF_TO_WIRE[order.time_in_force],
            "instrument_name": order.symbol,
            "web": False,
            "api": True,
            "order_id": self._wire_id(order.order_id, order.symbol),
            "creation_timestamp": _ms(order.created_ns),
            "replaced": order.order_id in self._replaced,
            "filled_amount": order.filled_quantity,
            "last_update_timestamp": _ms(order.updated_ns),
            "post_only": order.post_only,
            "reduce_only": order.reduce_only,
            "average_price": order.average_price if order.average_price is not None else ZERO,
            "mmp": False,
            "contracts": order.quantity / info.contract_size,
            "order_state": state,
            "order_type": order.order_type.value,
            "is_liquidation": False,
            "risk_reducing": False,
        }
        if order.post_only:
            data["reject_post_only"] = order.order_id in self._reject_post_only
        if state == "cancelled":
            data["cancel_reason"] = (
                "cancel_on_disconnect"
                if order.cancel_reason is CancelReason.DISCONNECT
                else "user_request"
            )
        return data

    def _user_trade_data(self, fill: SimFill, account: SimAccount) -> dict:
        info = self.instruments[fill.symbol]
        meta = self._fill_meta.get(f"{fill.trade_id}:{fill.order_id}") or self._trade_meta.get(
            fill.trade_id
        )
        order = account.orders.get(fill.order_id)
        data: dict[str, Any] = {
            "trade_seq": meta.trade_seq if meta else 0,
            "trade_id": self._wire_id(fill.trade_id, fill.symbol),
            "timestamp": _ms(fill.ts_ns),
            "tick_direction": meta.tick_direction if meta else 0,
            "state": STATE_TO_WIRE[order.status] if order is not None else "filled",
            "reduce_only": order.reduce_only if order is not None else False,
            "price": fill.price,
            "post_only": order.post_only if order is not None else False,
            "order_type": order.order_type.value if order is not None else "limit",
            "order_id": self._wire_id(fill.order_id, fill.symbol),
            "matching_id": None,
            "mark_price": meta.mark_price if meta else self.engine.mark_price(VENUE, fill.symbol),
            "liquidity": "M" if fill.liquidity is Liquidity.MAKER else "T",
            "instrument_name": fill.symbol,
            "index_price": meta.index_price if meta else self.engine.index_price(info.base),
            "fee_currency": fill.fee_currency,
            "fee": fill.fee,
            "direction": fill.side.value,
            "amount": fill.quantity,
            "contracts": fill.quantity / info.contract_size,
            "api": True,
            "mmp": False,
            "risk_reducing": False,
            "profit_loss": fill.realized_pnl,
        }
        label = self._labels.get(fill.order_id)
        if label:
            data["label"] = label
        return data

    def _public_trade_data(self, trade: SimTrade, meta: _TradeMeta | None = None) -> dict:
        info = self.instruments[trade.symbol]
        meta = meta or self._trade_meta.get(trade.trade_id)
        return {
            "timestamp": _ms(trade.ts_ns),
            "price": trade.price,
            "amount": trade.quantity,
            "direction": trade.taker_side.value,
            "index_price": meta.index_price if meta else self.engine.index_price(info.base),
            "instrument_name": trade.symbol,
            "trade_seq": meta.trade_seq if meta else 0,
            "mark_price": meta.mark_price if meta else self.engine.mark_price(VENUE, trade.symbol),
            "tick_direction": meta.tick_direction if meta else 0,
            "contracts": trade.quantity / info.contract_size,
            "trade_id": self._wire_id(trade.trade_id, trade.symbol),
        }

    def _option_fields(self, info: InstrumentInfo, ticker: SimTicker) -> dict:
        """Option ticker fields from the engine's option model (`Engine.option_greeks`), so
        greeks and implied volatilities agree with the generated prices."""
        greeks = self.engine.option_greeks(VENUE, info.venue_symbol)
        forward = Decimal(repr(round(greeks.forward, 2)))

        def iv(price: Decimal | None) -> Decimal:
            if not price:
                return ZERO
            return _percent(self.engine.implied_volatility(VENUE, info.venue_symbol, price))

        underlying = f"{info.venue_symbol.rsplit('-', 2)[0]}"
        return {
            "underlying_price": forward,
            "underlying_index": underlying if underlying in self.instruments else "index_price",
            "interest_rate": ZERO,
            "mark_iv": _percent(greeks.mark_iv),
            "bid_iv": iv(ticker.best_bid),
            "ask_iv": iv(ticker.best_ask),
            "greeks": {
                "delta": _fixed(greeks.delta, 5),
                "gamma": _fixed(greeks.gamma, 5),
                "vega": _fixed(greeks.vega, 5),
                "theta": _fixed(greeks.theta, 5),
                "rho": ZERO,
            },
        }

    def _ticker_data(self, info: InstrumentInfo, ticker: SimTicker) -> dict:
        low, high = self._price_band(info)
        last = ticker.last_price if ticker.last_price is not None else ticker.mark_price
        open_24h = ticker.open_24h
        change = (
            ((last - open_24h) / open_24h * 100).quantize(Decimal("0.0001")) if open_24h else ZERO
        )
        if info.kind is InstrumentKind.OPTION:
            volume_coin = ticker.volume_24h
            volume_usd = ticker.volume_24h * ticker.index_price
        else:
            volume_usd = ticker.volume_24h
            volume_coin = ticker.volume_24h / last if last else ZERO
        data: dict[str, Any] = {
            "timestamp": _ms(ticker.ts_ns),
            "state": "open",
            "stats": {
                "high": ticker.high_24h if ticker.high_24h is not None else last,
                "low": ticker.low_24h if ticker.low_24h is not None else last,
                "price_change": change,
                "volume": volume_coin.quantize(Decimal("0.00000001")),
                "volume_usd": volume_usd.quantize(Decimal("0.01")),
                "volume_notional": volume_usd.quantize(Decimal("0.01")),
            },
            "index_price": ticker.index_price,
            "instrument_name": info.venue_symbol,
            "last_price": last,
            "settlement_price": ticker.mark_price,
            "min_price": low if low is not None else info.tick_size,
            "max_price": high if high is not None else ticker.mark_price * 2,
            "open_interest": ticker.open_interest,
            "mark_price": ticker.mark_price,
            "best_ask_price": ticker.best_ask if ticker.best_ask is not None else ZERO,
            "best_bid_price": ticker.best_bid if ticker.best_bid is not None else ZERO,
            "estimated_delivery_price": ticker.index_price,
            "best_ask_amount": ticker.best_ask_size if ticker.best_ask_size is not None else ZERO,
            "best_bid_amount": ticker.best_bid_size if ticker.best_bid_size is not None else ZERO,
        }
        if info.kind is InstrumentKind.PERPETUAL:
            funding = ticker.funding_rate if ticker.funding_rate is not None else ZERO
            data["interest_value"] = funding
            data["current_funding"] = funding
            data["funding_8h"] = funding
        if info.kind is InstrumentKind.OPTION:
            data.update(self._option_fields(info, ticker))
        return data

    def _instrument_data(self, info: InstrumentInfo) -> dict:
        fees = self.engine.fees[(VENUE, info.venue_symbol)]
        option = info.kind is InstrumentKind.OPTION
        future = info.kind in (InstrumentKind.PERPETUAL, InstrumentKind.FUTURE)
        data: dict[str, Any] = {
            "price_index": f"{info.base.lower()}_usd",
            "kind": _kind(info),
            "instrument_name": info.venue_symbol,
            "max_leverage": 1 if option else 50,
            "maker_commission": OPTION_FEE_PER_CONTRACT if option else fees.maker,
            "taker_commission": OPTION_FEE_PER_CONTRACT if option else fees.taker,
            "instrument_type": "reversed" if info.inverse or option else "linear",
            "expiration_timestamp": (
                PERPETUAL_EXPIRY_MS if info.expiry_ts is None else _ms(info.expiry_ts)
            ),
            "creation_timestamp": 1534167754000
            if info.venue_symbol == "BTC-PERPETUAL"
            else self.started_ms,
            "is_active": info.active,
            "tick_size": info.tick_size,
            "contract_size": info.contract_size,
            "instrument_id": self._instrument_ids[info.venue_symbol],
            "min_trade_amount": info.min_size,
            "max_liquidation_commission": Decimal("0.0075"),
            "block_trade_commission": Decimal("0.00025"),
            "block_trade_min_trade_amount": 25 if option else 200000,
            "block_trade_tick_size": Decimal("0.0001") if option else Decimal("0.01"),
            "settlement_currency": info.settle,
            "settlement_period": "perpetual" if info.kind is InstrumentKind.PERPETUAL else "month",
            "base_currency": info.base,
            "counter_currency": info.quote,
            "quote_currency": info.base if option else info.quote,
            "tick_size_steps": [],
        }
        if future:
            data["future_type"] = "reversed" if info.inverse else "linear"
        if option:
            data["option_type"] = "call" if info.option_type is OptionType.CALL else "put"
            data["strike"] = info.strike
        return data

    def _position_data(
        self, info: InstrumentInfo, position: SimPosition, account: SimAccount
    ) -> dict:
        mark = position.mark_price or self.engine.mark_price(VENUE, info.venue_symbol)
        size = position.quantity
        option = info.kind is InstrumentKind.OPTION
        if option:
            size_currency = size
        elif info.inverse:
            size_currency = (size / mark).quantize(Decimal("0.000000001")) if mark else ZERO
        else:
            size_currency = size
        open_orders_margin = ZERO
        for order in self.engine.open_orders(VENUE, account.api_key, info.venue_symbol):
            if order.price is None or order.reduce_only or option:
                continue
            open_orders_margin += order.remaining / order.price / position.leverage
        data: dict[str, Any] = {
            "average_price": position.entry_price if position.entry_price is not None else ZERO,
            "delta": size_currency,
            "direction": "buy" if size > 0 else "sell" if size < 0 else "zero",
            "floating_profit_loss": position.unrealized_pnl,
            "index_price": self.engine.index_price(info.base),
            "initial_margin": position.margin,
            "instrument_name": info.venue_symbol,
            "kind": _kind(info),
            "leverage": int(position.leverage),
            "maintenance_margin": (abs(size_currency) * MAINTENANCE_MARGIN).quantize(
                Decimal("0.000000001")
            )
            if not option
            else ZERO,
            "mark_price": mark,
            "open_orders_margin": open_orders_margin.quantize(Decimal("0.000000001")),
            "realized_profit_loss": position.realized_pnl,
            "settlement_price": mark,
            "size": size,
            "total_profit_loss": position.unrealized_pnl + position.realized_pnl,
        }
        if not option:
            data["estimated_liquidation_price"] = (
                position.liquidation_price if position.liquidation_price is not None else ZERO
            )
            data["size_currency"] = size_currency
        if info.kind is InstrumentKind.PERPETUAL:
            data["interest_value"] = ZERO
            data["realized_funding"] = ZERO
        if option:
            del data["leverage"]
            index = self.engine.index_price(info.base)
            greeks = self._position_greeks(info, position)
            data.update(greeks)
            data["average_price_usd"] = (data["average_price"] * index).quantize(Decimal("0.01"))
            data["floating_profit_loss_usd"] = (position.unrealized_pnl * index).quantize(
                Decimal("0.01")
            )
        return dict(sorted(data.items()))

    def _position_greeks(self, info: InstrumentInfo, position: SimPosition) -> dict:
        """Greeks of an option position; `delta` in coin, net of the premium paid in coin
        (an inverse option's exposure: Black delta minus the option's coin price)."""
        greeks = self.engine.option_greeks(VENUE, info.venue_symbol)
        size = float(position.quantity)
        return {
            "delta": _fixed(size * (greeks.delta - greeks.price), 6),
            "gamma": _fixed(size * greeks.gamma, 8),
            "vega": _fixed(size * greeks.vega, 5),
            "theta": _fixed(size * greeks.theta, 5),
        }

    def _portfolio_data(self, account: SimAccount, currency: str) -> dict:
        balance = account.balances.get(currency) or SimBalance(currency, ZERO, ZERO)
        futures_upl = futures_rpl = options_upl = options_rpl = options_value = ZERO
        maintenance = delta = ZERO
        option_greeks = {"delta": ZERO, "gamma": ZERO, "vega": ZERO, "theta": ZERO}
        for position in account.positions.values():
            info = self.instruments.get(position.symbol)
            if info is None or info.settle != currency:
                continue
            if info.kind is InstrumentKind.OPTION:
                options_upl += position.unrealized_pnl
                options_rpl += position.realized_pnl
                options_value += position.quantity * (position.mark_price or ZERO)
                if position.quantity:
                    greeks = self._position_greeks(info, position)
                    for name in option_greeks:
                        option_greeks[name] += greeks[name]
            else:
                futures_upl += position.unrealized_pnl
                futures_rpl += position.realized_pnl
                mark = position.mark_price or ONE
                size_currency = position.quantity / mark if info.inverse else position.quantity
                maintenance += abs(size_currency) * MAINTENANCE_MARGIN
                delta += size_currency
        q = Decimal("0.000000001")
        session_upl = futures_upl + options_upl
        session_rpl = futures_rpl + options_rpl
        equity = balance.total + session_upl
        initial = balance.locked
        available = equity - initial
        index = ONE if currency in ("USDC", "USDT", "EURR") else self.engine.index_price(currency)
        delta = (delta + option_greeks["delta"]).quantize(q)
        index_name = f"{currency.lower()}_usd"

        def by_index(value: Decimal) -> dict:
            return {index_name: value} if value else {}

        return {
            "total_maintenance_margin_usd": (maintenance * index).quantize(q),
            "projected_initial_margin": initial,
            "total_delta_total_usd": (delta * index).quantize(q),
            "options_gamma_map": by_index(option_greeks["gamma"]),
            "options_session_rpl": options_rpl,
            "options_session_upl": options_upl,
            "futures_session_rpl": futures_rpl,
            "fee_balance": ZERO,
            "projected_maintenance_margin": maintenance.quantize(q),
            "session_upl": session_upl,
            "projected_delta_total": delta,
            "initial_margin": initial,
            "options_pl": options_upl + options_rpl,
            "options_vega_map": by_index(option_greeks["vega"]),
            "margin_balance": equity,
            "balance": balance.total,
            "maintenance_margin": maintenance.quantize(q),
            "total_initial_margin_usd": (initial * index).quantize(q),
            "additional_reserve": ZERO,
            "locked_balance": ZERO,
            "options_value": options_value,
            "options_delta": option_greeks["delta"],
            "margin_model": "cross_sm",
            "portfolio_margining_enabled": False,
            "options_gamma": option_greeks["gamma"],
            "available_funds": available,
            "cross_collateral_enabled": False,
            "delta_total": delta,
            "options_theta_map": by_index(option_greeks["theta"]),
            "spot_reserve": ZERO,
            "total_equity_usd": (equity * index).quantize(q),
            "options_theta": option_greeks["theta"],
            "futures_session_upl": futures_upl,
            "delta_total_map": by_index(delta),
            "session_rpl": session_rpl,
            "futures_pl": futures_upl + futures_rpl,
            "available_withdrawal_funds": max(min(available, balance.total), ZERO),
            "options_vega": option_greeks["vega"],
            "equity": equity,
            "total_pl": session_upl + session_rpl,
            "currency": currency,
            "total_margin_balance_usd": (equity * index).quantize(q),
        }


# --------------------------------------------------------------------------- helpers


class _Call:
    """One request in flight: where it came from and whom it authenticated."""

    __slots__ = (
        "account",
        "body",
        "close_after",
        "conn",
        "face",
        "method_is_private",
        "order_entry",
        "request",
        "scope",
    )

    def __init__(
        self,
        face: DeribitFace,
        conn: _Conn | None,
        *,
        request: web.Request | None = None,
        body: str = "",
    ):
        self.face = face
        self.conn = conn
        self.request = request
        self.body = body
        self.account: SimAccount | None = None
        self.close_after = False
        self.method_is_private = False
        self.order_entry = False  # an accepted order whose answer goes through the answer faults
        self.scope: str | None = None  # the token's scope; None for key-based HTTP auth

    @property
    def remote(self) -> str:
        if self.conn is not None:
            return self.conn.remote
        return (self.request.remote or "") if self.request is not None else ""


def _notification(channel: str, data: Any) -> bytes:
    return dumps(
        {"jsonrpc": "2.0", "method": "subscription", "params": {"channel": channel, "data": data}}
    )


def _is_number(text: str) -> bool:
    try:
        return Decimal(text) > 0
    except InvalidOperation:
        return False


def _grouped_levels(
    levels: dict[Decimal, Decimal], group: str, depth: int, descending: bool, info: InstrumentInfo
) -> list[tuple[Decimal, Decimal]]:
    """Levels of `book.{instrument}.{group}.{depth}.{interval}`: prices rounded to `group`
    (down for bids, up for asks), sizes summed, best `depth` levels."""
    if group == "none":
        return _sorted_levels(levels, descending)[:depth]
    step = Decimal(group)
    merged: dict[Decimal, Decimal] = {}
    rounding = ROUND_FLOOR if descending else ROUND_CEILING
    for price, size in levels.items():
        bucket = (price / step).to_integral_value(rounding) * step
        merged[bucket] = merged.get(bucket, ZERO) + size
    return _sorted_levels(merged, descending)[:depth]


def _private_payloads(channel: _Channel, entries: list, raw: bool) -> list[Any]:
    """Turn queued private items into notification `data`: one object per order on raw
    `user.orders`, lists otherwise, one `{instrument_name, orders, trades, positions}` per
    instrument on `user.changes`, the latest summary on `user.portfolio`."""
    family = channel.family
    if family == "user.portfolio":
        return list({data["currency"]: data for data in entries}.values())
    if family == "user.orders":
        return list(entries) if raw else [_latest_orders(entries)]
    if family == "user.trades":
        return [list(entries)]
    by_instrument: dict[str, dict[str, Any]] = {}
    for kind, data in entries:
        bucket = by_instrument.setdefault(
            data["instrument_name"], {"orders": {}, "trades": [], "positions": {}}
        )
        if kind == "order":
            bucket["orders"][data["order_id"]] = data
        elif kind == "trade":
            bucket["trades"].append(data)
        else:
            bucket["positions"][data["instrument_name"]] = data
    return [
        {
            "trades": bucket["trades"],
            "positions": list(bucket["positions"].values()),
            "orders": list(bucket["orders"].values()),
            "instrument_name": instrument,
        }
        for instrument, bucket in by_instrument.items()
    ]


def _latest_orders(entries: list[dict]) -> list[dict]:
    latest: dict[str, dict] = {}
    for data in entries:
        latest[data["order_id"]] = data
    return list(latest.values())


def _fixed(value: float, places: int) -> Decimal:
    return Decimal(repr(round(value, places))).quantize(Decimal(1).scaleb(-places))


def _percent(vol: float) -> Decimal:
    return _fixed(vol * 100, 2)
