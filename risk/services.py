"""Writes of the risk app: limits, circuit breakers and the kill switch (keyword-only, one
transaction each)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from exchanges.models import ExchangeAccount
from risk.choices import RiskEventKind, Severity
from risk.models import CircuitBreaker, KillSwitch, RiskEvent, RiskLimit


@transaction.atomic
def risk_limit_create(**fields: Any) -> RiskLimit:
    limit = RiskLimit(**fields)
    limit.full_clean()
    limit.save()
    return limit


@transaction.atomic
def risk_limit_update(*, limit: RiskLimit, **fields: Any) -> RiskLimit:
    for name, value in fields.items():
        setattr(limit, name, value)
    limit.full_clean()
    limit.save()
    return limit


@transaction.atomic
def kill_switch_set(
    *, engaged: bool, reason: str, account: ExchangeAccount | None = None, actor: str = ""
) -> KillSwitch:
    """Engage or release the kill switch of `account` (None: every account), and record it as
    a critical risk event. What engaging does to orders is the order path's job."""
    action = KillSwitch.objects.create(
        account=account, engaged=engaged, reason=reason, engaged_by=actor
    )
    scope = "every account" if account is None else str(account)
    RiskEvent.objects.create(
        kind=RiskEventKind.KILL_SWITCH,
        severity=Severity.CRITICAL if engaged else Severity.INFO,
        account=account,
        message=f"kill switch {'engaged' if engaged else 'released'} for {scope} by {actor}: {reason}",
        details={"kill_switch": action.pk},
    )
    return action


@transaction.atomic
def circuit_breaker_create(**fields: Any) -> CircuitBreaker:
    breaker = CircuitBreaker(**fields)
    breaker.full_clean()
    breaker.save()
    return breaker
