"""The order path: submit, cancel and cancel-all, free of HTTP (the API, admin actions,
tasks and the kill switch call these; amending is `orders.amend`).

Submission, in this order, each step before the next:

1. the request is checked against the instrument (`orders/validation.py`: active, tick, lot, minimum size and notional)
   and the account (enabled, on the instrument's exchange, allowed to trade); a bad field is a
   `django.core.exceptions.ValidationError` naming it;
2. the pre-trade risk checks run (`risk.context.check_order`); a refusal is a `RiskRejected`
   and a `RiskEvent`, and nothing is written or sent;
3. the order is written as `pending_new` with its `submit` event and the acting user, and that
   is committed: whatever happens next, the order exists;
4. it is sent; the venue's answer is applied through `orders.ingest` like every other venue
   message. A venue refusal makes it `rejected` with the venue's code and message. An answer
   lost to a timeout or a dropped connection is settled by the adapter (lookup by client order
   id); when even that cannot tell, the order stays `pending_new`, is never sent again, and the
   next reconciliation settles it.

The client order id makes a submission idempotent: a second request with the same id returns the
order already made and sends nothing, also when both race (the database's unique constraint
decides which one writes and sends; the other reads what it wrote).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from exchanges.models import ExchangeAccount, Instrument
from exchanges.venues.base import (
    InvalidOrder,
    OrderNotFound,
    OrderRequest,
    OrderStatus,
    OrderType,
    OrderUpdate,
    RateLimited,
    Side,
    SubmissionUncertain,
    TimeInForce,
    TriggerPrice,
    VenueError,
    VenueUnavailable,
)
from orders import ingest, metrics, notify, state
from orders.choices import OrderEventKind
from orders.ids import is_valid_client_order_id
from orders.models import Order, OrderEvent
from orders.validation import instrument_for, invalid, validate_order
from orders.venue import client_for, venue_name
from risk.checks import Proposed
from risk.choices import RiskEventKind, Severity
from risk.context import check_order
from risk.models import RiskEvent

logger = logging.getLogger(__name__)

ZERO = Decimal(0)


class RiskRejected(Exception):
    """A pre-trade check refused the order: `code` names the check, `reason` the figures."""

    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason


class OrderNotOpen(Exception):
    """Amend or cancel of an order that is closed (or not yet known to the venue)."""


@dataclass(frozen=True, slots=True)
class Submitted:
    """The order and whether this call made it (False: the client order id was known)."""

    order: Order
    created: bool


def _published(order: Order) -> None:
    """Tell the account's `/ws/stream` readers about `order` once this transaction commits."""
    notify.publish_after_commit(order.account_id, notify.ORDERS, notify.order_data(order))


def record_error(order: Order, message: str, exc: VenueError) -> None:
    """An `error` event in the order's history: the venue's `exc` left it as it was."""
    OrderEvent.objects.append(
        order=order,
        kind=OrderEventKind.ERROR,
        from_status=order.status,
        to_status=order.status,
        message=message,
        payload={"error": type(exc).__name__, "code": str(exc.code)},
    )


def _known(client_order_id: str, account: ExchangeAccount) -> Order | None:
    order = Order.objects.filter(client_order_id=client_order_id).first()
    if order is not None and order.account_id != account.pk:
        raise invalid("client_order_id", "already used by another account's order")
    return order


