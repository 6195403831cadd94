"""The consolidated view of each pair across venues, and the arbitrage runner.

Every `CONSOLIDATION_SECONDS` the valid books of each unified symbol listed on at least two
venues are converted to base-currency sizes (`aggregation.book_in_base`), merged
(`consolidated_book`, published on `consolidated.<pair>` when it changed) and searched for
crossed venues after both taker fees (`find_opportunities`); `services.arbitrage_record`
keeps the opportunity rows (in a worker thread) and what it opened, updated or closed is
published on `arbitrage`. Options are left out (their price is a premium). The feed's
channels name venues, so a pair takes one exchange per venue (the first by slug) when two
exchanges of one venue run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from exchanges.venues.base import InstrumentKind, Venue
from marketdata import aggregation, feed
from marketdata.connectors.books import LiveBook
from marketdata.connectors.config import WantedInstrument
from marketdata.connectors.persist import in_thread

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Listing:
    """One exchange's book of a pair."""

    exchange: Any  # the Exchange row
    wanted: WantedInstrument
    book: LiveBook


def pairs(listings: Iterable[Listing]) -> dict[str, list[Listing]]:
    """Listings grouped by pair, pairs on two venues or more only, one listing per venue."""
    grouped: dict[str, dict[Venue, Listing]] = {}
    for listing in sorted(listings, key=lambda item: item.exchange.slug):
        if listing.wanted.info.kind is InstrumentKind.OPTION:
            continue
        grouped.setdefault(listing.wanted.symbol, {}).setdefault(listing.wanted.info.venue, listing)
    return {pair: list(by.values()) for pair, by in sorted(grouped.items()) if len(by) >= 2}


def record_and_describe(*, pair, found, exchanges, now) -> dict[str, list[dict]]:
    """`arbitrage_record`, and the changed rows as the arbitrage channel carries them (read in
    the same thread: the rows' exchanges are loaded from the database)."""
    from marketdata.services import arbitrage_record

    changes = arbitrage_record(pair=pair, found=found, exchanges=exchanges, now=now)
    return {
        what: [feed.opportunity_data(row) for row in rows]
        for what, rows in (
            ("opened", changes.opened),
            ("updated", changes.updated),
            ("closed", changes.closed),
        )
        if rows
    }


class Consolidator:
    """Publishes consolidated books and keeps arbitrage opportunities (module docstring)."""

    def __init__(
        self,
        publisher: feed.FeedPublisher,
        *,
        min_edge_bps: Decimal,
        fee_overrides: Mapping[str, str] | None = None,
        depth: int = feed.BOOK_DEPTH,
    ) -> None:
        self.publisher = publisher
        self.min_edge_bps = Decimal(min_edge_bps)
        self.fee_overrides = dict(fee_overrides or {})
        self.depth = depth
        self.open_pairs: set[str] = set()  # pairs with opportunities recorded open
        self.seen_pairs: set[str] = set()  # pairs recorded at least once by this process
        self.last_published: dict[str, dict] = {}
        self.errors = 0

    async def run_once(self, listings: Iterable[Listing], now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        for pair, group in pairs(listings).items():
            try:
                await self._pair(pair, group, now)
            except Exception:  # one pair's failure (the database away) must not stop the rest
                self.errors += 1
                log.exception("consolidation of %s failed", pair)

    async def _pair(self, pair: str, group: list[Listing], now: datetime) -> None:
        valid = [listing for listing in group if listing.book.valid]
        books = [
            aggregation.book_in_base(listing.wanted.info, *listing.book.top(self.depth))
            for listing in valid
        ]
        if books:
            data = feed.consolidated_data(aggregation.consolidated_book(pair, books, self.depth))
            if self.last_published.get(pair) != data:
                self.last_published[pair] = data
                self.publisher.publish(feed.consolidated_channel(pair), data)
        found: tuple = ()
        if len(books) >= 2:
            fees = aggregation.taker_fees(group[0].wanted.info.kind, self.fee_overrides)
            found = aggregation.find_opportunities(pair, books, fees, self.min_edge_bps)
        if not found and pair in self.seen_pairs and pair not in self.open_pairs:
            return  # nothing open, nothing found: no need to ask the database
        exchanges = {listing.wanted.info.venue: listing.exchange for listing in valid}
        changes = await in_thread(
            record_and_describe, pair=pair, found=found, exchanges=exchanges, now=now
        )
        self.seen_pairs.add(pair)
        if found:
            self.open_pairs.add(pair)
        else:
            self.open_pairs.discard(pair)
        if changes:
            self.publisher.publish(feed.ARBITRAGE, changes)
