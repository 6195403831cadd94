"""Request parameters from the normalized types: the `private/buy` / `private/sell` parameters
of an `OrderRequest`, plain or trigger order (docs "private/buy").

A trigger order is a buy or sell with `type` stop_market, stop_limit, take_market or take_limit,
`trigger_price` and `trigger` (index_price, mark_price, last_price: required for them); `price`
for the limit kinds. Which side of the price the trigger must be on follows from the type and
the side (a buy stop above, a sell stop below; take profits the other way), so Deribit takes no
direction. `label` is our client order id.

An edit (docs "private/edit") always carries `amount` and, for a limit kind, `price`; an
untriggered trigger order also takes `trigger_price` ("Trigger price, required for trigger
orders only"), which moves its trigger; the `trigger` it watches stays as placed.
"""

from __future__ import annotations

from decimal import Decimal

from exchanges.venues.base import (
    AmendRequest,
    InvalidOrder,
    OrderRequest,
    Side,
    TimeInForce,
    Venue,
)
from exchanges.venues.deribit import constants as C

DERIBIT = Venue.DERIBIT


def order_method(request: OrderRequest) -> str:
    return C.METHOD_BUY if request.side is Side.BUY else C.METHOD_SELL


def order_body(request: OrderRequest) -> dict:
    """The parameters of `request` (checked: label length, price, trigger)."""
    label = request.client_order_id
    if not label or len(label) > C.CLIENT_ORDER_ID_MAX:
        raise InvalidOrder(
            f"client order id must be 1-{C.CLIENT_ORDER_ID_MAX} characters: {label!r}",
            venue=DERIBIT,
        )
    order_type = request.order_type
    params: dict = {
        "instrument_name": request.venue_symbol,
        "amount": request.quantity,
        "type": C.ORDER_TYPE_WIRE[order_type],
        "label": label,
    }
    if order_type.has_price:
        if request.price is None:
            raise InvalidOrder(f"a {order_type} order needs a price", venue=DERIBIT)
        params["price"] = request.price
        params["time_in_force"] = C.TIME_IN_FORCE_WIRE[request.time_in_force]
        if request.post_only and not order_type.is_conditional:
            params["post_only"] = True
            params["reject_post_only"] = True
    elif request.time_in_force is not None and request.time_in_force is not TimeInForce.GTC:
        params["time_in_force"] = C.TIME_IN_FORCE_WIRE[request.time_in_force]
    if order_type.is_conditional:
        if request.trigger_price is None:
            raise InvalidOrder(f"a {order_type} order needs a trigger price", venue=DERIBIT)
        params["trigger_price"] = request.trigger_price
        params["trigger"] = C.TRIGGER_WIRE[request.trigger_by]
    if request.reduce_only:
        params["reduce_only"] = True
    return params


def edit_takes_price(request: AmendRequest) -> bool:
    """Whether the edit carries a `price`: a plain order's or a limit trigger order's; a
    market trigger order has none to send."""
    return request.conditional is None or request.conditional.has_price


def edit_params(request: AmendRequest, amount: Decimal, price: Decimal | None) -> dict:
    """The private/edit parameters besides the order's id or label: `amount` (the new one or
    the current), `price` where the order has one, and `trigger_price` when it is set."""
    params: dict = {"amount": amount}
    if edit_takes_price(request):
        params["price"] = price
    if request.trigger_price is not None:
        params["trigger_price"] = request.trigger_price
    return params