def submit_order(
    *,
    account: ExchangeAccount,
    symbol: str,
    side: Side | str,
    order_type: OrderType | str,
    quantity: Decimal,
    price: Decimal | None = None,
    time_in_force: TimeInForce | str = TimeInForce.GTC,
    post_only: bool = False,
    reduce_only: bool = False,
    client_order_id: str | None = None,
    actor: str = "",
    trigger_price: Decimal | None = None,
    trigger_by: TriggerPrice | str | None = None,
    parent=None,
) -> Submitted:
    """Check, write, send and record one order (module docstring). A conditional `order_type`
    (stop, take profit) takes a `trigger_price` and the price it watches, `trigger_by` (mark
    unless given). `parent`: the routed order this order is a child of, written with it."""
    side, order_type, time_in_force = Side(side), OrderType(order_type), TimeInForce(time_in_force)
    if order_type.is_conditional:
        trigger_by = TriggerPrice(trigger_by or TriggerPrice.MARK)
    elif trigger_by:
        raise invalid("trigger_by", "only a stop or take-profit order watches a trigger price")
    if client_order_id is not None:
        if not is_valid_client_order_id(client_order_id):
            raise invalid("client_order_id", "1 to 32 letters and digits")
        known = _known(client_order_id, account)
        if known is not None:
            return Submitted(known, created=False)
    instrument = instrument_for(account, symbol)
    validate_order(
        account,
        instrument,
        order_type=order_type,
        quantity=quantity,
        price=price,
        post_only=post_only,
        trigger_price=trigger_price,
    )
    started = time.perf_counter()
    order = _write_pending(
        account,
        instrument,
        side=side,
        order_type=order_type,
        quantity=quantity,
        price=price,
        time_in_force=time_in_force,
        post_only=post_only,
        reduce_only=reduce_only,
        trigger_price=trigger_price,
        trigger_by=trigger_by or "",
        parent=parent,
        client_order_id=client_order_id,
        actor=actor,
    )
    if order.pk is None:  # the same client order id won a race: its order is the answer
        return Submitted(_known(order.client_order_id, account), created=False)
    _send(order)
    metrics.observe_entry(account.exchange.venue, time.perf_counter() - started, order.status)
    return Submitted(order, created=True)


def _write_pending(account: ExchangeAccount, instrument: Instrument, **fields) -> Order:
    """Run the risk checks and write the order `pending_new`, under the account's row lock so
    that two orders of one account are checked one after the other (their limits add up).
    Returns an unsaved order when another request took the client order id meanwhile; raises
    `RiskRejected` (after recording its `RiskEvent`) when a check refuses it."""
    actor = fields.pop("actor")
    client_order_id = fields.pop("client_order_id")
    with transaction.atomic():
        ExchangeAccount.objects.select_for_update().filter(pk=account.pk).first()
        if client_order_id is not None and (found := _known(client_order_id, account)):
            return Order(client_order_id=found.client_order_id)
        proposed = Proposed(
            info=instrument.info(),
            side=fields["side"],
            order_type=fields["order_type"],
            quantity=fields["quantity"],
            price=fields["price"],
            reduce_only=fields["reduce_only"],
        )
        checked = check_order(account, instrument, proposed)
        if checked.rejection is None:
            # stamped now: the send follows the commit at once
            order = Order(
                account=account, instrument=instrument, submitted_at=timezone.now(), **fields
            )
            if client_order_id is None:
                order.save(force_insert=True)  # a fresh random id: no one else holds it
            else:
                order.client_order_id = client_order_id
                try:
                    with transaction.atomic():
                        order.save(force_insert=True)
                except IntegrityError:  # another account's request took the id meanwhile
                    return Order(client_order_id=client_order_id)
            OrderEvent.objects.create(  # an order's first event: no sequence to look up
                order=order,
                sequence=1,
                kind=OrderEventKind.SUBMIT,
                to_status=order.status,
                message=f"submitted by {actor}" if actor else "submitted",
                payload={"actor": actor},
            )
            _published(order)
            return order
    _refused(account, instrument, checked, fields, actor)
    raise AssertionError("unreachable")  # _refused raises


def _refused(account, instrument, checked, fields, actor, order: Order | None = None) -> None:
    """Record a risk refusal as a `RiskEvent` (of `order`, for an amend) and raise it as
    `RiskRejected`."""
    rejection = checked.rejection
    details = {
        "check": rejection.code,
        "symbol": instrument.symbol,
        "side": str(fields["side"]),
        "quantity": str(fields["quantity"]),
        "price": None if fields["price"] is None else str(fields["price"]),
        "actor": actor,
    }
    if checked.limit is not None:
        details["limit"] = checked.limit.pk
        details["limit_name"] = checked.limit.name
    RiskEvent.objects.create(
        kind=RiskEventKind.ORDER_REJECTED,
        severity=Severity.WARNING,
        account=account,
        order=order,
        message=rejection.reason,
        details=details,
    )
    metrics.count_reject(rejection.code)
    raise RiskRejected(rejection.code, rejection.reason)


