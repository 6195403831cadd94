"""Bybit private reads (open and historical orders, executions, positions, wallet balance, the
API key's and the account's settings, coin info) and disconnect-cancel-all
(`/v5/order/disconnected-cancel-all`, "DCP").
"""

from __future__ import annotations

import asyncio
import zlib
from dataclasses import dataclass, field
from decimal import Decimal

import orjson
from aiohttp import web

from exchanges.simulator.bybit.constants import (
    ACCOUNT_CREATED,
    API_KEY_PERMISSIONS,
    COINS,
    DCP_PRODUCTS,
    ORDER_FILTER_CONDITIONAL,
    ORDER_FILTER_PLAIN,
    UNIFIED_MARGIN_STATUS,
    VENUE,
)
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
            # orderFilter: every kind by default on a unified account ("Get Open & Closed
            # Orders"), `Order` plain orders only, `StopOrder` conditional ones only.
            order_filter = params.get("orderFilter") or None
            pools = []
            if order_filter in (None, ORDER_FILTER_PLAIN):
                pools.append(account.open_orders)
            if order_filter in (None, ORDER_FILTER_CONDITIONAL):
                pools.append(account.conditional_orders)
            orders = [o for pool in pools for o in pool.values() if o.symbol in symbols]
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
        """`GET /v5/position/list`: linear needs `symbol` or `settleCoin` ("Get Position Info":
        "linear: either symbol or settleCoin is required"); inverse and option list every
        open position without either."""
        category = self._category(params, ("linear", "inverse", "option"))
        if category == "linear" and not (params.get("symbol") or params.get("settleCoin")):
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

    async def _query_api(self, params: dict, account: SimAccount, request: web.Request) -> dict:
        """`GET /v5/user/query-api` ("Get API Key Information"): a read-write master-account
        key of a unified trade account (`uta` 1, `unified` 0), no IP binding."""
        return {
            "id": str(_user_id(account) % 100_000_000),
            "note": "simulator",
            "apiKey": account.api_key,
            "readOnly": 0,
            "secret": "",
            "permissions": {name: list(values) for name, values in API_KEY_PERMISSIONS.items()},
            "ips": ["*"],
            "type": 1,
            "deadlineDay": -1,
            "expiredAt": "",
            "createdAt": ACCOUNT_CREATED,
            "unified": 0,
            "uta": 1,
            "userID": _user_id(account),
            "inviterID": 0,
            "vipLevel": "No VIP",
            "mktMakerLevel": "0",
            "affiliateID": 0,
            "rsaPublicKey": "",
            "isMaster": True,
            "parentUid": "0",
            "kycLevel": "LEVEL_DEFAULT",
            "kycRegion": "",
        }

    async def _account_info(self, params: dict, account: SimAccount, request: web.Request) -> dict:
        """`GET /v5/account/info` ("Get Account Info"): a UTA 2.0 account in cross margin
        (`REGULAR_MARGIN`), DCP as the account set it."""
        windows = self._dcp[account.api_key].windows if account.api_key in self._dcp else {}
        return {
            "unifiedMarginStatus": UNIFIED_MARGIN_STATUS,
            "marginMode": "REGULAR_MARGIN",
            "isMasterTrader": False,
            "spotHedgingStatus": "OFF",
            "updatedTime": str(self._now_ms()),
            "dcpStatus": "ON" if windows else "OFF",
            "timeWindow": min(windows.values()) if windows else 10,
            "smpGroup": 0,
        }

    async def _coin_query_info(
        self, params: dict, account: SimAccount, request: web.Request
    ) -> dict:
        """`GET /v5/asset/coin/query-info` ("Get Coin Info"): every coin with its chains, or
        the one `coin` asked for."""
        wanted = params.get("coin")
        return {
            "rows": [
                {
                    "name": coin,
                    "coin": coin,
                    "remainAmount": remain,
                    "chains": [dict(chain) for chain in chains],
                }
                for coin, remain, chains in COINS
                if not wanted or coin == wanted
            ]
        }

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


def _user_id(account: SimAccount) -> int:
    """A stable Bybit UID for the account's key."""
    return 100_000_000 + zlib.crc32(account.api_key.encode()) % 900_000_000
