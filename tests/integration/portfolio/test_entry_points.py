"""The ways a reconciliation starts: `manage.py reconcile`, the Celery task on its beat
schedule, the admin's "Reconcile now"; and who may start one."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from exchanges.models import ExchangeAccount
from portfolio.models import ReconciliationReport
from portfolio.tasks import RECONCILE_TASK, reconcile_accounts
from tests.integration.portfolio.test_reconciliation import open_account

pytestmark = pytest.mark.django_db


def test_beat_runs_it_every_five_minutes_editable_in_admin():
    task = PeriodicTask.objects.get(name="Reconciliation")
    assert (task.task, task.enabled) == (RECONCILE_TASK, True)
    assert (task.interval.every, task.interval.period) == (5, "minutes")


def test_roles_that_read_orders_read_the_portfolio_and_operators_run_it():
    for role in ("viewer", "trader", "risk_officer", "admin"):
        names = set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))
        assert {"view_order", "view_position", "view_balance", "view_ledgerentry"} <= names
        assert {"view_reconciliationreport", "view_appliedfill"} <= names
        assert ("run_reconciliation" in names) is (role in ("risk_officer", "admin"))


def test_the_task_reconciles_every_enabled_account_with_keys(sim, secrets_key):
    account = open_account(sim, "okx")
    disabled = ExchangeAccount.objects.create(
        exchange=account.exchange, label="off", api_key="k", secret="s", enabled=False
    )
    keyless = ExchangeAccount.objects.create(
        exchange=account.exchange, label="nokey", api_key="", secret=""
    )
    assert reconcile_accounts() == {"ok": 3, "mismatch": 1}
    assert ReconciliationReport.objects.filter(account=account).count() == 4
    assert not ReconciliationReport.objects.filter(account__in=[disabled, keyless]).exists()


def test_the_command_prints_each_report(sim, secrets_key):
    account = open_account(sim, "deribit")
    out = StringIO()
    call_command("reconcile", "--account", str(account.pk), stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[:3] == [
        f"{account} (id {account.pk}) orders: ok, 0 checked, 0 differed",
        f"{account} (id {account.pk}) fills: ok, 0 checked, 0 differed",
        f"{account} (id {account.pk}) positions: ok, 0 checked, 0 differed",
    ]
    assert lines[3].startswith(f"{account} (id {account.pk}) balances: mismatch, ")
    assert "  balance unknown to the gateway: took the venue's figures" in lines[4:]


def test_the_command_names_an_unknown_account(db):
    with pytest.raises(CommandError, match="no enabled account with keys and id 424242"):
        call_command("reconcile", "--account", "424242", stdout=StringIO())


def test_admin_reconcile_now(admin_client, sim, secrets_key):
    account = open_account(sim, "bybit")
    url = reverse("admin:portfolio_reconciledaccount_changelist")
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(
        url, {"action": "reconcile_now", "_selected_action": [account.pk]}, follow=True
    )
    assert response.status_code == 200
    (message,) = [str(m) for m in response.context["messages"]]
    assert message == (
        f"{account}: orders ok (0 differed), fills ok (0 differed), positions ok (0 differed), "
        f"balances mismatch ({ReconciliationReport.objects.get(kind='balances').mismatches} "
        "differed)"
    )
    reports = admin_client.post(
        reverse("admin:portfolio_reconciliationreport_changelist"),
        {
            "action": "reconcile_again",
            "_selected_action": list(ReconciliationReport.objects.values_list("pk", flat=True)),
        },
        follow=True,
    )
    assert [str(m) for m in reports.context["messages"]] == [
        f"{account}: orders ok (0 differed), fills ok (0 differed), positions ok (0 differed), "
        "balances ok (0 differed)"
    ]
    assert ReconciliationReport.objects.filter(account=account).count() == 8
