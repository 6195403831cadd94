"""Scheduled jobs of the market data app (Celery; the schedule lives in django-celery-beat's
tables, so an operator changes it in admin: "Periodic tasks")."""

from __future__ import annotations

import logging

from celery import shared_task

from marketdata import storage

log = logging.getLogger(__name__)

PRUNE_TASK = "marketdata.tasks.prune_market_data"


@shared_task(name=PRUNE_TASK)
def prune_market_data() -> dict[str, int]:
    """Delete trades, candles and top-of-book samples past their retention horizon
    (`settings.MARKETDATA_RETENTION_DAYS`)."""
    deleted = storage.prune()
    log.info("market data retention: deleted %s", deleted)
    return deleted
