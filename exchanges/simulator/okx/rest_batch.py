"""OKX batch order entry over REST: place, amend and cancel up to 20 orders in one request
("Place multiple orders", "Amend multiple orders", "Cancel multiple orders").

Each order in a batch succeeds or fails on its own: its `data` item carries its `sCode` and
`sMsg`, and the top-level `code` says how the batch went ("0" every order, "1" none, "2"
"Bulk operation partially succeeded."). A malformed body (not a list, empty, more than 20) fails
the whole request. The rate limit counts orders, not requests: 300 orders per 2 s per user and
instrument; a batch of one order counts against the single-order endpoint's limit instead.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from aiohttp import web

from exchanges.simulator.engine.records import SimAccount
from exchanges.simulator.okx.constants import BATCH_MAX
from exchanges.simulator.okx.errors import OkxError, param_error
from exchanges.simulator.okx.wire import micros


class OkxBatchRest:
    """OKX batch order-entry handlers."""

    async def _rest_place_batch(self, request: web.Request) -> web.Response:
        """`POST /api/v5/trade/batch-orders`."""
        account, orders = await self._batch_body(request, "place", "batch-orders")
        items = [self._batch_item(account, one, self._place, self._order_item) for one in orders]
        if any(item["sCode"] == "0" for item in items):
            await self._ack_faults(request)
        return self._batch_answer(items)

    async def _rest_amend_batch(self, request: web.Request) -> web.Response:
        """`POST /api/v5/trade/amend-batch-orders`."""
        account, orders = await self._batch_body(request, "amend", "amend-batch-orders")
        items = [self._batch_item(account, one, self._amend, self._amend_item) for one in orders]
        return self._batch_answer(items)

    async def _rest_cancel_batch(self, request: web.Request) -> web.Response:
        """`POST /api/v5/trade/cancel-batch-orders`."""
        account, orders = await self._batch_body(request, "cancel", "cancel-batch-orders")
        return self._batch_answer([self._cancel_one(account, one) for one in orders])

    async def _batch_body(
        self, request: web.Request, single_group: str, batch_group: str
    ) -> tuple[SimAccount, list[Any]]:
        """Authenticate, check the body is a list of 1..20 orders, charge the rate limits."""
        account, body = await self._authenticate(request)
        orders = self._body_json(body)
        if not isinstance(orders, list) or not orders:
            raise param_error("body")
        if len(orders) > BATCH_MAX:
            raise OkxError("51000", "Parameter body error", 400)
        per_instrument = Counter(
            str(one.get("instId", "")) if isinstance(one, dict) else "" for one in orders
        )
        if len(orders) == 1:
            self._limit(single_group, account.api_key, next(iter(per_instrument)))
        else:
            for inst_id, count in per_instrument.items():
                self._limit(batch_group, account.api_key, inst_id, cost=count)
        return account, orders

    def _batch_item(
        self,
        account: SimAccount,
        params: Any,
        operation: Callable[[SimAccount, dict], dict[str, str]],
        refused: Callable[[dict, str, str], dict[str, str]],
    ) -> dict[str, str]:
        """One order's item: what `operation` answered, or its parameter error as its sCode."""
        if not isinstance(params, dict):
            return refused({}, "51000", "Parameter body error")
        try:
            return operation(account, params)
        except OkxError as error:
            return refused(params, error.code, error.msg)

    def _batch_answer(self, items: list[dict[str, str]]) -> web.Response:
        failed = sum(item["sCode"] != "0" for item in items)
        if failed == 0:
            code, msg = "0", ""
        elif failed == len(items):
            code, msg = "1", "All operations failed"
        else:
            code, msg = "2", "Bulk operation partially succeeded."
        now_us = micros()
        return self._json(
            {"code": code, "msg": msg, "data": items, "inTime": now_us, "outTime": now_us}
        )
