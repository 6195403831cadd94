"""Scheduled jobs of the risk app (Celery; the schedule lives in django-celery-beat's tables,
so an operator changes its interval or disables it in admin: "Periodic tasks")."""

from __future__ import annotations

import logging

from celery import shared_task

from risk import monitor

log = logging.getLogger(__name__)

RISK_CHECKS_TASK = "risk.tasks.run_risk_checks"


@shared_task(name=RISK_CHECKS_TASK)
def run_risk_checks() -> int:
    """Run the scheduled risk checks once (`risk.monitor.run_checks_once`); returns how many
    risk events they wrote."""
    events = monitor.run_checks_once()
    if events:
        log.warning("risk checks: %s new finding(s)", len(events))
    return len(events)
