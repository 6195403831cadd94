"""The portfolio endpoints: positions, balances and reconciliation reports of the accounts a
user may see, and reconciling an account now (risk officers and admins)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from rest_framework.test import APIClient

from exchanges.models import AccountGrant, ExchangeAccount
from portfolio.models import ReconciliationReport
from tests.factories import (
    BalanceFactory,
    ExchangeAccountFactory,
    InstrumentFactory,
    PositionFactory,
    ReconciliationReportFactory,
)
from tests.integration.portfolio.test_reconciliation import open_account
from tests.plugins.api import assert_error

D = Decimal


@pytest.fixture
def two_accounts(account, instrument):
    other = ExchangeAccountFactory(exchange=account.exchange, label="other")
    PositionFactory(
        account=account,
        instrument=instrument,
        quantity=D(-250),
        entry_price=D("64990.25"),
        realized_pnl=D("0.0012"),
        unrealized_pnl=D("-0.0000118"),
        fees=D("0.0001"),
        other_fees={"USDC": "0.5"},
    )
    PositionFactory(account=other, instrument=InstrumentFactory(exchange=account.exchange))
    BalanceFactory(account=account, currency="BTC")
    BalanceFactory(account=other, currency="ETH")
    ReconciliationReportFactory(account=account, kind="fills", status="ok", mismatches=0)
    ReconciliationReportFactory(account=account, kind="orders", status="mismatch")
    ReconciliationReportFactory(account=other, kind="orders", status="error")
    return account, other


def test_positions_list_signed_quantities_as_strings(api, two_accounts):
    account, _ = two_accounts
    response = api["viewer"].get("/api/v1/positions/", {"account": account.pk})
    assert response.status_code == 200
    (position,) = response.json()["results"]
    assert {k: position[k] for k in position if k not in ("id", "instrument", "updated_at")} == {
        "account": account.pk,
        "symbol": "BTC/USD:BTC",
        "quantity": "-250.000000000000000000",
        "average_price": "64990.250000000000000000",
        "mark_price": "65010.000000000000000000",
        "liquidation_price": None,
        "realized_pnl": "0.001200000000000000",
        "unrealized_pnl": "-0.000011800000000000",
        "fees": "0.000100000000000000",
        "other_fees": {"USDC": "0.5"},
        "settle_currency": "BTC",
        "venue_updated_at": None,
    }


def test_a_trader_sees_only_granted_accounts(make_user, client_for, two_accounts):
    _, other = two_accounts
    user = make_user("trader-user", "trader")
    trader = client_for(user)
    assert trader.get("/api/v1/positions/").json()["results"] == []
    AccountGrant.objects.create(user=user, account=other)
    assert [p["account"] for p in trader.get("/api/v1/positions/").json()["results"]] == [other.pk]
    assert [b["currency"] for b in trader.get("/api/v1/balances/").json()["results"]] == ["ETH"]
    reports = trader.get("/api/v1/reconciliation/reports/").json()["results"]
    assert [(r["account"], r["status"]) for r in reports] == [(other.pk, "error")]


def test_balances_by_account(api, two_accounts):
    account, _ = two_accounts
    (balance,) = api["viewer"].get("/api/v1/balances/", {"account": account.pk}).json()["results"]
    assert (balance["currency"], balance["total"], balance["available"], balance["locked"]) == (
        "BTC",
        "10.500000000000000000",
        "10.250000000000000000",
        "0.250000000000000000",
    )


def test_reports_filter_by_account_kind_and_status(api, two_accounts):
    account, other = two_accounts
    viewer = api["viewer"]
    newest_first = viewer.get("/api/v1/reconciliation/reports/").json()["results"]
    assert [(r["account"], r["kind"]) for r in newest_first] == [
        (other.pk, "orders"),
        (account.pk, "orders"),
        (account.pk, "fills"),
    ]
    mismatched = viewer.get(
        "/api/v1/reconciliation/reports/", {"account": account.pk, "status": "mismatch"}
    ).json()["results"]
    assert [(r["kind"], r["mismatches"]) for r in mismatched] == [("orders", 1)]
    assert viewer.get("/api/v1/reconciliation/reports/", {"kind": "fills"}).json()["results"][0][
        "details"
    ] == {"missing_at_venue": ["gw0001"]}
    assert_error(
        viewer.get("/api/v1/reconciliation/reports/", {"kind": "everything"}),
        400,
        "validation_error",
        {"kind": ["Select a valid choice. everything is not one of the available choices."]},
    )


@pytest.mark.parametrize("role", ["viewer", "trader"])
def test_running_needs_the_run_permission(api, account, role):
    assert_error(
        api[role].post("/api/v1/reconciliation/run/", {"account": account.pk}, format="json"),
        403,
        "permission_denied",
    )
    assert not ReconciliationReport.objects.exists()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"account": 999999}, 'Invalid pk "999999" - object does not exist.'),
        ({"account": "1"}, "Must be a JSON integer (an id)."),
        ({}, "This field is required."),
    ],
)
def test_a_bad_account_is_a_400_naming_it(api, account, body, reason):
    response = api["risk_officer"].post("/api/v1/reconciliation/run/", body, format="json")
    assert_error(response, 400, "validation_error", {"account": [reason]})
    assert not ReconciliationReport.objects.exists()


def test_an_account_not_granted_is_unknown(make_user, client_for, account):
    runner = make_user("runner")
    runner.user_permissions.add(Permission.objects.get(codename="run_reconciliation"))
    response = client_for(runner).post(
        "/api/v1/reconciliation/run/", {"account": account.pk}, format="json"
    )
    assert_error(
        response,
        400,
        "validation_error",
        {"account": [f'Invalid pk "{account.pk}" - object does not exist.']},
    )


def test_run_reconciles_the_account_now(api, sim, secrets_key):
    account = open_account(sim, "okx")
    started = timezone.now()
    response = api["risk_officer"].post(
        "/api/v1/reconciliation/run/", {"account": account.pk}, format="json"
    )
    assert response.status_code == 200, response.content
    reports = response.json()
    assert [(r["account"], r["kind"], r["status"]) for r in reports] == [
        (account.pk, "orders", "ok"),
        (account.pk, "fills", "ok"),
        (account.pk, "positions", "ok"),
        (account.pk, "balances", "mismatch"),  # the wallets were not known yet
    ]
    stored = ReconciliationReport.objects.filter(account=account, started_at__gte=started)
    assert sorted(stored.values_list("id", flat=True)) == sorted(r["id"] for r in reports)
    assert ExchangeAccount.objects.get(pk=account.pk).balances.count() == reports[3]["checked"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/positions/",
        "/api/v1/balances/",
        "/api/v1/reconciliation/reports/",
        "/api/v1/reconciliation/run/",
    ],
)
def test_every_portfolio_endpoint_needs_a_login(db, path):
    assert_error(APIClient().get(path), 401, "not_authenticated")
