"""The market data service against the simulator: exchanges and subscriptions in the database
pointing at the test's simulator, a feed captured from an in-memory channel layer, and the
service started with short intervals."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
from channels.layers import InMemoryChannelLayer
from django.core.cache.backends.locmem import LocMemCache

from exchanges.models import Exchange, Instrument
from exchanges.services import instruments_upsert
from exchanges.simulator.instruments import DEFAULT_INSTRUMENTS
from exchanges.venues.base import Venue
from exchanges.venues.ws import Backoff
from marketdata import feed
from marketdata.connectors.service import Intervals, MarketDataService
from marketdata.models import Subscription

FAST = Intervals(
    reload=0.2,
    status=0.2,
    consolidation=0.1,
    top_of_book=0.5,
    trades=0.2,
    stale=1.5,
    drift=3600,
)
QUICK_RESTART = Backoff(initial=0.05, maximum=0.2)
# one book per venue: the perpetuals the tests stream
BOOKS = {
    Venue.DERIBIT: "BTC/USD:BTC",
    Venue.OKX: "BTC/USDT:USDT",
    Venue.BYBIT: "BTC/USDT:USDT",
}


def make_exchanges(sim) -> dict[Venue, Exchange]:
    """One enabled exchange per venue at the simulator's URLs, with its instruments."""
    exchanges = {}
    for venue in sim.venues:
        urls = sim.urls[venue]
        exchange = Exchange.objects.create(
            venue=venue,
            environment="simulator",
            name=f"{venue} sim",
            slug=f"{venue}-sim",
            rest_url=urls["rest"],
            public_ws_url=urls["ws_public"],
            private_ws_url=urls["ws_private"],
            enabled=True,
        )
        instruments_upsert(
            exchange=exchange, infos=[i for i in DEFAULT_INSTRUMENTS if i.venue == venue]
        )
        exchanges[venue] = exchange
    return exchanges


def subscribe(exchange: Exchange, symbol: str, **values) -> Subscription:
    instrument = Instrument.objects.get(exchange=exchange, symbol=symbol)
    return Subscription.objects.create(instrument=instrument, **values)


@dataclass
class Feed:
    """Everything the service published, in order, read from the layer's feed group."""

    publisher: feed.FeedPublisher
    updates: list[tuple[str, dict]] = field(default_factory=list)

    def of(self, channel: str) -> list[dict]:
        return [data for name, data in self.updates if name == channel]


@pytest.fixture
async def captured() -> AsyncIterator[Feed]:
    layer = InMemoryChannelLayer(capacity=1_000_000)
    publisher = feed.FeedPublisher(layer=layer, cache=LocMemCache("md-test", {}))
    captured = Feed(publisher)
    channel = await layer.new_channel()
    await layer.group_add(feed.FEED_GROUP, channel)

    async def read() -> None:
        while True:
            message = await layer.receive(channel)
            captured.updates.extend((name, data) for name, data in message["updates"])

    reader = asyncio.ensure_future(read())
    yield captured
    reader.cancel()


@pytest.fixture
async def start_service(captured) -> AsyncIterator[Callable[..., MarketDataService]]:
    """`await start_service(**options)`: a started service publishing to `captured`;
    stopped at the end of the test."""
    services: list[MarketDataService] = []

    async def start(**options) -> MarketDataService:
        options.setdefault("intervals", FAST)
        options.setdefault("restart_backoff", QUICK_RESTART)
        service = MarketDataService(publisher=captured.publisher, **options)
        await service.start()
        services.append(service)
        return service

    yield start
    for service in services:
        if service.started and not service._stopped.is_set():
            await service.stop()
