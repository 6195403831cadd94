"""Choices of the risk app: what a risk event is about and how serious it is."""

from django.db import models


class RiskEventKind(models.TextChoices):
    ORDER_REJECTED = "order_rejected", "Order rejected by a pre-trade check"
    LIMIT_BREACHED = "limit_breached", "Limit breached"
    DAILY_LOSS = "daily_loss", "Daily loss limit"
    PRICE_BAND = "price_band", "Price outside the band"
    KILL_SWITCH = "kill_switch", "Kill switch"
    STALE_DATA = "stale_data", "Stale market data"
    RECONCILIATION = "reconciliation", "Reconciliation mismatch"
    CIRCUIT_BREAKER = "circuit_breaker", "Circuit breaker tripped"
    POSITION_LIMIT = "position_limit", "Position over its limit"
    CONNECTOR = "connector", "Connector down or lagging"
    FAR_ORDER = "far_order", "Open order far from the market"
    ORPHANED_ORDER = "orphaned_order", "Protective order left on a closed position"


class Severity(models.TextChoices):
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"
