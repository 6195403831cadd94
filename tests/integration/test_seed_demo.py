"""`manage.py seed_demo`: what it creates, that a second run changes nothing, the password."""

import io
import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from exchanges.models import Exchange, ExchangeAccount, Instrument
from exchanges.simulator.demo import DEMO_ACCOUNTS
from exchanges.simulator.instruments import DEFAULT_INSTRUMENTS
from exchanges.venues.base import Endpoints, Venue
from marketdata.models import Subscription
from risk.models import RiskLimit

PASSWORD_LINE = re.compile(r"user admin: (created|password reset); password \(shown once\): (\S+)")


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def simulator_settings(settings, secrets_key):
    settings.SIMULATOR_HOST = "127.0.0.9"
    settings.SIMULATOR_PORTS = {"deribit": 18801, "okx": 18802, "bybit": 18803}
    return settings


@pytest.mark.django_db
def test_seed_creates_the_demo(simulator_settings):
    output = seed()

    simulators = {e.venue: e for e in Exchange.objects.filter(environment="simulator")}
    assert set(simulators) == {"deribit", "okx", "bybit"}
    assert simulators["deribit"].endpoints() == Endpoints(
        "http://127.0.0.9:18801", "ws://127.0.0.9:18801/ws/api/v2", "ws://127.0.0.9:18801/ws/api/v2"
    )
    assert simulators["okx"].endpoints() == Endpoints(
        "http://127.0.0.9:18802",
        "ws://127.0.0.9:18802/ws/v5/public",
        "ws://127.0.0.9:18802/ws/v5/private",
    )
    assert simulators["bybit"].endpoints() == Endpoints(
        "http://127.0.0.9:18803",
        "ws://127.0.0.9:18803/v5/public",
        "ws://127.0.0.9:18803/v5/private",
    )
    assert all(e.enabled for e in simulators.values())
    assert [e.slug for e in Exchange.objects.filter(environment="simulator").order_by("slug")] == [
        "bybit-simulator",
        "deribit-simulator",
        "okx-simulator",
    ]

    for venue, exchange in simulators.items():
        account = ExchangeAccount.objects.get(exchange=exchange)
        assert account.label == "demo"
        assert account.enabled and account.permission == "trade"
        assert account.credentials() == DEMO_ACCOUNTS[Venue(venue)]

        stored = set(
            Instrument.objects.filter(exchange=exchange, active=True).values_list(
                "venue_symbol", flat=True
            )
        )
        listed = {i.venue_symbol for i in DEFAULT_INSTRUMENTS if i.venue == venue}
        assert stored == listed and listed

    assert Instrument.objects.filter(exchange__environment="simulator").count() == len(
        DEFAULT_INSTRUMENTS
    )
    stored = Instrument.objects.filter(exchange__environment="simulator").select_related("exchange")
    assert {instrument.info() for instrument in stored} == set(DEFAULT_INSTRUMENTS)
    subscriptions = Subscription.objects.select_related("instrument")
    assert subscriptions.count() == len(DEFAULT_INSTRUMENTS)
    enabled = {
        (s.instrument.exchange.venue, s.instrument.venue_symbol) for s in subscriptions if s.enabled
    }
    assert enabled == {
        (str(i.venue), i.venue_symbol) for i in DEFAULT_INSTRUMENTS if i.kind != "option"
    }
    assert all(s.books and s.trades and s.tickers and s.book_depth == 20 for s in subscriptions)
    assert "subscriptions deribit-simulator: 13 created, 3 enabled" in output
    limit = RiskLimit.objects.get(account=None, instrument=None)
    assert (limit.name, limit.max_open_orders, limit.price_band_pct, limit.enabled) == (
        "Global default",
        200,
        Decimal(10),
        True,
    )

    match = PASSWORD_LINE.search(output)
    assert match and match.group(1) == "created"
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert admin.check_password(match.group(2))
    assert sorted(admin.groups.values_list("name", flat=True)) == [
        "admin",
        "risk_officer",
        "trader",
        "viewer",
    ]
    token = Token.objects.get(user=admin).key
    assert f"user admin: roles viewer, trader, risk_officer, admin; API token: {token}" in output


@pytest.mark.django_db
def test_seed_is_idempotent(simulator_settings):
    first = seed()
    password = PASSWORD_LINE.search(first).group(2)
    counts = (
        Exchange.objects.count(),
        ExchangeAccount.objects.count(),
        Instrument.objects.count(),
        RiskLimit.objects.count(),
        get_user_model().objects.count(),
    )

    Subscription.objects.filter(instrument__venue_symbol="BTC-PERPETUAL").update(enabled=False)
    second = seed()
    assert Subscription.objects.get(instrument__venue_symbol="BTC-PERPETUAL").enabled is False
    assert "subscriptions okx-simulator: 0 created, 5 enabled" in second
    assert (
        Exchange.objects.count(),
        ExchangeAccount.objects.count(),
        Instrument.objects.count(),
        RiskLimit.objects.count(),
        get_user_model().objects.count(),
    ) == counts
    assert PASSWORD_LINE.search(second) is None
    assert "user admin: exists, password unchanged" in second
    assert "instruments okx-simulator: 0 created, 0 updated, 0 deactivated" in second
    assert get_user_model().objects.get(username="admin").check_password(password)


@pytest.mark.django_db
def test_seed_restores_demo_state_and_follows_settings(simulator_settings):
    seed()
    account = ExchangeAccount.objects.get(exchange__slug="bybit-simulator")
    account.secret = "changed"
    account.save()
    simulator_settings.SIMULATOR_HOST = "10.0.0.5"

    output = seed()
    assert "account bybit-simulator/demo: demo credentials restored" in output
    account = ExchangeAccount.objects.get(exchange__slug="bybit-simulator")
    assert account.secret == DEMO_ACCOUNTS[Venue.BYBIT].secret
    assert Exchange.objects.get(slug="bybit-simulator").rest_url == "http://10.0.0.5:18803"


@pytest.mark.django_db
def test_reset_password(simulator_settings):
    first = PASSWORD_LINE.search(seed()).group(2)
    match = PASSWORD_LINE.search(seed("--reset-password"))
    assert match.group(1) == "password reset"
    assert match.group(2) != first
    assert get_user_model().objects.get(username="admin").check_password(match.group(2))


@pytest.mark.django_db
def test_demo_secrets_are_encrypted(simulator_settings):
    from django.db import connection

    seed()
    with connection.cursor() as cursor:
        cursor.execute("SELECT api_key, secret, passphrase FROM exchanges_exchangeaccount")
        stored = " ".join(value for row in cursor.fetchall() for value in row)
    for credentials in DEMO_ACCOUNTS.values():
        assert credentials.api_key not in stored
        assert credentials.secret not in stored
        if credentials.passphrase:
            assert credentials.passphrase not in stored
