"""Private streams against the simulator over real sockets: one exchange per venue at the
simulator's URLs, one account per venue with the simulator's keys, the connector service
started with short intervals (its feed captured from an in-memory layer, as the market data
tests do), and REST clients that trade on the same keys like another client would."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from exchanges.models import Exchange, ExchangeAccount
from exchanges.venues.base import OrderRequest, OrderType, Side, Venue
from exchanges.venues.protocols import RestClient
from marketdata.connectors import config
from marketdata.connectors.persist import in_thread
from marketdata.connectors.private import make_account_rest
from tests.factories import ExchangeAccountFactory
from tests.integration.marketdata.conftest import (  # noqa: F401  (fixtures)
    BOOKS,
    captured,
    make_exchanges,
    start_service,
)

__all__ = ["BOOKS", "captured", "start_service"]


def make_accounts(sim, exchanges: dict[Venue, Exchange]) -> dict[Venue, ExchangeAccount]:
    """One trading account per venue with the simulator's demo keys."""
    accounts = {}
    for venue, exchange in exchanges.items():
        credentials = sim.credentials[venue]
        accounts[venue] = ExchangeAccountFactory(
            exchange=exchange,
            label="desk",
            api_key=credentials.api_key,
            secret=credentials.secret,
            passphrase=credentials.passphrase,
        )
    return accounts


@pytest.fixture
def venue_rest() -> Iterator:
    """`await venue_rest(account)`: a REST client on the account's keys (closed at the end)."""
    clients: list[RestClient] = []

    async def make(account: ExchangeAccount) -> RestClient:
        wanted = (await in_thread(config.load_accounts))[account.pk]
        client = await in_thread(make_account_rest, wanted)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


# the smallest order of each venue's perpetual in BOOKS (exchanges/simulator/instruments.py)
MIN_SIZE = {Venue.DERIBIT: Decimal("10"), Venue.OKX: Decimal("0.01"), Venue.BYBIT: Decimal("0.001")}


def market_order(
    rest: RestClient, client_order_id: str, side: Side = Side.BUY, size: Decimal | None = None
) -> OrderRequest:
    """A market order on the venue's perpetual of `BOOKS`, the minimum size unless `size`, as
    another client of the same keys would place it."""
    symbol = BOOKS[rest.venue]
    return OrderRequest(
        symbol=symbol,
        venue_symbol=rest.symbols.venue(symbol),
        client_order_id=client_order_id,
        side=side,
        order_type=OrderType.MARKET,
        quantity=size if size is not None else MIN_SIZE[rest.venue],
    )
