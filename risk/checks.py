"""Pre-trade risk checks: pure functions on Decimals (no Django, no I/O), each answering None
(passes) or a `Rejection` whose reason names the limit and the figures.

Units. Limits on an instrument are in its own quantity (CCXT's: contracts for derivatives, the
base currency for spot); global and per-account limits are in notional, the quote currency of
USD-quoted instruments (USD, USDT, USDC counted alike), so that one limit means the same on every
venue. Notional is `exchanges.venues.quantities.notional` at the order's price, or at the
reference (mark) price for a market order.

`run_checks` runs them in a fixed order, cheapest and most decisive first, and returns the first
rejection: kill switch, daily loss, order quantity, order notional, open orders, price collar,
position, balance or margin. An order that only reduces the position passes the position and
balance checks: cutting risk is never refused for lack of room.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from exchanges.venues.base import InstrumentInfo, InstrumentKind, OrderType, Side
from exchanges.venues.quantities import base_quantity, notional

ZERO = Decimal(0)
HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class Rejection:
    code: str  # stable: kill_switch, daily_loss, order_quantity, ...
    reason: str


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits in force for one order, each the tightest of the scopes that set it (None:
    no limit). Quantities in the instrument's units; notionals and losses in USD."""

    max_order_quantity: Decimal | None = None
    max_order_notional: Decimal | None = None
    max_position_quantity: Decimal | None = None
    max_position_notional: Decimal | None = None
    max_open_orders: int | None = None
    max_daily_loss: Decimal | None = None
    price_band_pct: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Proposed:
    """The order asked for. An amend proposes the order as it would become, with `replaces`
    the quantity of the open order it changes: that order is counted among the open orders
    already, and the venue holds its margin, so only the increase needs funds."""

    info: InstrumentInfo
    side: Side
    order_type: OrderType
    quantity: Decimal
    price: Decimal | None = None
    reduce_only: bool = False
    replaces: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class Exposure:
    """What the account holds and does now. `reference_price` is the mark (or mid) of the
    instrument, the underlying's for an option's notional; `position` is signed (long > 0) in
    the instrument's units; `available` is the free balance the order draws on (spot: the quote
    currency for a buy, the base for a sell; derivatives: the settle currency), None when
    unknown; `daily_pnl` is today's realized plus unrealized PnL in USD (a loss is negative)."""

    reference_price: Decimal | None
    position: Decimal = ZERO
    open_orders: int = 0
    available: Decimal | None = None
    daily_pnl: Decimal = ZERO
    kill_switch: bool = False
    leverage: Decimal = Decimal(1)


