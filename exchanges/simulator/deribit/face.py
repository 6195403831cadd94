"""The Deribit face: the aiohttp app with Deribit's routes, the method table, its run-time
switches and lifecycle; the handlers come from the mixins beside it.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from aiohttp import web

from exchanges.simulator.common.faults import Faults
from exchanges.simulator.common.limits import CreditBucket
from exchanges.simulator.deribit.auth import DeribitAuth, Token
from exchanges.simulator.deribit.books import BookFeed, DeribitBooks
from exchanges.simulator.deribit.constants import DEFAULT_OPTIONS, MAX_BODY, VENUE
from exchanges.simulator.deribit.private import DeribitPrivate
from exchanges.simulator.deribit.public import DeribitPublic
from exchanges.simulator.deribit.rpc import Call, DeribitRpc
from exchanges.simulator.deribit.rpc_account import DeribitAccountMethods
from exchanges.simulator.deribit.rpc_public import DeribitPublicMethods
from exchanges.simulator.deribit.rpc_trading import DeribitTrading
from exchanges.simulator.deribit.session import DeribitConnection
from exchanges.simulator.deribit.wire import DeribitWire, TradeMeta, ms
from exchanges.simulator.deribit.ws import DeribitWs
from exchanges.simulator.engine.core import Engine
from exchanges.simulator.engine.records import Listener
from exchanges.venues.base import InstrumentInfo


class DeribitFace(
    DeribitRpc,
    DeribitWs,
    DeribitAuth,
    DeribitPublicMethods,
    DeribitTrading,
    DeribitAccountMethods,
    DeribitBooks,
    DeribitPublic,
    DeribitPrivate,
    DeribitWire,
    Listener,
):
    """The Deribit wire protocol on top of the shared engine (module doc)."""

    def __init__(self, engine: Engine, faults: Faults, *, options: dict | None = None):
        self.engine = engine
        self.faults = faults
        self.options: dict[str, Any] = {**DEFAULT_OPTIONS}
        self.configure(options or {})
        self.started_ms = ms(engine.clock_ns())
        self.instruments: dict[str, InstrumentInfo] = {
            info.venue_symbol: info for info in engine.instruments_of(VENUE)
        }
        self._instrument_ids = {
            name: (124972 if name == "BTC-PERPETUAL" else 210000 + index)
            for index, name in enumerate(self.instruments)
        }
        self._user_ids: dict[str, int] = {}
        self._tokens: dict[str, Token] = {}
        self._refresh: dict[str, Token] = {}
        self._nonces: OrderedDict[tuple[str, str, str], float] = OrderedDict()
        self._buckets: dict[tuple[str, str], CreditBucket] = {}
        self._cod_account: dict[str, bool] = {}
        self._labels: dict[str, str] = {}  # engine order id -> label
        self._reject_post_only: set[str] = set()
        self._replaced: set[str] = set()
        self._conns: dict[int, DeribitConnection] = {}
        self._conn_ids = itertools.count(1)
        self._feeds: dict[str, BookFeed] = {}
        # instrument -> (connection id, channel) -> last levels sent on a grouped book channel
        self._grouped: dict[str, dict[tuple[int, str], tuple]] = {}
        self._change_base = itertools.count(0)
        self._trade_meta: OrderedDict[str, TradeMeta] = OrderedDict()
        self._fill_meta: dict[str, TradeMeta] = {}
        self._trade_seq: dict[str, int] = {}
        self._last_trade: dict[str, tuple[Decimal, int]] = {}
        self._pending_trades: dict[str, list[dict]] = {}  # instrument -> public trades (raw)
        self._batched_trades: dict[str, list[dict]] = {}  # instrument -> public trades (100ms)
        self._latest_ticker: dict[str, dict] = {}  # instrument -> ticker data awaiting 100ms
        self._capture: list[tuple[str, dict]] | None = None  # user trades of the running call
        self._capture_key = ""
        # the order being placed: (api_key, label, reject_post_only, conn); its first on_order
        # names it, so the acceptance push already carries the label
        self._placing: tuple[str, str, bool, DeribitConnection | None] | None = None
        self._flush_scheduled = False
        self._private_dirty: set[DeribitConnection] = set()
        self._ticker_task: asyncio.Task | None = None
        self._background: set[asyncio.Task] = set()
        self._closed = False
        self._methods: dict[str, Callable[[Call, dict], Awaitable[Any]]] = {
            "public/auth": self._public_auth,
            "public/get_time": self._public_get_time,
            "public/test": self._public_test,
            "public/hello": self._public_hello,
            "public/set_heartbeat": self._public_set_heartbeat,
            "public/disable_heartbeat": self._public_disable_heartbeat,
            "public/get_currencies": self._public_get_currencies,
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
