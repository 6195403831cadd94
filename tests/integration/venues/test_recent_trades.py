"""`recent_trades` on every venue's REST client, against the simulator: the venue's latest
trades, oldest first, with the ids, prices, sizes, taker sides and times the venue printed (the
same ids its trade stream pushes, so a backfill and the stream meet in one row each)."""

import pytest

from exchanges.venues.base import Endpoints, Venue
from exchanges.venues.registry import rest_client

# venue, the symbol asked for, the engine's name of the instrument
CASES = [
    (Venue.OKX, "BTC-USDT-SWAP", "BTC-USDT-SWAP", "BTC/USDT:USDT"),
    (Venue.OKX, "BTC-USDT", "BTC-USDT", "BTC/USDT"),
    (Venue.BYBIT, "BTC/USDT:USDT", "BTCUSDT", "BTC/USDT:USDT"),
    (Venue.BYBIT, "spot:BTCUSDT", "spot:BTCUSDT", "BTC/USDT"),
    (Venue.DERIBIT, "BTC-PERPETUAL", "BTC-PERPETUAL", "BTC/USD:BTC"),
]


def client_for(sim, venue):
    urls = sim.urls[venue]
    return rest_client(venue, Endpoints(urls["rest"], urls["ws_public"], urls["ws_private"]))


def printed(sim, venue, engine_symbol, limit):
    """The simulator's own latest trades, oldest first."""
    trades = sim.call(sim.engine.recent_trades, venue, engine_symbol, limit)
    return [
        (t.trade_id, t.price, t.quantity, t.taker_side.value, t.ts_ns // 1_000_000)
        for t in reversed(trades)
    ]


@pytest.fixture
def paused(sim_module):
    """The simulator with its timed generator paused: the market moves only when advanced."""
    simulator = sim_module._require()

    def pause(running: bool) -> None:
        simulator.generator_running = running

    sim_module.call(pause, False)
    yield sim_module
    sim_module.call(pause, True)


def advance_until_trades(sim, venue, engine_symbol, count):
    simulator = sim._require()
    sim.call(
        lambda: simulator.advance_until(
            lambda: len(simulator.engine.recent_trades(venue, engine_symbol, count)) >= count,
            limit=600,
        )
    )


@pytest.mark.parametrize(("venue", "asked", "engine_symbol", "unified"), CASES)
def test_recent_trades_are_the_venue_s_latest_oldest_first(
    paused, venue, asked, engine_symbol, unified
):
    advance_until_trades(paused, venue, engine_symbol, 20)
    client = client_for(paused, venue)
    try:
        got = client.recent_trades(asked, limit=20)
    finally:
        client.close()

    rows = [
        (t.trade_id, t.price, t.quantity, t.side.value, t.exchange_ts // 1_000_000) for t in got
    ]
    assert rows == printed(paused, venue, engine_symbol, 20)
    assert {t.symbol for t in got} == {unified}
    assert {t.venue for t in got} == {venue}
    assert [t.exchange_ts for t in got] == sorted(t.exchange_ts for t in got)


@pytest.mark.parametrize("venue", list(Venue))
def test_the_limit_is_kept_within_the_venue_s_bound(paused, venue):
    symbol = {
        Venue.OKX: "BTC-USDT-SWAP",
        Venue.BYBIT: "spot:BTCUSDT",
        Venue.DERIBIT: "BTC-PERPETUAL",
    }
    advance_until_trades(paused, venue, symbol[venue], 2)
    client = client_for(paused, venue)
    try:
        assert len(client.recent_trades(symbol[venue], limit=1)) == 1
        bound = {Venue.OKX: 500, Venue.BYBIT: 60, Venue.DERIBIT: 1000}[venue]
        assert len(client.recent_trades(symbol[venue], limit=5_000)) <= bound
    finally:
        client.close()
