"""Bybit v5 adapter: signing, REST, WebSocket streams and normalization (see DESIGN.md).

Bybit names are ambiguous across categories (`BTCUSDT` is spot and linear): every entry point
accepts the unified symbol or a `category:NAME` spelling; see `symbols.py`.
"""

from __future__ import annotations

from typing import Any

from exchanges.venues.base import Credentials, Endpoints, Venue
from exchanges.venues.bybit import constants as C
from exchanges.venues.bybit.auth import BybitSigner
from exchanges.venues.bybit.private import BybitPrivateSession, BybitPrivateStream
from exchanges.venues.bybit.public import BybitPublicSession, BybitPublicStream
from exchanges.venues.bybit.rest import BybitRestClient
from exchanges.venues.bybit.symbols import SymbolTable
from exchanges.venues.registry import VenueAdapter


def _with_table(options: dict[str, Any]) -> dict[str, Any]:
    """`instruments=[InstrumentInfo, ...]` (e.g. the stored `Instrument` rows) becomes the
    symbol table every factory accepts as `symbols=`."""
    instruments = options.pop("instruments", None)
    if instruments is not None and options.get("symbols") is None:
        options["symbols"] = SymbolTable(instruments)
    return options


def rest_client(
    endpoints: Endpoints, credentials: Credentials | None = None, **options: Any
) -> BybitRestClient:
    return BybitRestClient(endpoints, credentials, **_with_table(options))


def public_stream(endpoints: Endpoints, **options: Any) -> BybitPublicStream:
    return BybitPublicStream(endpoints, **_with_table(options))


def private_stream(
    endpoints: Endpoints, credentials: Credentials, **options: Any
) -> BybitPrivateStream:
    return BybitPrivateStream(endpoints, credentials, **_with_table(options))


def public_session(venue_symbols: list[str], **options: Any) -> BybitPublicSession:
    """The sans-IO public session the book benchmark drives; `category` defaults to linear."""
    category = options.pop("category", "linear")
    return BybitPublicSession(category, venue_symbols, **_with_table(options))


ADAPTER = VenueAdapter(
    Venue.BYBIT,
    rest_client=rest_client,
    public_stream=public_stream,
    private_stream=private_stream,
    public_session=public_session,
    rate_limits=C.RATE_LIMITS,
    rate_limit_default_group=C.RATE_LIMIT_DEFAULT_GROUP,
    rest_book_shares_stream_sequence=False,
    fills_cursor_resumes=False,
)

__all__ = [
    "ADAPTER",
    "BybitPrivateSession",
    "BybitPrivateStream",
    "BybitPublicSession",
    "BybitPublicStream",
    "BybitRestClient",
    "BybitSigner",
    "SymbolTable",
]
