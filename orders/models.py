"""Orders, their append-only history, and fills.

An `Order` is created by the gateway with its own `client_order_id` before anything is sent, so a
submission can be retried idempotently and found again by reconciliation. Every status change
and every venue message about an order is an `OrderEvent`, never edited. A `Fill` is one
execution reported by the venue, deduplicated by its trade id.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from exchanges.models import ExchangeAccount, Instrument
from gateway_site.models_base import AppendOnlyModel, AppendOnlyQuerySet, money_field
from orders import state
from orders.choices import (
    CONDITIONAL_ORDER_TYPES,
    PLAIN_ORDER_TYPES,
    PRICED_ORDER_TYPES,
    Liquidity,
    OrderEventKind,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    TriggerPrice,
)
from orders.ids import CLIENT_ORDER_ID_MAX_LENGTH, new_client_order_id

ZERO = Decimal(0)


class RoutedStatus(models.TextChoices):
    """Where a routed (parent) order is, from its children (`orders.routed.summarize`)."""

    OPEN = "open", "Open (a child is still open)"
    FILLED = "filled", "Filled"
    PARTIALLY_FILLED = "partially_filled", "Partially filled (children closed)"
    REJECTED = "rejected", "Nothing filled"


class RoutedOrder(models.Model):
    """A parent order split by smart order routing into child `Order`s on several venues.

    `quantity`, `filled_quantity` are in the pair's base currency (the children count in each
    venue's unit); `average_price` is the achieved volume-weighted price of the children's fills.
    `decision` keeps the routing decision and every input it was made from (books seen, fees,
    funds, the plan, what was left out and why, re-routes), as written when routed, so that it
    can be audited later: it is never rewritten, only the fill figures and `status` move.
    """

    symbol = models.CharField(max_length=64, help_text="Unified pair, e.g. BTC/USDT:USDT")
    side = models.CharField(max_length=4, choices=Side.choices)
    order_type = models.CharField(max_length=8, choices=PLAIN_ORDER_TYPES)
    quantity = money_field(help_text="Base currency")
    price = money_field(null=True, blank=True)
    max_slippage_bps = models.DecimalField(max_digits=10, decimal_places=4)
    status = models.CharField(max_length=16, choices=RoutedStatus.choices)
    filled_quantity = money_field(default=ZERO, help_text="Base currency")
    average_price = money_field(null=True, blank=True)
    decision = models.JSONField(default=dict, blank=True)
    created_by = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="routedorder_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(order_type=OrderType.MARKET) | Q(price__isnull=False),
                name="routedorder_limit_has_price",
            ),
        ]

    def __str__(self) -> str:
        return f"routed #{self.pk} {self.side} {self.quantity} {self.symbol}"


class Order(models.Model):
    """One order of one account on one instrument, as the gateway knows it.

    `status` only moves as `orders.state` allows (`set_status`). `price` is empty for market
    orders. `filled_quantity` and `average_fill_price` are the venue's cumulative figures.
    Timestamps: `submitted_at` when sent, `acknowledged_at` when the venue first confirmed it,
    `closed_at` when it reached a terminal status, `venue_updated_at` the venue's own time of
    the latest state applied (`orders.ingest`: an older push is recognised and ignored).
    `is_external`: placed by another client on the same keys, adopted from a push or by
    reconciliation.
    """

    client_order_id = models.CharField(
        max_length=CLIENT_ORDER_ID_MAX_LENGTH,
        unique=True,
        default=new_client_order_id,
        editable=False,
    )
    venue_order_id = models.CharField(max_length=64, blank=True, default="")
    account = models.ForeignKey(ExchangeAccount, on_delete=models.PROTECT, related_name="orders")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="orders")
    side = models.CharField(max_length=4, choices=Side.choices)
    order_type = models.CharField(max_length=20, choices=OrderType.choices)
    time_in_force = models.CharField(
        max_length=4, choices=TimeInForce.choices, default=TimeInForce.GTC
    )
    post_only = models.BooleanField(default=False)
    reduce_only = models.BooleanField(default=False)
    price = money_field(null=True, blank=True)
    quantity = money_field()
    filled_quantity = money_field(default=ZERO)
    average_fill_price = money_field(null=True, blank=True)
    trigger_price = money_field(
        null=True, blank=True, help_text="Conditional orders: the price that fires them"
    )
    trigger_by = models.CharField(
        max_length=8,
        choices=TriggerPrice.choices,
        blank=True,
        default="",
        help_text="Conditional orders: the price watched (mark, last or index)",
    )
    triggered_at = models.DateTimeField(
        null=True, blank=True, help_text="When the venue fired the conditional order"
    )
    status = models.CharField(
        max_length=16, choices=OrderStatus.choices, default=OrderStatus.PENDING_NEW
    )
    reject_reason = models.TextField(blank=True, default="")
    venue_updated_at = models.DateTimeField(
        null=True, blank=True, help_text="The venue's time of the latest state applied"
    )
    is_external = models.BooleanField(
        default=False, help_text="Placed on the venue by another client, adopted by the gateway"
    )
    parent = models.ForeignKey(
        RoutedOrder,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        help_text="The routed order this is a child of",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_quantity_positive"),
            models.CheckConstraint(
                condition=Q(filled_quantity__gte=0, filled_quantity__lte=F("quantity")),
                name="order_filled_within_quantity",
            ),
            models.CheckConstraint(
                condition=~Q(order_type__in=sorted(PRICED_ORDER_TYPES)) | Q(price__isnull=False),
                name="order_limit_has_price",
            ),
            models.CheckConstraint(
                condition=Q(price__isnull=True) | Q(price__gt=0), name="order_price_positive"
            ),
            models.CheckConstraint(
                condition=~Q(order_type__in=sorted(CONDITIONAL_ORDER_TYPES))
                | Q(trigger_price__gt=0, trigger_by__in=[t.value for t in TriggerPrice]),
                name="order_conditional_has_trigger",
            ),
            models.CheckConstraint(
                condition=Q(order_type__in=sorted(CONDITIONAL_ORDER_TYPES))
                | Q(trigger_price__isnull=True, trigger_by=""),
                name="order_plain_has_no_trigger",
            ),
            models.CheckConstraint(
                condition=Q(post_only=False) | Q(order_type=OrderType.LIMIT),
                name="order_post_only_is_limit",
            ),
            models.UniqueConstraint(
                fields=["account", "venue_order_id"],
                condition=~Q(venue_order_id=""),
                name="order_unique_account_venue_order_id",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "status"], name="order_account_status"),
            models.Index(fields=["instrument", "created_at"], name="order_instrument_created"),
        ]

    def __str__(self) -> str:
        return self.client_order_id

    @property
    def is_open(self) -> bool:
        return self.status in state.OPEN_STATUSES

    @property
    def remaining_quantity(self) -> Decimal:
        return self.quantity - self.filled_quantity

    @property
    def is_conditional(self) -> bool:
        return self.order_type in CONDITIONAL_ORDER_TYPES

    def set_status(self, status: OrderStatus | str, *, at: datetime | None = None) -> OrderStatus:
        """Move to `status` if `orders.state` allows it (else `InvalidTransition`); stamp
        `closed_at` on a terminal status. Does not save."""
        self.status = state.transition(self.status, status)
        if state.is_terminal(self.status) and self.closed_at is None:
            self.closed_at = at or timezone.now()
        return self.status


class OrderEventQuerySet(AppendOnlyQuerySet):
    def append(
        self,
        *,
        order: Order,
        kind: OrderEventKind | str,
        from_status: str = "",
        to_status: str = "",
        message: str = "",
        payload: Any = None,
        exchange_at: datetime | None = None,
    ) -> OrderEvent:
        """Add the next event of `order` (sequence = last + 1). Callers changing an order hold
        its row lock (`select_for_update`), which also serialises its events; the unique
        (order, sequence) constraint catches anyone who does not."""
        last = self.filter(order=order).aggregate(last=models.Max("sequence"))["last"] or 0
        return self.create(
            order=order,
            sequence=last + 1,
            kind=kind,
            from_status=from_status,
            to_status=to_status,
            message=message,
            payload=payload if payload is not None else {},
            exchange_at=exchange_at,
        )


class OrderEvent(AppendOnlyModel):
    """One entry of an order's history: a submission, a status change, a venue message, a
    cancel or amend request, a fill. `payload` keeps the raw venue message, as received."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="events")
    sequence = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=OrderEventKind.choices)
    from_status = models.CharField(max_length=16, choices=OrderStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=OrderStatus.choices, blank=True)
    message = models.TextField(blank=True, default="")
    payload = models.JSONField(default=dict, blank=True)
    exchange_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = OrderEventQuerySet.as_manager()

    class Meta:
        ordering = ["order", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "sequence"], name="orderevent_unique_order_sequence"
            ),
            models.CheckConstraint(
                condition=Q(sequence__gt=0), name="orderevent_sequence_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}#{self.sequence} {self.kind}"


class Fill(models.Model):
    """One execution of one of our orders, as the venue reported it.

    Deduplicated by (account, instrument, trade_id): OKX trade ids are unique per instrument
    only, and when two of our accounts trade with each other each gets a fill with the same
    trade id. `order` is empty until the fill is matched to an order (by venue order id or
    client order id, which are kept for that). `fee` is positive when paid, negative for a rebate.
    """

    account = models.ForeignKey(ExchangeAccount, on_delete=models.PROTECT, related_name="fills")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="fills")
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, null=True, blank=True, related_name="fills"
    )
    trade_id = models.CharField(max_length=64)
    venue_order_id = models.CharField(max_length=64, blank=True, default="")
    client_order_id = models.CharField(max_length=64, blank=True, default="")
    side = models.CharField(max_length=4, choices=Side.choices)
    price = money_field()
    quantity = money_field()
    fee = money_field(default=ZERO)
    fee_currency = models.CharField(max_length=16, blank=True, default="")
    liquidity = models.CharField(max_length=8, choices=Liquidity.choices)
    executed_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    raw = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-executed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "instrument", "trade_id"],
                name="fill_unique_account_instrument_trade",
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="fill_quantity_positive"),
            models.CheckConstraint(condition=Q(price__gt=0), name="fill_price_positive"),
        ]
        indexes = [
            models.Index(fields=["account", "executed_at"], name="fill_account_executed"),
            models.Index(fields=["account", "venue_order_id"], name="fill_account_venue_order"),
        ]

    def __str__(self) -> str:
        return f"{self.trade_id} {self.side} {self.quantity}@{self.price}"
