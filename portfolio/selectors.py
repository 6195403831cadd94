"""Reads of the portfolio app: the querysets that admin, API, commands and tasks share."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.db.models import QuerySet, Sum

from exchanges.models import ExchangeAccount
from exchanges.selectors import accounts_enabled, accounts_visible_to
from portfolio.models import AppliedFill, Balance, LedgerEntry, Position, ReconciliationReport


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


def realized_since(account: ExchangeAccount, since: datetime) -> dict[int, Decimal]:
    """The PnL `account` realized from `since` on, by instrument id, in each instrument's
    settle currency: its fills executed since then (net of fees in that currency) and its
    account executions (funding, delivery, ...). `Position.realized_pnl` is the total since
    the position was first seen; this is what a daily loss limit wants."""
    totals: dict[int, Decimal] = {}
    fills = (
        AppliedFill.objects.filter(fill__account=account, fill__executed_at__gte=since)
        .values("fill__instrument_id")
        .annotate(total=Sum("realized"))
    )
    for row in fills:
        totals[row["fill__instrument_id"]] = row["total"]
    executions = (
        LedgerEntry.objects.filter(account=account, executed_at__gte=since)
        .values("instrument_id")
        .annotate(total=Sum("realized"))
    )
    for row in executions:
        instrument = row["instrument_id"]
        totals[instrument] = totals.get(instrument, Decimal(0)) + row["total"]
    return totals
