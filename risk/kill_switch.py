"""The kill switch in action: engaging it stops new orders at once (the pre-trade check reads
the switch) and cancels every open order of its scope on the venues; releasing it is an
explicit act, recorded with who did it and why, like the engagement.

The switch is recorded first (`risk.services.kill_switch_set`), so an order racing the
engagement is refused by its check even while the cancels are still going out. Each account is
cancelled on its own: a venue that fails for one account does not stop the others, and what
could not be cancelled is reported (and logged) rather than hidden.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.conf import settings

from exchanges.models import ExchangeAccount
from exchanges.venues.base import VenueError
from orders import metrics
from orders.services import CancelAll, cancel_all_orders
from risk.models import KillSwitch
from risk.services import kill_switch_set

logger = logging.getLogger(__name__)


@dataclass
class Engaged:
    """The switch action, what cancel-all did per account, and the accounts it failed on."""

    action: KillSwitch
    canceled: dict[int, CancelAll] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)


def _scope_label(account: ExchangeAccount | None) -> str:
    return "all" if account is None else str(account.pk)


def accounts_in_scope(account: ExchangeAccount | None) -> list[ExchangeAccount]:
    """The accounts whose orders the switch cancels: `account`, or every trading account."""
    if account is not None:
        return [account]
    return list(
        ExchangeAccount.objects.select_related("exchange").filter(
            enabled=True, exchange__enabled=True, permission="trade"
        )
    )


def engage(
    *,
    reason: str,
    actor: str,
    account: ExchangeAccount | None = None,
    deadline_seconds: float | None = None,
) -> Engaged:
    """Engage the switch of `account` (None: every account) and cancel every open order,
    each account's cancel-all retrying for up to `deadline_seconds`
    (`settings.KILL_SWITCH_CANCEL_SECONDS` unless given) through rate limits and outages."""
    if deadline_seconds is None:
        deadline_seconds = settings.KILL_SWITCH_CANCEL_SECONDS
    action = kill_switch_set(engaged=True, reason=reason, account=account, actor=actor)
    metrics.set_kill_switch(_scope_label(account), True)
    result = Engaged(action)
    for target in accounts_in_scope(account):
        try:
            result.canceled[target.pk] = cancel_all_orders(
                target, actor=f"kill switch ({actor})", deadline_seconds=deadline_seconds
            )
        except VenueError as exc:
            result.failed[target.pk] = f"{type(exc).__name__}: {exc}"
            logger.error("kill switch: cancel-all of %s failed: %s", target, exc)
        else:
            if result.canceled[target.pk].still_open != 0:
                result.failed[target.pk] = "orders still open on the venue at the deadline"
    return result


def release(*, reason: str, actor: str, account: ExchangeAccount | None = None) -> KillSwitch:
    """Release the switch of `account` (None: the global one). Needs a reason and an actor."""
    if not reason.strip() or not actor.strip():
        raise ValueError("releasing the kill switch needs a reason and who releases it")
    action = kill_switch_set(engaged=False, reason=reason, account=account, actor=actor)
    metrics.set_kill_switch(_scope_label(account), False)
    return action
