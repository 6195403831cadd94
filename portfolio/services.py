"""Writes of the portfolio app from what the venue says: position and balance pushes (private
streams, REST answers, reconciliation alike).

A push older than the latest applied (the venue's own time, `venue_updated_at`) is stale and
ignored, so a late or reordered push never moves a position or balance back. Callers may be in
a transaction; each function takes the row's lock (`select_for_update`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from exchanges.models import ExchangeAccount
from exchanges.venues.base import BalanceUpdate, PositionUpdate
from orders.ingest import instrument_of, moment
from portfolio.models import Balance, Position


@dataclass(frozen=True, slots=True)
class Synced:
    """What one push did: the row, whether it `changed`, and why not when it did not."""

    row: Position | Balance
    changed: bool
    ignored: str = ""


def _stale(row, at) -> bool:
    return at is not None and row.venue_updated_at is not None and at < row.venue_updated_at


@transaction.atomic
def apply_position_update(account: ExchangeAccount, update: PositionUpdate) -> Synced:
    """Take the venue's position figures (quantity, entry, mark, liquidation, leverage,
    unrealized PnL) for the account's instrument. Realized PnL is the gateway's own, from
    fills, and is not overwritten."""
    instrument = instrument_of(account, update.symbol)
    position, _ = Position.objects.select_for_update().get_or_create(
        account=account, instrument=instrument
    )
    at = moment(update.exchange_ts)
    if _stale(position, at):
        return Synced(position, changed=False, ignored="stale")
    position.quantity = update.quantity
    position.entry_price = update.entry_price if update.quantity else None
    for name in ("mark_price", "liquidation_price", "leverage"):
        value = getattr(update, name)
        if value is not None:
            setattr(position, name, value)
    if update.unrealized_pnl is not None:
        position.unrealized_pnl = update.unrealized_pnl
    if at is not None:
        position.venue_updated_at = at
    position.save()
    return Synced(position, changed=True)


@transaction.atomic
def apply_balance_update(account: ExchangeAccount, update: BalanceUpdate) -> Synced:
    """Take the venue's wallet figures of one currency."""
    balance, _ = Balance.objects.select_for_update().get_or_create(
        account=account, currency=update.currency
    )
    at = moment(update.exchange_ts)
    if _stale(balance, at):
        return Synced(balance, changed=False, ignored="stale")
    balance.total = update.total
    balance.available = update.available
    balance.locked = update.locked
    if at is not None:
        balance.venue_updated_at = at
    balance.save()
    return Synced(balance, changed=True)
