"""OKX API v5 adapter: signing, REST, public and private WebSocket streams, normalization.

`ADAPTER` is what `exchanges.venues.registry` hands out for `Venue.OKX`.
"""

from exchanges.venues.base import Venue
from exchanges.venues.okx import constants as C
from exchanges.venues.okx.auth import OkxSigner
from exchanges.venues.okx.private import OkxPrivateSession, OkxPrivateStream
from exchanges.venues.okx.public import OkxPublicSession, OkxPublicStream
from exchanges.venues.okx.rest import OkxRestClient
from exchanges.venues.okx.symbols import SymbolTable
from exchanges.venues.registry import VenueAdapter

ADAPTER = VenueAdapter(
    venue=Venue.OKX,
    rest_client=OkxRestClient,
    public_stream=OkxPublicStream,
    private_stream=OkxPrivateStream,
    public_session=OkxPublicSession,
    rate_limits=C.RATE_LIMITS,
    rate_limit_default_group=C.RATE_LIMIT_DEFAULT_GROUP,
)

__all__ = [
    "ADAPTER",
    "OkxPrivateSession",
    "OkxPrivateStream",
    "OkxPublicSession",
    "OkxPublicStream",
    "OkxRestClient",
    "OkxSigner",
    "SymbolTable",
]
