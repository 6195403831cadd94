"""Request bodies from the normalized types: the `POST /v5/order/create` body of an
`OrderRequest`, plain or conditional (docs v5 "Place Order"), and the `POST /v5/order/amend`
body of an `AmendRequest` (docs v5 "Amend Order").

A conditional order is an ordinary create with `triggerPrice`: on linear and inverse with
`triggerDirection` (1 when the price rises to the trigger, 2 when it falls; from
`base.trigger_direction`) and `triggerBy` (LastPrice, IndexPrice, MarkPrice); on spot with
`orderFilter` "StopOrder" instead (spot ones watch the last price). `orderType` is the type the
order executes as once fired, with `price` for a limit. Options take no conditional orders.
"""

from __future__ import annotations

from decimal import Decimal

from exchanges.venues.base import (
    AmendRequest,
    InvalidOrder,
    OrderRequest,
    OrderType,
    ReduceOnlyViolation,
    TimeInForce,
    TriggerPrice,
    Venue,
    trigger_direction,
)
from exchanges.venues.bybit import constants as C

BYBIT = Venue.BYBIT


def order_time_in_force(request: OrderRequest) -> TimeInForce:
    """The time in force sent: "Market order will always use IOC" (Place Order)."""
    if request.order_type.executes_as is OrderType.MARKET:
        if request.time_in_force is TimeInForce.GTC:
            return TimeInForce.IOC
    return request.time_in_force


def order_body(request: OrderRequest, category: str, symbol: str) -> dict:
    """The create body of `request` on (`category`, `symbol`)."""
    executes_as = request.order_type.executes_as
    time_in_force = order_time_in_force(request)
    body = {
        "category": category,
        "symbol": symbol,
        "side": C.SIDE_WIRE[request.side],
        "orderType": C.ORDER_TYPE_WIRE[executes_as],
        "qty": format(request.quantity, "f"),
        "orderLinkId": request.client_order_id,
    }
    if executes_as is OrderType.LIMIT:
        if request.price is None:
            raise ValueError(f"a {request.order_type} order needs a price")
        body["price"] = format(request.price, "f")
        body["timeInForce"] = (
            "PostOnly" if request.post_only else C.TIME_IN_FORCE_WIRE[time_in_force]
        )
    else:
        body["timeInForce"] = C.TIME_IN_FORCE_WIRE[time_in_force]
    if request.order_type.is_conditional:
        body.update(_trigger_fields(request, category))
    if category == C.SPOT:
        if request.reduce_only:
            raise ReduceOnlyViolation("Bybit spot has no reduce-only orders", venue=BYBIT)
        if executes_as is OrderType.MARKET:
            body["marketUnit"] = "baseCoin"
    elif request.reduce_only:
        body["reduceOnly"] = True
    return body


def _trigger_fields(request: OrderRequest, category: str) -> dict:
    if request.trigger_price is None:
        raise ValueError(f"a {request.order_type} order needs a trigger price")
    if category == C.OPTION:
        raise InvalidOrder("Bybit options take no conditional orders", venue=BYBIT)
    fields: dict = {"triggerPrice": format(request.trigger_price, "f")}
    if category == C.SPOT:
        if request.trigger_by is not TriggerPrice.LAST:
            raise InvalidOrder(
                "Bybit spot conditional orders trigger on the last price", venue=BYBIT
            )
        fields["orderFilter"] = C.ORDER_FILTER_CONDITIONAL
        return fields
    direction = trigger_direction(request.order_type, request.side)
    fields["triggerDirection"] = C.TRIGGER_DIRECTION_WIRE[direction]
    fields["triggerBy"] = C.TRIGGER_BY_WIRE[request.trigger_by]
    return fields


def amend_body(request: AmendRequest, category: str, symbol: str) -> dict:
    """The amend body of `request` on (`category`, `symbol`): the order by `orderId`, else
    `orderLinkId`, and what it sets (None values are left out when sent). An untriggered
    conditional order moves its trigger with `triggerPrice` ("For Perps & Futures, it is the
    conditional order trigger price ... For spot, it is the TP/SL and Conditional order
    trigger price"); its `triggerBy` stays as placed, and spot takes no `orderFilter` here."""
    if not (request.client_order_id or request.venue_order_id):
        raise ValueError("amend needs a client or venue order id")
    return {
        "category": category,
        "symbol": symbol,
        "orderId": request.venue_order_id,
        "orderLinkId": None if request.venue_order_id else request.client_order_id,
        "qty": _text(request.quantity),
        "price": _text(request.price),
        "triggerPrice": _text(request.trigger_price),
    }


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")
