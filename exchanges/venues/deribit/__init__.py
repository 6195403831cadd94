"""Deribit API v2 adapter (JSON-RPC over HTTP and WebSocket).

`ADAPTER` is what `exchanges.venues.registry` hands out: the REST client, the public and private
streams, and the sans-IO public session the book benchmark drives over a recorded file.
"""

from exchanges.venues.base import Venue
from exchanges.venues.deribit import constants as C
from exchanges.venues.deribit.auth import DeribitSigner
from exchanges.venues.deribit.private import DeribitPrivateSession, DeribitPrivateStream
from exchanges.venues.deribit.public import DeribitPublicSession, DeribitPublicStream
from exchanges.venues.deribit.rest import DeribitRestClient
from exchanges.venues.deribit.symbols import SymbolTable
from exchanges.venues.registry import VenueAdapter

ADAPTER = VenueAdapter(
    venue=Venue.DERIBIT,
    rest_client=DeribitRestClient,
    public_stream=DeribitPublicStream,
    private_stream=DeribitPrivateStream,
    public_session=DeribitPublicSession,
    rate_limits=C.RATE_LIMITS,
    rate_limit_default_group=C.RATE_LIMIT_DEFAULT_GROUP,
)

__all__ = [
    "ADAPTER",
    "DeribitPrivateSession",
    "DeribitPrivateStream",
    "DeribitPublicSession",
    "DeribitPublicStream",
    "DeribitRestClient",
    "DeribitSigner",
    "SymbolTable",
]
