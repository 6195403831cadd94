"""Choices of the portfolio app: what a reconciliation compares and how it ended."""

from django.db import models


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
