"""What the pre-trade checks of `risk/checks.py` are given, read from the database and the
market data cache: the limits in force for one order and the account's exposure.

Each enabled `RiskLimit` whose scope covers the order (global, the account, the instrument, or
the instrument of the account) is checked on its own, with the open orders counted in its own
scope, so the strictest limit decides. Units follow `risk/checks.py`: a limit on an instrument
counts the instrument's quantity (`max_order_quantity`, `max_position` as a quantity); a
global or account limit counts notional in USD (`max_order_notional`, `max_position` as a
notional, `max_daily_loss`). `max_order_quantity` set on a limit without an instrument means
nothing comparable across instruments and is not applied (the admin says so).

The reference price is the instrument's mark from the live ticker in the cache (the connectors
keep it there), else its last or mid, else our position's last mark; None when nothing is known,
which fails the checks that need a price rather than passing them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from exchanges.models import ExchangeAccount, Instrument
from exchanges.venues.base import InstrumentKind, Side
from marketdata.feed import latest_key, ticker_channel
from orders.models import Order
from orders.state import OPEN_STATUSES
from portfolio.models import Balance, Position
from portfolio.selectors import realized_since
from risk.breaker_service import active_trip
from risk.checks import Exposure, Limits, Proposed, Rejection, run_checks
from risk.models import KillSwitch, RiskLimit

ZERO = Decimal(0)
USD_LIKE = frozenset({"USD", "USDT", "USDC"})


@dataclass(frozen=True, slots=True)
class Checked:
    """The outcome of the checks of one order: the first `rejection` (None: it may go), the
    `limit` that refused it, and the figures they were given."""

    rejection: Rejection | None
    limit: RiskLimit | None
    exposure: Exposure


def matching_limits(account: ExchangeAccount, instrument: Instrument) -> list[RiskLimit]:
    return list(
        RiskLimit.objects.filter(enabled=True)
        .filter(Q(account__isnull=True) | Q(account=account))
        .filter(Q(instrument__isnull=True) | Q(instrument=instrument))
        .order_by("id")
    )


def limits_of(row: RiskLimit) -> Limits:
    """One `RiskLimit` row as the checks' `Limits`, in the units of its scope."""
    per_instrument = row.instrument_id is not None
    return Limits(
        max_order_quantity=row.max_order_quantity if per_instrument else None,
        max_order_notional=row.max_order_notional,
        max_position_quantity=row.max_position if per_instrument else None,
        max_position_notional=None if per_instrument else row.max_position,
        max_open_orders=row.max_open_orders,
        max_daily_loss=row.max_daily_loss,
        price_band_pct=row.price_band_pct,
    )


def _decimal(value) -> Decimal | None:
    return Decimal(value) if value not in (None, "") else None


def reference_price(instrument: Instrument, position: Position | None = None) -> Decimal | None:
    """Mark, else last, else mid of the live ticker; else the last mark our position saw."""
    ticker = cache.get(latest_key(ticker_channel(instrument.exchange.venue, instrument.symbol)))
    if ticker:
        for name in ("mark_price", "last_price"):
            value = _decimal(ticker.get(name))
            if value:
                return value
        bid, ask = _decimal(ticker.get("best_bid")), _decimal(ticker.get("best_ask"))
        if bid and ask:
            return (bid + ask) / 2
    return position.mark_price if position is not None else None


def open_orders_in(row: RiskLimit | None, account: ExchangeAccount, instrument: Instrument) -> int:
    """Open orders in the scope of `row`: everything (global), the account, the instrument."""
    orders = Order.objects.filter(status__in=OPEN_STATUSES)
    if row is None or row.account_id is not None:
        orders = orders.filter(account=account)
    if row is not None and row.instrument_id is not None:
        orders = orders.filter(instrument=instrument)
    return orders.count()


def _available(account: ExchangeAccount, instrument: Instrument, side: Side) -> Decimal | None:
    if instrument.kind == InstrumentKind.SPOT:
        currency = instrument.quote if side is Side.BUY else instrument.base
    else:
        currency = instrument.settle
    return (
        Balance.objects.filter(account=account, currency=currency)
        .values_list("available", flat=True)
        .first()
    )


def _usd(amount: Decimal, currency: str, instrument: Instrument, price: Decimal | None):
    """`amount` of the settle `currency` in USD: as is when USD-like, at the instrument's price
    when it is the instrument's base (a coin-settled contract), else unknown (None)."""
    if currency in USD_LIKE:
        return amount
    if currency == instrument.base and price:
        return amount * price
    return None


