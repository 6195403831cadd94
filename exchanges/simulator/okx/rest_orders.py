"""OKX order entry over REST and the private WebSocket: place, amend, cancel ("Place order",
"Amend order", "Cancel order"); the batch endpoints (`rest_batch`) reuse the one-order steps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from exchanges.simulator.common.faults import answer_survives
from exchanges.simulator.engine.records import (
    AmendAtOrBelowFilled,
    PostOnlyAction,
    RejectReason,
    SimAccount,
    SimOrder,
    SimReject,
)
from exchanges.simulator.okx.constants import CL_ORD_ID, VENUE
from exchanges.simulator.okx.errors import OkxError, empty_param, param_error, reject_code
from exchanges.simulator.okx.wire import OrderMeta, micros, ms, s
from exchanges.venues.base import InstrumentInfo, InstrumentKind, OrderType, Side, TimeInForce


class OkxOrderRest:
    """OKX order-entry handlers."""

    async def _rest_place(self, request: web.Request) -> web.Response:
        """`POST /api/v5/trade/order` ("Place order")."""
        return await self._place_one(request, "place", self._place, stamped=True)

    async def _place_one(
        self,
        request: web.Request,
        limit: str,
        place: Callable[[SimAccount, dict[str, Any]], dict[str, str]],
        *,
        stamped: bool,
    ) -> web.Response:
        """One placement request: authenticate, take the JSON object, count it against
        `limit` for its `instId`, `place` it into its `data` item; a refused item answers as
        a failure, an accepted one meets the acknowledgement faults first. `stamped`: the
        answer carries `inTime`/`outTime` (plain orders do, algo orders do not)."""
        account, body = await self._authenticate(request)
        params = self._body_json(body)
        if not isinstance(params, dict):
            raise param_error("body")
        self._limit(limit, account.api_key, str(params.get("instId", "")))
        item = place(account, params)
        if item["sCode"] != "0":
            return self._failure([item])
        await self._ack_faults(request)
        if stamped:
            return self._ok([item], inTime=micros(), outTime=micros())
        return self._ok([item])

    def _order_head(
        self, params: dict[str, Any], id_field: str
    ) -> tuple[InstrumentInfo, str, str, Side, str]:
        """The parameters a plain and an algo placement check alike, in OKX's order: the
        instrument, the client id (`clOrdId` or `algoClOrdId`), `tdMode`, `side`, `posSide`
        (net mode only) and that `ordType` is there. Returns (instrument, client id, tdMode,
        side, ordType); a malformed one raises `OkxError`."""
        info = self._instrument(params.get("instId"))
        client_id = params.get(id_field, "") or ""
        if client_id and (not isinstance(client_id, str) or not CL_ORD_ID.match(client_id)):
            raise param_error(id_field)
        td_mode = params.get("tdMode", "")
        if not td_mode:
            raise empty_param("tdMode")
        if td_mode not in ("cash", "cross", "isolated", "spot_isolated"):
            raise param_error("tdMode")
        side_text = params.get("side", "")
        if side_text not in ("buy", "sell"):
            raise empty_param("side") if not side_text else param_error("side")
        if (params.get("posSide", "") or "net") != "net":
            raise param_error("posSide")
        ord_type = params.get("ordType", "")
        if not ord_type:
            raise empty_param("ordType")
        return info, client_id, td_mode, Side(side_text), ord_type

    def _place(self, account: SimAccount, params: dict[str, Any]) -> dict[str, str]:
        """Place one order from OKX parameters; returns its `data` item (sCode 0 or the
        rejection). Malformed parameters raise `OkxError` (answered for the whole request)."""
        info, cl_ord_id, td_mode, side, ord_type = self._order_head(params, "clOrdId")
        tag = params.get("tag", "") or ""
        kinds = {
            "limit": (OrderType.LIMIT, TimeInForce.GTC, False),
            "post_only": (OrderType.LIMIT, TimeInForce.GTC, True),
            "fok": (OrderType.LIMIT, TimeInForce.FOK, False),
            "ioc": (OrderType.LIMIT, TimeInForce.IOC, False),
            "market": (OrderType.MARKET, TimeInForce.IOC, False),
            "optimal_limit_ioc": (OrderType.MARKET, TimeInForce.IOC, False),
        }
        if ord_type not in kinds or (
            ord_type == "optimal_limit_ioc" and info.kind is InstrumentKind.SPOT
        ):
            raise param_error("ordType")
        order_type, tif, post_only = kinds[ord_type]
        if "sz" not in params or params["sz"] in ("", None):
            raise empty_param("sz")
        size = self._decimal(params["sz"], "sz")
        price = None
        if order_type is OrderType.LIMIT:
            if params.get("px") in ("", None):
                return self._order_item(
                    params, "51204", "The price for the limit order cannot be empty."
                )
            price = self._decimal(params["px"], "px")
        reduce_only = params.get("reduceOnly", False)
        if isinstance(reduce_only, str):
            reduce_only = reduce_only == "true"
        tgt_ccy = params.get("tgtCcy", "") or ""
        quantity = size
        wire_sz = ""
        if (
            info.kind is InstrumentKind.SPOT
            and order_type is OrderType.MARKET
            and side is Side.BUY
            and tgt_ccy != "base_ccy"
        ):
            quantity = self.engine.base_for_quote(VENUE, info.venue_symbol, size)
            wire_sz = s(size)
            tgt_ccy = tgt_ccy or "quote_ccy"
        self._pending_meta = (account.api_key, OrderMeta(ord_type, td_mode, tag, tgt_ccy, wire_sz))
        try:
            order = self.engine.place_order(
                VENUE,
                account.api_key,
                info.venue_symbol,
                side=side,
                order_type=order_type,
                quantity=quantity,
                price=price,
                time_in_force=tif,
                post_only=post_only,
                reduce_only=bool(reduce_only),
                client_order_id=cl_ord_id or None,
                post_only_action=PostOnlyAction.CANCEL,
            )
        except SimReject as reject:
            code, msg = reject_code(reject, "place", info)
            return self._order_item(params, code, msg)
        finally:
            self._pending_meta = None
        return {
            "ordId": order.order_id,
            "clOrdId": cl_ord_id,
            "tag": tag,
            "ts": ms(self._now_ns()),
            "sCode": "0",
            "sMsg": "Order placed",
        }

    def _meta_of(self, order: SimOrder) -> OrderMeta:
        """The wire details of an order; the one being placed takes those `_rest_place` filed
        (its first engine callback arrives inside `place_order`)."""
        meta = self._meta.get(order.order_id)
        if meta is None:
            pending = self._pending_meta
            if pending is not None and pending[0] == order.api_key:
                meta = pending[1]
                self._pending_meta = None
            else:
                meta = OrderMeta(self._ord_type_of(order), self._default_td_mode(order))
            self._meta[order.order_id] = meta
        return meta

    @staticmethod
    def _ord_type_of(order: SimOrder) -> str:
        if order.order_type is OrderType.MARKET:
            return "market"
        if order.post_only:
            return "post_only"
        if order.time_in_force is TimeInForce.FOK:
            return "fok"
        if order.time_in_force is TimeInForce.IOC:
            return "ioc"
        return "limit"

    def _default_td_mode(self, order: SimOrder) -> str:
        info = self.instruments.get(order.symbol)
        return "cash" if info is not None and info.kind is InstrumentKind.SPOT else "cross"

    def _order_item(self, params: dict, code: str, msg: str) -> dict[str, str]:
        """The `data` item of a refused placement."""
        return {
            "ordId": params.get("ordId", "") or "",
            "clOrdId": params.get("clOrdId", "") or "",
            "tag": params.get("tag", "") or "",
            "ts": ms(self._now_ns()),
            "sCode": code,
            "sMsg": msg,
        }

    def _failure(self, items: list[dict[str, str]]) -> web.Response:
        """Order operations where every order failed: top-level code "1" (HTTP 200)."""
        now_us = micros()
        return self._json(
            {
                "code": "1",
                "msg": "Operation failed.",
                "data": items,
                "inTime": now_us,
                "outTime": now_us,
            }
        )

    async def _ack_faults(self, request: web.Request) -> None:
        """Delay or lose the answer of an order the engine already accepted (faults module)."""
        if not await answer_survives(self.faults):
            if request.transport is not None:
                request.transport.abort()
            raise ConnectionResetError("simulated lost acknowledgement")

    async def _rest_amend(self, request: web.Request) -> web.Response:
        """`POST /api/v5/trade/amend-order` ("Amend order")."""
        account, body = await self._authenticate(request)
        params = self._body_json(body)
        if not isinstance(params, dict):
            raise param_error("body")
        self._limit("amend", account.api_key, str(params.get("instId", "")))
        item = self._amend(account, params)
        if item["sCode"] != "0":
            return self._failure([item])
        return self._ok([item], inTime=micros(), outTime=micros())

    def _amend(self, account: SimAccount, params: dict[str, Any]) -> dict[str, str]:
        """Amend one order (`newSz` includes what is filled, `newPx`); returns its item."""
        info = self._instrument(params.get("instId"))
        ord_id = params.get("ordId", "") or ""
        cl_ord_id = params.get("clOrdId", "") or ""
        req_id = params.get("reqId", "") or ""
        if not ord_id and not cl_ord_id:
            return self._amend_item(
                params, "51003", "Either client order ID or order ID is required."
            )
        new_sz = params.get("newSz")
        new_px = params.get("newPx")
        if new_sz in (None, "") and new_px in (None, ""):
            return self._amend_item(params, "51500", "You must enter a price, quantity, or TP/SL")
        quantity = None if new_sz in (None, "") else self._decimal(new_sz, "newSz")
        price = None if new_px in (None, "") else self._decimal(new_px, "newPx")
        existing = self.engine.get_order(
            VENUE,
            account.api_key,
            order_id=ord_id or None,
            client_order_id=None if ord_id else cl_ord_id,
        )
        if existing is not None and self._plain_lookup(existing, ord_id) is None:
            return self._amend_item(
                params, "51503", "Your order has already been filled or canceled."
            )
        if existing is not None and existing.order_id in self._meta:
            self._meta[existing.order_id].req_id = req_id
        try:
            order = self.engine.amend_order(
                VENUE,
                account.api_key,
                info.venue_symbol,
                order_id=ord_id or None,
                client_order_id=None if ord_id else cl_ord_id,
                price=price,
                quantity=quantity,
                at_or_below_filled=AmendAtOrBelowFilled.FILL,
            )
        except SimReject as reject:
            code, msg = reject_code(reject, "amend", info)
            return self._amend_item(params, code, msg)
        wire_ord_id, wire_cl_ord_id = self._wire_ids(order)
        return {
            "ordId": wire_ord_id,
            "clOrdId": wire_cl_ord_id,
            "ts": ms(self._now_ns()),
            "reqId": req_id,
            "sCode": "0",
            "sMsg": "",
        }

    def _amend_item(self, params: dict, code: str, msg: str) -> dict[str, str]:
        return {
            "ordId": params.get("ordId", "") or "",
            "clOrdId": params.get("clOrdId", "") or "",
            "ts": ms(self._now_ns()),
            "reqId": params.get("reqId", "") or "",
            "sCode": code,
            "sMsg": msg,
        }

    def _cancel_one(self, account: SimAccount, params: Any) -> dict[str, str]:
        """Cancel one order; returns its `data` item (sCode 0 or the OKX error)."""
        now = ms(self._now_ns())
        if not isinstance(params, dict):
            raise param_error("body")
        ord_id = params.get("ordId", "") or ""
        cl_ord_id = params.get("clOrdId", "") or ""
        item = {"ordId": ord_id, "clOrdId": cl_ord_id, "ts": now, "sCode": "0", "sMsg": ""}
        try:
            info = self._instrument(params.get("instId"))
        except OkxError as error:
            item.update(sCode=error.code, sMsg=error.msg)
            return item
        if not ord_id and not cl_ord_id:
            item.update(sCode="51003", sMsg="Either client order ID or order ID is required.")
            return item
        existing = self.engine.get_order(
            VENUE,
            account.api_key,
            order_id=ord_id or None,
            client_order_id=None if ord_id else cl_ord_id,
        )
        if existing is not None and self._plain_lookup(existing, ord_id) is None:
            code, msg = reject_code(SimReject(RejectReason.ORDER_NOT_FOUND), "cancel", info)
            item.update(sCode=code, sMsg=msg)
            return item
        try:
            order = self.engine.cancel_order(
                VENUE,
                account.api_key,
                info.venue_symbol,
                order_id=ord_id or None,
                client_order_id=None if ord_id else cl_ord_id,
            )
        except SimReject as reject:
            code, msg = reject_code(reject, "cancel", info)
            item.update(sCode=code, sMsg=msg)
            return item
        wire_ord_id, wire_cl_ord_id = self._wire_ids(order)
        item.update(ordId=wire_ord_id, clOrdId=wire_cl_ord_id)
        return item

    async def _rest_cancel(self, request: web.Request) -> web.Response:
        """`POST /api/v5/trade/cancel-order` ("Cancel order")."""
        account, body = await self._authenticate(request)
        params = self._body_json(body)
        if isinstance(params, dict):
            self._limit("cancel", account.api_key, str(params.get("instId", "")))
        item = self._cancel_one(account, params)
        if item["sCode"] != "0":
            return self._failure([item])
        return self._ok([item], inTime=micros(), outTime=micros())
