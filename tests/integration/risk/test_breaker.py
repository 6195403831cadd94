"""The circuit breaker on the database and through the order API against the simulator: a
price shock fed as marks trips the breaker on that instrument only; its orders are refused
with a 422 `circuit_breaker` while the others go; a trip lifts by an operator's reset or when
its cool-down has passed (the clock is given, never waited for).

The marks are fed to `observe_marks` directly, as the connector service does each status
interval with its streamed tickers' marks: the simulator's generator has no control route that
moves a price by a chosen step."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from exchanges.models import AccountGrant, Instrument
from orders import metrics
from risk.breaker import MarkWindows
from risk.breaker_service import active_trip, observe_marks, reset_trip
from risk.context import circuit_breaker_rejection
from risk.models import BreakerTrip, CircuitBreaker, RiskEvent
from tests.plugins.api import assert_error
from tests.support.trading import PERPS

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_throttles")]

D = Decimal


def perp(account, venue) -> Instrument:
    return Instrument.objects.get(exchange=account.exchange, symbol=PERPS[venue][0])


def order_body(account, venue):
    symbol, price, quantity = PERPS[venue]
    return {
        "account": account.pk,
        "symbol": symbol,
        "side": "buy",
        "type": "limit",
        "quantity": str(quantity),
        "price": str(price),
    }


def shock(okx, bybit, deribit, *, start):
    """OKX's perp falls 6% in 30 s; Bybit's moves 0.1%, Deribit's 5% exactly (not more)."""
    windows = MarkWindows()
    first = observe_marks(
        windows, {okx.pk: D("90000"), bybit.pk: D("90000"), deribit.pk: D("90000")}, now=start
    )
    assert first == []
    return observe_marks(
        windows,
        {okx.pk: D("84600"), bybit.pk: D("90090"), deribit.pk: D("94500")},
        now=start + timedelta(seconds=30),
    )


def test_a_price_shock_halts_that_instrument_only_through_the_order_api(
    make_user, client_for, accounts
):
    CircuitBreaker.objects.create(move_pct=D("5"), window_seconds=60, cooldown_seconds=0)
    okx, bybit, deribit = (perp(accounts[v], v) for v in ("okx", "bybit", "deribit"))
    start = timezone.now() - timedelta(seconds=30)

    trips = shock(okx, bybit, deribit, start=start)

    assert [t.instrument for t in trips] == [okx]
    trip = BreakerTrip.objects.get()
    assert (trip.reference_price, trip.mark_price, trip.move_pct) == (
        D("90000"),
        D("84600"),
        D("-6.0000"),
    )
    assert (trip.reference_at, trip.tripped_at, trip.cooldown_until) == (
        start,
        start + timedelta(seconds=30),
        None,
    )
    event = RiskEvent.objects.get(kind="circuit_breaker")
    assert event.severity == "critical"
    assert event.details == {
        "trip": trip.pk,
        "instrument": okx.pk,
        "reference_price": "90000",
        "mark_price": "84600",
        "move_pct": "-6.0000",
    }

    trader_user = make_user("tom", "trader")
    for account in accounts.values():
        AccountGrant.objects.create(user=trader_user, account=account)
    trader = client_for(trader_user)
    refused = trader.post("/api/v1/orders/", order_body(accounts["okx"], "okx"), format="json")
    error = assert_error(refused, 422, "risk_rejected")
    assert error["check"] == "circuit_breaker"
    assert "circuit breaker tripped on BTC/USDT:USDT" in error["message"]
    assert "mark moved -6% (from 90000 to 84600)" in error["message"]
    # a reduce-only order passes the breaker (closing stays possible); the venue then refuses
    # this one, as there is no position to reduce
    closing = {**order_body(accounts["okx"], "okx"), "reduce_only": True}
    answer = trader.post("/api/v1/orders/", closing, format="json")
    assert answer.status_code == 201, answer.content
    assert answer.json()["status"] == "rejected"
    assert RiskEvent.objects.filter(kind="order_rejected").count() == 1  # the first order only
    for venue in ("bybit", "deribit"):
        made = trader.post("/api/v1/orders/", order_body(accounts[venue], venue), format="json")
        assert made.status_code == 201, made.content

    reset_trip(trip=trip, actor="rita", reason="fat finger on the venue, price back")
    assert active_trip(okx) is None
    again = trader.post("/api/v1/orders/", order_body(accounts["okx"], "okx"), format="json")
    assert again.status_code == 201, again.content


