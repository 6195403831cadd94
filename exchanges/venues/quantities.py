"""What an order quantity counts, and the one conversion of a quantity to base-currency size
and notional, used by risk checks, positions, the consolidated book and routing alike.

Quantities follow CCXT's convention (the venue's own order quantity): contracts for
derivatives, the base currency for spot. What one unit is differs by venue
(`quantity_unit`):

- spot everywhere, Bybit linear and options, Deribit linear (`_USDC`) and options: the base
  currency (BTC);
- OKX swaps, futures and options: contracts of `contract_size` of the contract currency
  (BTC-USDT-SWAP 0.01 BTC; BTC-USD-SWAP 100 USD);
- Deribit inverse perpetuals and futures (`amount` in USD, multiples of the 10 USD contract) and
  Bybit inverse (`qty` in USD, contract 1 USD): the quote currency, USD.

`base_quantity(info, quantity, price)` is the size in the base currency and `notional` the value
in the quote currency; for inverse instruments both need the price. An option's quantity is
converted with the underlying's price (its own price is a premium).

Exact: products and sums in a 50-digit context; the one quotient (inverse) is rounded toward
zero to `BASE_QUANTUM` so that a size is never overstated.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Context, Decimal, localcontext

from exchanges.venues.base import InstrumentInfo, InstrumentKind, QuantityUnit, Venue

ONE = Decimal(1)
BASE_QUANTUM = Decimal("1e-12")
_EXACT = Context(prec=50)


def quantity_unit(info: InstrumentInfo) -> QuantityUnit:
    """What one unit of `info`'s order quantity is (module docstring)."""
    return unit_for(info.venue, info.kind, linear=info.linear)


def unit_for(venue: Venue | str, kind: InstrumentKind | str, *, linear: bool) -> QuantityUnit:
    """`quantity_unit` from the three facts it depends on."""
    if kind == InstrumentKind.SPOT:
        return QuantityUnit.BASE
    if venue == Venue.OKX:
        return QuantityUnit.CONTRACTS
    if not linear and kind != InstrumentKind.OPTION:
        return QuantityUnit.QUOTE
    return QuantityUnit.BASE


def unit_value(info: InstrumentInfo) -> Decimal:
    """How much of the contract currency (the base for spot, linear and options, the quote for
    inverse) one quantity unit is: `contract_size` for contracts, else 1."""
    return info.contract_size if quantity_unit(info) is QuantityUnit.CONTRACTS else ONE


def base_quantity(info: InstrumentInfo, quantity: Decimal, price: Decimal) -> Decimal:
    """`quantity` of `info` in the base currency; `price` (the pair's price, the underlying's
    for an option) is needed only where the contract currency is the quote."""
    with localcontext(_EXACT):
        amount = quantity * unit_value(info)
        if not _in_quote(info):
            return amount
        return (amount / price).quantize(BASE_QUANTUM, rounding=ROUND_DOWN)


def notional(info: InstrumentInfo, quantity: Decimal, price: Decimal) -> Decimal:
    """What `quantity` of `info` is worth in the quote currency at `price` (the underlying's
    price for an option): exact."""
    with localcontext(_EXACT):
        amount = quantity * unit_value(info)
        return amount if _in_quote(info) else amount * price


def _in_quote(info: InstrumentInfo) -> bool:
    """Whether a unit counts the quote currency: inverse instruments, options excepted (their
    amounts are in the coin on every venue we trade)."""
    return info.inverse and info.kind is not InstrumentKind.OPTION
