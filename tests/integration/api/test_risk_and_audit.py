"""Risk limits (decimal strings, strict), the kill switch, connectors, and the audit trail."""

import pytest

from risk.models import KillSwitch, RiskEvent, RiskLimit
from tests.factories import ConnectorStatusFactory, ExchangeAccountFactory, ExchangeFactory
from tests.plugins.api import assert_error

pytestmark = pytest.mark.django_db


def test_risk_officer_sets_limits_as_decimal_strings(api, secrets_key):
    account = ExchangeAccountFactory()
    created = api["risk_officer"].post(
        "/api/v1/risk-limits/",
        {
            "name": "desk",
            "account": account.pk,
            "max_order_quantity": "12.5",
            "max_order_notional": "1000000.000000000000000001",
            "price_band_pct": "2.5",
            "max_open_orders": 40,
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert {k: body[k] for k in ("max_order_quantity", "max_order_notional", "price_band_pct")} == {
        "max_order_quantity": "12.500000000000000000",
        "max_order_notional": "1000000.000000000000000001",
        "price_band_pct": "2.500",
    }
    assert (body["max_position"], body["max_open_orders"], body["scope"]) == (
        None,
        40,
        f"account {account}",
    )
    changed = api["risk_officer"].patch(
        f"/api/v1/risk-limits/{body['id']}/", {"max_position": "0"}, format="json"
    )
    assert changed.json()["max_position"] == "0E-18" or changed.json()["max_position"].startswith(
        "0"
    )
    assert RiskLimit.objects.get(pk=body["id"]).max_position == 0


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (1.5, 'Send decimals as strings, e.g. "0.1", not JSON numbers.'),
        (2, 'Send decimals as strings, e.g. "0.1", not JSON numbers.'),
        ("NaN", "A finite number is required."),
        ("Infinity", "A finite number is required."),
        ("-inf", "A finite number is required."),
        ("1e400", "Ensure that there are no more than 38 digits in total."),
        ("1e-30", "Ensure that there are no more than 18 decimal places."),
        ("0.0000000000000000001", "Ensure that there are no more than 18 decimal places."),
        ("-3", "Must be greater than zero."),
        ("0", "Must be greater than zero."),
        ("ten", "A valid number is required."),
    ],
)
def test_bad_decimals_are_400_with_the_field(api, value, reason):
    response = api["risk_officer"].post(
        "/api/v1/risk-limits/", {"name": "x", "max_order_quantity": value}, format="json"
    )
    assert_error(response, 400, "validation_error", {"max_order_quantity": [reason]})
    assert not RiskLimit.objects.exists()


def test_negative_position_limit_is_refused(api):
    response = api["risk_officer"].post(
        "/api/v1/risk-limits/", {"name": "x", "max_position": "-1"}, format="json"
    )
    assert_error(response, 400, "validation_error", {"max_position": ["Must not be negative."]})


@pytest.mark.parametrize("role", ["viewer", "trader", "admin"])
def test_only_risk_officers_write_limits_and_the_kill_switch(api, role):
    assert_error(
        api[role].post("/api/v1/risk-limits/", {"name": "x"}, format="json"),
        403,
        "permission_denied",
    )
    assert_error(
        api[role].post("/api/v1/kill-switch/", {"engaged": True, "reason": "x"}, format="json"),
        403,
        "permission_denied",
    )
    assert api[role].get("/api/v1/risk-limits/").status_code == 200
    assert api[role].get("/api/v1/kill-switch/").status_code == 200