def daily_pnl(
    account: ExchangeAccount,
    positions: list[Position],
    instrument: Instrument,
    price: Decimal | None,
) -> Decimal:
    """The PnL that counts against `max_daily_loss`, in USD: the unrealized PnL of the
    account's `positions` plus what it realized since midnight UTC (fills net of fees, funding
    and other executions; `portfolio.selectors.realized_since`), each valued in USD where its
    settle currency allows (USD-like, or the coin of `instrument` at its price)."""
    midnight = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    amounts: dict[int, Decimal] = dict(realized_since(account, midnight))
    settles = {p.instrument_id: p.instrument for p in positions}
    for position in positions:
        amounts[position.instrument_id] = (
            amounts.get(position.instrument_id, ZERO) + position.unrealized_pnl
        )
    missing = [pk for pk in amounts if pk not in settles]
    settles.update(Instrument.objects.in_bulk(missing))
    total = ZERO
    for instrument_id, amount in amounts.items():
        held = settles[instrument_id]
        value = _usd(amount, held.settle, instrument, price)
        if value is not None:
            total += value
    return total


def exposure_for(
    account: ExchangeAccount,
    instrument: Instrument,
    side: Side,
    *,
    price: Decimal | None = None,
    with_daily_pnl: bool = True,
) -> Exposure:
    """The account's figures for one order on `instrument`; the daily PnL (two aggregates over
    the day's fills and executions) only `with_daily_pnl`, when a daily loss limit applies."""
    positions = list(Position.objects.filter(account=account).select_related("instrument"))
    position = next((p for p in positions if p.instrument_id == instrument.pk), None)
    reference = reference_price(instrument, position)
    return Exposure(
        reference_price=reference,
        position=position.quantity if position else ZERO,
        open_orders=open_orders_in(None, account, instrument),
        available=_available(account, instrument, side),
        daily_pnl=(
            daily_pnl(account, positions, instrument, reference or price)
            if with_daily_pnl
            else ZERO
        ),
        kill_switch=KillSwitch.objects.is_engaged(account),
        leverage=position.leverage if position and position.leverage else Decimal(1),
    )


def circuit_breaker_rejection(
    instrument: Instrument, now: datetime | None = None
) -> Rejection | None:
    """A `circuit_breaker` rejection while a trip halts new orders on `instrument`
    (`risk.breaker_service`); it names the move and when the halt lifts by itself, if ever."""
    trip = active_trip(instrument, now)
    if trip is None:
        return None
    lifts = (
        f"until {trip.cooldown_until:%Y-%m-%d %H:%M:%S} UTC or an operator reset"
        if trip.cooldown_until is not None
        else "until an operator resets it"
    )
    return Rejection(
        "circuit_breaker",
        f"circuit breaker tripped on {instrument.symbol} at {trip.tripped_at:%Y-%m-%d %H:%M:%S}"
        f" UTC: mark moved {trip.move_pct.normalize():f}% (from {trip.reference_price.normalize():f}"
        f" to {trip.mark_price.normalize():f}); new orders halted {lifts}",
    )


def check_order(account: ExchangeAccount, instrument: Instrument, order: Proposed) -> Checked:
    """Run the checks of `order` under every matching limit (and the kill switch, the circuit
    breaker, the balance and the margin, which need no limit); the first rejection found is
    the answer. A tripped breaker halts every order on its instrument but a reduce-only one
    (the venue enforces that it only closes), so a position can still be closed or
    protected."""
    rows = matching_limits(account, instrument)
    exposure = exposure_for(
        account,
        instrument,
        order.side,
        price=order.price,
        with_daily_pnl=any(row.max_daily_loss is not None for row in rows),
    )
    rejection = run_checks(order, Limits(), exposure)
    if rejection is None and not order.reduce_only:  # closing a position stays possible
        rejection = circuit_breaker_rejection(instrument)
    if rejection is not None:
        return Checked(rejection, None, exposure)
    counts = {(True, False): exposure.open_orders}  # (per account, per instrument) -> open
    for row in rows:
        scope = (row.account_id is not None, row.instrument_id is not None)
        if scope not in counts:
            counts[scope] = open_orders_in(row, account, instrument)
        scoped = replace(exposure, open_orders=counts[scope])
        rejection = run_checks(order, limits_of(row), scoped)
        if rejection is not None:
            return Checked(rejection, row, scoped)
    return Checked(None, None, exposure)
