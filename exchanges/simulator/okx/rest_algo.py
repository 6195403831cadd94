"""OKX algo order entry and queries for one-way stop loss / take profit orders (`ordType`
`conditional`): "Place algo order" (POST /api/v5/trade/order-algo), "Cancel algo order" (POST
/api/v5/trade/cancel-algos, at most 10 a request, by `algoId` or `algoClOrdId`), "Algo order
list" (GET orders-algo-pending), "Algo order history" (GET orders-algo-history), "Get algo
order details" (GET order-algo). Rate limits: 20 requests per 2 s each.

Place: `slTriggerPx`/`slOrdPx` make a stop, `tpTriggerPx`/`tpOrdPx` a take profit (both sent:
the stop only, "Take Profit / Stop Loss Order" note); an order price "-1" executes at market;
`slTriggerPxType`/`tpTriggerPxType` last | index | mark, default last. Other algo kinds
(trigger, oco, trailing, twap, chase) are not simulated: 51000 "Parameter ordType error".
Amend (POST /api/v5/trade/amend-algos, "Amend algo order", 20 requests per 2 s per user and
instrument): `algoId` or `algoClOrdId` (`algoId` wins), `newSz`, the stop's `newSlTriggerPx` +
`newSlOrdPx` or the take profit's `newTpTriggerPx` + `newTpOrdPx` (sent together; "-1" keeps a
market kind, a limit kind takes a price), `newSlTriggerPxType`/`newTpTriggerPxType` (only the
current one: the engine cannot move a trigger to another price source, 51528 "Unable to modify
trigger price type"), `cxlOnFail` (cancel the algo when the amendment is refused), `reqId`
(echoed). Codes of the error table ("Error Code"), chosen here since the endpoint's page names
none (inferred): nothing to change 51500 (as "Amend order"), no such waiting algo 51527 "The
stop order does not exist", the other leg's fields 51526 (legs cannot be added or removed), a
price "0" (the docs' "delete this leg") 51531 (the one leg cannot go), a trigger already reached
the placement's 51277..51308.

Simplifications: `sz` is always in the base currency (a spot market buy's `tgtCcy` default
`quote_ccy` is not applied), `closeFraction` is not taken, and the `algoClOrdId` of any earlier
algo of the account is refused as a duplicate (51065).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aiohttp import web

from exchanges.simulator.engine.records import RejectReason, SimAccount, SimOrder, SimReject
from exchanges.simulator.okx.algo_wire import TRIGGER_PX_TYPES, algo_state, trigger_refusal
from exchanges.simulator.okx.constants import ALGO_CANCEL_MAX, CL_ORD_ID, VENUE
from exchanges.simulator.okx.errors import OkxError, empty_param, param_error, reject_code
from exchanges.simulator.okx.wire import OrderMeta
from exchanges.venues.base import (
    InstrumentInfo,
    OrderType,
    TimeInForce,
    TriggerPrice,
    trigger_direction,
)

_NOT_WAITING = ("51527", "Order modification unsuccessful. The stop order does not exist.")
_MARKET_PX = "-1"


@dataclass(frozen=True, slots=True)
class AmendedLeg:
    """The new trigger and order price of the stop ("Sl") or take profit ("Tp") leg an
    amend-algos request names; `price` None with `market` = "-1" (at market)."""

    trigger: Decimal
    price: Decimal | None
    market: bool
    trigger_by: TriggerPrice | None  # None when the request names no trigger type


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

    async def _rest_amend_algos(self, request: web.Request) -> web.Response:
        """`POST /api/v5/trade/amend-algos` ("Amend algo order"): one object; a refused
        amendment answers its item with top-level code "1" (module doc)."""
        account, body = await self._authenticate(request)
        params = self._body_json(body)
        if not isinstance(params, dict):
            raise param_error("body")
        self._limit("amend-algos", account.api_key, str(params.get("instId", "")))
        item = self._amend_algo(account, params)
        if item["sCode"] != "0":
            return self._failure([item])
        return self._ok([item])

    def _amend_algo(self, account: SimAccount, params: dict[str, Any]) -> dict[str, str]:
        """Amend one waiting algo; returns its item. Malformed parameters raise `OkxError`."""
        info = self._instrument(params.get("instId"))
        algo_id = params.get("algoId", "") or ""
        algo_cl = params.get("algoClOrdId", "") or ""
        if not algo_id and not algo_cl:
            raise OkxError("50015", "Either parameter algoId or algoClOrdId is required.", 400)
        req_id = params.get("reqId", "") or ""
        if req_id and (not isinstance(req_id, str) or not CL_ORD_ID.match(req_id)):
            raise param_error("reqId")
        cxl_on_fail = params.get("cxlOnFail", False)
        if cxl_on_fail not in (True, False, "true", "false"):
            raise param_error("cxlOnFail")
        item = {
            "algoId": algo_id,
            "algoClOrdId": algo_cl,
            "reqId": req_id,
            "sCode": "0",
            "sMsg": "",
        }
        quantity = None
        if params.get("newSz") not in ("", None):
            quantity = self._decimal(params["newSz"], "newSz")
        legs = {leg: self._amended_leg(params, leg) for leg in ("Sl", "Tp")}
        if quantity is None and not any(legs.values()):
            item.update(sCode="51500", sMsg="You must enter a price, quantity, or TP/SL")
            return item
        order = self._find_algo(account, algo_id, algo_cl)
        if order is None or order.symbol != info.venue_symbol or not order.is_untriggered:
            item.update(sCode=_NOT_WAITING[0], sMsg=_NOT_WAITING[1])
            return item
        item.update(algoId=order.order_id, algoClOrdId=order.client_order_id or "")
        code, msg = self._apply_algo_amend(account, info, order, quantity, legs)
        if code != "0" and cxl_on_fail in (True, "true") and order.is_untriggered:
            self.engine.cancel_order(
                VENUE, account.api_key, info.venue_symbol, order_id=order.order_id
            )
        item.update(sCode=code, sMsg=msg)
        return item

    def _amended_leg(self, params: dict[str, Any], leg: str) -> AmendedLeg | None:
        """The `leg` ("Sl"/"Tp") an amendment names, or None when it names none of its fields;
        the trigger and the order price go together."""
        names = {key: f"new{leg}{key}" for key in ("TriggerPx", "OrdPx", "TriggerPxType")}
        given = {key: params.get(name) for key, name in names.items()}
        given = {key: value for key, value in given.items() if value not in ("", None)}
        if not given:
            return None
        for key in ("TriggerPx", "OrdPx"):
            if key not in given:
                raise empty_param(names[key])
        by = given.get("TriggerPxType")
        if by is not None and by not in TRIGGER_PX_TYPES:
            raise param_error(names["TriggerPxType"])
        market = str(given["OrdPx"]) == _MARKET_PX
        return AmendedLeg(
            trigger=self._decimal(given["TriggerPx"], names["TriggerPx"]),
            price=None if market else self._decimal(given["OrdPx"], names["OrdPx"]),
            market=market,
            trigger_by=None if by is None else TRIGGER_PX_TYPES[by],
        )

    def _apply_algo_amend(
        self,
        account: SimAccount,
        info: InstrumentInfo,
        order: SimOrder,
        quantity: Decimal | None,
        legs: dict[str, AmendedLeg | None],
    ) -> tuple[str, str]:
        """Check the named leg against the algo's kind and amend it in the engine; returns the
        item's (`sCode`, `sMsg`)."""
        own = "Sl" if order.order_type.is_stop else "Tp"
        other = "Tp" if own == "Sl" else "Sl"
        if legs[other] is not None:
            return (
                "51526",
                "Order modification unsuccessful. Take profit/Stop loss conditions cannot be "
                "added to or removed from stop orders.",
            )
        leg = legs[own]
        if leg is not None:
            if leg.trigger == 0 or leg.price == 0:
                return (
                    "51531",
                    "Order modification unsuccessful. The stop order must have either take "
                    "profit or stop loss attached.",
                )
            if leg.trigger_by is not None and leg.trigger_by is not order.trigger_by:
                return "51528", "Unable to modify trigger price type"
            if leg.market is order.order_type.has_price:  # a kind keeps market or limit
                return "51000", f"Parameter new{own}OrdPx error"
        try:
            self.engine.amend_order(
                VENUE,
                account.api_key,
                info.venue_symbol,
                order_id=order.order_id,
                price=None if leg is None else leg.price,
                quantity=quantity,
                trigger_price=None if leg is None else leg.trigger,
            )
        except SimReject as reject:
            if reject.reason is RejectReason.INVALID_TRIGGER_PRICE:
                return trigger_refusal(
                    reject,
                    order.order_type,
                    order.trigger_direction,
                    order.trigger_by,
                    amend=True,
                )
            if reject.reason is RejectReason.INVALID_PRICE:
                return "51000", f"Parameter new{own}OrdPx error"
            if reject.reason in (RejectReason.ORDER_NOT_FOUND, RejectReason.ORDER_CLOSED):
                return _NOT_WAITING
            return reject_code(reject, "amend", info)
        return "0", ""

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
