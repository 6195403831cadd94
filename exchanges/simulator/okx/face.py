"""The OKX face: the aiohttp app with OKX's routes, its run-time switches, and the REST plumbing
(error middleware, envelope, rate limits, parameter parsing); the handlers come from the
mixins beside it.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
from aiohttp import web

from exchanges.simulator.common.faults import Faults
from exchanges.simulator.common.limits import FixedWindows
from exchanges.simulator.engine.core import Engine
from exchanges.simulator.engine.records import Listener, SimFill, SimTicker
from exchanges.simulator.okx.algo_wire import OkxAlgoWire
from exchanges.simulator.okx.auth import OkxAuth
from exchanges.simulator.okx.books import BookView, OkxBooks
from exchanges.simulator.okx.constants import BOOK_MODES, DEFAULT_OPTIONS, RATE_LIMITS, VENUE
from exchanges.simulator.okx.errors import OkxError, empty_param, param_error
from exchanges.simulator.okx.private import OkxPrivate
from exchanges.simulator.okx.public import OkxPublic
from exchanges.simulator.okx.rest_account import OkxAccountRest
from exchanges.simulator.okx.rest_algo import OkxAlgoRest
from exchanges.simulator.okx.rest_batch import OkxBatchRest
from exchanges.simulator.okx.rest_market import OkxMarketRest
from exchanges.simulator.okx.rest_orders import OkxOrderRest
from exchanges.simulator.okx.wire import OkxWire, OrderMeta
from exchanges.simulator.okx.ws import OkxConnection, OkxWs
from exchanges.venues.base import InstrumentInfo

logger = logging.getLogger(__name__)


class OkxFace(
    OkxMarketRest,
    OkxOrderRest,
    OkxBatchRest,
    OkxAccountRest,
    OkxAlgoRest,
    OkxAuth,
    OkxWs,
    OkxBooks,
    OkxPublic,
    OkxPrivate,
    OkxWire,
    OkxAlgoWire,
    Listener,
):
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
        self._views: dict[tuple[str, str], BookView] = {}
        self._views_by_inst: dict[str, list[BookView]] = {inst: [] for inst in self.instruments}
        self._conns: set[OkxConnection] = set()
        self._private: dict[str, set[OkxConnection]] = {}
        self._topic_subs: dict[tuple[str, str], set[OkxConnection]] = {}
        self._meta: dict[str, OrderMeta] = {}
        self._pending_meta: tuple[str, OrderMeta] | None = None
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
            except asyncio.CancelledError:
                pass
            except Exception:
                logger.exception("OKX face task %s failed", task.get_name())
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
            web.get("/api/v5/market/trades", self._rest_trades),
            web.post("/api/v5/trade/order", self._rest_place),
            web.get("/api/v5/trade/order", self._rest_get_order),
            web.post("/api/v5/trade/amend-order", self._rest_amend),
            web.post("/api/v5/trade/cancel-order", self._rest_cancel),
            web.post("/api/v5/trade/batch-orders", self._rest_place_batch),
            web.post("/api/v5/trade/amend-batch-orders", self._rest_amend_batch),
            web.post("/api/v5/trade/cancel-batch-orders", self._rest_cancel_batch),
            web.get("/api/v5/trade/orders-pending", self._rest_orders_pending),
            web.get("/api/v5/trade/fills", self._rest_fills),
            web.get("/api/v5/trade/fills-history", self._rest_fills_history),
            web.get("/api/v5/account/positions", self._rest_positions),
            web.get("/api/v5/account/balance", self._rest_balance),
            web.get("/api/v5/asset/currencies", self._rest_currencies),
            web.post("/api/v5/trade/cancel-all-after", self._rest_cancel_all_after),
            web.post("/api/v5/trade/order-algo", self._rest_place_algo),
            web.get("/api/v5/trade/order-algo", self._rest_get_algo),
            web.post("/api/v5/trade/cancel-algos", self._rest_cancel_algos),
            web.post("/api/v5/trade/amend-algos", self._rest_amend_algos),
            web.get("/api/v5/trade/orders-algo-pending", self._rest_algo_pending),
            web.get("/api/v5/trade/orders-algo-history", self._rest_algo_history),
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
            raise empty_param("instId")
        info = self.instruments.get(inst_id)
        if info is None:
            raise OkxError(
                "51001", "Instrument ID, Instrument ID code or Spread ID doesn't exist.", 200
            )
        return info

    @staticmethod
    def _decimal(value: Any, name: str) -> Decimal:
        if not isinstance(value, str | int) or isinstance(value, bool) or value == "":
            raise param_error(name)
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise param_error(name) from None
        if not number.is_finite():
            raise param_error(name)
        return number
