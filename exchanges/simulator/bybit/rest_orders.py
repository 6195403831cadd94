"""Bybit order entry under `/v5/order`: create, amend, cancel, cancel-all (REST and the trade
stream share these handlers).

Conditional orders ("Place Order"): a create with a `triggerPrice` waits off the book
(`Untriggered`) until the price named by `triggerBy` (LastPrice by default) moves the way
`triggerDirection` says (1 rise, 2 fall; linear and inverse only); spot ones are created with
`orderFilter` "StopOrder", watch the last price and get their direction from where the trigger
is. The order keeps its `orderId` when it fires. A trigger the price has already reached is
refused with 110092/110093. Cancel of a spot conditional order needs `orderFilter` "StopOrder"
("Cancel Order"); cancel-all covers conditional orders by default except on spot, where only
`orderFilter` "StopOrder" does ("Cancel All Orders").

Amend ("Amend Order") of an untriggered conditional order moves its `triggerPrice` and changes
`qty` and, for a limit one, `price` (on spot too, without `orderFilter`); a `triggerBy` must
be the one it watches (the simulator's engine keeps the source). A trigger already reached is
refused as at creation (110092/110093); a `triggerPrice` on a plain or fired order with 10001
"params error: triggerPrice invalid" (spot 170130), the codes of a bad trigger (inferred: the
docs name no code for it). Unchanged parameters: 10001 "The order remains unchanged ...".
"""

from __future__ import annotations

from decimal import Decimal

from aiohttp import web

from exchanges.simulator.bybit.constants import (
    ORDER_FILTER_CONDITIONAL,
    ORDER_FILTER_PLAIN,
    SIDE_IN,
    TRIGGER_BY,
    TRIGGER_BY_IN,
    TRIGGER_DIRECTION_IN,
    VENUE,
)
from exchanges.simulator.bybit.errors import BybitError, reject_error, trigger_reached_error
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
from exchanges.venues.base import (
    OrderType,
    Side,
    TimeInForce,
    TriggerDirection,
    TriggerPrice,
)

# (fires on, executes as) -> the conditional type, for a buy; a sell swaps stop and take profit.
_BUY_CONDITIONAL = {
    (TriggerDirection.RISE, OrderType.MARKET): OrderType.STOP_MARKET,
    (TriggerDirection.RISE, OrderType.LIMIT): OrderType.STOP_LIMIT,
    (TriggerDirection.FALL, OrderType.MARKET): OrderType.TAKE_PROFIT_MARKET,
    (TriggerDirection.FALL, OrderType.LIMIT): OrderType.TAKE_PROFIT_LIMIT,
}
_SWAP = {
    OrderType.STOP_MARKET: OrderType.TAKE_PROFIT_MARKET,
    OrderType.STOP_LIMIT: OrderType.TAKE_PROFIT_LIMIT,
    OrderType.TAKE_PROFIT_MARKET: OrderType.STOP_MARKET,
    OrderType.TAKE_PROFIT_LIMIT: OrderType.STOP_LIMIT,
}


