"""Writes of the portfolio app from what the venue says: position and balance pushes (private
streams, REST answers, reconciliation alike), fills and account executions counted in their
position (`portfolio.pnl`), and marks.

A push older than the latest applied (the venue's own time, `venue_updated_at`) is stale and
ignored, so a late or reordered push never moves a position or balance back. Callers may be in
a transaction; each function takes the row's lock (`select_for_update`).

A fill or execution is counted once (`AppliedFill`, `LedgerEntry`), whatever the number of
times it is pushed, fetched and reconciled. The venue's position figures win over the
gateway's: a fill executed before the latest position push applied is already in that push's
quantity and entry, so it adds only its realized PnL and fee (computed against the position as
it was before the fill, when the push still tells it: the same side; when the push shows the
position flat or flipped the entry it closed against is gone and only the fee counts, logged).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from exchanges.models import Exchange, ExchangeAccount, Instrument
from exchanges.venues.base import AccountExecution, BalanceUpdate, PositionUpdate, Side
from exchanges.venues.base import ExecutionKind as Kind
from orders.ingest import instrument_of, moment, payload_of
from orders.models import Fill
from portfolio import pnl
from portfolio.models import AppliedFill, Balance, LedgerEntry, Position

log = logging.getLogger(__name__)
ZERO = Decimal(0)


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


def _state_of(position: Position) -> pnl.PositionState:
    return pnl.PositionState(
        quantity=position.quantity,
        entry_price=position.entry_price,
        realized_pnl=position.realized_pnl,
        fees=position.fees,
        other_fees={currency: Decimal(v) for currency, v in position.other_fees.items()},
    )


def _store(position: Position, state: pnl.PositionState, info, *, move: bool) -> None:
    """Put `state` on `position`: its PnL and fees, and its quantity and entry when `move`
    (not when the venue's latest push already holds them); unrealized PnL follows the mark."""
    if move:
        position.quantity = state.quantity
        position.entry_price = state.entry_price
    position.realized_pnl = state.realized_pnl
    position.fees = state.fees
    position.other_fees = {currency: str(v) for currency, v in state.other_fees.items()}
    if position.mark_price is not None:
        held = pnl.PositionState(quantity=position.quantity, entry_price=position.entry_price)
        position.unrealized_pnl = pnl.unrealized_pnl(info, held, position.mark_price)
    position.save()


def _locked_position(account_id: int, instrument: Instrument) -> Position:
    position, _ = Position.objects.select_for_update().get_or_create(
        account_id=account_id, instrument=instrument
    )
    return position


def _trade(position: Position, info, executed_at, **trade) -> tuple[pnl.TradeResult, bool]:
    """A trade applied to `position`'s state; the bool says whether it moves the quantity
    (module docstring: not when the venue's latest push is newer than the trade)."""
    state = _state_of(position)
    reflected = position.venue_updated_at is not None and executed_at < position.venue_updated_at
    if not reflected:
        return pnl.apply_trade(info, state, **trade), True
    signed = trade["side"].sign * trade["quantity"]
    before = position.quantity - signed
    same_side = position.quantity != 0 and (before > 0) == (position.quantity > 0)
    if before == 0 or (same_side and position.entry_price is not None):
        prior = replace(state, quantity=before, entry_price=position.entry_price)
        return pnl.apply_trade(info, prior, **trade), False
    log.warning(
        "position %s: a trade from before the venue's push flat or flipped it; the entry it "
        "closed against is gone, only its fee counts",
        position.pk,
    )
    charged = pnl.apply_fee(info, state, trade.get("fee", ZERO), trade.get("fee_currency", ""))
    return pnl.TradeResult(charged, charged.realized_pnl - state.realized_pnl, ZERO), False


@transaction.atomic
def apply_fill(fill: Fill) -> Position:
    """Count one recorded fill in its account's position (`portfolio.pnl`), once: a second
    call with the same fill changes nothing and returns the position."""
    instrument = Instrument.objects.select_related("exchange").get(pk=fill.instrument_id)
    position = _locked_position(fill.account_id, instrument)
    if AppliedFill.objects.filter(fill=fill).exists():
        return position
    info = instrument.info()
    result, move = _trade(
        position,
        info,
        fill.executed_at,
        side=Side(fill.side),
        quantity=fill.quantity,
        price=fill.price,
        fee=fill.fee,
        fee_currency=fill.fee_currency,
    )
    _store(position, result.state, info, move=move)
    AppliedFill.objects.create(position=position, fill=fill, realized=result.realized)
    return position


@transaction.atomic
def record_execution(account: ExchangeAccount, event: AccountExecution) -> tuple[LedgerEntry, bool]:
    """Record an account execution that is not a fill, once per (account, instrument, venue
    execution id), and count it in the position's realized PnL as its kind says:

    - funding: the cash `amount`, the quantity unchanged;
    - settlement: the cash `amount`; with a price the position's entry moves to it, as the
      venue re-bases a settled position (Deribit's daily settlement);
    - delivery, ADL, liquidation: the position's `quantity` is closed at `price` and the PnL
      of that close (by `portfolio.pnl`) is what counts; `amount` is kept as the venue's
      figure beside it, not added, or the same gain would count twice. Without a price the
      quantity moves and `amount` counts.

    Cash in another currency than the position's settle currency is recorded on the entry and
    not counted (`realized` 0), like fees (`portfolio.pnl`). Returns the entry and whether it
    was created now."""
    instrument = Instrument.objects.select_related("exchange").get(
        pk=instrument_of(account, event.symbol).pk
    )
    position = _locked_position(account.pk, instrument)  # also serialises repeats of one event
    existing = LedgerEntry.objects.filter(
        account=account, instrument=instrument, execution_id=event.execution_id
    ).first()
    if existing is not None:
        return existing, False
    info = instrument.info()
    executed_at = moment(event.exchange_ts) or timezone.now()
    in_settle = event.currency == pnl.pnl_currency(info)
    cash = event.amount if in_settle else ZERO
    state, realized, move = _state_of(position), ZERO, True
    if event.quantity and event.price is not None:
        side = Side.BUY if event.quantity > 0 else Side.SELL
        result, move = _trade(
            position, info, executed_at, side=side, quantity=abs(event.quantity), price=event.price
        )
        state, realized = result.state, result.realized
    elif event.quantity:
        after = position.quantity + event.quantity
        state = replace(
            pnl.apply_cash(state, cash),
            quantity=after,
            entry_price=position.entry_price if after else None,
        )
        realized = cash
    else:
        state, realized = pnl.apply_cash(state, cash), cash
        if event.kind == Kind.SETTLEMENT and event.price is not None and position.quantity:
            state = replace(state, entry_price=event.price)
    _store(position, state, info, move=move)
    entry = LedgerEntry.objects.create(
        account=account,
        instrument=instrument,
        kind=event.kind,
        execution_id=event.execution_id,
        amount=event.amount,
        currency=event.currency,
        quantity=event.quantity,
        price=event.price,
        realized=realized,
        executed_at=executed_at,
        raw=payload_of(event),
    )
    return entry, True


def mark_to_market(
    marks: Mapping[int, Decimal | None] | Mapping[str, Decimal | None],
    *,
    exchange: Exchange | None = None,
) -> int:
    """Take mark prices (the tickers' `mark_price`) for the open positions on their
    instruments: `mark_price` and `unrealized_pnl` of each, in one read and one bulk write
    for the whole mapping. Keys are instrument ids, or unified symbols of `exchange`; a mark
    that is missing or not positive (a ticker without one) is skipped. Returns how many
    positions changed."""
    marks = {key: mark for key, mark in marks.items() if mark is not None and mark > 0}
    if not marks:
        return 0
    positions = Position.objects.exclude(quantity=0).select_related("instrument__exchange")
    if exchange is None:
        positions = positions.filter(instrument_id__in=list(marks))
    else:
        positions = positions.filter(
            instrument__exchange=exchange, instrument__symbol__in=list(marks)
        )
    now = timezone.now()
    changed = []
    for position in positions:
        key = position.instrument_id if exchange is None else position.instrument.symbol
        mark = marks[key]
        state = pnl.PositionState(quantity=position.quantity, entry_price=position.entry_price)
        unrealized = pnl.unrealized_pnl(position.instrument.info(), state, mark)
        if position.mark_price != mark or position.unrealized_pnl != unrealized:
            position.mark_price, position.unrealized_pnl, position.updated_at = (
                mark,
                unrealized,
                now,
            )
            changed.append(position)
    Position.objects.bulk_update(changed, ["mark_price", "unrealized_pnl", "updated_at"])
    return len(changed)
