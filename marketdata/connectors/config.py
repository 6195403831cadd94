"""What the connectors should be streaming, as the database says, and how it changed.

The service reloads `load_desired` every `CONNECTOR_RELOAD_SECONDS`: one `WantedExchange` per
enabled exchange (optionally only some slugs), holding the enabled subscriptions of its active
instruments. `diff` turns two loads into the subscribe/unsubscribe calls of a running stream;
an exchange whose endpoints changed gets a new stream (`same_stream`). `load_accounts` is
the private side: one `WantedAccount` per enabled account with keys on an enabled exchange.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from exchanges.venues.base import Endpoints, InstrumentInfo, Venue


@dataclass(frozen=True, slots=True)
class WantedInstrument:
    """One subscription as the connectors run it."""

    instrument_id: int
    info: InstrumentInfo
    books: bool
    book_depth: int
    trades: bool
    tickers: bool

    @property
    def symbol(self) -> str:
        return self.info.symbol

    @property
    def channels(self) -> dict[str, bool]:
        """The keyword arguments of `PublicStream.subscribe`."""
        return {"books": self.books, "trades": self.trades, "tickers": self.tickers}


@dataclass(frozen=True, slots=True)
class WantedExchange:
    """One exchange's public stream and what it should carry, keyed by unified symbol."""

    exchange_id: int
    slug: str
    venue: Venue
    endpoints: Endpoints
    instruments: Mapping[str, WantedInstrument]
    exchange: Any = field(default=None, compare=False)  # the Exchange row, for REST and records

    def same_stream(self, other: WantedExchange) -> bool:
        """Whether `other` can be served by this one's stream (same venue and endpoints)."""
        return (self.venue, self.endpoints) == (other.venue, other.endpoints)


@dataclass(frozen=True, slots=True)
class Changes:
    """What a running stream must do to go from one load to the next: `update` holds
    subscriptions whose channels stay (their depth or instrument data changed), which need no
    call to the venue."""

    subscribe: tuple[WantedInstrument, ...] = ()
    unsubscribe: tuple[WantedInstrument, ...] = ()
    update: tuple[WantedInstrument, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.subscribe or self.unsubscribe or self.update)


def diff(old: Mapping[str, WantedInstrument], new: Mapping[str, WantedInstrument]) -> Changes:
    """Symbols gone are unsubscribed, new ones subscribed; one whose channels changed is
    unsubscribed and subscribed again with the new ones (a stream's `subscribe` takes the
    channels per call). In symbol order, so the calls are stable."""
    subscribe, unsubscribe, update = [], [], []
    for symbol in sorted(old.keys() | new.keys()):
        before, after = old.get(symbol), new.get(symbol)
        if before == after:
            continue
        if after is None:
            unsubscribe.append(before)
        elif before is None:
            subscribe.append(after)
        elif before.channels != after.channels or before.instrument_id != after.instrument_id:
            unsubscribe.append(before)
            subscribe.append(after)
        else:
            update.append(after)
    return Changes(tuple(subscribe), tuple(unsubscribe), tuple(update))


def load_desired(slugs: Sequence[str] | None = None) -> dict[int, WantedExchange]:
    """The enabled exchanges (only `slugs`, when given) and the enabled subscriptions of their
    active instruments, by exchange id. Synchronous (the service calls it in a thread)."""
    from exchanges.models import Exchange
    from marketdata.models import Subscription

    exchanges = Exchange.objects.filter(enabled=True)
    if slugs:
        exchanges = exchanges.filter(slug__in=list(slugs))
    instruments: dict[int, dict[str, WantedInstrument]] = {}
    subscriptions = Subscription.objects.filter(
        enabled=True, instrument__active=True, instrument__exchange__in=exchanges
    ).select_related("instrument__exchange")
    for subscription in subscriptions:
        if not (subscription.books or subscription.trades or subscription.tickers):
            continue
        instrument = subscription.instrument
        instruments.setdefault(instrument.exchange_id, {})[instrument.symbol] = WantedInstrument(
            instrument_id=instrument.pk,
            info=instrument.info(),
            books=subscription.books,
            book_depth=subscription.book_depth,
            trades=subscription.trades,
            tickers=subscription.tickers,
        )
    return {
        exchange.pk: WantedExchange(
            exchange_id=exchange.pk,
            slug=exchange.slug,
            venue=Venue(exchange.venue),
            endpoints=exchange.endpoints(),
            instruments=instruments.get(exchange.pk, {}),
            exchange=exchange,
        )
        for exchange in exchanges.order_by("slug")
    }


@dataclass(frozen=True, slots=True)
class WantedAccount:
    """One account's private stream as the connectors run it. Two loads that compare equal
    need nothing done; any change (keys, endpoints, venue) means a new stream. `account` is the
    row the dispatcher writes against; `instruments` fill the stream's symbol table, so pushes
    of instruments nobody subscribed to market data of are still named right."""

    account_id: int
    exchange_id: int
    slug: str  # "<exchange slug>/<account label>", for logs and metrics
    venue: Venue
    endpoints: Endpoints
    credentials: Any  # base.Credentials: compared, never shown (its repr hides the secret)
    account: Any = field(default=None, compare=False)
    exchange: Any = field(default=None, compare=False)
    instruments: tuple[InstrumentInfo, ...] = field(default=(), compare=False)


def load_accounts(slugs: Sequence[str] | None = None) -> dict[int, WantedAccount]:
    """The enabled accounts with an API key on enabled exchanges (only those of `slugs`, when
    given), by account id. Synchronous (the service calls it in a thread)."""
    from exchanges.models import ExchangeAccount, Instrument

    accounts = ExchangeAccount.objects.filter(enabled=True, exchange__enabled=True)
    if slugs:
        accounts = accounts.filter(exchange__slug__in=list(slugs))
    accounts = list(accounts.select_related("exchange").order_by("exchange__slug", "label"))
    infos: dict[int, list[InstrumentInfo]] = {}
    exchange_ids = {account.exchange_id for account in accounts}
    for instrument in Instrument.objects.filter(
        exchange_id__in=exchange_ids, active=True
    ).select_related("exchange"):
        infos.setdefault(instrument.exchange_id, []).append(instrument.info())
    wanted = {}
    for account in accounts:
        credentials = account.credentials()
        if not credentials.api_key or not credentials.secret:
            continue  # a row without keys has no private stream to open
        exchange = account.exchange
        wanted[account.pk] = WantedAccount(
            account_id=account.pk,
            exchange_id=exchange.pk,
            slug=f"{exchange.slug}/{account.label}",
            venue=Venue(exchange.venue),
            endpoints=exchange.endpoints(),
            credentials=credentials,
            account=account,
            exchange=exchange,
            instruments=tuple(infos.get(exchange.pk, ())),
        )
    return wanted
