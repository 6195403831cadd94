"""Scheduled jobs of the portfolio app (Celery; the schedule lives in django-celery-beat's
tables: "Reconciliation" in admin's periodic tasks, created by
portfolio/migrations/0004_reconciliation_schedule.py)."""

from __future__ import annotations

import logging

from celery import shared_task

from portfolio.reconciliation import reconcile_account
from portfolio.selectors import accounts_to_reconcile

log = logging.getLogger(__name__)

RECONCILE_TASK = "portfolio.tasks.reconcile_accounts"


@shared_task(name=RECONCILE_TASK)
def reconcile_accounts() -> dict[str, int]:
    """Reconcile every enabled account that has keys; returns how many reports ended in each
    status. A venue's refusal is already an error report; anything else going wrong with one
    account is logged with its traceback and the next account still runs."""
    statuses: dict[str, int] = {}
    for account in accounts_to_reconcile():
        try:
            reports = reconcile_account(account)
        except Exception:
            log.exception("reconciliation of %s failed", account)
            statuses["failed"] = statuses.get("failed", 0) + 1
            continue
        for report in reports:
            statuses[report.status] = statuses.get(report.status, 0) + 1
    log.info("reconciliation: %s", statuses)
    return statuses
