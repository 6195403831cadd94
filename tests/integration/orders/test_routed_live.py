"""Routing on the connectors' own books: the market data service streams OKX and Bybit from the
simulator into the default cache and writes its connector statuses, as in production. A venue
whose connector loses its connection (the simulator refuses it) is left out of the next
decisions as `connector_down` as soon as its status says so, and taken back once it has
reconnected and published a fresh book."""

from __future__ import annotations

from decimal import Decimal

import pytest
from channels.layers import InMemoryChannelLayer
from django.core.cache import cache

from exchanges.venues.base import Venue
from marketdata import feed
from marketdata.connectors.persist import in_thread
from marketdata.models import ConnectorStatus
from orders import routed, routing
from orders.models import Order
from tests.integration.marketdata.conftest import FAST, QUICK_RESTART, subscribe
from tests.support.harness import eventually

pytestmark = pytest.mark.django_db(transaction=True)
SYMBOL = "BTC/USDT:USDT"
VENUES = (Venue.OKX, Venue.BYBIT)


@pytest.fixture
async def service(sim, accounts):
    from marketdata.connectors.service import MarketDataService

    for venue in VENUES:
        await in_thread(subscribe, accounts[venue].exchange, SYMBOL, trades=False)
    publisher = feed.FeedPublisher(layer=InMemoryChannelLayer(), cache=cache)
    running = MarketDataService(
        publisher=publisher, intervals=FAST, restart_backoff=QUICK_RESTART, private=False
    )
    await running.start()
    yield running
    for venue in VENUES:
        sim.call(sim.faults[venue].update, refuse_connections=False)
    await running.stop()


def up(venue) -> bool:
    status = ConnectorStatus.objects.filter(
        exchange__venue=venue, account__isnull=True, stream="public"
    ).first()
    book = cache.get(feed.latest_key(feed.book_channel(venue, SYMBOL)))
    return routed.connector_up(status, routed.timezone.now()) and book is not None


def down(venue) -> bool:
    status = ConnectorStatus.objects.filter(
        exchange__venue=venue, account__isnull=True, stream="public"
    ).first()
    return status is not None and status.state not in routed.UP_STATES


def route(accounts):
    parent = routed.route_order(
        symbol=SYMBOL,
        side="buy",
        quantity=Decimal("0.01"),
        accounts=[accounts[v] for v in VENUES],
        max_slippage_bps=Decimal(100),
        actor="tina",
    )
    venues = {
        o.account.exchange.venue
        for o in Order.objects.filter(parent=parent).select_related("account__exchange")
    }
    left_out = {(e["venue"], e["reason"]) for e in parent.decision["plan"]["excluded"]}
    return parent, venues, left_out


async def test_a_killed_connector_is_left_out_and_taken_back_when_it_recovers(
    sim, accounts, service
):
    await eventually(
        lambda: in_thread(lambda: all(up(v) for v in VENUES)), timeout=20, interval=0.1
    )
    parent, _, left_out = await in_thread(route, accounts)
    assert left_out == set()
    assert parent.filled_quantity == Decimal("0.01")

    sim.call(sim.faults[Venue.OKX].update, refuse_connections=True)
    sim.call(sim.faults[Venue.OKX].drop_ws)
    await eventually(lambda: in_thread(down, Venue.OKX), timeout=10, interval=0.05)
    parent, venues, left_out = await in_thread(route, accounts)
    assert left_out == {("okx", routing.CONNECTOR_DOWN)}
    assert venues == {"bybit"}
    assert parent.filled_quantity == Decimal("0.01")

    sim.call(sim.faults[Venue.OKX].update, refuse_connections=False)
    await eventually(lambda: in_thread(up, Venue.OKX), timeout=20, interval=0.05)
    parent, _, left_out = await in_thread(route, accounts)
    assert left_out == set()
    okx = next(i for i in parent.decision["inputs"] if i["venue"] == "okx")
    assert okx["book"]["asks"] and "excluded" not in okx
