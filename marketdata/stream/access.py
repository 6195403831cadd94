"""Who may read which `/ws/stream` channel, and which channels exist.

Read rule: a logged-in, active user reads the market data channels (`book.*`, `ticker.*`,
`trades.*`, `consolidated.*`) with `marketdata.view_tradetick` and `arbitrage` with
`marketdata.view_arbitrageopportunity`. Every role (viewer, trader, risk_officer, admin:
`exchanges/migrations/0006_roles.py`) holds both; a user in no role holds neither and gets a
`forbidden` error per channel. The account channels (`private.py`) need the view permission of
their model and read only the accounts the user may see.

Listing rule: a venue channel names a venue and unified symbol that an active `Instrument` of
an enabled exchange of that venue lists; a `consolidated.<pair>` channel a symbol that any of
them lists. The listing is read from the database at most once per `LISTING_TTL` seconds per
process (one query, shared by every connection subscribing meanwhile). A listed channel is
accepted before any data of it exists: its snapshot comes with its first update.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from channels.db import database_sync_to_async

from marketdata.feed import ARBITRAGE, CONSOLIDATED, Channel
from marketdata.stream.private import PERMISSIONS

LISTING_TTL = 5.0
MARKET_DATA_PERMISSION = "marketdata.view_tradetick"
ARBITRAGE_PERMISSION = "marketdata.view_arbitrageopportunity"


def permission_for(channel: Channel) -> str:
    return ARBITRAGE_PERMISSION if channel.kind == ARBITRAGE else MARKET_DATA_PERMISSION


@database_sync_to_async
def user_permissions(user) -> frozenset[str]:
    """Every permission of `user` (a superuser: every read permission of the stream)."""
    if user.is_superuser:
        return frozenset({MARKET_DATA_PERMISSION, ARBITRAGE_PERMISSION, *PERMISSIONS.values()})
    return frozenset(user.get_all_permissions())


@dataclass(frozen=True, slots=True)
class Listing:
    venue_symbols: frozenset[tuple[str, str]]  # (venue, unified symbol)
    symbols: frozenset[str]

    def lists(self, channel: Channel) -> bool:
        if channel.kind == ARBITRAGE:
            return True
        if channel.kind == CONSOLIDATED:
            return channel.symbol in self.symbols
        return (str(channel.venue), channel.symbol) in self.venue_symbols


@database_sync_to_async
def _read_listing() -> Listing:
    from exchanges.models import Instrument

    rows = set(
        Instrument.objects.filter(exchange__enabled=True, active=True).values_list(
            "exchange__venue", "symbol"
        )
    )
    return Listing(frozenset(rows), frozenset(symbol for _, symbol in rows))


class Listings:
    """The listing, cached for `ttl` seconds; concurrent callers share one read."""

    def __init__(self, ttl: float = LISTING_TTL) -> None:
        self.ttl = ttl
        self._listing: Listing | None = None
        self._read_at = 0.0
        self._reading: asyncio.Future | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def get(self) -> Listing:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new loop (tests): nothing pending carries over
            self._loop, self._reading = loop, None
        if self._listing is not None and time.monotonic() - self._read_at < self.ttl:
            return self._listing
        if self._reading is None:
            self._reading = loop.create_task(_read_listing())
        reading = self._reading
        try:
            listing = await asyncio.shield(reading)
        finally:
            if self._reading is reading and reading.done():
                self._reading = None
        self._listing, self._read_at = listing, time.monotonic()
        return listing

    def clear(self) -> None:
        self._listing = None


LISTINGS = Listings()
