"""Find a venue's adapter by name. Apps go through here and never import a venue folder.

Each venue package (`exchanges/venues/<venue>/__init__.py`) exposes `ADAPTER`, a `VenueAdapter`
with factories for its REST client, public and private streams, and its sans-IO public session
(what the book benchmark drives over a recorded file).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from exchanges.venues.base import (
    Credentials,
    Endpoints,
    Venue,
)
from exchanges.venues.protocols import PrivateStream, PublicStream, RestClient
from exchanges.venues.ratelimit import MEMORY, Limit, RateLimiter

_PACKAGES = {
    Venue.DERIBIT: "exchanges.venues.deribit",
    Venue.OKX: "exchanges.venues.okx",
    Venue.BYBIT: "exchanges.venues.bybit",
}


@dataclass(frozen=True, slots=True)
class VenueAdapter:
    venue: Venue
    # rest_client(endpoints, credentials=None, **options) -> RestClient
    rest_client: Callable[..., RestClient]
    # public_stream(endpoints, **options) -> PublicStream
    public_stream: Callable[..., PublicStream]
    # private_stream(endpoints, credentials, **options) -> PrivateStream
    private_stream: Callable[..., PrivateStream]
    # public_session(venue_symbols, **options) -> ws.WsSession with `.stats: BookStats`
    public_session: Callable[..., Any]
    # the venue's published limits per endpoint group, and where other groups count
    rate_limits: Mapping[str, Limit]
    rate_limit_default_group: str
    # whether the `sequence` of `order_book()` is on the chain the public stream's book events
    # carry, so a live book can be compared with a REST one at the same sequence (Bybit: no;
    # a depth stream's `u` is its own, the REST book's another)
    rest_book_shares_stream_sequence: bool = True
    # whether the cursor `fills()` hands back resumes after the fills returned, so a later call
    # with it gets only newer ones (OKX, Deribit); Bybit's pages through its history instead,
    # newest first, so a catch-up starts from its first page each time
    fills_cursor_resumes: bool = True

    def limiter(
        self, *, scope: str | None = None, storage_url: str = MEMORY, percent: int = 100
    ) -> RateLimiter:
        """A budget over the venue's limits, lowered to `percent`, shared by every limiter of
        the same `scope` on the same storage (`ratelimit.RateLimiter`)."""
        return RateLimiter(
            self.rate_limits,
            self.rate_limit_default_group,
            scope=scope,
            storage_url=storage_url,
            percent=percent,
        )


def get_adapter(venue: Venue | str) -> VenueAdapter:
    venue = Venue(venue)
    module = importlib.import_module(_PACKAGES[venue])
    return module.ADAPTER


def rest_client(
    venue: Venue | str, endpoints: Endpoints, credentials: Credentials | None = None, **options
) -> RestClient:
    return get_adapter(venue).rest_client(endpoints, credentials, **options)


def available_venues() -> list[Venue]:
    return list(_PACKAGES)
