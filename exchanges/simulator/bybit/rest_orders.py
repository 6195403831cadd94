"""Bybit order entry under `/v5/order`: create, amend, cancel, cancel-all (REST and the trade
stream share these handlers).
"""

from __future__ import annotations

from decimal import Decimal

from aiohttp import web

from exchanges.simulator.bybit.constants import SIDE_IN, VENUE
from exchanges.simulator.bybit.errors import BybitError, reject_error
from exchanges.simulator.bybit.wire import BybitInstrument, to_decimal, truthy
from exchanges.simulator.common.faults import answer_survives
from exchanges.simulator.engine.records import (
    AmendAtOrBelowFilled,
    ClientIdScope,
    PostOnlyAction,
    RejectReason,
    SimAccount,
    SimOrder,
    SimReject,
)
from exchanges.venues.base import OrderType, Side, TimeInForce


class BybitOrderRest:
    """Bybit order-entry handlers."""

    async def _order_create(self, params: dict, account: SimAccount, request: web.Request) -> dict:
        category = self._category(params)
        inst = self._instrument(category, params.get("symbol"))
        spot = category == "spot"
        side = SIDE_IN.get(params.get("side", ""))
        if side is None:
            raise (
                BybitError(170117, "Invalid side.")
                if spot
                else BybitError(10001, "params error: side invalid")
            )
        kind = params.get("orderType")
        if kind not in ("Market", "Limit"):
            raise (
                BybitError(170116, "Invalid orderType.")
                if spot
                else BybitError(10001, "params error: orderType invalid")
            )
        order_type = OrderType.MARKET if kind == "Market" else OrderType.LIMIT
        quantity = to_decimal(params.get("qty"), "qty")
        price = to_decimal(params.get("price"), "price") if order_type is OrderType.LIMIT else None
        tif_text = params.get("timeInForce") or ("IOC" if order_type is OrderType.MARKET else "GTC")
        if tif_text not in ("GTC", "IOC", "FOK", "PostOnly"):
            raise (
                BybitError(170115, "Invalid timeInForce.")
                if spot
                else BybitError(10001, "params error: timeInForce invalid")
            )
        post_only = tif_text == "PostOnly"
        if post_only and order_type is OrderType.MARKET:
            raise BybitError(10001, "params error: a market order cannot be PostOnly")
        tif = TimeInForce.GTC if tif_text in ("GTC", "PostOnly") else TimeInForce(tif_text.lower())
        reduce_only = truthy(params.get("reduceOnly", False))
        if reduce_only and spot:
            raise BybitError(10001, "params error: reduceOnly is not supported for spot")
        link = params.get("orderLinkId") or None
        if link is not None:
            link = str(link)
            if len(link) > 36:
                raise BybitError(10001, "params error: orderLinkId is longer than 36 characters")
        if (
            spot
            and order_type is OrderType.MARKET
            and side is Side.BUY
            and params.get("marketUnit", "quoteCoin") != "baseCoin"
        ):
            quantity = self._base_for_quote(inst, quantity)
        try:
            order = self.engine.place_order(
                VENUE,
                account.api_key,
                inst.engine_symbol,
                side=side,
                order_type=order_type,
                quantity=quantity,
                price=price,
                time_in_force=tif,
                post_only=post_only,
                reduce_only=reduce_only,
                client_order_id=link,
                post_only_action=PostOnlyAction.REJECT if spot else PostOnlyAction.CANCEL,
                client_id_scope=ClientIdScope.ALL,
            )
        except SimReject as exc:
            raise reject_error(exc, category, "create") from exc
        return {"orderId": order.order_id, "orderLinkId": order.client_order_id or ""}

    async def _rest_order_create(
        self, params: dict, account: SimAccount, request: web.Request
    ) -> dict:
        result = await self._order_create(params, account, request)
        await self._ack_faults(request)
        return result

    async def _ack_faults(self, request: web.Request) -> None:
        """Faults `ack_delay_ms` and `lose_acks` (cut without an answer) on an accepted order."""
        if not await answer_survives(self.faults):
            if request.transport is not None:
                request.transport.close()
            raise ConnectionResetError("simulated lost order acknowledgement")

    def _base_for_quote(self, inst: BybitInstrument, amount: Decimal) -> Decimal:
        """Base quantity a spot market buy of `amount` quote coin takes from the asks; an
        amount under the minimum order value (`minOrderAmt`) is refused."""
        minimum = inst.info.min_notional
        if minimum is not None and amount < minimum:
            raise BybitError(170140, "Order value exceeded lower limit")
        base = self.engine.base_for_quote(VENUE, inst.engine_symbol, amount)
        if base < inst.info.lot_size:
            raise BybitError(170140, "Order value exceeded lower limit")
        return base

    def _find_order(
        self, account: SimAccount, order_id: str | None, link: str | None
    ) -> SimOrder | None:
        """An order of the account by id or orderLinkId (the latest with that link)."""
        return self.engine.get_order(
            VENUE, account.api_key, order_id=order_id, client_order_id=link
        )

    def _ids(self, params: dict) -> tuple[str | None, str | None]:
        order_id = params.get("orderId") or None
        link = params.get("orderLinkId") or None
        if not order_id and not link:
            raise BybitError(10001, "params error: orderId or orderLinkId is required")
        return (str(order_id) if order_id else None), (str(link) if link else None)

    def _open_order(
        self, account: SimAccount, inst: BybitInstrument, params: dict, action: str
    ) -> SimOrder:
        order_id, link = self._ids(params)
        order = self._find_order(account, order_id, link)
        if order is None or order.symbol != inst.engine_symbol or not order.is_open:
            raise reject_error(SimReject(RejectReason.ORDER_NOT_FOUND), inst.category, action)
        return order

    async def _order_amend(self, params: dict, account: SimAccount, request: web.Request) -> dict:
        category = self._category(params)
        inst = self._instrument(category, params.get("symbol"))
        order = self._open_order(account, inst, params, "amend")
        quantity = to_decimal(params["qty"], "qty") if params.get("qty") not in (None, "") else None
        price = (
            to_decimal(params["price"], "price") if params.get("price") not in (None, "") else None
        )
        if (quantity is None or quantity == order.quantity) and (
            price is None or price == order.price
        ):
            raise BybitError(
                10001,
                "The order remains unchanged as the parameters entered match the existing ones.",
            )
        try:
            order = self.engine.amend_order(
                VENUE,
                account.api_key,
                inst.engine_symbol,
                order_id=order.order_id,
                price=price,
                quantity=quantity,
                at_or_below_filled=(
                    AmendAtOrBelowFilled.REJECT_BELOW
                    if category == "spot"
                    else AmendAtOrBelowFilled.REJECT_AT_OR_BELOW
                ),
            )
        except SimReject as exc:
            raise reject_error(exc, category, "amend") from exc
        return {"orderId": order.order_id, "orderLinkId": order.client_order_id or ""}

    async def _order_cancel(self, params: dict, account: SimAccount, request: web.Request) -> dict:
        category = self._category(params)
        inst = self._instrument(category, params.get("symbol"))
        order = self._open_order(account, inst, params, "cancel")
        try:
            order = self.engine.cancel_order(
                VENUE, account.api_key, inst.engine_symbol, order_id=order.order_id
            )
        except SimReject as exc:
            raise reject_error(exc, category, "cancel") from exc
        return {"orderId": order.order_id, "orderLinkId": order.client_order_id or ""}

    async def _order_cancel_all(
        self, params: dict, account: SimAccount, request: web.Request
    ) -> dict:
        category = self._category(params)
        self._require_scope(category, params)
        canceled: list[SimOrder] = []
        for inst in self._instruments_in(category, params):
            if any(o.symbol == inst.engine_symbol for o in account.open_orders.values()):
                canceled += self.engine.cancel_all(VENUE, account.api_key, inst.engine_symbol)
        return {
            "list": [
                {"orderId": o.order_id, "orderLinkId": o.client_order_id or ""} for o in canceled
            ],
            "success": "1",
        }
