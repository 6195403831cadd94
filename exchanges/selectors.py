"""Reads of the exchanges app: the querysets that admin, API, commands and connectors share."""

from __future__ import annotations

from django.db.models import QuerySet

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
    """The instrument of `exchange` named `symbol`: its unified symbol (`BTC/USD:BTC`, unique
    per exchange) or else its venue symbol (`BTC-PERPETUAL`), preferring a listed instrument.

    Raises `Instrument.DoesNotExist` when nothing matches, and `MultipleObjectsReturned` when a
    venue symbol names several listed instruments (Bybit's `BTCUSDT` is a spot pair and a
    perpetual): the unified symbol tells them apart.
    """
    instruments = Instrument.objects.filter(exchange=exchange)
    by_symbol = instruments.filter(symbol=symbol).first()
    if by_symbol is not None:
        return by_symbol
    candidates = list(instruments.filter(venue_symbol=symbol).order_by("-active", "pk"))
    if not candidates:
        raise Instrument.DoesNotExist(f"no instrument {symbol!r} on {exchange.slug}")
    listed = [instrument for instrument in candidates if instrument.active]
    if len(listed) > 1:
        raise Instrument.MultipleObjectsReturned(
            f"{symbol!r} names {len(listed)} instruments on {exchange.slug} "
            f"({', '.join(i.symbol for i in listed)}): use the unified symbol"
        )
    return candidates[0]


def accounts_visible_to(user) -> QuerySet[ExchangeAccount]:
    """The accounts `user` may see: every one with `view_all_accounts` (viewers, risk officers,
    admins), else only the accounts granted to them (traders)."""
    qs = ExchangeAccount.objects.select_related("exchange")
    if not user.is_authenticated:
        return qs.none()
    if user.has_perm("exchanges.view_all_accounts"):
        return qs
    return qs.filter(grants__user=user)
