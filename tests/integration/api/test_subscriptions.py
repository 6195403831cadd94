"""Market data subscriptions over the API: every role reads them, only admins write them;
strict input; a change is audited; and the connector heartbeat shows the health figures."""

from decimal import Decimal

import pytest
from auditlog.models import LogEntry

from marketdata.models import Subscription
from tests.factories import (
    ConnectorStatusFactory,
    ExchangeFactory,
    InstrumentFactory,
    SubscriptionFactory,
)
from tests.plugins.api import ROLES, assert_error

pytestmark = pytest.mark.django_db

URL = "/api/v1/marketdata/subscriptions/"


def test_admin_creates_changes_and_deletes_a_subscription(api):
    instrument = InstrumentFactory(symbol="BTC/USD:BTC", venue_symbol="BTC-PERPETUAL")
    created = api["admin"].post(
        URL, {"instrument": instrument.pk, "book_depth": 5, "trades": False}, format="json"
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert {k: v for k, v in body.items() if k not in ("id", "created_at", "updated_at")} == {
        "instrument": instrument.pk,
        "exchange": instrument.exchange_id,
        "symbol": "BTC/USD:BTC",
        "venue_symbol": "BTC-PERPETUAL",
        "enabled": True,
        "books": True,
        "book_depth": 5,
        "trades": False,
        "tickers": True,
    }
    changed = api["admin"].patch(f"{URL}{body['id']}/", {"enabled": False}, format="json")
    assert changed.status_code == 200
    assert (changed.json()["enabled"], changed.json()["book_depth"]) == (False, 5)
    assert Subscription.objects.get(pk=body["id"]).enabled is False
    entry = LogEntry.objects.get_for_object(Subscription.objects.get(pk=body["id"])).first()
    assert entry.changes_dict == {"enabled": ["True", "False"]}
    assert entry.actor.username == "admin-user"

    assert api["admin"].delete(f"{URL}{body['id']}/").status_code == 204
    assert not Subscription.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_subscriptions_and_filters_them(api, role):
    okx = ExchangeFactory(venue="okx")
    mine = SubscriptionFactory(instrument=InstrumentFactory(exchange=okx, symbol="BTC/USDT"))
    SubscriptionFactory(enabled=False)
    listed = api[role].get(URL, {"exchange": okx.pk})
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [mine.pk]
    assert [r["enabled"] for r in api[role].get(URL, {"enabled": "false"}).json()["results"]] == [
        False
    ]
    assert api[role].get(f"{URL}{mine.pk}/").json()["symbol"] == "BTC/USDT"


@pytest.mark.parametrize("role", ["viewer", "trader", "risk_officer"])
def test_only_admins_write_subscriptions(api, role):
    subscription = SubscriptionFactory()
    other = InstrumentFactory()
    assert_error(
        api[role].post(URL, {"instrument": other.pk}, format="json"), 403, "permission_denied"
    )
    assert_error(
        api[role].patch(f"{URL}{subscription.pk}/", {"enabled": False}, format="json"),
        403,
        "permission_denied",
    )
    assert_error(api[role].delete(f"{URL}{subscription.pk}/"), 403, "permission_denied")
    assert Subscription.objects.get().enabled is True


def test_subscription_input_is_strict(api):
    taken = SubscriptionFactory()
    assert_error(
        api["admin"].post(
            URL,
            {"instrument": taken.instrument_id, "book_depth": 51, "books": "yes"},
            format="json",
        ),
        400,
        "validation_error",
        {
            "instrument": ["This instrument has a subscription already."],
            "book_depth": ["Ensure this value is less than or equal to 50."],
            "books": ["Must be a JSON boolean (true or false)."],
        },
    )
    assert_error(
        api["admin"].patch(f"{URL}{taken.pk}/", {"book_depth": 0}, format="json"),
        400,
        "validation_error",
        {"book_depth": ["Ensure this value is greater than or equal to 1."]},
    )


def test_connectors_show_the_health_figures(api):
    status = ConnectorStatusFactory(
        messages_per_second=Decimal("812.50"),
        book_rebuilds=3,
        books_invalid=1,
        lag_p50_ms=Decimal("1.250"),
        lag_p99_ms=Decimal("9.875"),
    )
    (row,) = api["viewer"].get("/api/v1/connectors/").json()["results"]
    assert row["id"] == status.pk
    assert {k: row[k] for k in ("messages_per_second", "book_rebuilds", "books_invalid")} == {
        "messages_per_second": "812.50",
        "book_rebuilds": 3,
        "books_invalid": 1,
    }
    assert (row["lag_p50_ms"], row["lag_p99_ms"]) == ("1.250", "9.875")
