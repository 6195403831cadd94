"""Bybit private reads (open and historical orders, executions, positions, wallet balance) and
disconnect-cancel-all (`/v5/order/disconnected-cancel-all`, "DCP").
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from decimal import Decimal

import orjson
from aiohttp import web

from exchanges.simulator.bybit.constants import DCP_PRODUCTS, VENUE
from exchanges.simulator.bybit.errors import BybitError
from exchanges.simulator.engine.records import CancelReason, SimAccount, SimOrder, SimPosition


@dataclass
class Dcp:
    """Disconnect-cancel-all settings of one account: product -> time window in seconds."""

    windows: dict[str, int] = field(default_factory=dict)
    timer: asyncio.TimerHandle | None = None


class BybitAccountRest:
    """Bybit account handlers and the DCP timer."""

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
        self._dcp.setdefault(account.api_key, Dcp()).windows[product] = window
        return web.Response(
            body=orjson.dumps({"retCode": 0, "retMsg": "success"}), content_type="application/json"
        )

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
