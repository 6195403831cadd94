"""What each account holds: positions per instrument and balances per currency, the fills and
account executions applied to them, plus the reports and cursors of the reconciliation that
compares them (and orders and fills) with the venue."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils import timezone

from exchanges.models import ExchangeAccount, Instrument
from exchanges.venues.base import InstrumentKind
from gateway_site.models_base import AppendOnlyModel, money_field
from orders.models import Fill
from portfolio.choices import CursorKind, ExecutionKind, ReconciliationKind, ReconciliationStatus

ZERO = Decimal(0)


class Position(models.Model):
    """The open position of an account in one instrument.

    `quantity` is signed (positive long, negative short) in the instrument's order quantity
    unit (contracts, or base currency for spot). PnL figures are in `settle_currency` (the
    instrument's settle currency, the quote of a spot pair: `portfolio.pnl`). `realized_pnl`
    is the gateway's own, from the fills and account executions applied, net of `fees`;
    `other_fees` holds fees paid in another currency, by currency (decimal strings), which
    `realized_pnl` leaves out rather than mixing units.
    """

    account = models.ForeignKey(ExchangeAccount, on_delete=models.PROTECT, related_name="positions")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="positions")
    quantity = money_field(default=ZERO)
    entry_price = money_field(null=True, blank=True)
    mark_price = money_field(null=True, blank=True)
    liquidation_price = money_field(null=True, blank=True)
    realized_pnl = money_field(default=ZERO)
    unrealized_pnl = money_field(default=ZERO)
    fees = money_field(default=ZERO)
    other_fees = models.JSONField(default=dict, blank=True)
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

    @property
    def settle_currency(self) -> str:
        """The currency of the PnL figures (`portfolio.pnl.pnl_currency`)."""
        instrument = self.instrument
        return instrument.quote if instrument.kind == InstrumentKind.SPOT else instrument.settle


class AppliedFill(models.Model):
    """A fill counted in its position, once: the row `apply_fill` checks so that a fill
    pushed, fetched and reconciled several times moves the position only the first time.
    `realized` is the PnL it realized (net of a fee in the settle currency)."""

    position = models.ForeignKey(Position, on_delete=models.PROTECT, related_name="applied_fills")
    fill = models.OneToOneField(Fill, on_delete=models.PROTECT, related_name="applied")
    realized = money_field(default=ZERO)
    applied_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.fill_id} -> {self.position_id}"


class LedgerEntry(AppendOnlyModel):
    """An account execution that is not a fill (funding, settlement, delivery, ADL,
    liquidation), once per (account, instrument, venue execution id).

    `amount` is the cash the venue says it moved (positive received), in `currency`;
    `quantity` (signed like a position change) and `price` are set when it changed the
    position. `realized` is what it added to the position's realized PnL
    (`portfolio.services.record_execution` says how each kind counts)."""

    account = models.ForeignKey(
        ExchangeAccount, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    instrument = models.ForeignKey(
        Instrument, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    kind = models.CharField(max_length=16, choices=ExecutionKind.choices)
    execution_id = models.CharField(max_length=64)
    amount = money_field(default=ZERO)
    currency = models.CharField(max_length=16)
    quantity = money_field(default=ZERO)
    price = money_field(null=True, blank=True)
    realized = money_field(default=ZERO)
    executed_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    raw = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-executed_at", "-id"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.UniqueConstraint(
                fields=["account", "instrument", "execution_id"],
                name="ledger_unique_account_instrument_execution",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "executed_at"], name="ledger_account_executed"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.execution_id} {self.amount} {self.currency}"


class ReconciliationCursor(models.Model):
    """Where the reconciliation of an account's venue history (fills, executions) stopped:
    the venue's own cursor text, passed back on the next run."""

    account = models.ForeignKey(
        ExchangeAccount, on_delete=models.CASCADE, related_name="reconciliation_cursors"
    )
    kind = models.CharField(max_length=16, choices=CursorKind.choices)
    value = models.CharField(max_length=128, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["account", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "kind"], name="recon_cursor_unique_account_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}:{self.kind} {self.value}"


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
        permissions = [("run_reconciliation", "Can run a reconciliation now")]
        indexes = [
            models.Index(
                fields=["account", "kind", "started_at"], name="recon_account_kind_started"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.account_id} {self.started_at:%Y-%m-%d %H:%M:%S} {self.status}"


class ReconciledAccount(ExchangeAccount):
    """An exchange account as the reconciliation admin lists it ("Reconcile now"): the same
    rows as `ExchangeAccount`, no table of its own."""

    class Meta:
        proxy = True
        verbose_name = "account to reconcile"
        verbose_name_plural = "accounts to reconcile"
