"""Writes of the market data app.

`subscription_create`/`_update`/`_delete` change what the connectors stream.
`arbitrage_record` keeps `ArbitrageOpportunity` rows in step with what
`marketdata.aggregation.find_opportunities` finds for one pair each time the runner looks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction

from exchanges.models import Exchange, Instrument
from exchanges.venues.base import Venue
from marketdata.aggregation import Opportunity
from marketdata.models import ArbitrageOpportunity, Subscription

FIGURES = ("buy_price", "sell_price", "size", "net_edge_bps", "net_edge_quote")


@dataclass(frozen=True, slots=True)
class ArbitrageChanges:
    """What one `arbitrage_record` call changed, for the runner to stream."""

    opened: tuple[ArbitrageOpportunity, ...] = ()
    updated: tuple[ArbitrageOpportunity, ...] = ()
    closed: tuple[ArbitrageOpportunity, ...] = ()


@transaction.atomic
def arbitrage_record(
    *,
    pair: str,
    found: Iterable[Opportunity],
    exchanges: Mapping[Venue, Exchange],
    now: datetime,
) -> ArbitrageChanges:
    """Record the opportunities `found` for `pair` at `now`: open a row for a direction (buy
    exchange, sell exchange) not open yet, give an open one the latest figures (and its best
    edge when it grew), close the open rows of `pair` no longer found. `exchanges` says which
    `Exchange` each venue's books came from. The result lists the rows opened, those whose
    figures changed, and those closed: what the runner streams.

    Idempotent: called again with the same input, it changes nothing and reports nothing.
    """
    wanted: dict[tuple[int, int], Opportunity] = {}
    for opportunity in found:
        if opportunity.symbol != pair:
            raise ValueError(f"an opportunity of {opportunity.symbol} given for {pair}")
        key = (
            _exchange(exchanges, opportunity.buy_venue).pk,
            _exchange(exchanges, opportunity.sell_venue).pk,
        )
        if key in wanted:
            raise ValueError(
                f"{pair}: two opportunities {opportunity.buy_venue} -> {opportunity.sell_venue}"
            )
        wanted[key] = opportunity

    open_rows = {
        (row.buy_exchange_id, row.sell_exchange_id): row
        for row in ArbitrageOpportunity.objects.select_for_update().filter(
            symbol=pair, closed_at__isnull=True
        )
    }
    opened, updated, closed = [], [], []
    for key, opportunity in wanted.items():
        row = open_rows.get(key)
        if row is None:
            opened.append(_open(pair, key, opportunity, now))
        elif _update(row, opportunity, now):
            updated.append(row)
    for key, row in open_rows.items():
        if key not in wanted:
            row.closed_at = now
            row.save(update_fields=["closed_at"])
            closed.append(row)
    return ArbitrageChanges(opened=tuple(opened), updated=tuple(updated), closed=tuple(closed))


def _exchange(exchanges: Mapping[Venue, Exchange], venue: Venue) -> Exchange:
    exchange = exchanges.get(venue)
    if exchange is None or exchange.venue != venue:
        raise ValueError(f"no {venue} exchange given for an opportunity on {venue}")
    return exchange


def _open(
    pair: str, key: tuple[int, int], opportunity: Opportunity, now: datetime
) -> ArbitrageOpportunity:
    buy_exchange_id, sell_exchange_id = key
    return ArbitrageOpportunity.objects.create(
        symbol=pair,
        buy_exchange_id=buy_exchange_id,
        sell_exchange_id=sell_exchange_id,
        **{name: getattr(opportunity, name) for name in FIGURES},
        best_net_edge_bps=opportunity.net_edge_bps,
        best_net_edge_quote=opportunity.net_edge_quote,
        opened_at=now,
        last_seen_at=now,
    )


def _update(row: ArbitrageOpportunity, opportunity: Opportunity, now: datetime) -> bool:
    """Give the open `row` the figures of `opportunity` seen at `now`; True when they changed.
    Unchanged figures seen later only move `last_seen_at`; seen again at the same time, nothing."""
    changed = [name for name in FIGURES if getattr(row, name) != getattr(opportunity, name)]
    for name in changed:
        setattr(row, name, getattr(opportunity, name))
    if opportunity.net_edge_bps > row.best_net_edge_bps:
        row.best_net_edge_bps = opportunity.net_edge_bps
        changed.append("best_net_edge_bps")
    if opportunity.net_edge_quote > row.best_net_edge_quote:
        row.best_net_edge_quote = opportunity.net_edge_quote
        changed.append("best_net_edge_quote")
    later = now > row.last_seen_at
    if later:
        row.last_seen_at = now
    if changed or later:
        row.save(update_fields=[*changed, *(["last_seen_at"] if later else [])])
    return bool(changed)


# --------------------------------------------------------------------------- subscriptions

SUBSCRIPTION_FIELDS = ("enabled", "books", "book_depth", "trades", "tickers")


def subscription_create(*, instrument: Instrument, **values: Any) -> Subscription:
    """Stream `instrument` (the connectors pick it up at their next reload)."""
    subscription = Subscription(instrument=instrument, **_subscription_values(values))
    subscription.full_clean()
    subscription.save()
    return subscription


def subscription_update(*, subscription: Subscription, **values: Any) -> Subscription:
    """Change what is streamed of the subscription's instrument; saves only what changed."""
    changed = [
        name
        for name, value in _subscription_values(values).items()
        if getattr(subscription, name) != value
    ]
    for name in changed:
        setattr(subscription, name, values[name])
    if changed:
        subscription.full_clean()
        subscription.save(update_fields=[*changed, "updated_at"])
    return subscription


def subscription_delete(*, subscription: Subscription) -> None:
    subscription.delete()


def _subscription_values(values: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(values) - set(SUBSCRIPTION_FIELDS))
    if unknown:
        raise TypeError(f"not subscription fields: {', '.join(unknown)}")
    return dict(values)
