"""Positions and balances: the venue's figures taken, differences reported.

Positions: each venue position is applied through `portfolio.services.apply_position_update`
(quantity, entry, mark, liquidation price, leverage; the gateway's realized PnL stays its own);
a quantity or entry that differed from ours is a difference. A position we hold that the venue
no longer lists (or lists flat) is set to zero, spot excepted: a spot "position" (what
`apply_fill` keeps of spot trades, for their PnL) is held as a balance, and the venues list no
spot positions. Balances: each venue balance through
`apply_balance_update`; a currency we hold that the venue no longer lists is set to zero.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from exchanges.models import ExchangeAccount
from exchanges.venues.base import BalanceUpdate, InstrumentKind, PositionUpdate, Venue, now_ns
from exchanges.venues.protocols import RestClient
from orders import ingest
from portfolio import services
from portfolio.models import Balance, Position
from portfolio.reconciliation.common import Findings

ZERO = Decimal(0)


def reconcile_positions(account: ExchangeAccount, client: RestClient, findings: Findings) -> None:
    _take_positions(account, client.positions(), findings)


@transaction.atomic
def _take_positions(
    account: ExchangeAccount, venue_positions: list[PositionUpdate], findings: Findings
) -> None:
    ours = {
        p.instrument.symbol: p
        for p in Position.objects.filter(account=account).select_related("instrument")
    }
    seen: set[str] = set()
    for update in venue_positions:
        findings.checked += 1
        seen.add(update.symbol)
        held = ours.get(update.symbol)
        if update.quantity == 0 and (held is None or held.quantity == 0):
            continue  # flat on both sides: no row to make
        before = (held.quantity, held.entry_price) if held is not None else (ZERO, None)
        try:
            synced = services.apply_position_update(account, update)
        except ingest.UnknownInstrument as error:
            findings.notes.append(f"venue position {update.symbol}: {error}")
            continue
        venue = (update.quantity, update.entry_price if update.quantity else None)
        if synced.changed and _differs(before, venue):
            findings.differ(
                "position differs from the venue's" if held else "position unknown to the gateway",
                "took the venue's quantity and entry",
                symbol=update.symbol,
                ours={"quantity": before[0], "entry_price": before[1]},
                venue={"quantity": venue[0], "entry_price": venue[1]},
            )
        elif not synced.changed:
            findings.notes.append(f"venue position {update.symbol}: {synced.ignored}, kept ours")
    for symbol, held in ours.items():
        if symbol in seen or held.quantity == 0 or held.instrument.kind == InstrumentKind.SPOT:
            continue  # a spot holding is a balance: the venues list no spot positions
        findings.checked += 1
        flat = PositionUpdate(
            venue=Venue(account.exchange.venue),
            symbol=symbol,
            quantity=ZERO,
            entry_price=None,
            exchange_ts=0,
            receive_ts=now_ns(),
            unrealized_pnl=ZERO,
        )
        services.apply_position_update(account, flat)
        findings.differ(
            "held here, flat on the venue",
            "set to zero",
            symbol=symbol,
            ours={"quantity": held.quantity, "entry_price": held.entry_price},
        )


def _differs(ours: tuple, venue: tuple) -> bool:
    """Quantities compared exactly, entries only where there is a position (a flat one has
    none), as numbers (`65000` and `65000.0` are one price)."""
    if ours[0] != venue[0]:
        return True
    return venue[0] != 0 and ours[1] != venue[1]


def reconcile_balances(account: ExchangeAccount, client: RestClient, findings: Findings) -> None:
    _take_balances(account, client.balances(), findings)


@transaction.atomic
def _take_balances(
    account: ExchangeAccount, venue_balances: list[BalanceUpdate], findings: Findings
) -> None:
    ours = {b.currency: b for b in Balance.objects.filter(account=account)}
    seen: set[str] = set()
    for update in venue_balances:
        findings.checked += 1
        seen.add(update.currency)
        held = ours.get(update.currency)
        before = (held.total, held.available, held.locked) if held is not None else None
        synced = services.apply_balance_update(account, update)
        venue = (update.total, update.available, update.locked)
        if synced.changed and before != venue and (before is not None or any(venue)):
            findings.differ(
                "balance differs from the venue's" if held else "balance unknown to the gateway",
                "took the venue's figures",
                currency=update.currency,
                ours=_balance(before),
                venue=_balance(venue),
            )
        elif not synced.changed:
            findings.notes.append(f"venue balance {update.currency}: {synced.ignored}, kept ours")
    for currency, held in ours.items():
        if currency in seen or not (held.total or held.available or held.locked):
            continue
        findings.checked += 1
        services.apply_balance_update(
            account,
            BalanceUpdate(
                venue=Venue(account.exchange.venue),
                currency=currency,
                total=ZERO,
                available=ZERO,
                exchange_ts=0,
                receive_ts=now_ns(),
            ),
        )
        findings.differ(
            "held here, not listed by the venue",
            "set to zero",
            currency=currency,
            ours=_balance((held.total, held.available, held.locked)),
        )


def _balance(figures: tuple | None) -> dict | None:
    if figures is None:
        return None
    total, available, locked = figures
    return {"total": total, "available": available, "locked": locked}
