"""A position and its profit and loss from its trades: pure functions, no Django.

Conventions are CCXT's. The quantity is signed (long > 0, short < 0) in the instrument's order
quantity unit (`exchanges.venues.quantities.quantity_unit`: contracts, the base currency for
spot, USD for Deribit and Bybit inverse); what one unit is worth comes from
`quantities.unit_value`, so no venue fact is repeated here. PnL is in the instrument's PnL
currency (`pnl_currency`): the settle currency of a derivative, the quote currency of a spot
pair.

- Linear instruments, spot and options: a unit is an amount of the base currency, priced in
  the PnL currency, so closing `q` units opened at `entry` at `exit` makes
  `q * unit_value * (exit - entry)`. For an option the price is the premium: buying pays
  `quantity * unit_value * price` (`cash_flow`) and the realized PnL on close is the premium
  difference, the same formula.
- Inverse (coin-margined) perpetuals and futures: a unit is an amount of USD and the PnL is in
  the coin: `q * unit_value * (1/entry - 1/exit)` for a long (OKX and Bybit inverse, Deribit's
  USD amounts alike). The average entry of an inverse position is the harmonic mean
  (`units / sum(units / price)`), as the venues compute it; of a linear one the arithmetic mean.

A trade that goes the position's way increases it and moves the average entry; one that goes
against it first reduces it, realizing the PnL of the part it closes, and what is left of it
opens a new position on the other side at the trade's price (a flip). The average entry is
kept while a position only shrinks and cleared when it is flat. A position whose entry is not
known (a venue that reported a quantity without one) is taken at the trade's price: the part a
trade closes then realizes nothing, rather than a figure made up.

Fees: a positive fee is paid and reduces the realized PnL, a negative one is a rebate and adds
to it. A fee in another currency than the PnL currency (spot buys charged in the base coin, a
fee paid in a platform token) is not converted: it is added to `other_fees` under its own
currency and left out of `realized_pnl` and `fees`, so no figure mixes two units. Whoever wants
one total converts `other_fees` at a price of their choosing.

Arithmetic is exact in a 50-digit context; a quotient that does not terminate (an inverse PnL,
an average price) is rounded half-even to `QUANTUM` (1e-18), the database's resolution.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from types import MappingProxyType

from exchanges.venues.base import InstrumentInfo, InstrumentKind, Side
from exchanges.venues.quantities import unit_value

ZERO = Decimal(0)
QUANTUM = Decimal("1e-18")
_EXACT = Context(prec=50)
_NO_FEES: Mapping[str, Decimal] = MappingProxyType({})


class InvalidTrade(ValueError):
    """A trade that cannot be applied: quantity or price not positive."""


@dataclass(frozen=True, slots=True)
class PositionState:
    """A position as its trades made it. `realized_pnl` is net of `fees` (both in the PnL
    currency); `other_fees` holds the fees paid in any other currency, by currency."""

    quantity: Decimal = ZERO
    entry_price: Decimal | None = None
    realized_pnl: Decimal = ZERO
    fees: Decimal = ZERO
    other_fees: Mapping[str, Decimal] = field(default_factory=lambda: _NO_FEES)

    @property
    def is_flat(self) -> bool:
        return self.quantity == 0


@dataclass(frozen=True, slots=True)
class TradeResult:
    """What one trade did: the `state` after it, the PnL it `realized` (net of a fee in the
    PnL currency) and the quantity it `closed` (unsigned)."""

    state: PositionState
    realized: Decimal
    closed: Decimal


def pnl_currency(info: InstrumentInfo) -> str:
    """The currency a position's PnL is in: the quote of a spot pair, else the settle
    currency."""
    return info.quote if info.kind is InstrumentKind.SPOT else info.settle


def is_inverse(info: InstrumentInfo) -> bool:
    """Whether a unit counts USD and the PnL is in the coin: inverse perpetuals and futures.
    Options are priced in their settle currency per unit of the base on every venue we trade,
    so their PnL is the premium difference whatever their margin (as `quantities` reads them)."""
    return info.inverse and info.kind is not InstrumentKind.OPTION


def _round(value: Decimal) -> Decimal:
    return value.quantize(QUANTUM, rounding=ROUND_HALF_EVEN)


def close_pnl(info: InstrumentInfo, quantity: Decimal, entry: Decimal, exit: Decimal) -> Decimal:
    """The PnL of closing `quantity` (signed as the position: a long is positive) opened at
    `entry` at the price `exit`, in the PnL currency (module docstring)."""
    with localcontext(_EXACT):
        units = quantity * unit_value(info)
        if is_inverse(info):
            return _round(units / entry - units / exit)
        return _round(units * (exit - entry))


def unrealized_pnl(info: InstrumentInfo, state: PositionState, mark: Decimal) -> Decimal:
    """What the open position would realize if closed at `mark` (no fee): zero when flat."""
    if state.is_flat or state.entry_price is None:
        return ZERO
    return close_pnl(info, state.quantity, state.entry_price, mark)


def cash_flow(info: InstrumentInfo, side: Side, quantity: Decimal, price: Decimal) -> Decimal:
    """The premium (options) or quote amount (spot, linear) a trade moves, from the account's
    side: buying pays (negative), selling receives. Buying 1 option at 0.05 BTC of contract
    size 1 pays -0.05 BTC. Not defined for inverse instruments, whose trades move no coin."""
    if is_inverse(info):
        raise InvalidTrade(f"{info.symbol} is inverse: a trade moves no premium")
    with localcontext(_EXACT):
        return _round(-side.sign * quantity * unit_value(info) * price)


def average_entry(
    info: InstrumentInfo, held: Decimal, entry: Decimal, added: Decimal, price: Decimal
) -> Decimal:
    """The average entry of `held` units at `entry` and `added` more (same sign) at `price`:
    arithmetic mean weighted by units, harmonic for inverse instruments."""
    with localcontext(_EXACT):
        total = held + added
        if is_inverse(info):
            return _round(total / (held / entry + added / price))
        return _round((held * entry + added * price) / total)


def apply_trade(
    info: InstrumentInfo,
    state: PositionState,
    *,
    side: Side,
    quantity: Decimal,
    price: Decimal,
    fee: Decimal = ZERO,
    fee_currency: str = "",
) -> TradeResult:
    """`state` after a trade of `quantity` (unsigned) at `price` on `side`, paying `fee` in
    `fee_currency` (empty: the PnL currency). Increasing, reducing, closing and flipping as the
    module docstring says."""
    if quantity <= 0 or price <= 0:
        raise InvalidTrade(f"a trade needs a positive quantity and price: {quantity} @ {price}")
    with localcontext(_EXACT):
        signed = side.sign * quantity
        held = state.quantity
        realized = ZERO
        closed = ZERO
        known = state.entry_price if state.entry_price is not None else price
        if held == 0 or (held > 0) == (signed > 0):
            entry = price if held == 0 else average_entry(info, held, known, signed, price)
            after = held + signed
        else:
            closed = min(abs(signed), abs(held))
            direction = 1 if held > 0 else -1
            realized = close_pnl(info, direction * closed, known, price)
            after = held + signed
            if after == 0:
                entry = None
            elif (after > 0) == (held > 0):
                entry = known
            else:
                entry = price
        moved = replace(
            state, quantity=after, entry_price=entry, realized_pnl=state.realized_pnl + realized
        )
        charged = apply_fee(info, moved, fee, fee_currency)
    return TradeResult(
        state=charged,
        realized=realized - (charged.fees - state.fees),
        closed=closed,
    )


def apply_fee(
    info: InstrumentInfo, state: PositionState, fee: Decimal, fee_currency: str = ""
) -> PositionState:
    """`state` after paying `fee` (negative: a rebate) in `fee_currency` (empty: the PnL
    currency): in the PnL currency it reduces the realized PnL, in another one it goes to
    `other_fees` (module docstring)."""
    with localcontext(_EXACT):
        if fee_currency and fee_currency != pnl_currency(info):
            other = state.other_fees
            return replace(
                state,
                other_fees=MappingProxyType(
                    {**other, fee_currency: other.get(fee_currency, ZERO) + fee}
                ),
            )
        return replace(state, fees=state.fees + fee, realized_pnl=state.realized_pnl - fee)


def apply_cash(state: PositionState, amount: Decimal) -> PositionState:
    """`state` after a cash flow counted as realized PnL (funding received or paid, a
    settlement), in the PnL currency: the quantity does not change."""
    with localcontext(_EXACT):
        return replace(state, realized_pnl=state.realized_pnl + amount)
