"""What the venue says about our orders, applied: order updates and fills, from the private
streams, REST answers and reconciliation alike, so all of them move an order the same way.

The rules (they are what makes late, repeated and reordered pushes harmless):

- An order only moves forward. A status the state machine does not allow from the current one
  is not applied (a `new` arriving after `partially_filled`, anything after a terminal
  status); the update's other news (a higher filled quantity) still is, when it is newer.
- An update older than the latest applied (the venue's own time, `Order.venue_updated_at`) is
  stale: it cannot change the price or quantity back (an amendment) nor the time, and is ignored
  unless it shows more filled or the order's end. Those it still brings: a filled quantity only
  grows and an ended order stays ended, whatever the stamps say, and venues stamp an answer
  with when its processing finished, which can be after the fill a push reports (OKX's
  placement answer after an immediate fill). Updates of the same time are applied in the order
  they arrive, subject to the first rule.
- The filled quantity never decreases; the average fill price follows the quantity it goes
  with.
- While a cancel is in flight (`pending_cancel`), a push that still shows the order open does
  not reopen it: only the cancel's own refusal does (`orders.services`).
- A fill is recorded once per (account, instrument, venue trade id), whatever the number of
  times it is pushed or fetched. It finds its order by venue order id or client order id (a
  fill may come before the acknowledgement), and a fill that takes the order's filled quantity
  beyond what the order shows moves the order on (`partially_filled`, `filled`).
- A conditional order (stop, take profit) is `untriggered` until the venue fires it; the first
  update showing it fired (open, filled, or a fill) stamps `triggered_at` and is recorded as a
  `triggered` event. The trigger price follows the venue's (an amendment there).
- An update or fill of an order the gateway does not know (placed by another client on the same
  keys) adopts the order, marked `is_external`.

Every change is an `OrderEvent` with the venue's message as it was applied. Callers run inside
a transaction; rows are locked (`select_for_update`) so that a stream and a REST answer about
the same order take turns.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from exchanges.models import ExchangeAccount, Instrument
from exchanges.venues.base import FillEvent, OrderStatus, OrderUpdate, TriggerPrice
from orders import metrics, state
from orders.choices import OrderEventKind
from orders.ids import is_valid_client_order_id, new_client_order_id
from orders.models import Fill, Order, OrderEvent

ZERO = Decimal(0)


class UnknownInstrument(LookupError):
    """A venue message about an instrument the account's exchange does not list (yet)."""


@dataclass(frozen=True, slots=True)
class Applied:
    """What one update did: `order` (None when nothing matched and nothing was adopted),
    whether it `changed`, and `ignored` saying why not when it did not."""

    order: Order | None
    changed: bool
    ignored: str = ""


def moment(ns: int) -> datetime | None:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC) if ns else None


def instrument_of(account: ExchangeAccount, symbol: str) -> Instrument:
    instrument = Instrument.objects.filter(exchange_id=account.exchange_id, symbol=symbol).first()
    if instrument is None:
        raise UnknownInstrument(f"{account.exchange} lists no {symbol}")
    return instrument


def find_order(
    account: ExchangeAccount, *, client_order_id: str | None, venue_order_id: str | None
) -> Order | None:
    """The account's order with this venue order id or client order id, locked."""
    match = Q()
    if venue_order_id:
        match |= Q(venue_order_id=venue_order_id)
    if client_order_id:
        match |= Q(client_order_id=client_order_id)
    if not match:
        return None
    return (
        Order.objects.select_for_update()
        .filter(match, account=account)
        .order_by("-venue_order_id")  # the row with both ids first, should two match
        .first()
    )


def payload_of(event: OrderUpdate | FillEvent) -> dict:
    """An event as JSON for the order's history (decimals as strings)."""
    return {
        name: (str(value) if value is not None and not isinstance(value, bool | int) else value)
        for name, value in dataclasses.asdict(event).items()
    }


@transaction.atomic
def apply_order_update(account: ExchangeAccount, update: OrderUpdate) -> Applied:
    """Apply one venue order update to the account's order (module rules)."""
    order = find_order(
        account, client_order_id=update.client_order_id, venue_order_id=update.venue_order_id
    )
    if order is None:
        return Applied(adopt_order(account, update), changed=True)
    return _apply(order, update)


