"""OKX private REST reads and the dead-man switch: order details, pending orders, fills,
positions, balance, `cancel-all-after` ("Cancel All After").
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiohttp import web

from exchanges.simulator.engine.records import CancelReason, SimAccount, SimOrder
from exchanges.simulator.okx.constants import (
    CANCEL_ALL_AFTER_RANGE,
    CURRENCY_CHAINS,
    STATE,
    VENUE,
)
from exchanges.simulator.okx.errors import OkxError, empty_param, param_error
from exchanges.simulator.okx.wire import ms


class OkxAccountRest:
    """OKX account and order-query handlers."""

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
        """A plain order by `ordId`, else by `clOrdId`; an algo order only as the order it
        placed, by that order's `ordId` (`_plain_lookup`)."""
        order = self.engine.get_order(
            VENUE,
            account.api_key,
            order_id=ord_id or None,
            client_order_id=None if ord_id else cl_ord_id,
        )
        return self._plain_lookup(order, ord_id)

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
        orders.sort(key=lambda o: int(self._wire_ids(o)[0]), reverse=True)
        orders = self._page(orders, query, lambda o: int(self._wire_ids(o)[0]))
        return self._ok([self._order_json(o) for o in orders])

    @staticmethod
    def _page(items: list, query: Any, key: Callable[[Any], int]) -> list:
        """OKX pagination over newest-first records: `after` older than, `before` newer than,
        `limit` at most 100 (default 100)."""
        after, before = query.get("after"), query.get("before")
        if after:
            if not after.isdigit():
                raise param_error("after")
            items = [i for i in items if key(i) < int(after)]
        if before:
            if not before.isdigit():
                raise param_error("before")
            items = [i for i in items if key(i) > int(before)]
        raw_limit = query.get("limit", "100")
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 100:
            raise param_error("limit")
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
            raise empty_param("instType")
        rows = [
            (index, fill)
            for index, fill in enumerate(self.engine.fills(VENUE, account.api_key))
            if (not inst_id or fill.symbol == inst_id)
            and (not inst_type or self._inst_type(self.instruments[fill.symbol]) == inst_type)
            and (not ord_id or self._fill_ids(fill)[0] == ord_id)
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

    async def _rest_currencies(self, request: web.Request) -> web.Response:
        """`GET /api/v5/asset/currencies` (funding account, private): one row per currency and
        chain; optional `ccy`, comma-separated."""
        account, _ = await self._authenticate(request)
        self._limit("currencies", account.api_key)
        wanted = request.query.get("ccy")
        names = set(wanted.split(",")) if wanted else None
        return self._ok(
            [dict(row) for row in CURRENCY_CHAINS if names is None or row["ccy"] in names]
        )

    async def _rest_cancel_all_after(self, request: web.Request) -> web.Response:
        """`POST /api/v5/trade/cancel-all-after`: arm (10..120 s), re-arm or disarm (0) the
        account's dead-man switch."""
        account, body = await self._authenticate(request)
        self._limit("cancel-all-after", account.api_key)
        params = self._body_json(body)
        if not isinstance(params, dict) or params.get("timeOut") in (None, ""):
            raise empty_param("timeOut")
        raw = str(params["timeOut"])
        low, high = CANCEL_ALL_AFTER_RANGE
        if not raw.isdigit() or not (int(raw) == 0 or low <= int(raw) <= high):
            raise param_error("timeOut")
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
        self.engine.cancel_all(
            VENUE, api_key, reason=CancelReason.DEAD_MAN_SWITCH, conditional=False
        )
