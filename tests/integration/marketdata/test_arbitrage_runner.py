"""The consolidation and arbitrage runner over real sockets: two simulated venues with no
generated liquidity, one resting order on each that crosses them after both taker fees. The
opportunity is recorded and published with its exact figures, the consolidated book shows both
venues' levels in BTC, and the row closes when the cross ends."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from exchanges.simulator.demo import DEMO_ACCOUNTS
from exchanges.simulator.server import SimulatorThread
from exchanges.venues.base import OrderType, Side, Venue
from marketdata import feed
from marketdata.connectors.persist import in_thread
from marketdata.models import ArbitrageOpportunity
from tests.integration.marketdata.conftest import make_exchanges, subscribe
from tests.support.engine import quiet_engine
from tests.support.harness import eventually

pytestmark = pytest.mark.django_db(transaction=True)

PAIR = "BTC/USDT:USDT"


@pytest.fixture(scope="module")
def quiet_sim():
    thread = SimulatorThread(
        engine=quiet_engine(), venues=[Venue.OKX, Venue.BYBIT], seed=1, step_interval=0.02
    )
    thread.start()
    yield thread
    thread.stop()


@pytest.fixture
def exchanges(quiet_sim, transactional_db):
    exchanges = make_exchanges(quiet_sim)
    for venue in (Venue.OKX, Venue.BYBIT):
        subscribe(exchanges[venue], PAIR)
    return exchanges


def resting_order(sim, venue: Venue, symbol: str, side: Side, quantity: str, price: str) -> str:
    order = sim.call(
        sim.engine.place_order,
        venue,
        DEMO_ACCOUNTS[venue].api_key,
        symbol,
        side=side,
        order_type=OrderType.LIMIT,
        quantity=D(quantity),
        price=D(price),
    )
    return order.order_id


async def test_a_cross_between_two_venues_is_recorded_published_and_closed(
    quiet_sim, exchanges, start_service, captured
):
    service = await start_service()
    connectors = {c.venue: c for c in service.connectors.values()}
    await eventually(
        lambda: all(c.books.get(PAIR) and c.books[PAIR].valid for c in connectors.values()), 15
    )

    # OKX sells 50 contracts of 0.01 BTC at 100000; Bybit bids for 0.3 BTC at 100200
    resting_order(quiet_sim, Venue.OKX, "BTC-USDT-SWAP", Side.SELL, "50", "100000")
    bybit_bid = resting_order(quiet_sim, Venue.BYBIT, "BTCUSDT", Side.BUY, "0.3", "100200")

    # 0.3 x (100200 x (1 - 0.00055) - 100000 x (1 + 0.0005)) = 0.3 x 94.89 = 28.467 USDT,
    # over the 30000 USDT bought: 9.489 bps
    row = await eventually(
        lambda: in_thread(lambda: ArbitrageOpportunity.objects.filter(symbol=PAIR).first()), 10
    )
    assert (
        row.buy_exchange_id,
        row.sell_exchange_id,
        row.buy_price,
        row.sell_price,
        row.size,
        row.net_edge_quote,
        row.net_edge_bps,
        row.closed_at,
    ) == (
        exchanges[Venue.OKX].pk,
        exchanges[Venue.BYBIT].pk,
        D(100000),
        D(100200),
        D("0.3"),
        D("28.467"),
        D("9.489"),
        None,
    )
    # the row is written before it is published: wait for the publication too
    (opened,) = await eventually(
        lambda: [
            data["opened"]
            for name, data in captured.updates
            if name == feed.ARBITRAGE and "opened" in data
        ],
        10,
    )
    (published,) = opened
    assert {k: published[k] for k in published if k not in ("id", "opened_at", "last_seen_at")} == {
        "symbol": PAIR,
        "buy_exchange": "okx-sim",
        "buy_venue": "okx",
        "sell_exchange": "bybit-sim",
        "sell_venue": "bybit",
        "buy_price": "100000",
        "sell_price": "100200",
        "size": "0.3",
        "net_edge_bps": "9.489",
        "net_edge_quote": "28.467",
        "best_net_edge_bps": "9.489",
        "best_net_edge_quote": "28.467",
        "closed_at": None,
    }
    assert published["id"] == row.pk and published["opened_at"].endswith("Z")

    consolidated = captured.of(feed.consolidated_channel(PAIR))[-1]
    assert consolidated == {
        "symbol": PAIR,
        "venues": ["bybit", "okx"],
        "bids": [["100200", "0.3"]],
        "asks": [["100000", "0.5"]],
        "bid_sizes": [{"bybit": "0.3"}],
        "ask_sizes": [{"okx": "0.5"}],
    }

    # the Bybit bid goes: the cross ends, the row is closed and that is published
    quiet_sim.call(
        quiet_sim.engine.cancel_order,
        Venue.BYBIT,
        DEMO_ACCOUNTS[Venue.BYBIT].api_key,
        "BTCUSDT",
        order_id=bybit_bid,
    )
    closed = await eventually(
        lambda: [
            data["closed"]
            for name, data in captured.updates
            if "closed" in data and name == feed.ARBITRAGE
        ],
        10,
    )
    assert [(r["id"], r["closed_at"] is not None) for r in closed[0]] == [(row.pk, True)]
    row = await in_thread(ArbitrageOpportunity.objects.get, pk=row.pk)
    assert row.closed_at is not None
    assert await in_thread(ArbitrageOpportunity.objects.count) == 1