def test_a_trip_lifts_when_its_cooldown_has_passed_and_is_not_tripped_twice(accounts):
    CircuitBreaker.objects.create(move_pct=D("5"), window_seconds=60, cooldown_seconds=300)
    okx, bybit = (perp(accounts[v], v) for v in ("okx", "bybit"))
    start = timezone.now() - timedelta(days=1)
    windows = MarkWindows()
    observe_marks(windows, {okx.pk: D("90000")}, now=start)
    tripped_at = start + timedelta(seconds=10)
    [trip] = observe_marks(windows, {okx.pk: D("95000")}, now=tripped_at)

    assert BreakerTrip.objects.get().cooldown_until == tripped_at + timedelta(seconds=300)
    assert observe_marks(windows, {okx.pk: D("100000")}, now=start + timedelta(seconds=20)) == []
    assert BreakerTrip.objects.count() == 1
    halfway = tripped_at + timedelta(seconds=299)
    assert active_trip(okx, halfway) == trip
    assert circuit_breaker_rejection(okx, halfway).code == "circuit_breaker"
    assert circuit_breaker_rejection(bybit, halfway) is None
    after = tripped_at + timedelta(seconds=300)
    assert active_trip(okx, after) is None
    assert circuit_breaker_rejection(okx, after) is None
    with pytest.raises(ValueError, match="is not active: nothing to reset"):
        reset_trip(trip=trip, actor="rita", reason="late", now=after)


def test_an_instrument_breaker_overrides_the_default_and_a_disabled_one_does_nothing(accounts):
    okx, bybit, deribit = (perp(accounts[v], v) for v in ("okx", "bybit", "deribit"))
    CircuitBreaker.objects.create(move_pct=D("5"), window_seconds=60)
    CircuitBreaker.objects.create(instrument=bybit, move_pct=D("0.05"), window_seconds=60)
    CircuitBreaker.objects.create(instrument=okx, move_pct=D("1"), window_seconds=60, enabled=False)
    trips = shock(okx, bybit, deribit, start=timezone.now() - timedelta(hours=1))
    assert sorted(t.instrument_id for t in trips) == sorted([okx.pk, bybit.pk])
    assert BreakerTrip.objects.get(instrument=bybit).move_pct == D("0.1000")


def test_no_breaker_no_trip_and_a_reset_needs_who_and_why(accounts):
    okx, bybit, deribit = (perp(accounts[v], v) for v in ("okx", "bybit", "deribit"))
    assert shock(okx, bybit, deribit, start=timezone.now()) == []
    assert not BreakerTrip.objects.exists()
    CircuitBreaker.objects.create(move_pct=D("5"), window_seconds=60)
    [trip] = shock(okx, bybit, deribit, start=timezone.now() - timedelta(seconds=30))
    with pytest.raises(ValueError, match="needs a reason and who resets it"):
        reset_trip(trip=trip, actor="rita", reason=" ")
    assert active_trip(okx) == trip


def test_a_trip_counts_in_the_metrics_once_committed(accounts, django_capture_on_commit_callbacks):
    CircuitBreaker.objects.create(move_pct=D("5"), window_seconds=60)
    okx, bybit, deribit = (perp(accounts[v], v) for v in ("okx", "bybit", "deribit"))
    trips = metrics.BREAKER_TRIPS.labels(instrument="okx:BTC/USDT:USDT")
    before = trips._value.get()
    with django_capture_on_commit_callbacks(execute=True):
        shock(okx, bybit, deribit, start=timezone.now() - timedelta(seconds=30))
    assert trips._value.get() == before + 1
