"""Choices of the orders app: the order vocabulary of exchanges/venues/base.py as Django choices,
plus the kinds of entries in an order's history."""

from django.db import models

from exchanges.choices import text_choices
from exchanges.venues import base

Side = text_choices(base.Side)
OrderType = text_choices(base.OrderType)
TriggerPrice = text_choices(base.TriggerPrice)
# what a routed (parent) order may be: routing sends plain orders only
PLAIN_ORDER_TYPES = [(t.value, t.label) for t in OrderType if not base.OrderType(t).is_conditional]
CONDITIONAL_ORDER_TYPES = frozenset(t for t in base.OrderType if t.is_conditional)
PRICED_ORDER_TYPES = frozenset(t for t in base.OrderType if t.has_price)
TimeInForce = text_choices(
    base.TimeInForce,
    {"gtc": "Good till canceled", "ioc": "Immediate or cancel", "fok": "Fill or kill"},
)
OrderStatus = text_choices(base.OrderStatus)
Liquidity = text_choices(base.Liquidity)


class OrderEventKind(models.TextChoices):
    """What an `OrderEvent` records."""

    SUBMIT = "submit", "Submitted to the venue"
    STATUS_CHANGE = "status_change", "Status change"
    VENUE_MESSAGE = "venue_message", "Venue message"
    AMEND_REQUEST = "amend_request", "Amend requested"
    AMEND = "amend", "Amended"
    CANCEL_REQUEST = "cancel_request", "Cancel requested"
    CANCEL_REJECTED = "cancel_rejected", "Cancel rejected"
    FILL = "fill", "Fill"
    TRIGGERED = "triggered", "Triggered"
    RECONCILIATION = "reconciliation", "Reconciliation"
    ERROR = "error", "Error"
