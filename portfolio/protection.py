"""A position's stop loss and take profit: reduce-only conditional orders on the closing side
for the whole position, placed natively on the venue through the order path
(`orders.services.submit_order`), so they are tracked, risk-checked and reconciled like any
order.

Setting one moves the position's open order of the same kind: amended in place on the venue
(`orders.amend`: its trigger and quantity, so the position is never without it) when it is
one order still waiting for its trigger on the same price source; otherwise it is canceled
and a new one placed. `None` removes it. A stop loss fires on a move against the position (below the price of a
long, above that of a short), a take profit on the move the other way; a level already passed
is refused with the field named, before anything is sent. When one of them closes the
position, the venue cuts the other (a reduce-only order with nothing left to reduce) and it
ends `canceled` on the private stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from exchanges.venues.base import OrderStatus, OrderType, Side, TriggerPrice
from orders import amend, services
from orders.models import Order
from orders.state import OPEN_STATUSES
from orders.validation import invalid
from portfolio.models import Position
from risk.checks import figure
from risk.context import reference_price

KEEP = object()  # "leave this side as it is"

KINDS = {"stop_loss": OrderType.STOP_MARKET, "take_profit": OrderType.TAKE_PROFIT_MARKET}


@dataclass(frozen=True, slots=True)
class Protection:
    """A position's open protective orders, by kind (None: none)."""

    stop_loss: Order | None
    take_profit: Order | None


def protective_orders(position: Position) -> Protection:
    """The position's open stop-loss and take-profit orders (the newest of each kind)."""
    found = {}
    for name, order_type in KINDS.items():
        found[name] = _open_of(position, order_type).order_by("-created_at", "-id").first()
    return Protection(**found)


def protect_position(
    position: Position,
    *,
    stop_loss: Decimal | object | None = KEEP,
    take_profit: Decimal | object | None = KEEP,
    trigger_by: TriggerPrice | str = TriggerPrice.MARK,
    actor: str = "",
) -> Protection:
    """Set, replace or remove (`None`) the position's stop loss and take profit; `KEEP`
    leaves a side as it is. Raises a `ValidationError` naming the field for a flat position or
    a level on the wrong side of the price, and `services.RiskRejected` as submission does."""
    if stop_loss is KEEP and take_profit is KEEP:
        raise invalid("non_field_errors", "give a stop_loss, a take_profit, or both")
    position = Position.objects.select_related("account__exchange", "instrument__exchange").get(
        pk=position.pk
    )
    asked = {"stop_loss": stop_loss, "take_profit": take_profit}
    setting = {name: level for name, level in asked.items() if level not in (KEEP, None)}
    if setting and position.quantity == 0:
        raise invalid("non_field_errors", f"position {position.pk} is flat: nothing to protect")
    closing = Side.SELL if position.quantity > 0 else Side.BUY
    price = reference_price(position.instrument, position)
    for name, level in setting.items():
        _check_level(name, level, closing, price)
    size = abs(position.quantity)
    for name, level in asked.items():
        if level is KEEP:
            continue
        current = list(_open_of(position, KINDS[name]))
        if level is not None and _movable(current, closing, TriggerPrice(trigger_by)):
            _move(current[0], level, size, actor)
            continue
        for order in current:
            services.cancel_order(order, actor=actor)
        if level is not None:
            services.submit_order(
                account=position.account,
                symbol=position.instrument.symbol,
                side=closing,
                order_type=KINDS[name],
                quantity=size,
                trigger_price=level,
                trigger_by=trigger_by,
                reduce_only=True,
                actor=actor,
            )
    return protective_orders(position)


def _movable(current: list[Order], closing: Side, trigger_by: TriggerPrice) -> bool:
    """Whether the open orders of one kind are a single untriggered order on the closing side
    watching `trigger_by`: one the venue can amend in place."""
    if len(current) != 1:
        return False
    order = current[0]
    return (
        order.status == OrderStatus.UNTRIGGERED
        and order.side == closing
        and order.trigger_by == trigger_by
    )


def _move(order: Order, level: Decimal, size: Decimal, actor: str) -> None:
    """Amend `order` to fire at `level` for `size`; nothing is sent when it already does."""
    trigger = None if level == order.trigger_price else level
    quantity = None if size == order.quantity else size
    if trigger is not None or quantity is not None:
        amend.amend_order(order, trigger_price=trigger, quantity=quantity, actor=actor)


def _open_of(position: Position, order_type: OrderType):
    return Order.objects.filter(
        account_id=position.account_id,
        instrument_id=position.instrument_id,
        order_type=order_type,
        reduce_only=True,
        status__in=OPEN_STATUSES,
    ).exclude(status="pending_cancel")


def _check_level(name: str, level: Decimal, closing: Side, price: Decimal | None) -> None:
    """A stop loss below the price of a long (above for a short), a take profit the other
    way; unknown price: the venue decides."""
    if level <= 0:
        raise invalid(name, "must be positive")
    if price is None:
        return
    below = (name == "stop_loss") == (closing is Side.SELL)
    if below and level >= price:
        raise invalid(name, f"must be below the price {figure(price)} for this position")
    if not below and level <= price:
        raise invalid(name, f"must be above the price {figure(price)} for this position")