def figure(value: Decimal) -> str:
    """A figure for a reason: plain notation, no trailing zeros (65000.00 -> 65000)."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _price(order: Proposed, exposure: Exposure) -> Decimal | None:
    return order.price if order.price is not None else exposure.reference_price


def _after(order: Proposed, exposure: Exposure) -> Decimal:
    return exposure.position + order.side.sign * order.quantity


def reduces(order: Proposed, exposure: Exposure) -> bool:
    """The order only brings the position closer to zero (never through it)."""
    after = _after(order, exposure)
    return abs(after) < abs(exposure.position) and after * exposure.position >= 0


def check_kill_switch(order: Proposed, limits: Limits, exposure: Exposure) -> Rejection | None:
    if exposure.kill_switch:
        return Rejection("kill_switch", "the kill switch is engaged: no new order is accepted")
    return None


def check_daily_loss(order: Proposed, limits: Limits, exposure: Exposure) -> Rejection | None:
    limit = limits.max_daily_loss
    if limit is not None and -exposure.daily_pnl >= limit and not reduces(order, exposure):
        return Rejection(
            "daily_loss",
            f"today's loss {figure(-exposure.daily_pnl)} USD has reached the limit of {figure(limit)} USD",
        )
    return None


def check_order_quantity(order: Proposed, limits: Limits, exposure: Exposure) -> Rejection | None:
    limit = limits.max_order_quantity
    if limit is not None and order.quantity > limit:
        return Rejection(
            "order_quantity",
            f"quantity {figure(order.quantity)} is above the limit of {figure(limit)} "
            f"for {order.info.symbol}",
        )
    return None


def check_order_notional(order: Proposed, limits: Limits, exposure: Exposure) -> Rejection | None:
    limit = limits.max_order_notional
    if limit is None:
        return None
    price = _price(order, exposure)
    if price is None:
        return Rejection("no_price", f"no price known for {order.info.symbol} to value the order")
    value = notional(order.info, order.quantity, _notional_price(order, exposure, price))
    if value > limit:
        return Rejection(
            "order_notional",
            f"order notional {figure(value)} USD is above the limit of {figure(limit)} USD",
        )
    return None


def _notional_price(order: Proposed, exposure: Exposure, price: Decimal) -> Decimal:
    """An option's quantity is valued at the underlying's price, never at its premium."""
    if order.info.kind is InstrumentKind.OPTION:
        return exposure.reference_price if exposure.reference_price is not None else price
    return price


def check_open_orders(order: Proposed, limits: Limits, exposure: Exposure) -> Rejection | None:
    limit = limits.max_open_orders
    if order.replaces > 0:  # an amend: the order is open already
        return None
    if limit is not None and exposure.open_orders + 1 > limit:
        return Rejection(
            "open_orders", f"{exposure.open_orders} orders are open already, the limit is {limit}"
        )
    return None


def check_price_collar(order: Proposed, limits: Limits, exposure: Exposure) -> Rejection | None:
    band, mark = limits.price_band_pct, exposure.reference_price
    if band is None or order.order_type is not OrderType.LIMIT or order.price is None:
        return None
    if mark is None or mark <= 0:
        return Rejection("no_price", f"no mark price for {order.info.symbol} to check the collar")
    off = abs(order.price - mark) / mark * HUNDRED
    if off > band:
        return Rejection(
            "price_collar",
            f"price {figure(order.price)} is {off.quantize(Decimal('0.01'))}% from the mark "
            f"{figure(mark)}, "
            f"beyond the {figure(band)}% band",
        )
    return None


def check_position(order: Proposed, limits: Limits, exposure: Exposure) -> Rejection | None:
    if reduces(order, exposure):
        return None
    after = _after(order, exposure)
    if limits.max_position_quantity is not None and abs(after) > limits.max_position_quantity:
        return Rejection(
            "position",
            f"the position would be {figure(after)}, beyond the limit of "
            f"{figure(limits.max_position_quantity)} for {order.info.symbol}",
        )
    if limits.max_position_notional is not None:
        price = _price(order, exposure)
        if price is None:
            return Rejection("no_price", f"no price known for {order.info.symbol}")
        value = notional(order.info, abs(after), _notional_price(order, exposure, price))
        if value > limits.max_position_notional:
            return Rejection(
                "position",
                f"the position would be worth {figure(value)} USD, beyond the limit of "
                f"{figure(limits.max_position_notional)} USD",
            )
    return None


def required_funds(order: Proposed, exposure: Exposure, price: Decimal) -> Decimal:
    """What the order draws on `available`: spot, the quote cost of a buy or the base sold;
    derivatives, the initial margin (notional / leverage) in the settle currency (the coin
    for inverse instruments, the quote for linear ones); an option bought, its premium."""
    info = order.info
    if info.kind is InstrumentKind.SPOT:
        return order.quantity * price if order.side is Side.BUY else order.quantity
    if info.kind is InstrumentKind.OPTION and order.side is Side.BUY:
        return base_quantity(info, order.quantity, price) * price
    if info.inverse:
        return base_quantity(info, order.quantity, price) / exposure.leverage
    return notional(info, order.quantity, price) / exposure.leverage


def check_balance(order: Proposed, limits: Limits, exposure: Exposure) -> Rejection | None:
    if exposure.available is None or reduces(order, exposure):
        return None
    price = _price(order, exposure)
    if price is None:
        return Rejection("no_price", f"no price known for {order.info.symbol}")
    extra = order.quantity - order.replaces
    if extra <= 0:  # an amend that adds no quantity draws on no more funds
        return None
    needed = required_funds(replace(order, quantity=extra), exposure, price)
    if needed > exposure.available:
        what = "balance" if order.info.kind is InstrumentKind.SPOT else "margin"
        return Rejection(
            "insufficient_" + what,
            f"the order needs {figure(needed)} of available {what}, "
            f"{figure(exposure.available)} is free",
        )
    return None


CHECKS = (
    check_kill_switch,
    check_daily_loss,
    check_order_quantity,
    check_order_notional,
    check_open_orders,
    check_price_collar,
    check_position,
    check_balance,
)


def run_checks(order: Proposed, limits: Limits, exposure: Exposure) -> Rejection | None:
    """The first rejection of `CHECKS`, in order; None when the order may go."""
    for check in CHECKS:
        rejection = check(order, limits, exposure)
        if rejection is not None:
            return rejection
    return None
