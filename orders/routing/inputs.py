"""Routing's inputs and unit arithmetic: why an account is left out, what its funds allow, a
level's price net of fees, the slippage bound, and a base quantity as each venue's order
quantity (pure, see `orders.routing`)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    localcontext,
)

from exchanges.venues import quantities
from exchanges.venues.base import InstrumentInfo, InstrumentKind, PriceLevel, Side

ZERO = Decimal(0)
ONE = Decimal(1)
BPS = Decimal(10_000)
BASE_QUANTUM = Decimal("1e-12")
PRICE_QUANTUM = Decimal("1e-8")
EXACT = Context(prec=50)

MARKET = "market"
LIMIT = "limit"

# Why an account is left out of a decision (`exclusion_reason`, `plan_route`).
ACCOUNT_DISABLED = "account_disabled"
CANNOT_TRADE = "account_cannot_trade"
KILL_SWITCH = "kill_switch"
CONNECTOR_DOWN = "connector_down"
NO_BOOK = "no_book"
STALE_BOOK = "stale_book"
EMPTY_SIDE = "empty_book_side"
NO_FUNDS = "no_funds"
BELOW_MINIMUM = "below_minimum_size"
REJECTED = "rejected_by_venue"


# --------------------------------------------------------------------------- eligibility


def exclusion_reason(
    *,
    account_enabled: bool,
    can_trade: bool,
    kill_switch: bool,
    connector_up: bool,
    book_present: bool,
    book_age_seconds: float | None,
    stale_after_seconds: float,
) -> str | None:
    """Why an account cannot take part now, None when it can. The account's own state comes
    first (an operator's decision), then the venue's connector, then its book: a book withdrawn
    as invalid is absent, and one older than `stale_after_seconds` no longer says what the
    venue would fill."""
    if not account_enabled:
        return ACCOUNT_DISABLED
    if not can_trade:
        return CANNOT_TRADE
    if kill_switch:
        return KILL_SWITCH
    if not connector_up:
        return CONNECTOR_DOWN
    if not book_present:
        return NO_BOOK
    if book_age_seconds is None or book_age_seconds > stale_after_seconds:
        return STALE_BOOK
    return None


def funds_per_base(info: InstrumentInfo, side: Side, price: Decimal, leverage: Decimal) -> Decimal:
    """What one unit of base currency traded at `price` draws on the account's available
    balance, as `risk.checks.required_funds` counts it: spot, the quote paid for a buy or the
    base sold; linear derivatives the margin `price / leverage` (quote); inverse ones
    `1 / leverage` (the coin)."""
    with localcontext(EXACT):
        if info.kind is InstrumentKind.SPOT:
            return price if side is Side.BUY else ONE
        if info.inverse:
            return ONE / leverage
        return price / leverage


def funded_cap(
    info: InstrumentInfo,
    side: Side,
    available: Decimal | None,
    price: Decimal,
    leverage: Decimal = ONE,
) -> Decimal | None:
    """The most base quantity `available` funds at `price` (`funds_per_base`), toward zero;
    None when the balance is unknown (the risk checks do not limit it either)."""
    if available is None:
        return None
    if available <= 0:
        return ZERO
    with localcontext(EXACT):
        per = funds_per_base(info, side, price, leverage)
        return (available / per).quantize(BASE_QUANTUM, rounding=ROUND_DOWN)


def limit_cap(
    info: InstrumentInfo,
    *,
    max_order_quantity: Decimal | None,
    max_order_notional: Decimal | None,
    price: Decimal,
) -> Decimal | None:
    """The most base quantity one order may have under a risk limit (`risk.checks`): an
    instrument's `max_order_quantity` is in its own unit, a `max_order_notional` in USD at
    `price`; toward zero. None when neither is set."""
    caps = []
    with localcontext(EXACT):
        if max_order_quantity is not None:
            caps.append(quantities.base_quantity(info, max_order_quantity, price))
        if max_order_notional is not None:  # one base unit is worth `price` on every kind
            caps.append((max_order_notional / price).quantize(BASE_QUANTUM, rounding=ROUND_DOWN))
    return min(caps) if caps else None


# --------------------------------------------------------------------------- prices


def net_price(side: Side, price: Decimal, fee: Decimal) -> Decimal:
    """A level's price net of the taker fee: what a buy pays, or a sell gets, per base unit."""
    with localcontext(EXACT):
        return price * (ONE + fee) if side is Side.BUY else price * (ONE - fee)


def slippage_bound(
    side: Side, reference: Decimal, max_slippage_bps: Decimal, limit: Decimal | None = None
) -> Decimal:
    """The worst price a child may fill at: `max_slippage_bps` from `reference` (the best raw
    price), and never beyond the parent's `limit`."""
    with localcontext(EXACT):
        move = reference * Decimal(max_slippage_bps) / BPS
        bound = reference + move if side is Side.BUY else reference - move
    if limit is not None:
        bound = min(bound, limit) if side is Side.BUY else max(bound, limit)
    return bound


def child_price(info: InstrumentInfo, side: Side, bound: Decimal) -> Decimal:
    """`bound` on the venue's tick, toward the better side (down for a buy, up for a sell), so
    the child never accepts a worse price than the bound."""
    rounding = ROUND_FLOOR if side is Side.BUY else ROUND_CEILING
    with localcontext(EXACT):
        ticks = (bound / info.tick_size).to_integral_value(rounding=rounding)
        return ticks * info.tick_size


def venue_quantity(info: InstrumentInfo, base: Decimal, price: Decimal) -> Decimal:
    """`base` (base currency) as the venue's order quantity, rounded down to its lot: contracts
    of `contract_size`, coins, or USD for inverse instruments (at `price`)."""
    with localcontext(EXACT):
        amount = base * price if info.inverse else base
        units = amount / quantities.unit_value(info)
        lots = (units / info.lot_size).to_integral_value(rounding=ROUND_DOWN)
        return lots * info.lot_size


def levels_in_base(
    info: InstrumentInfo, levels: Iterable[PriceLevel], quantity: Decimal
) -> tuple[PriceLevel, ...]:
    """A book side (best first, sizes in the venue's unit) in base currency, only as deep as
    `quantity` reaches: no single venue can take more than the whole order, so deeper levels
    can never be routed to, and converting them (a division each for inverse books) is
    skipped. Empty levels are left out."""
    out, total = [], ZERO
    for price, size in levels:
        if total >= quantity:
            break
        base = quantities.base_quantity(info, size, price)
        if base > 0:
            out.append((price, base))
            total += base
    return tuple(out)


def meets_minimum(info: InstrumentInfo, quantity: Decimal, price: Decimal) -> bool:
    """Whether an order of `quantity` (venue unit) at `price` is one the venue accepts: at
    least its minimum size and, where it has one, its minimum value."""
    if quantity <= 0 or quantity < info.min_size:
        return False
    if info.min_notional is not None:
        return quantities.notional(info, quantity, price) >= info.min_notional
    return True


def average(total: Decimal, size: Decimal) -> Decimal | None:
    """`total` notional over `size`, half even to `PRICE_QUANTUM`; None for no size."""
    if size <= 0:
        return None
    with localcontext(EXACT):
        return (total / size).quantize(PRICE_QUANTUM, rounding=ROUND_HALF_EVEN)
