"""Stored trades and candles against what the simulator printed, across a connector restart:
the trades printed while the connectors were down come back through the REST backfill at
subscribe, and those both the backfill and the stream bring are stored once. On PostgreSQL
(CI) this is the COPY path; on SQLite the bulk-insert path."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from exchanges.venues.base import Venue
from marketdata.connectors.persist import in_thread
from marketdata.models import Candle, TradeTick
from tests.integration.marketdata.conftest import make_exchanges, subscribe
from tests.support.harness import eventually

pytestmark = pytest.mark.django_db(transaction=True)

# venue -> (unified symbol, the engine's name)
TRADED = {
    Venue.OKX: ("BTC/USDT:USDT", "BTC-USDT-SWAP"),
    Venue.BYBIT: ("BTC/USDT:USDT", "BTCUSDT"),
    Venue.DERIBIT: ("BTC/USD:BTC", "BTC-PERPETUAL"),
}


@pytest.fixture
def exchanges(sim_module, transactional_db):
    exchanges = make_exchanges(sim_module)
    for venue, (symbol, _) in TRADED.items():
        subscribe(exchanges[venue], symbol, books=False, tickers=False)
    return exchanges


def printed(sim, venue: Venue, engine_symbol: str) -> list[tuple]:
    """The simulator's trades of an instrument, oldest first: (id, price, size, side, ms)."""
    trades = sim.call(sim.engine.recent_trades, venue, engine_symbol, 1000)
    return [
        (t.trade_id, t.price, t.quantity, t.taker_side.value, t.ts_ns // 1_000_000)
        for t in reversed(trades)
    ]


def stored(venue: Venue, symbol: str) -> list[tuple]:
    rows = TradeTick.objects.filter(
        instrument__exchange__venue=venue, instrument__symbol=symbol
    ).order_by("traded_at", "id")
    return [
        (r.trade_id, r.price, r.quantity, r.side, int(r.traded_at.timestamp() * 1000)) for r in rows
    ]


async def count(venue: Venue, symbol: str) -> int:
    return await in_thread(
        lambda: TradeTick.objects.filter(
            instrument__exchange__venue=venue, instrument__symbol=symbol
        ).count()
    )


async def test_no_trade_is_missing_or_doubled_after_a_restart(sim_module, exchanges, start_service):
    sim = sim_module
    first = await start_service()
    for venue, (symbol, _) in TRADED.items():
        await eventually(lambda v=venue, s=symbol: _more(count(v, s), 0), timeout=15)
    await first.stop()

    # while the connectors are down the market goes on: five trades at least on each
    last_seen = {v: printed(sim, v, engine)[-1][0] for v, (_, engine) in TRADED.items()}
    simulator = sim._require()

    def newer(venue: Venue, engine: str) -> int:
        ids = [t.trade_id for t in simulator.engine.recent_trades(venue, engine, 1000)]
        return ids.index(last_seen[venue])  # newest first: how many came after it

    for venue, (_, engine) in TRADED.items():
        sim.call(
            lambda v=venue, e=engine: simulator.advance_until(lambda: newer(v, e) >= 5, limit=600)
        )
    assert all(sim.call(newer, v, e) < 100 for v, (_, e) in TRADED.items())  # the backfill's reach

    await start_service()

    def pause(running: bool) -> None:
        simulator.generator_running = running

    sim.call(pause, False)
    try:
        for venue, (symbol, engine) in TRADED.items():

            async def caught_up(venue=venue, symbol=symbol, engine=engine) -> bool:
                ours = await in_thread(stored, venue, symbol)
                theirs = printed(sim, venue, engine)
                since = [t for t in theirs if ours and t[4] >= ours[0][4]]
                return bool(ours) and ours == since

            await eventually(caught_up, timeout=15, interval=0.1)
            ours = await in_thread(stored, venue, symbol)
            assert len({t[0] for t in ours}) == len(ours)  # none doubled
            await _candles_match(venue, symbol, ours)
    finally:
        sim.call(pause, True)


async def _more(counted, than: int) -> bool:
    return await counted > than


async def _candles_match(venue: Venue, symbol: str, trades: list[tuple]) -> None:
    """Each minute's candle is the trades of that minute: high, low, volume, count exactly;
    open and close where no other trade shares their millisecond (an order between trades of
    the same time is the arrival's)."""
    minutes: dict[datetime, list[tuple]] = defaultdict(list)
    for trade in trades:
        moment = datetime.fromtimestamp(trade[4] / 1000, tz=UTC)
        minutes[moment.replace(second=0, microsecond=0)].append(trade)
    candles = await in_thread(
        lambda: {
            c.open_time: c
            for c in Candle.objects.filter(
                instrument__exchange__venue=venue, instrument__symbol=symbol
            )
        }
    )
    assert set(candles) == set(minutes)
    for minute, group in minutes.items():
        candle = candles[minute]
        prices = [t[1] for t in group]
        assert (candle.high, candle.low, candle.trades) == (max(prices), min(prices), len(group))
        assert candle.volume == sum((t[2] for t in group), Decimal(0))
        times = [t[4] for t in group]
        if times.count(times[0]) == 1:
            assert candle.open == group[0][1]
        if times.count(times[-1]) == 1:
            assert candle.close == group[-1][1]
