"""What each account holds: positions per instrument and balances per currency, plus the reports
of the reconciliation that compares them (and orders and fills) with the venue."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils import timezone

from exchanges.models import ExchangeAccount, Instrument
from gateway_site.models_base import money_field
from portfolio.choices import ReconciliationKind, ReconciliationStatus

ZERO = Decimal(0)


class Position(models.Model):
    """The open position of an account in one instrument.

    `quantity` is signed (positive long, negative short) in the instrument's order quantity
    unit (contracts, or base currency for spot). PnL figures are in the settle currency.
    """

    account = models.ForeignKey(ExchangeAccount, on_delete=models.PROTECT, related_name="positions")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="positions")
    quantity = money_field(default=ZERO)
    entry_price = money_field(null=True, blank=True)
    mark_price = money_field(null=True, blank=True)
    liquidation_price = money_field(null=True, blank=True)
    realized_pnl = money_field(default=ZERO)
    unrealized_pnl = money_field(default=ZERO)
    leverage = money_field(null=True, blank=True)
    venue_updated_at = models.DateTimeField(
        null=True, blank=True, help_text="The venue's time of the latest push applied"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["account", "instrument"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "instrument"], name="position_unique_account_instrument"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}:{self.instrument_id} {self.quantity}"


class Balance(models.Model):
    """An account's wallet in one currency: `total` = `available` + `locked` (in orders,
    margin)."""

    account = models.ForeignKey(ExchangeAccount, on_delete=models.PROTECT, related_name="balances")
    currency = models.CharField(max_length=16)
    total = money_field(default=ZERO)
    available = money_field(default=ZERO)
    locked = money_field(default=ZERO)
    venue_updated_at = models.DateTimeField(
        null=True, blank=True, help_text="The venue's time of the latest push applied"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["account", "currency"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "currency"], name="balance_unique_account_currency"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}:{self.currency} {self.total}"


class ReconciliationReport(models.Model):
    """One run of a reconciliation of one kind for one account: what differed between the
    gateway's records and the venue's, with the differences listed in `details`."""

    account = models.ForeignKey(
        ExchangeAccount, on_delete=models.PROTECT, related_name="reconciliation_reports"
    )
    kind = models.CharField(max_length=16, choices=ReconciliationKind.choices)
    status = models.CharField(
        max_length=16, choices=ReconciliationStatus.choices, default=ReconciliationStatus.RUNNING
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    checked = models.PositiveIntegerField(default=0)
    mismatches = models.PositiveIntegerField(default=0)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(
                fields=["account", "kind", "started_at"], name="recon_account_kind_started"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.account_id} {self.started_at:%Y-%m-%d %H:%M:%S} {self.status}"
