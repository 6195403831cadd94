"""What an account's private stream says, applied to the database and published.

`apply_private_event(account, event)` runs on the connectors' database thread
(`persist.in_thread`), one event at a time in the order the stream delivered them:

| event | applied by |
| --- | --- |
| `OrderUpdate` | `orders.ingest.apply_order_update` (forward only; an unknown order is adopted as external) |
| `FillEvent` | `orders.ingest.record_fill` (a fill pushed twice is recorded once), then the position: `portfolio.services.apply_fill` (counted once) |
| `PositionUpdate` | `portfolio.services.apply_position_update` (a stale push is ignored) |
| `BalanceUpdate` | `portfolio.services.apply_balance_update` (likewise) |
| `AccountExecution` | `portfolio.services.record_execution` (funding, settlement, delivery, ADL, liquidation: a ledger entry, never a fill, counted in the position's PnL as what it is) |

Each change is published after its transaction commits (`orders.notify`): an order that moved,
a new fill with the order and position it moved, a position, a balance. A fill pushed before its order was
known by the ids it carries (the order push came second, or the order is adopted only now) is
attached to the order when the order's update arrives (`ingest.attach_fills`) and published
again with its order. An event about an instrument the
exchange does not list, or one the database refuses (a constraint), is logged with the event
and skipped: one bad message never stops the account's stream. Any other database error (the
database away) is raised: the stream's life ends, and the next one catches up over REST. The
answer says what happened, for the stream's counters and the tests.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction

from exchanges.venues.base import (
    AccountExecution,
    BalanceUpdate,
    FillEvent,
    OrderUpdate,
    PositionUpdate,
)
from orders import ingest, notify
from orders.models import Fill
from portfolio import services as portfolio

log = logging.getLogger(__name__)

APPLIED = "applied"  # something changed and was published
UNCHANGED = "unchanged"  # a repeat, a stale push, nothing new
SKIPPED = "skipped"  # an unknown instrument or a message the database refused
IGNORED = "ignored"  # not an account event (a stream status)


def apply_private_event(account: Any, event: Any) -> str:
    """Apply one private stream event of `account` (an `ExchangeAccount`) and publish what it
    changed (module docstring); returns APPLIED, UNCHANGED, SKIPPED or IGNORED."""
    try:
        with transaction.atomic():
            return _apply(account, event)
    except ingest.UnknownInstrument as exc:
        log.warning("%s: %s; skipped %r", account, exc, event)
        return SKIPPED
    except (IntegrityError, ValueError, ArithmeticError) as exc:
        log.error("%s: could not apply %r (%s); skipped", account, event, exc)
        return SKIPPED


def _apply(account: Any, event: Any) -> str:
    kind = type(event)
    if kind is OrderUpdate:
        applied = ingest.apply_order_update(account, event)
        if not applied.changed or applied.order is None:
            return UNCHANGED
        order = applied.order
        notify.publish_after_commit(account.pk, notify.ORDERS, notify.order_data(order))
        if ingest.attach_fills(order):  # fills pushed before the order was known by this id
            for fill in Fill.objects.filter(order=order).select_related("instrument"):
                notify.publish_after_commit(account.pk, notify.FILLS, notify.fill_data(fill))
        return APPLIED
    if kind is FillEvent:
        recorded = ingest.record_fill(account, event)
        if not recorded.created:
            return UNCHANGED
        notify.publish_after_commit(account.pk, notify.FILLS, notify.fill_data(recorded.fill))
        position = portfolio.apply_fill(recorded.fill)
        notify.publish_after_commit(account.pk, notify.POSITIONS, notify.position_data(position))
        if recorded.order is not None:
            notify.publish_after_commit(
                account.pk, notify.ORDERS, notify.order_data(recorded.order)
            )
        return APPLIED
    if kind is PositionUpdate:
        synced = portfolio.apply_position_update(account, event)
        if not synced.changed:
            return UNCHANGED
        notify.publish_after_commit(account.pk, notify.POSITIONS, notify.position_data(synced.row))
        return APPLIED
    if kind is BalanceUpdate:
        synced = portfolio.apply_balance_update(account, event)
        if not synced.changed:
            return UNCHANGED
        notify.publish_after_commit(account.pk, notify.BALANCES, notify.balance_data(synced.row))
        return APPLIED
    if kind is AccountExecution:
        entry, created = portfolio.record_execution(account, event)
        if not created:
            return UNCHANGED
        log.info(
            "%s: %s %s %s %s (execution %s)",
            account,
            event.kind,
            event.symbol,
            event.amount,
            event.currency,
            event.execution_id,
        )
        position = entry.account.positions.filter(instrument=entry.instrument).first()
        if position is not None:
            notify.publish_after_commit(
                account.pk, notify.POSITIONS, notify.position_data(position)
            )
        return APPLIED
    return IGNORED
