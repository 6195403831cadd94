"""Open orders: the venue's open orders against ours.

- A venue order we know is applied through `orders.ingest.apply_order_update` (the same rules
  as a push: a filled quantity or an amendment we missed is taken, nothing moves back).
- A venue order we do not know (placed by another client on the same keys) is adopted, marked
  `is_external` (`ingest.adopt_order`, through `apply_order_update`).
- A venue order open that we hold as closed (filled, canceled, ...) is reported and left: an
  order only moves forward, and an operator decides (cancel it on the venue, say).
- An order open here that the venue does not list is looked up by its client order id and the
  answer applied (it was filled, canceled or expired while we were not listening). When the
  venue does not know it at all and it is still `pending_new` after
  `settings.RECONCILIATION_PENDING_GRACE_SECONDS`, its placement never arrived: it is rejected,
  "not found on venue". An acknowledged order the venue does not know is reported and left.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from exchanges.models import ExchangeAccount
from exchanges.venues.base import OrderStatus, OrderUpdate
from exchanges.venues.protocols import RestClient
from orders import ingest, state
from orders.choices import OrderEventKind
from orders.models import Order, OrderEvent
from portfolio.reconciliation.common import Findings, client_symbol

NOT_FOUND = "not found on venue"


def reconcile_orders(account: ExchangeAccount, client: RestClient, findings: Findings) -> None:
    ours, listed = _take_listed(account, client.open_orders(), findings)
    for order in ours:
        if order.pk not in listed:
            findings.checked += 1
            _settle_absent(account, client, order, findings)


@transaction.atomic
def _take_listed(
    account: ExchangeAccount, venue_orders: list[OrderUpdate], findings: Findings
) -> tuple[list[Order], set[int]]:
    """Apply the venue's open orders (one transaction: one commit for them all); returns our
    open orders as they were and the ids of those the venue listed."""
    ours = list(
        Order.objects.filter(account=account, status__in=state.OPEN_STATUSES).select_related(
            "instrument__exchange"
        )
    )
    by_venue_id = {o.venue_order_id: o for o in ours if o.venue_order_id}
    by_client_id = {o.client_order_id: o for o in ours}
    listed: set[int] = set()
    for update in venue_orders:
        findings.checked += 1
        known = by_venue_id.get(update.venue_order_id or "") or by_client_id.get(
            update.client_order_id or ""
        )
        if known is None:
            known = ingest.find_order(
                account,
                client_order_id=update.client_order_id,
                venue_order_id=update.venue_order_id,
            )
        if known is not None:
            listed.add(known.pk)
        _apply(account, update, known, findings)
    return ours, listed


def _apply(
    account: ExchangeAccount, update: OrderUpdate, known: Order | None, findings: Findings
) -> None:
    try:
        applied = ingest.apply_order_update(account, update)
    except ingest.UnknownInstrument as error:
        findings.notes.append(f"venue order {update.venue_order_id}: {error}")
        return
    if known is None:
        findings.differ(
            "order unknown to the gateway",
            "adopted as external",
            order=applied.order.pk,
            venue_order_id=update.venue_order_id,
            client_order_id=update.client_order_id,
            symbol=update.symbol,
            venue_status=str(update.status),
        )
    elif applied.ignored == "terminal":
        findings.differ(
            "open on the venue, closed here",
            "left for an operator: an order never reopens",
            order=known.pk,
            ours=str(known.status),
            venue=str(update.status),
        )
    elif applied.changed:
        findings.differ(
            "order differs from the venue's",
            f"took the venue's state: {applied.order.status}",
            order=known.pk,
            ours=str(known.status),
            venue=str(update.status),
        )


def _settle_absent(
    account: ExchangeAccount, client: RestClient, order: Order, findings: Findings
) -> None:
    answer = client.order_by_client_id(
        client_symbol(client, order.instrument), order.client_order_id
    )
    if answer is not None:
        applied = ingest.apply_order_update(account, answer)
        findings.differ(
            "open here, not open on the venue",
            f"took the venue's answer: {applied.order.status}",
            order=order.pk,
            ours=str(order.status),
            venue=str(answer.status),
        )
        return
    sent = order.submitted_at or order.created_at
    grace = timedelta(seconds=settings.RECONCILIATION_PENDING_GRACE_SECONDS)
    if order.status == OrderStatus.PENDING_NEW and sent <= timezone.now() - grace:
        _reject_not_found(order)
        findings.differ(
            "sent, never seen by the venue",
            f"rejected: {NOT_FOUND}",
            order=order.pk,
            ours=str(order.status),
        )
    elif order.status == OrderStatus.PENDING_NEW:
        findings.notes.append(f"order {order.pk}: pending_new within the grace period, left")
    else:
        findings.differ("open here, unknown to the venue", "left for an operator", order=order.pk)


@transaction.atomic
def _reject_not_found(order: Order) -> None:
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.status != OrderStatus.PENDING_NEW:
        return  # a push answered meanwhile
    before = order.status
    order.set_status(OrderStatus.REJECTED)
    order.reject_reason = NOT_FOUND
    order.save(update_fields=["status", "reject_reason", "closed_at", "updated_at"])
    OrderEvent.objects.append(
        order=order,
        kind=OrderEventKind.RECONCILIATION,
        from_status=before,
        to_status=order.status,
        message=f"rejected by reconciliation: {NOT_FOUND}",
    )