def _apply(order: Order, update: OrderUpdate) -> Applied:
    at = moment(update.exchange_ts)
    stale = at is not None and order.venue_updated_at is not None and at < order.venue_updated_at
    if state.is_terminal(order.status):
        return Applied(order, changed=False, ignored="stale" if stale else "terminal")
    if stale and not _advances(order, update):
        return Applied(order, changed=False, ignored="stale")
    received = update
    if stale:  # what it says of the fill and the end only; the newer time stays
        update = dataclasses.replace(update, price=None, quantity=order.quantity)
    before = order.status
    changed: list[str] = []
    if update.venue_order_id and not order.venue_order_id:
        order.venue_order_id = update.venue_order_id
        changed.append("venue_order_id")
    if update.filled_quantity > order.filled_quantity:
        order.filled_quantity = update.filled_quantity
        order.average_fill_price = update.average_price
        changed += ["filled_quantity", "average_fill_price"]
    elif update.filled_quantity == order.filled_quantity and update.average_price is not None:
        if order.average_fill_price != update.average_price:
            order.average_fill_price = update.average_price
            changed.append("average_fill_price")
    if order.status in _AMENDABLE:
        figures = (
            ("price", update.price),
            ("quantity", update.quantity),
            ("trigger_price", update.trigger_price if order.is_conditional else None),
        )
        for name, value in figures:
            if value is not None and getattr(order, name) != value and value > 0:
                setattr(order, name, value)  # amended on the venue
                changed.append(name)
    target = _target_status(order, update.status)
    if target is not None and target != order.status:
        order.set_status(target, at=at or timezone.now())
        changed += ["status", "closed_at"]
    fired = _fired(order, update)
    if fired:
        order.triggered_at = at or timezone.now()
        changed.append("triggered_at")
        transaction.on_commit(lambda: metrics.count_triggered(update.venue))
    if update.status is OrderStatus.REJECTED and order.status == OrderStatus.REJECTED:
        order.reject_reason = update.reject_reason or order.reject_reason
        changed.append("reject_reason")
    if order.acknowledged_at is None and order.status != OrderStatus.PENDING_NEW:
        order.acknowledged_at = timezone.now()
        changed.append("acknowledged_at")
    if not changed:
        return Applied(order, changed=False, ignored="nothing new")
    if at is not None and not stale:
        order.venue_updated_at = at
        changed.append("venue_updated_at")
    order.save(update_fields=[*dict.fromkeys(changed), "updated_at"])
    OrderEvent.objects.append(
        order=order,
        kind=OrderEventKind.TRIGGERED
        if fired
        else OrderEventKind.STATUS_CHANGE
        if order.status != before
        else OrderEventKind.VENUE_MESSAGE,
        from_status=before,
        to_status=order.status,
        payload=payload_of(received),
        exchange_at=at,
    )
    return Applied(order, changed=True)


_AMENDABLE = (OrderStatus.UNTRIGGERED, OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


def _fired(order: Order, update: OrderUpdate) -> bool:
    """Whether `update` is the first news that the venue fired conditional `order`."""
    if not order.is_conditional or order.triggered_at is not None:
        return False
    return _shows_fired(update) or order.filled_quantity > 0


def _shows_fired(update: OrderUpdate) -> bool:
    """Whether a conditional order's update shows it fired: working (open past its trigger)
    or filled in part or in full."""
    if not update.order_type.is_conditional:
        return False
    working = update.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED)
    return working or update.filled_quantity > 0


def _advances(order: Order, update: OrderUpdate) -> bool:
    """Whether an update shows more filled than `order`, or its end: news that no later time
    can undo, since a venue's filled quantity only grows and an ended order stays ended."""
    return update.filled_quantity > order.filled_quantity or update.status.is_terminal


_OPEN_NEWS = (
    OrderStatus.NEW,
    OrderStatus.PARTIALLY_FILLED,
    OrderStatus.PENDING_NEW,
    OrderStatus.UNTRIGGERED,
)


def _target_status(order: Order, incoming: OrderStatus) -> OrderStatus | None:
    """The status `order` takes from a venue update saying `incoming`, or None to keep its own.

    Open news during a cancel keeps `pending_cancel`; an open status is read with the filled
    quantity (`new` with a fill is `partially_filled`, an open order filled in full is
    `filled`)."""
    if incoming in _OPEN_NEWS:
        if order.status == OrderStatus.PENDING_CANCEL:
            return None
        if order.filled_quantity >= order.quantity:
            incoming = OrderStatus.FILLED
        elif order.filled_quantity > 0:
            incoming = OrderStatus.PARTIALLY_FILLED
        elif incoming is OrderStatus.PENDING_NEW:
            return None
    if state.can_transition(order.status, incoming):
        return incoming
    return None


