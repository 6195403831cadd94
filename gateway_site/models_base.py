"""Model helpers every app uses: the one way an amount is stored, and the append-only base of
history tables.

`money_field` is `DecimalField(38, 18)`: it holds a satoshi (1e-8), an option premium of
0.0001 BTC and a notional of 10^20 with room to spare. PostgreSQL stores it exactly
(`numeric(38, 18)`); SQLite, the embedded default, keeps about 15 significant digits, which
every price, size and fee the three venues publish fits in.

History rows (order events, risk events, kill-switch actions) derive from `AppendOnlyModel`:
inserted once, never updated or deleted through the ORM.
"""

from __future__ import annotations

from typing import Any

from django.db import models

MONEY_MAX_DIGITS = 38
MONEY_DECIMAL_PLACES = 18


def money_field(**kwargs: Any) -> models.DecimalField:
    """A DecimalField for a price, size, fee, balance or PnL (38 digits, 18 after the point)."""
    return models.DecimalField(
        max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, **kwargs
    )


class AppendOnlyError(Exception):
    """A history row (order event, risk event, kill-switch action) was about to change."""


class AppendOnlyQuerySet(models.QuerySet):
    """Refuses bulk `update()` and `delete()`: history rows are only ever added."""

    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only: update refused")

    def delete(self):
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only: delete refused")


class AppendOnlyModel(models.Model):
    """Base of history tables: a row is inserted once and never updated or deleted through the
    ORM (`save()` of a stored row, `delete()` and queryset `update()`/`delete()` raise)."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise AppendOnlyError(
                f"{type(self).__name__} {self.pk} is append-only: it cannot be changed"
            )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{type(self).__name__} {self.pk} is append-only: delete refused")
