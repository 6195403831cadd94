"""Reads of the exchanges app: the querysets that admin, API, commands and connectors share."""

from __future__ import annotations

from django.db.models import Case, Q, QuerySet, Value, When

from exchanges.choices import Venue
from exchanges.models import Exchange, ExchangeAccount, Instrument


def exchanges_enabled(*, venue: Venue | str | None = None) -> QuerySet[Exchange]:
    qs = Exchange.objects.filter(enabled=True)
    return qs if venue is None else qs.filter(venue=venue)


def exchange_get(*, slug: str) -> Exchange:
    """The exchange with `slug` (`Exchange.DoesNotExist` if none)."""
    return Exchange.objects.get(slug=slug)


def accounts_enabled(
    *, venue: Venue | str | None = None, exchange: Exchange | None = None
) -> QuerySet[ExchangeAccount]:
    """Enabled accounts on enabled exchanges, with their exchange loaded."""
    qs = ExchangeAccount.objects.filter(enabled=True, exchange__enabled=True).select_related(
        "exchange"
    )
    if venue is not None:
        qs = qs.filter(exchange__venue=venue)
    if exchange is not None:
        qs = qs.filter(exchange=exchange)
    return qs


def instruments_active(*, exchange: Exchange) -> QuerySet[Instrument]:
    return Instrument.objects.filter(exchange=exchange, active=True)


def instrument_get(*, exchange: Exchange, symbol: str) -> Instrument:
    """The instrument of `exchange` named `symbol`, either its venue symbol (`BTC-PERPETUAL`)
    or its unified symbol (`BTC/USD:BTC`). A venue-symbol match wins, then an active one.
    Raises `Instrument.DoesNotExist` when nothing matches."""
    instrument = (
        Instrument.objects.filter(exchange=exchange)
        .filter(Q(venue_symbol=symbol) | Q(symbol=symbol))
        .annotate(by_venue_symbol=Case(When(venue_symbol=symbol, then=Value(0)), default=Value(1)))
        .order_by("by_venue_symbol", "-active", "pk")
        .first()
    )
    if instrument is None:
        raise Instrument.DoesNotExist(f"no instrument {symbol!r} on {exchange.slug}")
    return instrument