def adopt_order(account: ExchangeAccount, update: OrderUpdate) -> Order:
    """Create the order another client placed on the account's keys, as the venue shows it."""
    client_order_id = update.client_order_id or ""
    if (
        not is_valid_client_order_id(client_order_id)
        or Order.objects.filter(client_order_id=client_order_id).exists()
    ):
        client_order_id = new_client_order_id()
    at = moment(update.exchange_ts) or timezone.now()
    order = Order.objects.create(
        client_order_id=client_order_id,
        venue_order_id=update.venue_order_id or "",
        account=account,
        instrument=instrument_of(account, update.symbol),
        side=update.side,
        order_type=update.order_type,
        time_in_force=update.time_in_force,
        post_only=update.post_only,
        reduce_only=update.reduce_only,
        price=update.price,
        quantity=update.quantity,
        filled_quantity=update.filled_quantity,
        average_fill_price=update.average_price,
        trigger_price=update.trigger_price if update.order_type.is_conditional else None,
        trigger_by=(update.trigger_by or TriggerPrice.MARK)
        if update.order_type.is_conditional
        else "",
        triggered_at=at if _shows_fired(update) else None,
        status=update.status,
        reject_reason=update.reject_reason,
        venue_updated_at=moment(update.exchange_ts),
        is_external=True,
        acknowledged_at=at,
        closed_at=at if state.is_terminal(update.status) else None,
    )
    OrderEvent.objects.append(
        order=order,
        kind=OrderEventKind.RECONCILIATION,
        to_status=order.status,
        message="adopted: placed on the venue outside the gateway",
        payload=payload_of(update),
        exchange_at=moment(update.exchange_ts),
    )
    return order


@dataclass(frozen=True, slots=True)
class Recorded:
    """What `record_fill` did: the `fill` row, whether it was `created` now (False: a repeat),
    and the `order` it belongs to (None until one is known)."""

    fill: Fill
    created: bool
    order: Order | None


@transaction.atomic
def record_fill(account: ExchangeAccount, event: FillEvent) -> Recorded:
    """Record one venue execution of ours once (module rules); a new fill moves its order on
    when it shows more filled than the order does."""
    instrument = instrument_of(account, event.symbol)
    existing = Fill.objects.filter(
        account=account, instrument=instrument, trade_id=event.trade_id
    ).first()
    if existing is not None:
        return Recorded(existing, created=False, order=existing.order)
    order = find_order(
        account, client_order_id=event.client_order_id, venue_order_id=event.venue_order_id
    )
    fill, created = Fill.objects.get_or_create(
        account=account,
        instrument=instrument,
        trade_id=event.trade_id,
        defaults={
            "order": order,
            "venue_order_id": event.venue_order_id or "",
            "client_order_id": event.client_order_id or "",
            "side": event.side,
            "price": event.price,
            "quantity": event.quantity,
            "fee": event.fee,
            "fee_currency": event.fee_currency,
            "liquidity": event.liquidity,
            "executed_at": moment(event.exchange_ts) or timezone.now(),
            "raw": payload_of(event),
        },
    )
    if created and order is not None:
        _fill_moves_order(order, fill, event)
    return Recorded(fill, created=created, order=order)


def _fill_moves_order(order: Order, fill: Fill, event: FillEvent) -> None:
    totals = Fill.objects.filter(order=order).aggregate(quantity=Sum("quantity"))
    filled = totals["quantity"] or ZERO
    if filled > order.filled_quantity and not state.is_terminal(order.status):
        before = order.status
        order.filled_quantity = min(filled, order.quantity)
        notional = sum((f.price * f.quantity for f in Fill.objects.filter(order=order)), ZERO)
        order.average_fill_price = notional / filled
        target = OrderStatus.FILLED if filled >= order.quantity else OrderStatus.PARTIALLY_FILLED
        if order.is_conditional and order.triggered_at is None:
            order.triggered_at = fill.executed_at  # a fill is the news that it fired
        if order.status != OrderStatus.PENDING_CANCEL or target is OrderStatus.FILLED:
            if state.can_transition(order.status, target):
                order.set_status(target, at=fill.executed_at)
        order.save()
        OrderEvent.objects.append(
            order=order,
            kind=OrderEventKind.FILL,
            from_status=before,
            to_status=order.status,
            message=f"fill {fill.trade_id}: {fill.quantity} @ {fill.price}",
            payload=payload_of(event),
            exchange_at=fill.executed_at,
        )
    else:
        OrderEvent.objects.append(
            order=order,
            kind=OrderEventKind.FILL,
            from_status=order.status,
            to_status=order.status,
            message=f"fill {fill.trade_id}: {fill.quantity} @ {fill.price}",
            payload=payload_of(event),
            exchange_at=fill.executed_at,
        )


def attach_fills(order: Order) -> int:
    """Give `order` the fills recorded before it was known by id (a fill that came before the
    acknowledgement carried only an id the order got later); returns how many."""
    match = Q(client_order_id=order.client_order_id)
    if order.venue_order_id:
        match |= Q(venue_order_id=order.venue_order_id)
    return Fill.objects.filter(match, account_id=order.account_id, order__isnull=True).update(
        order=order
    )
