"""Deribit API v2 adapter (JSON-RPC over HTTP and WebSocket).

`ADAPTER` is what `exchanges.venues.registry` hands out: the REST client, the public and private
streams, and the sans-IO public session the book benchmark drives over a recorded file.
"""

from exchanges.venues.base import Venue
from exchanges.venues.deribit import constants as C
from exchanges.venues.deribit.rest import DeribitRestClient
from exchanges.venues.deribit.stream import (
    DeribitAccountSession,
    DeribitAccountStream,
    DeribitMarketSession,
    DeribitMarketStream,
)
from exchanges.venues.registry import VenueAdapter

ADAPTER = VenueAdapter(
    venue=Venue.DERIBIT,
    rest_client=DeribitRestClient,
    market_stream=DeribitMarketStream,
    account_stream=DeribitAccountStream,
    rate_limits=C.RATE_LIMITS,
    default_rate_group=C.DEFAULT_GROUP,
    market_session=DeribitMarketSession,
)

__all__ = [
    "ADAPTER",
    "DeribitAccountSession",
    "DeribitAccountStream",
    "DeribitMarketSession",
    "DeribitMarketStream",
    "DeribitRestClient",
]
