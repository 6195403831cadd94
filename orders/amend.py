"""Amending an open order on its venue (the API and admin call this; `orders.services` has
the rest of the order path).

A working order (`new`, `partially_filled`) changes its price and/or quantity. A stop or take
profit still waiting for its trigger (`untriggered`) changes its trigger price, its quantity
and, for the limit kinds, its limit price; it keeps waiting, and the venue's own amend of a
conditional order does it in place (OKX `amend-algos`, Bybit `/v5/order/amend` with
`triggerPrice`, Deribit `private/edit` with `trigger_price`), so a position's protection is
never off the venue while it moves. The new figures are checked like a submission's, and an
amend that adds risk (a larger size, a new limit price) passes the pre-trade risk checks as a
new order would; the order keeps its status and the venue's answer is applied through
`orders.ingest`.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from exchanges.models import ExchangeAccount
from exchanges.venues.base import AmendRequest, OrderStatus, OrderType, Side, VenueError
from orders import ingest
from orders.choices import OrderEventKind
from orders.models import Order, OrderEvent
from orders.services import OrderNotOpen, _apply, _published, _refused, record_error
from orders.validation import invalid, validate_order
from orders.venue import client_for, venue_name
from risk.checks import Proposed, figure
from risk.context import check_order

AMENDABLE = (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.UNTRIGGERED)


def amend_order(
    order: Order,
    *,
    price: Decimal | None = None,
    quantity: Decimal | None = None,
    trigger_price: Decimal | None = None,
    actor: str = "",
) -> Order:
    """Change an open order on the venue (module docstring); returns it as the venue's
    answer left it. A bad figure is a `ValidationError` naming the field; a closed order is
    `OrderNotOpen`; the venue's refusal is raised as its `VenueError` (and recorded)."""
    if price is None and quantity is None and trigger_price is None:
        raise invalid("non_field_errors", "give a new price, quantity or trigger price")
    order = Order.objects.select_related("account__exchange", "instrument__exchange").get(
        pk=order.pk
    )
    if order.status not in AMENDABLE:
        raise OrderNotOpen(f"order {order.pk} is {order.status}: only an open order is amended")
    order_type = OrderType(order.order_type)
    untriggered = order.status == OrderStatus.UNTRIGGERED
    if trigger_price is not None and not untriggered:
        because = "has fired" if order_type.is_conditional else "is not a stop or take profit"
        raise invalid("trigger_price", f"order {order.pk} {because}: it has no trigger to move")
    if price is not None and not order_type.has_price:
        raise invalid("price", f"a {order.order_type} order has no price to amend")
    new_quantity = quantity if quantity is not None else order.quantity
    new_price = price if price is not None else order.price
    new_trigger = trigger_price if trigger_price is not None else order.trigger_price
    validate_order(
        order.account,
        order.instrument,
        order_type=order_type,
        quantity=new_quantity,
        price=new_price,
        post_only=order.post_only,
        trigger_price=new_trigger,
    )
    if new_quantity <= order.filled_quantity:
        raise invalid(
            "quantity", f"must be above the filled quantity {figure(order.filled_quantity)}"
        )
    if new_quantity > order.quantity or (price is not None and price != order.price):
        _check_risk(order, new_quantity, new_price, actor)
    wanted = {"price": new_price, "quantity": new_quantity, "trigger_price": new_trigger}
    OrderEvent.objects.append(
        order=order,
        kind=OrderEventKind.AMEND_REQUEST,
        from_status=order.status,
        to_status=order.status,
        message=f"amend to {_terms(**wanted)} by {actor}",
        payload={**{k: None if v is None else str(v) for k, v in wanted.items()}, "actor": actor},
    )
    client = client_for(order.account)
    request = AmendRequest(
        symbol=order.instrument.symbol,
        venue_symbol=venue_name(client, order.instrument),
        client_order_id=order.client_order_id,
        venue_order_id=order.venue_order_id or None,
        # an untriggered order's trigger and limit price go along unchanged or not: OKX
        # amends them as a pair
        price=new_price if untriggered else price,
        quantity=quantity,
        trigger_price=new_trigger if untriggered else None,
        conditional=order_type if untriggered else None,
    )
    try:
        answer = client.amend_order(request)
    except VenueError as exc:
        record_error(order, f"amend refused by the venue: {exc.code} {exc.message}".strip(), exc)
        raise
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        changed = []
        for name in ("price", "quantity", "trigger_price"):
            value = getattr(answer, name)
            if value is not None and value > 0 and getattr(locked, name) != value:
                setattr(locked, name, value)
                changed.append(name)
        if changed:
            locked.save(update_fields=[*changed, "updated_at"])
        OrderEvent.objects.append(
            order=locked,
            kind=OrderEventKind.AMEND,
            from_status=locked.status,
            to_status=locked.status,
            message=f"amended: {_terms(locked.price, locked.quantity, locked.trigger_price)}",
            payload=ingest.payload_of(answer),
        )
        _published(locked)
    _apply(order, answer)
    return order


def _terms(price: Decimal | None, quantity: Decimal, trigger_price: Decimal | None) -> str:
    """`1 @ 65000`, `1 at market, trigger 64000`: an order's terms for its history."""
    text = (
        f"{figure(quantity)} @ {figure(price)}"
        if price is not None
        else f"{figure(quantity)} at market"
    )
    return text if trigger_price is None else f"{text}, trigger {figure(trigger_price)}"


def _check_risk(order: Order, quantity: Decimal, price: Decimal | None, actor: str) -> None:
    """The pre-trade checks of the order as the amend would make it (`risk.context`), under
    the account's row lock as a submission's: a larger size or a new limit price must fit the
    limits, the collar and the funds as a new order would (its own quantity counted once).
    A refusal is recorded and raised as `RiskRejected`; a smaller size or a moved trigger
    adds no risk and is not checked."""
    proposed = Proposed(
        info=order.instrument.info(),
        side=Side(order.side),
        order_type=OrderType(order.order_type),
        quantity=quantity,
        price=price,
        reduce_only=order.reduce_only,
        replaces=order.quantity,
    )
    with transaction.atomic():
        ExchangeAccount.objects.select_for_update().filter(pk=order.account_id).first()
        checked = check_order(order.account, order.instrument, proposed)
    if checked.rejection is not None:
        fields = {"side": order.side, "quantity": quantity, "price": price}
        _refused(order.account, order.instrument, checked, fields, actor, order=order)
