"""Choices of the portfolio app: what a reconciliation compares and how it ended, which venue
cursor it keeps, and the kinds of account executions that are not fills."""

from django.db import models

from exchanges.choices import text_choices
from exchanges.venues import base

ExecutionKind = text_choices(base.ExecutionKind, {"adl": "Auto-deleveraging"})


class ReconciliationKind(models.TextChoices):
    ORDERS = "orders", "Orders"
    FILLS = "fills", "Fills"
    POSITIONS = "positions", "Positions"
    BALANCES = "balances", "Balances"


class ReconciliationStatus(models.TextChoices):
    RUNNING = "running", "Running"
    OK = "ok", "OK"
    MISMATCH = "mismatch", "Mismatch"
    ERROR = "error", "Error"


class CursorKind(models.TextChoices):
    """Which venue history a `ReconciliationCursor` walks (the REST clients page fills only;
    account executions arrive on the private streams)."""

    FILLS = "fills", "Fills"
