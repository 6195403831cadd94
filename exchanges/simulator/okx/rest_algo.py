"""OKX algo order entry and queries for one-way stop loss / take profit orders (`ordType`
`conditional`): "Place algo order" (POST /api/v5/trade/order-algo), "Cancel algo order" (POST
/api/v5/trade/cancel-algos, at most 10 a request, by `algoId` or `algoClOrdId`), "Algo order
list" (GET orders-algo-pending), "Algo order history" (GET orders-algo-history), "Get algo
order details" (GET order-algo). Rate limits: 20 requests per 2 s each.

Place: `slTriggerPx`/`slOrdPx` make a stop, `tpTriggerPx`/`tpOrdPx` a take profit (both sent:
the stop only, "Take Profit / Stop Loss Order" note); an order price "-1" executes at market;
`slTriggerPxType`/`tpTriggerPxType` last | index | mark, default last. Other algo kinds
(trigger, oco, trailing, twap, chase) are not simulated: 51000 "Parameter ordType error".
Simplifications: `sz` is always in the base currency (a spot market buy's `tgtCcy` default
`quote_ccy` is not applied), `closeFraction` is not taken, and the `algoClOrdId` of any earlier
algo of the account is refused as a duplicate (51065).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from exchanges.simulator.engine.records import RejectReason, SimAccount, SimOrder, SimReject
from exchanges.simulator.okx.algo_wire import TRIGGER_PX_TYPES, algo_state, trigger_refusal
from exchanges.simulator.okx.constants import ALGO_CANCEL_MAX, VENUE
from exchanges.simulator.okx.errors import OkxError, empty_param, param_error, reject_code
from exchanges.simulator.okx.wire import OrderMeta
from exchanges.venues.base import OrderType, TimeInForce, trigger_direction


class OkxAlgoRest:
    """OKX algo order handlers (module doc)."""

    async def _rest_place_algo(self, request: web.Request) -> web.Response:
        """`POST /api/v5/trade/order-algo`."""
        return await self._place_one(request, "order-algo", self._place_algo, stamped=False)

    def _place_algo(self, account: SimAccount, params: dict[str, Any]) -> dict[str, str]:
        info, algo_cl, td_mode, side, ord_type = self._order_head(params, "algoClOrdId")
        if ord_type != "conditional":
            raise param_error("ordType")
        if params.get("sz") in ("", None):
            raise empty_param("sz")
        size = self._decimal(params["sz"], "sz")
        prefix = "sl" if params.get("slTriggerPx") not in ("", None) else "tp"
        trigger_text = params.get(f"{prefix}TriggerPx")
        if trigger_text in ("", None):
            raise empty_param("slTriggerPx")
        trigger = self._decimal(trigger_text, f"{prefix}TriggerPx")
        ord_px = params.get(f"{prefix}OrdPx")
        if ord_px in ("", None):
            raise empty_param(f"{prefix}OrdPx")
        by_text = params.get(f"{prefix}TriggerPxType", "") or "last"
        if by_text not in TRIGGER_PX_TYPES:
            raise param_error(f"{prefix}TriggerPxType")
        trigger_by = TRIGGER_PX_TYPES[by_text]
        market = str(ord_px) == "-1"
        price = None if market else self._decimal(ord_px, f"{prefix}OrdPx")
        if prefix == "sl":
            order_type = OrderType.STOP_MARKET if market else OrderType.STOP_LIMIT
        else:
            order_type = OrderType.TAKE_PROFIT_MARKET if market else OrderType.TAKE_PROFIT_LIMIT
        reduce_only = params.get("reduceOnly", False)
        if isinstance(reduce_only, str):
            reduce_only = reduce_only == "true"
        tag = params.get("tag", "") or ""
        existing = account.by_client_id.get(algo_cl) if algo_cl else None
        if existing is not None and existing.order_type.is_conditional:
            return self._algo_item(params, "51065", "algoClOrdId already exists.")
        meta = OrderMeta("market" if market else "limit", td_mode, tag)
        self._pending_meta = (account.api_key, meta)
        try:
            order = self.engine.place_conditional(
                VENUE,
                account.api_key,
                info.venue_symbol,
                side=side,
                order_type=order_type,
                quantity=size,
                trigger_price=trigger,
                trigger_by=trigger_by,
                price=price,
                time_in_force=TimeInForce.GTC,
                reduce_only=bool(reduce_only),
                client_order_id=algo_cl or None,
                assign_triggered_id=True,
            )
        except SimReject as reject:
            if reject.reason is RejectReason.INVALID_TRIGGER_PRICE:
                direction = trigger_direction(order_type, side)
                code, msg = trigger_refusal(reject, order_type, direction, trigger_by)
            elif reject.reason is RejectReason.DUPLICATE_CLIENT_ORDER_ID:
                code, msg = "51065", "algoClOrdId already exists."
            else:
                code, msg = reject_code(reject, "place", info)
            return self._algo_item(params, code, msg)
        finally:
            self._pending_meta = None
        return {
            "algoId": order.order_id,
            "algoClOrdId": algo_cl,
            "sCode": "0",
            "sMsg": "",
        }

    @staticmethod
    def _algo_item(params: dict, code: str, msg: str) -> dict[str, str]:
        return {
            "algoId": "",
            "algoClOrdId": params.get("algoClOrdId", "") or "",
            "sCode": code,
            "sMsg": msg,
        }

    async def _rest_cancel_algos(self, request: web.Request) -> web.Response:
        """`POST /api/v5/trade/cancel-algos`: a list of 1..10 `{instId, algoId | algoClOrdId}`;
        each succeeds or fails on its own (`sCode`), like the batch endpoints."""
        account, body = await self._authenticate(request)
        orders = self._body_json(body)
        if not isinstance(orders, list) or not orders or len(orders) > ALGO_CANCEL_MAX:
            raise param_error("body")
        self._limit("cancel-algos", account.api_key)
        items = [self._cancel_algo(account, one) for one in orders]
        return self._batch_answer(items)

    def _cancel_algo(self, account: SimAccount, params: Any) -> dict[str, str]:
        if not isinstance(params, dict):
            return {"algoId": "", "sCode": "51000", "sMsg": "Parameter body error"}
        algo_id = params.get("algoId", "") or ""
        algo_cl = params.get("algoClOrdId", "") or ""
        item = {"algoId": algo_id, "sCode": "0", "sMsg": ""}
        try:
            info = self._instrument(params.get("instId"))
        except OkxError as error:
            item.update(sCode=error.code, sMsg=error.msg)
            return item
        if not algo_id and not algo_cl:
            item.update(sCode="51000", sMsg="Parameter algoId error")
            return item
        order = self._find_algo(account, algo_id, algo_cl)
        if order is None or order.symbol != info.venue_symbol or not order.is_untriggered:
            item.update(sCode="51000", sMsg="Parameter algoId error")
            return item
        self.engine.cancel_order(VENUE, account.api_key, info.venue_symbol, order_id=order.order_id)
        item["algoId"] = order.order_id
        return item

    def _find_algo(self, account: SimAccount, algo_id: str, algo_cl: str) -> SimOrder | None:
        """An algo order by `algoId` (used when both are given) or `algoClOrdId`."""
        order = self.engine.get_order(
            VENUE,
            account.api_key,
            order_id=algo_id or None,
            client_order_id=None if algo_id else algo_cl,
        )
        if order is None or not order.order_type.is_conditional:
            return None
        if algo_id and order.order_id != algo_id:
            return None  # found by the id of the order it placed
        return order

    async def _rest_get_algo(self, request: web.Request) -> web.Response:
        """`GET /api/v5/trade/order-algo` ("Get algo order details")."""
        account, _ = await self._authenticate(request)
        self._limit("order-algo-details", account.api_key)
        algo_id = request.query.get("algoId", "")
        algo_cl = request.query.get("algoClOrdId", "")
        if not algo_id and not algo_cl:
            raise OkxError("51000", "Parameter algoId error", 200)
        order = self._find_algo(account, algo_id, algo_cl)
        if order is None:
            raise OkxError("51603", "Order does not exist.", 200)
        return self._ok([self._algo_json(order)])

    async def _rest_algo_pending(self, request: web.Request) -> web.Response:
        """`GET /api/v5/trade/orders-algo-pending`: untriggered algos, newest first."""
        return await self._algo_list(request, "orders-algo-pending", pending=True)

    async def _rest_algo_history(self, request: web.Request) -> web.Response:
        """`GET /api/v5/trade/orders-algo-history`: ended algos (`state` effective, canceled
        or order_failed, or one `algoId`), newest first."""
        return await self._algo_list(request, "orders-algo-history", pending=False)

    async def _algo_list(self, request: web.Request, group: str, *, pending: bool) -> web.Response:
        account, _ = await self._authenticate(request)
        self._limit(group, account.api_key)
        query = request.query
        ord_types = [t for t in query.get("ordType", "").split(",") if t]
        if not ord_types:
            raise empty_param("ordType")
        state = query.get("state", "")
        algo_id = query.get("algoId", "")
        if not pending and not state and not algo_id:
            raise OkxError("51000", "Parameter state error", 400)
        inst_id, inst_type = query.get("instId"), query.get("instType")
        source = (
            self.engine.conditional_orders(VENUE, account.api_key)
            if pending
            else [
                o
                for o in self.engine.orders(VENUE, account.api_key)
                if o.order_type.is_conditional and not o.is_untriggered
            ]
        )
        orders = [
            o
            for o in source
            if "conditional" in ord_types
            and (not inst_id or o.symbol == inst_id)
            and (not inst_type or self._inst_type(self.instruments[o.symbol]) == inst_type)
            and (not algo_id or o.order_id == algo_id)
            and (pending or not state or algo_state(o) == state)
        ]
        orders.sort(key=lambda o: int(o.order_id), reverse=True)
        orders = self._page(orders, query, lambda o: int(o.order_id))
        return self._ok([self._algo_json(o) for o in orders])