def test_kill_switch_engage_release_and_history(api, secrets_key, settings):
    settings.KILL_SWITCH_CANCEL_SECONDS = 0.5  # the factory account's venue never answers
    account = ExchangeAccountFactory()
    officer = api["risk_officer"]
    engaged = officer.post(
        "/api/v1/kill-switch/", {"engaged": True, "reason": "runaway algo"}, format="json"
    )
    assert engaged.status_code == 201
    assert {k: engaged.json()[k] for k in ("account", "engaged", "reason", "engaged_by")} == {
        "account": None,
        "engaged": True,
        "reason": "runaway algo",
        "engaged_by": "risk_officer-user",
    }
    assert KillSwitch.objects.is_engaged(account) is True
    officer.post(
        "/api/v1/kill-switch/",
        {"engaged": False, "reason": "fixed", "account": account.pk},
        format="json",
    )
    officer.post("/api/v1/kill-switch/", {"engaged": False, "reason": "all clear"}, format="json")
    assert KillSwitch.objects.is_engaged(account) is False
    history = api["viewer"].get("/api/v1/kill-switch/").json()["results"]
    assert [(h["engaged"], h["reason"]) for h in history] == [
        (False, "all clear"),
        (False, "fixed"),
        (True, "runaway algo"),
    ]
    assert RiskEvent.objects.filter(kind="kill_switch").count() == 3
    assert_error(
        officer.post("/api/v1/kill-switch/", {"engaged": "maybe"}, format="json"),
        400,
        "validation_error",
        {
            "engaged": ["Must be a JSON boolean (true or false)."],
            "reason": ["This field is required."],
        },
    )


def test_traders_see_limits_and_connectors_of_their_accounts_only(
    api, make_user, client_for, secrets_key
):
    exchange = ExchangeFactory()
    mine, other = (
        ExchangeAccountFactory(exchange=exchange),
        ExchangeAccountFactory(exchange=exchange),
    )
    trader = make_user("tia", "trader")
    api["admin"].post("/api/v1/grants/", {"user": trader.pk, "account": mine.pk}, format="json")
    for name, account in (("global", None), ("mine", mine), ("other", other)):
        RiskLimit.objects.create(name=name, account=account)
    ConnectorStatusFactory(exchange=exchange, stream="public")
    ConnectorStatusFactory(exchange=exchange, account=mine, stream="private")
    ConnectorStatusFactory(exchange=exchange, account=other, stream="private")
    tia = client_for(trader)
    names = sorted(row["name"] for row in tia.get("/api/v1/risk-limits/").json()["results"])
    assert names == ["global", "mine"]
    connectors = tia.get("/api/v1/connectors/").json()["results"]
    assert sorted((c["stream"], c["account"]) for c in connectors) == [
        ("private", mine.pk),
        ("public", None),
    ]
    assert len(api["viewer"].get("/api/v1/connectors/").json()["results"]) == 3


def test_audit_trail_says_who_what_when_and_from_where(api, secrets_key):
    admin = api["admin"]
    exchange = admin.post(
        "/api/v1/exchanges/",
        {
            "name": "Audited",
            "venue": "bybit",
            "environment": "testnet",
            "rest_url": "https://api-testnet.bybit.com",
            "ws_public_url": "wss://stream-testnet.bybit.com/v5/public",
            "ws_private_url": "wss://stream-testnet.bybit.com/v5/private",
        },
        format="json",
        REMOTE_ADDR="10.1.2.3",
    ).json()
    account = admin.post(
        "/api/v1/accounts/",
        {
            "exchange": exchange["id"],
            "label": "a",
            "api_key": "AuditKey-0000001111",
            "api_secret": "AuditSecret-9999888877",
        },
        format="json",
    ).json()
    admin.patch(
        f"/api/v1/accounts/{account['id']}/",
        {"api_secret": "AuditSecret-rotated-000"},
        format="json",
    )
    api["risk_officer"].post(
        "/api/v1/kill-switch/", {"engaged": True, "reason": "audit me"}, format="json"
    )
    entries = admin.get("/api/v1/audit/").json()["results"]
    by_type = {}
    for entry in entries:
        by_type.setdefault(entry["object_type"], []).append(entry)
    created = by_type["exchanges.exchange"][-1]
    assert (created["actor"], created["remote_addr"], created["action"]) == (
        "admin-user",
        "10.1.2.3",
        "create",
    )
    assert created["changes"]["name"] == ["None", "Audited"]
    rotated = by_type["exchanges.exchangeaccount"][0]
    assert rotated["action"] == "update"
    assert rotated["changes"] == {"secret": ["(hidden)", "(hidden)"]}
    kill = by_type["risk.killswitch"][0]
    assert (kill["actor"], kill["changes"]["reason"]) == ("risk_officer-user", ["None", "audit me"])
    text = str(entries)
    assert "AuditSecret" not in text and "AuditKey" not in text
    for role in ("viewer", "trader", "risk_officer"):
        assert_error(api[role].get("/api/v1/audit/"), 403, "permission_denied")
