"""The circuit breaker and risk event endpoints: everyone reads, risk officers add breakers
and reset trips (a trader may not); input is validated in the one error format; a reset of a
trip that is no longer active is a 409."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from risk.breaker import MarkWindows
from risk.breaker_service import active_trip, observe_marks
from risk.models import CircuitBreaker, RiskEvent
from tests.factories import BreakerTripFactory, InstrumentFactory, RiskEventFactory
from tests.plugins.api import assert_error

pytestmark = pytest.mark.django_db

D = Decimal


def trip_on(instrument, *, cooldown_seconds=0):
    CircuitBreaker.objects.create(
        move_pct=D("5"), window_seconds=60, cooldown_seconds=cooldown_seconds
    )
    start = timezone.now() - timedelta(seconds=10)
    windows = MarkWindows()
    observe_marks(windows, {instrument.pk: D("100")}, now=start)
    [trip] = observe_marks(windows, {instrument.pk: D("90")}, now=start + timedelta(seconds=5))
    return trip


def test_a_risk_officer_adds_a_breaker_and_a_trader_may_not(api):
    instrument = InstrumentFactory()
    body = {"instrument": instrument.pk, "move_pct": "7.5", "window_seconds": 120}
    assert_error(
        api["trader"].post("/api/v1/circuit-breakers/", body, format="json"),
        403,
        "permission_denied",
    )

    made = api["risk_officer"].post("/api/v1/circuit-breakers/", body, format="json")

    assert made.status_code == 201, made.content
    assert {k: made.json()[k] for k in body | {"cooldown_seconds": 0, "enabled": True}} == {
        "instrument": instrument.pk,
        "move_pct": "7.500",
        "window_seconds": 120,
        "cooldown_seconds": 0,
        "enabled": True,
    }
    listed = api["viewer"].get("/api/v1/circuit-breakers/").json()["results"]
    assert [row["id"] for row in listed] == [made.json()["id"]]


def test_bad_breaker_input_is_refused_naming_the_fields(api):
    response = api["risk_officer"].post(
        "/api/v1/circuit-breakers/", {"move_pct": "0", "window_seconds": 0}, format="json"
    )
    assert_error(
        response,
        400,
        "validation_error",
        {
            "move_pct": ["Must be greater than zero."],
            "window_seconds": ["Ensure this value is greater than or equal to 1."],
        },
    )
    assert not CircuitBreaker.objects.exists()


def test_trips_are_listed_and_a_risk_officer_resets_one(api):
    instrument = InstrumentFactory()
    trip = trip_on(instrument)

    listed = api["viewer"].get("/api/v1/circuit-breakers/trips/").json()["results"]
    assert [(r["id"], r["symbol"], r["move_pct"], r["active"]) for r in listed] == [
        (trip.pk, instrument.symbol, "-10.0000", True)
    ]
    url = f"/api/v1/circuit-breakers/trips/{trip.pk}/reset/"
    assert_error(api["trader"].post(url, {"reason": "x"}, format="json"), 403, "permission_denied")
    missing = api["risk_officer"].post(url, {}, format="json")
    assert_error(missing, 400, "validation_error", {"reason": ["This field is required."]})

    reset = api["risk_officer"].post(url, {"reason": "venue glitch"}, format="json")

    assert reset.status_code == 200, reset.content
    body = reset.json()
    assert (body["active"], body["reset_by"], body["reset_reason"]) == (
        False,
        "risk_officer-user",
        "venue glitch",
    )
    assert active_trip(instrument) is None
    again = api["risk_officer"].post(url, {"reason": "twice"}, format="json")
    assert assert_error(again, 409, "trip_not_active")["message"] == (
        f"trip {trip.pk} is not active: nothing to reset"
    )


def test_risk_events_filter_by_kind_and_severity(api):
    instrument = InstrumentFactory()
    trip_on(instrument)
    RiskEventFactory(kind="daily_loss", severity="critical", account=None)
    RiskEventFactory(kind="stale_data", severity="warning", account=None)

    def kinds(query):
        response = api["viewer"].get(f"/api/v1/risk-events/{query}")
        assert response.status_code == 200, response.content
        return [row["kind"] for row in response.json()["results"]]

    assert kinds("?severity=critical") == ["daily_loss", "circuit_breaker"]
    assert kinds("?kind=stale_data") == ["stale_data"]
    assert RiskEvent.objects.count() == 3


def test_the_admin_reset_action_lifts_active_trips_and_reports_the_others(admin_client):
    instrument = InstrumentFactory()
    active = trip_on(instrument)
    done = BreakerTripFactory(instrument=InstrumentFactory(), reset_at=timezone.now())
    url = reverse("admin:risk_breakertrip_changelist")

    response = admin_client.post(
        url, {"action": "reset", "_selected_action": [active.pk, done.pk]}, follow=True
    )

    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert shown == [f"{active} reset", f"trip {done.pk} is not active: nothing to reset"]
    active.refresh_from_db()
    assert (active.reset_by, active.reset_reason) == ("admin", "reset in admin")
    assert active_trip(instrument) is None