def conditional_type(side: Side, direction: TriggerDirection, executes_as: OrderType) -> OrderType:
    """The conditional order type of a `side` order firing on `direction` (a buy stop fires on
    a rise, a sell stop on a fall; take profits the other way)."""
    kind = _BUY_CONDITIONAL[(direction, executes_as)]
    return kind if side is Side.BUY else _SWAP[kind]


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
        if params.get("triggerPrice") not in (None, "", "0"):
            order = self._create_conditional(
                params, account, inst, side, order_type, quantity, price, tif, reduce_only, link
            )
            return {"orderId": order.order_id, "orderLinkId": order.client_order_id or ""}
        if spot and params.get("orderFilter") not in (None, "", ORDER_FILTER_PLAIN):
            raise BybitError(10001, "params error: orderFilter needs a triggerPrice")
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

    def _create_conditional(
        self,
        params: dict,
        account: SimAccount,
        inst: BybitInstrument,
        side: Side,
        executes_as: OrderType,
        quantity: Decimal,
        price: Decimal | None,
        tif: TimeInForce,
        reduce_only: bool,
        link: str | None,
    ) -> SimOrder:
        """A create with a `triggerPrice`: an untriggered conditional order (module doc)."""
        category = inst.category
        if category == "option":
            raise BybitError(10001, "params error: options take no conditional orders")
        trigger = to_decimal(params.get("triggerPrice"), "triggerPrice")
        if category == "spot":
            if params.get("orderFilter") != ORDER_FILTER_CONDITIONAL:
                raise BybitError(10001, "params error: orderFilter must be StopOrder")
            trigger_by = TriggerPrice.LAST
            current = self.engine.trigger_source_price(VENUE, inst.engine_symbol, trigger_by)
            direction = (
                TriggerDirection.RISE
                if current is None or trigger > current
                else TriggerDirection.FALL
            )
        else:
            try:
                direction = TRIGGER_DIRECTION_IN[int(params.get("triggerDirection"))]
            except (KeyError, TypeError, ValueError):
                raise BybitError(10001, "params error: triggerDirection invalid") from None
            trigger_by = TRIGGER_BY_IN.get(params.get("triggerBy") or "LastPrice")
            if trigger_by is None:
                raise BybitError(10001, "params error: triggerBy invalid")
        order_type = conditional_type(side, direction, executes_as)
        try:
            return self.engine.place_conditional(
                VENUE,
                account.api_key,
                inst.engine_symbol,
                side=side,
                order_type=order_type,
                quantity=quantity,
                trigger_price=trigger,
                trigger_by=trigger_by,
                price=price,
                time_in_force=tif,
                reduce_only=reduce_only,
                client_order_id=link,
                client_id_scope=ClientIdScope.ALL,
            )
        except SimReject as exc:
            raise self._trigger_refusal(
                exc, inst, direction, trigger, trigger_by, "create"
            ) from exc

    def _trigger_refusal(
        self,
        exc: SimReject,
        inst: BybitInstrument,
        direction: TriggerDirection | None,
        trigger: Decimal | None,
        trigger_by: TriggerPrice | None,
        action: str,
    ) -> BybitError:
        """Bybit's answer to an engine refusal of a create or amend with a trigger: 110092 /
        110093 when the watched price has already reached it, else the `reject_error`."""
        if (
            exc.reason is RejectReason.INVALID_TRIGGER_PRICE
            and exc.watched is not None
            and direction is not None
            and trigger is not None
            and trigger_by is not None
        ):
            return trigger_reached_error(direction, trigger, exc.watched, TRIGGER_BY[trigger_by])
        return reject_error(exc, inst.category, action)

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
        """The open order named by `orderId`/`orderLinkId`. On spot, `orderFilter` says which
        kind a cancel looks for: plain orders by default, conditional ones with "StopOrder";
        an amend takes no `orderFilter` and finds either ("Amend Order")."""
        order_id, link = self._ids(params)
        order = self._find_order(account, order_id, link)
        if order is None or order.symbol != inst.engine_symbol or not order.is_open:
            raise reject_error(SimReject(RejectReason.ORDER_NOT_FOUND), inst.category, action)
        if inst.category == "spot" and action != "amend":
            wants_conditional = params.get("orderFilter") == ORDER_FILTER_CONDITIONAL
            if order.is_untriggered is not wants_conditional:
                raise reject_error(SimReject(RejectReason.ORDER_NOT_FOUND), inst.category, action)
        return order

    async def _order_amend(self, params: dict, account: SimAccount, request: web.Request) -> dict:
        category = self._category(params)
        inst = self._instrument(category, params.get("symbol"))
        order = self._open_order(account, inst, params, "amend")
        quantity, price, trigger = (
            to_decimal(params[name], name) if params.get(name) not in (None, "") else None
            for name in ("qty", "price", "triggerPrice")
        )
        if order.is_untriggered:
            self._check_trigger_by(params, order)
        if all(
            value is None or value == current
            for value, current in (
                (quantity, order.quantity),
                (price, order.price),
                (trigger, order.trigger_price),
            )
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
                trigger_price=trigger,
                at_or_below_filled=(
                    AmendAtOrBelowFilled.REJECT_BELOW
                    if category == "spot"
                    else AmendAtOrBelowFilled.REJECT_AT_OR_BELOW
                ),
            )
        except SimReject as exc:
            raise self._trigger_refusal(
                exc, inst, order.trigger_direction, trigger, order.trigger_by, "amend"
            ) from exc
        return {"orderId": order.order_id, "orderLinkId": order.client_order_id or ""}

    @staticmethod
    def _check_trigger_by(params: dict, order: SimOrder) -> None:
        """An amend's `triggerBy` must name the price the order already watches: Bybit can
        change it ("Amend Order" triggerBy), the simulator's engine cannot."""
        text = params.get("triggerBy") or None
        if text is None:
            return
        trigger_by = TRIGGER_BY_IN.get(text)
        if trigger_by is None:
            raise BybitError(10001, "params error: triggerBy invalid")
        if trigger_by is not order.trigger_by:
            raise BybitError(10001, "params error: the simulator does not change triggerBy")

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
        order_filter = params.get("orderFilter") or None
        if category == "spot" and order_filter is None:
            order_filter = ORDER_FILTER_PLAIN
        plain = order_filter in (None, ORDER_FILTER_PLAIN)
        conditional = order_filter in (None, ORDER_FILTER_CONDITIONAL)
        pools = [account.open_orders] * plain + [account.conditional_orders] * conditional
        canceled: list[SimOrder] = []
        for inst in self._instruments_in(category, params):
            if any(o.symbol == inst.engine_symbol for pool in pools for o in pool.values()):
                canceled += self.engine.cancel_all(
                    VENUE,
                    account.api_key,
                    inst.engine_symbol,
                    conditional=conditional,
                    plain=plain,
                )
        return {
            "list": [
                {"orderId": o.order_id, "orderLinkId": o.client_order_id or ""} for o in canceled
            ],
            "success": "1",
        }
