"""Reads of the portfolio app: the querysets that admin, API, commands and tasks share."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from exchanges.models import ExchangeAccount
from exchanges.selectors import accounts_enabled, accounts_visible_to
from portfolio.models import Balance, Position, ReconciliationReport


def accounts_to_reconcile(*, ids: Iterable[int] | None = None) -> list[ExchangeAccount]:
    """Enabled accounts with keys on enabled exchanges (of `ids` when given), by id: the ones
    a reconciliation runs for (an account without an API key has nothing a venue would
    answer). Keys are encrypted, so that test is made on the decrypted rows."""
    accounts = accounts_enabled().order_by("pk")
    if ids is not None:
        accounts = accounts.filter(pk__in=list(ids))
    return [account for account in accounts if account.api_key]


def positions_visible_to(user) -> QuerySet[Position]:
    return Position.objects.filter(account__in=accounts_visible_to(user)).select_related(
        "account__exchange", "instrument"
    )


def balances_visible_to(user) -> QuerySet[Balance]:
    return Balance.objects.filter(account__in=accounts_visible_to(user)).select_related(
        "account__exchange"
    )


def reports_visible_to(user) -> QuerySet[ReconciliationReport]:
    return ReconciliationReport.objects.filter(account__in=accounts_visible_to(user))
