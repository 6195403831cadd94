"""Checks of an order request against its instrument and account, before anything is written:
each failure a `django.core.exceptions.ValidationError` naming the field, with a reason that
quotes the instrument's figures as plain numbers."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError

from exchanges.models import ExchangeAccount, Instrument
from exchanges.venues.base import OrderType
from exchanges.venues.quantities import notional
from risk.checks import figure


def invalid(field: str, reason: str) -> ValidationError:
    return ValidationError({field: [reason]})


def multiple_of(value: Decimal, step: Decimal) -> bool:
    return step > 0 and (value / step) == (value / step).to_integral_value()


def validate_order(
    account: ExchangeAccount,
    instrument: Instrument,
    *,
    order_type: OrderType,
    quantity: Decimal,
    price: Decimal | None,
    post_only: bool,
    trigger_price: Decimal | None = None,
) -> None:
    """Field errors a venue would refuse the order for, found before anything is written.
    A conditional order (stop, take profit) needs a trigger price on the tick; its limit kinds
    need a price like a limit order."""
    order_type = OrderType(order_type)
    if not account.enabled or not account.exchange.enabled:
        raise invalid("account", f"account {account} is disabled")
    if not account.can_trade:
        raise invalid("account", f"account {account} has read-only permission")
    if instrument.exchange_id != account.exchange_id:
        raise invalid("symbol", f"{instrument.symbol} is not listed on {account.exchange}")
    if not instrument.active:
        raise invalid("symbol", f"{instrument.symbol} is no longer traded")
    if quantity <= 0:
        raise invalid("quantity", "must be positive")
    if quantity < instrument.min_size:
        raise invalid("quantity", f"below the minimum size {figure(instrument.min_size)}")
    if not multiple_of(quantity, instrument.lot_size):
        raise invalid(
            "quantity", f"must be a multiple of the lot size {figure(instrument.lot_size)}"
        )
    if order_type.is_conditional:
        if trigger_price is None:
            raise invalid("trigger_price", f"a {order_type} order needs a trigger price")
        if trigger_price <= 0:
            raise invalid("trigger_price", "must be positive")
        if not multiple_of(trigger_price, instrument.tick_size):
            raise invalid(
                "trigger_price",
                f"must be a multiple of the tick size {figure(instrument.tick_size)}",
            )
    elif trigger_price is not None:
        raise invalid("trigger_price", "only a stop or take-profit order has a trigger price")
    if order_type.has_price:
        if price is None:
            raise invalid("price", f"a {order_type} order needs a price")
        if price <= 0:
            raise invalid("price", "must be positive")
        if not multiple_of(price, instrument.tick_size):
            raise invalid(
                "price", f"must be a multiple of the tick size {figure(instrument.tick_size)}"
            )
        if instrument.min_notional is not None:
            value = notional(instrument.info(), quantity, price)
            if value < instrument.min_notional:
                raise invalid(
                    "quantity",
                    f"order value {figure(value)} is below the minimum notional "
                    f"{figure(instrument.min_notional)}",
                )
    elif price is not None:
        raise invalid("price", f"a {order_type} order takes no price")
    if post_only and order_type != OrderType.LIMIT:
        raise invalid("post_only", "only a limit order can be post-only")


def instrument_for(account: ExchangeAccount, symbol: str) -> Instrument:
    instrument = (
        Instrument.objects.select_related("exchange")
        .filter(exchange_id=account.exchange_id, symbol=symbol)
        .first()
    )
    if instrument is None:
        raise invalid("symbol", f"{account.exchange} lists no {symbol}")
    return instrument