def _send(order: Order) -> None:
    client = client_for(order.account)
    request = OrderRequest(
        symbol=order.instrument.symbol,
        venue_symbol=venue_name(client, order.instrument),
        client_order_id=order.client_order_id,
        side=Side(order.side),
        order_type=OrderType(order.order_type),
        quantity=order.quantity,
        price=order.price,
        time_in_force=TimeInForce(order.time_in_force),
        post_only=order.post_only,
        reduce_only=order.reduce_only,
        trigger_price=order.trigger_price,
        trigger_by=TriggerPrice(order.trigger_by or TriggerPrice.MARK),
    )
    try:
        answer = client.place_order(request)
    except SubmissionUncertain as exc:
        _record_unknown(order, exc)
    except (InvalidOrder, RateLimited) as exc:
        _record_venue_reject(order, exc)
    except VenueError as exc:
        if isinstance(exc, VenueUnavailable):
            _record_unknown(order, exc)
        else:
            _record_venue_reject(order, exc)
    else:
        _apply(order, answer)
        return
    order.refresh_from_db()


def _apply(order: Order, answer: OrderUpdate) -> ingest.Applied:
    """Apply the venue's answer about `order` (and give it the fills that came before its ids
    were known), then bring `order` up to date."""
    with transaction.atomic():
        applied = ingest.apply_order_update(order.account, answer)
        ingest.attach_fills(applied.order or order)
    if applied.changed and applied.order is not None:
        _published(applied.order)
    if applied.order is not None and applied.order.pk == order.pk:
        for field in Order._meta.concrete_fields:  # the row as ingest left it, no re-read
            setattr(order, field.attname, getattr(applied.order, field.attname))
    else:
        order.refresh_from_db()
    return applied


def _record_venue_reject(order: Order, exc: VenueError) -> None:
    reason = f"{exc.code}: {exc.message}" if exc.code else exc.message
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status != OrderStatus.PENDING_NEW:
            return  # a push got there first
        before = locked.status
        locked.set_status(OrderStatus.REJECTED)
        locked.reject_reason = reason
        locked.save(update_fields=["status", "reject_reason", "closed_at", "updated_at"])
        OrderEvent.objects.append(
            order=locked,
            kind=OrderEventKind.STATUS_CHANGE,
            from_status=before,
            to_status=locked.status,
            message=f"rejected by the venue: {reason}",
            payload={"error": type(exc).__name__, "code": str(exc.code), "message": exc.message},
        )
        _published(locked)
    metrics.count_reject(f"venue_{type(exc).__name__}")


def _record_unknown(order: Order, exc: VenueError) -> None:
    outcome = getattr(exc, "outcome", None)
    OrderEvent.objects.append(
        order=order,
        kind=OrderEventKind.ERROR,
        from_status=order.status,
        to_status=order.status,
        message=(
            f"the venue's answer was lost ({exc.message}); lookup: "
            f"{outcome or 'not possible'}. Not sent again: reconciliation settles it."
        ),
        payload={"error": type(exc).__name__, "outcome": str(outcome or "")},
    )
    logger.warning("order %s outcome unknown: %s", order.client_order_id, exc)


# --------------------------------------------------------------------------- cancel


def cancel_order(order: Order, *, actor: str = "") -> Order:
    """Ask the venue to cancel an open order. The order is `pending_cancel` until the venue's
    answer (or push) settles it; a refused cancel puts it back to its open status, and an order
    the venue no longer has open is looked up and takes its final state from the venue."""
    with transaction.atomic():
        order = (
            Order.objects.select_for_update()
            .select_related("account__exchange", "instrument__exchange")
            .get(pk=order.pk)
        )
        if state.is_terminal(order.status):
            raise OrderNotOpen(f"order {order.pk} is {order.status}: nothing to cancel")
        before = order.status
        awaits_trigger = _awaits_trigger(order)
        if order.status != OrderStatus.PENDING_CANCEL:
            order.set_status(OrderStatus.PENDING_CANCEL)
            order.save(update_fields=["status", "updated_at"])
        OrderEvent.objects.append(
            order=order,
            kind=OrderEventKind.CANCEL_REQUEST,
            from_status=before,
            to_status=order.status,
            message=f"cancel requested by {actor}" if actor else "cancel requested",
            payload={"actor": actor},
        )
        _published(order)
    client = client_for(order.account)
    try:
        answer = client.cancel_order(
            venue_name(client, order.instrument),
            client_order_id=order.client_order_id,
            venue_order_id=order.venue_order_id or None,
            conditional=awaits_trigger,
        )
    except OrderNotFound as exc:
        answer = _look_up(client, order)
        if answer is None:
            _cancel_refused(order, exc, still_open=False)
            return order
    except InvalidOrder as exc:  # e.g. "order already closed": ask what it is now
        answer = _look_up(client, order)
        if answer is None or not answer.status.is_terminal:
            _cancel_refused(order, exc, still_open=True)
            return order
    except VenueError as exc:
        record_error(
            order,
            f"cancel not confirmed ({type(exc).__name__}: {exc.message}); the stream "
            "or reconciliation settles it",
            exc,
        )
        raise
    _apply(order, answer)
    return order


