"""The Bybit face: the aiohttp app with Bybit's routes, its run-time switches, and the REST
plumbing (envelope, signing check, rate limits, parameter parsing); the handlers come from the
mixins beside it.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import orjson
from aiohttp import web

from exchanges.simulator.bybit.auth import BybitAuth
from exchanges.simulator.bybit.books import BookStream, BybitBooks
from exchanges.simulator.bybit.constants import CATEGORIES, DEFAULT_OPTIONS, RATE_LIMITS, VENUE
from exchanges.simulator.bybit.errors import BybitError
from exchanges.simulator.bybit.private import BybitPrivate
from exchanges.simulator.bybit.public import BybitPublic
from exchanges.simulator.bybit.rest_account import BybitAccountRest, Dcp
from exchanges.simulator.bybit.rest_market import BybitMarketRest
from exchanges.simulator.bybit.rest_orders import BybitOrderRest
from exchanges.simulator.bybit.wire import BybitInstrument, BybitWire, ms, quantum
from exchanges.simulator.bybit.ws import BybitConnection, BybitWs
from exchanges.simulator.common.faults import Faults
from exchanges.simulator.common.limits import RollingWindow
from exchanges.simulator.engine.core import Engine
from exchanges.simulator.engine.records import Listener, SimAccount
from exchanges.simulator.instruments import bybit_category, bybit_sim_symbol


class BybitFace(
    BybitMarketRest,
    BybitOrderRest,
    BybitAccountRest,
    BybitAuth,
    BybitWs,
    BybitBooks,
    BybitPublic,
    BybitPrivate,
    BybitWire,
    Listener,
):
    """Bybit v5 over HTTP and WebSocket on one aiohttp app (module doc lists the venue facts)."""

    venue = VENUE

    def __init__(self, engine: Engine, faults: Faults, *, options: dict | None = None):
        self.engine = engine
        self.faults = faults
        self.options: dict[str, Any] = dict(DEFAULT_OPTIONS)
        self.configure(options or {})
        self._instruments: dict[tuple[str, str], BybitInstrument] = {}
        self._by_engine_symbol: dict[str, BybitInstrument] = {}
        for info in engine.instruments_of(VENUE):
            category = bybit_category(info)
            inst = BybitInstrument(
                info=info,
                category=category,
                symbol=info.venue_symbol,
                engine_symbol=bybit_sim_symbol(category, info.venue_symbol),
                price_q=quantum(info.tick_size),
                qty_q=quantum(info.lot_size),
            )
            self._instruments[(category, inst.symbol)] = inst
            self._by_engine_symbol[inst.engine_symbol] = inst
        self._conns: set[BybitConnection] = set()
        self._conn_ids = itertools.count(1)
        self._conn_prefix = hashlib.sha1(f"bybit-sim-{faults.seed}".encode()).hexdigest()[:20]
        self._topic_subs: dict[
            tuple[str, str], set[BybitConnection]
        ] = {}  # (category, topic) -> conns
        self._books: dict[tuple[str, int], BookStream] = {}  # (engine symbol, depth)
        self._books_of: dict[str, list[BookStream]] = {}
        self._u_floor: dict[tuple[str, int], int] = {}
        self._seq: dict[str, int] = {}
        self._last_trade: dict[str, Decimal] = {}
        self._tick_direction: dict[str, str] = {}
        self._ticker_sent: dict[str, dict[str, str]] = {}  # linear/inverse ticker delta base
        self._private: dict[str, set[BybitConnection]] = {}
        self._last_price_on_created: dict[str, str] = {}
        self._wallet_dirty: dict[str, SimAccount] = {}
        self._fill_context: dict[str, dict[str, Any]] = {}  # execId -> state at the fill
        self._position_created: dict[str, int] = {}
        self._push_ids = itertools.count(1)
        self._dcp: dict[str, Dcp] = {}
        self._uid_hits = RollingWindow()
        self._ip_hits = RollingWindow()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._housekeeping_task: asyncio.Task | None = None
        self._tasks: set[asyncio.Task] = set()
        self.app = web.Application()
        self._add_routes()
        engine.add_listener(self)
        faults.on_drop(self._drop_all)

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
            ("GET", "/v5/account/info", self._account_info),
            ("GET", "/v5/user/query-api", self._query_api),
            ("GET", "/v5/asset/coin/query-info", self._coin_query_info),
        ]
        for method, path, handler in public:
            self.app.router.add_route(method, path, self._rest(handler, path, signed=False))
        for method, path, handler in private:
            self.app.router.add_route(method, path, self._rest(handler, path, signed=True))
        for category in CATEGORIES:
            self.app.router.add_get(f"/v5/public/{category}", self._public_ws(category))
        self.app.router.add_get("/v5/private", self._private_ws)
        self.app.router.add_get("/v5/trade", self._trade_ws)

    def _now_ms(self) -> int:
        return ms(self.engine.clock_ns())

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

    @staticmethod
    def _category(params: dict, allowed: tuple[str, ...] = CATEGORIES) -> str:
        category = params.get("category")
        if not category:
            raise BybitError(10001, "params error: category is required")
        if category not in allowed:
            raise BybitError(10001, f"params error: category {category} is not supported")
        return str(category)

    def _instrument(self, category: str, symbol: Any) -> BybitInstrument:
        if not symbol:
            raise BybitError(10001, "params error: symbol is required")
        inst = self._instruments.get((category, str(symbol)))
        if inst is None:
            if category == "spot":
                raise BybitError(170121, "Invalid symbol.")
            raise BybitError(10001, "params error: symbol invalid")
        return inst

    def _instruments_in(self, category: str, params: dict) -> list[BybitInstrument]:
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
