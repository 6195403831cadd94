"""A price shock in the simulator trips the circuit breaker on that instrument only, end to
end: the market data service streams the perpetuals of the three venues, marks them to their
tickers and hands their marks to the breaker every status interval (`watch_marks`); the simulator then
moves OKX's BTC price down about 8% (its venue deviation, which decays over tens of seconds),
and a trip is recorded for OKX's BTC perpetual, none for Bybit's or Deribit's."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exchanges.models import Instrument
from exchanges.venues.base import Venue
from marketdata.connectors.persist import in_thread
from risk.models import BreakerTrip, CircuitBreaker, RiskEvent
from tests.integration.marketdata.conftest import (  # noqa: F401 (captured, start_service: fixtures)
    BOOKS,
    captured,
    make_exchanges,
    start_service,
    subscribe,
)
from tests.support.harness import eventually

pytestmark = pytest.mark.django_db(transaction=True)

D = Decimal


@pytest.fixture
def perps(sim, transactional_db) -> dict[Venue, Instrument]:
    exchanges = make_exchanges(sim)
    for venue, symbol in BOOKS.items():
        subscribe(exchanges[venue], symbol, book_depth=10)
    return {
        venue: Instrument.objects.get(exchange=exchanges[venue], symbol=symbol)
        for venue, symbol in BOOKS.items()
    }


def shock_okx_btc(sim) -> None:
    def move() -> None:
        sim.engine.market.venue_dev[("BTC", Venue.OKX)] -= 0.08

    sim.call(move)


async def test_a_simulator_price_shock_trips_the_breaker_on_that_instrument_only(
    sim,
    perps,
    start_service,  # noqa: F811 (the fixture)
):
    await in_thread(
        CircuitBreaker.objects.create, move_pct=D("5"), window_seconds=60, cooldown_seconds=0
    )
    service = await start_service(private=False)
    await eventually(
        lambda: all(len(service.mark_windows.history(i.pk)) >= 2 for i in perps.values()),
        timeout=20,
    )
    assert await in_thread(BreakerTrip.objects.count) == 0

    shock_okx_btc(sim)

    async def tripped():
        return await in_thread(lambda: list(BreakerTrip.objects.all()))

    [trip] = await eventually(tripped, timeout=20)
    assert trip.instrument_id == perps[Venue.OKX].pk
    assert D("-9") < trip.move_pct < D("-5")
    assert trip.mark_price < trip.reference_price
    for venue in (Venue.BYBIT, Venue.DERIBIT):
        assert len(service.mark_windows.history(perps[venue].pk)) >= 2
    assert await in_thread(
        lambda: list(RiskEvent.objects.values_list("kind", "severity", "details__instrument"))
    ) == [("circuit_breaker", "critical", perps[Venue.OKX].pk)]
    assert await in_thread(BreakerTrip.objects.count) == 1