def _awaits_trigger(order: Order) -> bool:
    """Whether `order` is a conditional order that has not fired (as far as we know)."""
    return order.is_conditional and order.triggered_at is None and order.filled_quantity == 0


def _look_up(client, order: Order) -> OrderUpdate | None:
    try:
        return client.order_by_client_id(
            venue_name(client, order.instrument), order.client_order_id
        )
    except VenueError:
        return None


def _cancel_refused(order: Order, exc: VenueError, *, still_open: bool) -> None:
    """The venue refused the cancel. Still open there: back to the open status. Unknown there:
    the order stays `pending_cancel` for reconciliation, which asks the venue again."""
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        before = locked.status
        if still_open and locked.status == OrderStatus.PENDING_CANCEL:
            locked.set_status(
                state.status_after_cancel_rejected(
                    locked.filled_quantity, untriggered=_awaits_trigger(locked)
                )
            )
            locked.save(update_fields=["status", "updated_at"])
        OrderEvent.objects.append(
            order=locked,
            kind=OrderEventKind.CANCEL_REJECTED,
            from_status=before,
            to_status=locked.status,
            message=f"cancel refused by the venue: {exc.code} {exc.message}".strip(),
            payload={"error": type(exc).__name__, "code": str(exc.code)},
        )
        _published(locked)
    order.refresh_from_db()


@dataclass(frozen=True, slots=True)
class CancelAll:
    """What `cancel_all_orders` did: orders the venue canceled (its count, summed over rounds),
    rounds it took, rate-limit answers met, and the venue orders still open at the end (0:
    done; None: the venue could not be asked before the deadline)."""

    venue_canceled: int
    rounds: int
    rate_limited: int
    still_open: int | None


def cancel_all_orders(
    account: ExchangeAccount,
    *,
    symbol: str | None = None,
    actor: str = "",
    deadline_seconds: float = 30.0,
    sleep=time.sleep,
) -> CancelAll:
    """Cancel every open order of `account` (on one instrument with `symbol`) on the venue,
    retrying through rate limits and partial answers until the venue shows none open or the
    deadline passes; then our open orders take their final state from the venue."""
    account = ExchangeAccount.objects.select_related("exchange").get(pk=account.pk)
    client = client_for(account)
    venue_symbol = venue_name(client, instrument_for(account, symbol)) if symbol else None
    canceled = rounds = limited = 0
    open_left: int | None = None  # None: the venue's answer is not known yet
    ends = time.monotonic() + deadline_seconds
    while True:
        rounds += 1
        try:
            canceled += client.cancel_all(venue_symbol)
            open_left = len(client.open_orders(venue_symbol))
            wait = 0.05
        except RateLimited as exc:
            limited += 1
            open_left, wait = None, exc.retry_after or 0.2
        except VenueUnavailable:
            open_left, wait = None, 0.5
        if open_left == 0 or time.monotonic() + wait > ends:
            break
        sleep(wait)
    _settle_open_orders(account, client, symbol)
    logger.info(
        "cancel-all of %s by %s: %d canceled in %d rounds, %d rate-limited, %s still open",
        account,
        actor or "?",
        canceled,
        rounds,
        limited,
        "unknown" if open_left is None else open_left,
    )
    return CancelAll(canceled, rounds, limited, open_left)


def _settle_open_orders(account, client, symbol: str | None) -> None:
    """Our open orders after a cancel-all: each takes the venue's state (looked up by client
    order id); one the venue does not know stays for reconciliation."""
    orders = Order.objects.filter(account=account, status__in=state.OPEN_STATUSES)
    if symbol is not None:
        orders = orders.filter(instrument__symbol=symbol)
    for order in orders.select_related("instrument", "account"):
        answer = _look_up(client, order)
        if answer is None:
            continue
        _apply(order, answer)
