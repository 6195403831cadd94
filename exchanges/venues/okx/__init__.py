"""OKX API v5 adapter: signing, REST, public and private WebSocket streams, normalization.

`ADAPTER` is what `exchanges.venues.registry` hands out for `Venue.OKX`.
"""

from exchanges.venues.base import Venue
from exchanges.venues.okx import constants as C
from exchanges.venues.okx.rest import OkxRestClient
from exchanges.venues.okx.stream import OkxAccountStream, OkxMarketStream, market_session
from exchanges.venues.registry import VenueAdapter

ADAPTER = VenueAdapter(
    venue=Venue.OKX,
    rest_client=OkxRestClient,
    market_stream=OkxMarketStream,
    account_stream=OkxAccountStream,
    rate_limits=C.RATE_LIMITS,
    market_session=market_session,
)

__all__ = ["ADAPTER", "OkxAccountStream", "OkxMarketStream", "OkxRestClient"]
