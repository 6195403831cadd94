"""Risk limits, the kill switch and the log of what risk checks did.

A `RiskLimit` applies to everything (no account, no instrument), to one account, to one
instrument, or to one instrument of one account; an empty limit field means "no limit". When
several limits match an order, each is checked, so the strictest one decides. The kill switch is
a history: each engage or release is a new `KillSwitch` row, and the latest row of a scope (all
accounts, or one) says whether it is engaged.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from exchanges.models import ExchangeAccount, Instrument
from gateway_site.models_base import AppendOnlyModel, AppendOnlyQuerySet, money_field
from orders.models import Order
from risk.choices import RiskEventKind, Severity


class RiskLimit(models.Model):
    """Pre-trade limits. Quantities are in the instrument's order quantity unit; notional and
    loss in the instrument's quote currency (or USD-equivalent when no instrument is set);
    `price_band_pct` bounds how far a limit price may be from the reference price, in percent."""

    name = models.CharField(max_length=64)
    account = models.ForeignKey(
        ExchangeAccount, on_delete=models.CASCADE, null=True, blank=True, related_name="risk_limits"
    )
    instrument = models.ForeignKey(
        Instrument, on_delete=models.CASCADE, null=True, blank=True, related_name="risk_limits"
    )
    max_order_quantity = money_field(null=True, blank=True)
    max_order_notional = money_field(null=True, blank=True)
    max_position = money_field(null=True, blank=True)
    max_open_orders = models.PositiveIntegerField(null=True, blank=True)
    max_daily_loss = money_field(null=True, blank=True)
    price_band_pct = models.DecimalField(max_digits=7, decimal_places=3, null=True, blank=True)
    trip_kill_switch = models.BooleanField(
        default=False,
        help_text="Checked: when a scheduled risk check finds an account's daily loss over this "
        "limit, it engages that account's kill switch (cancelling its open orders).",
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["account", "instrument", "name"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(max_order_quantity__isnull=True) | Q(max_order_quantity__gt=0))
                & (Q(max_order_notional__isnull=True) | Q(max_order_notional__gt=0))
                & (Q(max_position__isnull=True) | Q(max_position__gte=0))
                & (Q(max_daily_loss__isnull=True) | Q(max_daily_loss__gte=0))
                & (Q(price_band_pct__isnull=True) | Q(price_band_pct__gt=0)),
                name="risklimit_values_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def scope(self) -> str:
        if self.account_id is None and self.instrument_id is None:
            return "global"
        parts = []
        if self.account_id is not None:
            parts.append(f"account {self.account}")
        if self.instrument_id is not None:
            parts.append(f"instrument {self.instrument}")
        return ", ".join(parts)


class KillSwitchQuerySet(AppendOnlyQuerySet):
    def latest_for(self, account: ExchangeAccount | None) -> KillSwitch | None:
        """The latest action on the switch of `account` (None: the global switch)."""
        qs = self.filter(account__isnull=True) if account is None else self.filter(account=account)
        return qs.order_by("-created_at", "-id").first()

    def is_engaged(self, account: ExchangeAccount | None = None) -> bool:
        """True when the global switch, or the switch of `account`, is engaged."""
        scopes = [None] if account is None else [None, account]
        return any(
            (action := self.latest_for(scope)) is not None and action.engaged for scope in scopes
        )


class KillSwitch(AppendOnlyModel):
    """One engage or release of the kill switch of all accounts (`account` empty) or of one.

    While engaged, no order is sent for the scope and open orders are canceled. Rows are never
    changed: the history says who stopped trading, when and why.
    """

    account = models.ForeignKey(
        ExchangeAccount,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="kill_switch_actions",
        help_text="Empty: every account.",
    )
    engaged = models.BooleanField(help_text="Checked: stop trading. Unchecked: resume.")
    reason = models.TextField()
    engaged_by = models.CharField(
        max_length=150, blank=True, help_text="User or process that acted."
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = KillSwitchQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "kill switch action"
        indexes = [
            models.Index(fields=["account", "created_at"], name="killswitch_account_created")
        ]

    def __str__(self) -> str:
        scope = "all accounts" if self.account_id is None else str(self.account)
        return f"{'engaged' if self.engaged else 'released'} for {scope}"


class RiskEvent(AppendOnlyModel):
    """Something a risk check did or saw: an order refused, a limit breached, the kill switch."""

    kind = models.CharField(max_length=16, choices=RiskEventKind.choices)
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.WARNING)
    account = models.ForeignKey(
        ExchangeAccount, on_delete=models.PROTECT, null=True, blank=True, related_name="risk_events"
    )
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, null=True, blank=True, related_name="risk_events"
    )
    message = models.TextField()
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["kind", "created_at"], name="riskevent_kind_created")]

    def __str__(self) -> str:
        return f"{self.severity} {self.kind}: {self.message[:60]}"


class CircuitBreaker(models.Model):
    """Halt new orders on an instrument whose mark moves more than `move_pct` percent within
    `window_seconds` (`risk.breaker.decide`). With no instrument it covers every instrument
    that has no enabled breaker of its own (the oldest such enabled row decides). A trip lifts when an operator resets it, or after
    `cooldown_seconds` (0: only a reset lifts it)."""

    instrument = models.OneToOneField(
        Instrument,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="circuit_breaker",
        help_text="Empty: every instrument without a breaker of its own.",
    )
    move_pct = models.DecimalField(max_digits=7, decimal_places=3)
    window_seconds = models.PositiveIntegerField()
    cooldown_seconds = models.PositiveIntegerField(default=0, help_text="0: until reset.")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["instrument", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(move_pct__gt=0) & Q(window_seconds__gt=0),
                name="circuitbreaker_values_positive",
            ),
        ]

    def __str__(self) -> str:
        scope = "every instrument" if self.instrument_id is None else str(self.instrument)
        return f"{self.move_pct}% in {self.window_seconds}s on {scope}"


class BreakerTripQuerySet(models.QuerySet):
    def active(self, now=None) -> BreakerTripQuerySet:
        """Trips that still halt orders at `now`: not reset, and cool-down not over."""
        now = now or timezone.now()
        return self.filter(reset_at__isnull=True).filter(
            Q(cooldown_until__isnull=True) | Q(cooldown_until__gt=now)
        )


class BreakerTrip(models.Model):
    """One trip of a circuit breaker on one instrument: the marks that tripped it and how it
    ended (reset by an operator, or its cool-down end `cooldown_until`)."""

    breaker = models.ForeignKey(
        CircuitBreaker, on_delete=models.SET_NULL, null=True, blank=True, related_name="trips"
    )
    instrument = models.ForeignKey(
        Instrument, on_delete=models.CASCADE, related_name="breaker_trips"
    )
    tripped_at = models.DateTimeField(default=timezone.now)
    reference_price = money_field()
    reference_at = models.DateTimeField()
    mark_price = money_field()
    move_pct = models.DecimalField(max_digits=12, decimal_places=4)
    cooldown_until = models.DateTimeField(null=True, blank=True)
    reset_at = models.DateTimeField(null=True, blank=True)
    reset_by = models.CharField(max_length=150, blank=True)
    reset_reason = models.TextField(blank=True)

    objects = BreakerTripQuerySet.as_manager()

    class Meta:
        ordering = ["-tripped_at", "-id"]
        indexes = [
            models.Index(fields=["instrument", "tripped_at"], name="breakertrip_instrument_at")
        ]

    def __str__(self) -> str:
        return f"breaker on {self.instrument} at {self.tripped_at:%Y-%m-%d %H:%M:%S}"
