"""Reconciliation: the gateway's orders, fills, positions and balances of one account made
equal to the venue's, which is the source of truth, with one `ReconciliationReport` per kind
saying what was compared, what differed and what was done.

`reconcile_account(account)` runs the four in order: open orders (`orders.py`: ours the venue
does not list are looked up by client order id; the venue's we do not know are adopted), fills
since the account's cursor (`fills.py`: recorded once and counted in their position), then
positions and balances (`holdings.py`: the venue's figures taken). Fills come before positions
so that the venue's position, applied last, is what stays.

A venue error in one kind ends that kind's report with status `error` and the venue's message;
the other kinds still run. Any other failure of a kind (a fault of the gateway's) does the same,
logged with its traceback, so no report is left `running`. Nothing here raises for one
account. Each report's differences count in `gateway_reconciliation_differences_total`
(`orders.metrics`, by kind).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.utils import timezone

from exchanges.clients import rest_client
from exchanges.models import ExchangeAccount
from exchanges.venues.base import VenueError
from exchanges.venues.protocols import RestClient
from orders import metrics
from portfolio.choices import ReconciliationKind, ReconciliationStatus
from portfolio.models import ReconciliationReport
from portfolio.reconciliation.common import Findings
from portfolio.reconciliation.fills import reconcile_fills
from portfolio.reconciliation.holdings import reconcile_balances, reconcile_positions
from portfolio.reconciliation.orders import reconcile_orders

log = logging.getLogger(__name__)

__all__ = ["KINDS", "reconcile_account"]

Step = Callable[[ExchangeAccount, RestClient, Findings], None]

KINDS: tuple[tuple[ReconciliationKind, Step], ...] = (
    (ReconciliationKind.ORDERS, reconcile_orders),
    (ReconciliationKind.FILLS, reconcile_fills),
    (ReconciliationKind.POSITIONS, reconcile_positions),
    (ReconciliationKind.BALANCES, reconcile_balances),
)


def reconcile_account(
    account: ExchangeAccount, *, client: RestClient | None = None
) -> list[ReconciliationReport]:
    """Reconcile `account` with its venue (module docstring): one finished report per kind,
    in the order orders, fills, positions, balances. `client` defaults to the account's own
    REST client (`exchanges.clients.rest_client`), closed at the end."""
    owned = client is None
    reports = [ReconciliationReport.objects.create(account=account, kind=kind) for kind, _ in KINDS]
    try:
        if owned:
            client = rest_client(exchange=account.exchange, account=account)
            client.sync_clock()
    except VenueError as error:
        for report in reports:
            _finish(report, Findings(), error=error)
        if client is not None:
            client.close()
        return reports
    try:
        for report, (_, step) in zip(reports, KINDS, strict=True):
            findings = Findings()
            try:
                step(account, client, findings)
            except VenueError as error:
                log.warning("reconciliation of %s, %s: %s", account, report.kind, error)
                _finish(report, findings, error=error)
            except Exception as error:  # a fault of ours: logged in full, the next kind runs
                log.exception("reconciliation of %s, %s failed", account, report.kind)
                _finish(report, findings, error=error)
            else:
                _finish(report, findings)
    finally:
        if owned:
            client.close()
    return reports


def _finish(
    report: ReconciliationReport, findings: Findings, *, error: Exception | None = None
) -> None:
    if error is not None:
        report.status = ReconciliationStatus.ERROR
    elif findings.mismatches:
        report.status = ReconciliationStatus.MISMATCH
    else:
        report.status = ReconciliationStatus.OK
    report.checked = findings.checked
    report.mismatches = findings.mismatches
    report.details = findings.as_details(error)
    report.finished_at = timezone.now()
    report.save(update_fields=["status", "checked", "mismatches", "details", "finished_at"])
    metrics.count_differences(report.kind, findings.mismatches)
