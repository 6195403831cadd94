"""The scheduled risk checks against the simulator: a daily loss breach on a limit with
`trip_kill_switch` engages that account's kill switch, which cancels its orders on the venue
and leaves the other accounts trading; a finding is written once, not every run; a stale or
down connector is a `stale_data` finding. Run through the Celery task (eager in tests) and
`manage.py risk_check`."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from exchanges.models import AccountGrant, Instrument
from marketdata.feed import latest_key, ticker_channel
from orders import metrics
from orders.models import Order
from orders.venue import client_for as venue_client
from risk.models import KillSwitch, RiskEvent
from risk.monitor import run_checks_once
from risk.tasks import run_risk_checks
from tests.factories import ConnectorStatusFactory, PositionFactory, RiskLimitFactory
from tests.support.trading import PERPS

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_throttles")]

D = Decimal


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


def losing(account, venue, unrealized: str):
    instrument = Instrument.objects.get(exchange=account.exchange, symbol=PERPS[venue][0])
    return PositionFactory(
        account=account,
        instrument=instrument,
        quantity=D(1),
        entry_price=D("90000"),
        mark_price=D("89400"),
        unrealized_pnl=D(unrealized),
    )


def test_a_loss_breach_engages_the_accounts_kill_switch_and_cancels_its_orders(
    make_user, client_for, accounts
):
    trader_user = make_user("tom", "trader")
    for account in accounts.values():
        AccountGrant.objects.create(user=trader_user, account=account)
    trader = client_for(trader_user)
    for venue in ("okx", "bybit"):
        made = trader.post("/api/v1/orders/", order_body(accounts[venue], venue), format="json")
        assert made.status_code == 201, made.content
    okx = accounts["okx"]
    losing(okx, "okx", "-600")
    limit = RiskLimitFactory(
        name="okx day", account=okx, max_daily_loss=D("500"), trip_kill_switch=True
    )

    findings = metrics.RISK_FINDINGS.labels(kind="daily_loss", severity="critical")
    before = findings._value.get()

    assert run_risk_checks() == 1  # the task as beat runs it, in this process

    assert findings._value.get() == before + 1

    event = RiskEvent.objects.get(kind="daily_loss")
    assert (event.severity, event.account) == ("critical", okx)
    assert event.message == (
        f"{okx}: today's loss 600 USD has reached the limit 'okx day' of 500 USD"
    )
    assert event.details["limit"] == limit.pk
    assert D(event.details["daily_pnl"]) == D("-600")
    assert KillSwitch.objects.is_engaged(okx)
    assert not KillSwitch.objects.is_engaged(accounts["bybit"])
    assert KillSwitch.objects.get().engaged_by == "risk monitor"
    client = venue_client(okx)
    assert client.open_orders(client.symbols.venue(PERPS["okx"][0])) == []
    assert Order.objects.get(account=okx).status == "canceled"
    assert Order.objects.get(account=accounts["bybit"]).status == "new"

    assert run_checks_once() == []
    assert RiskEvent.objects.filter(kind="daily_loss").count() == 1
    assert KillSwitch.objects.count() == 1


def test_a_breach_without_trip_kill_switch_is_only_a_finding_and_a_loss_under_is_none(accounts):
    okx, bybit = accounts["okx"], accounts["bybit"]
    losing(okx, "okx", "-600")
    losing(bybit, "bybit", "-499.99")
    RiskLimitFactory(name="desk day", max_daily_loss=D("500"))

    [event] = run_checks_once()

    assert (event.kind, event.account) == ("daily_loss", okx)
    assert not KillSwitch.objects.exists()
    later = timezone.now() + timedelta(hours=1, seconds=1)
    assert [e.account for e in run_checks_once(later)] == [okx]


def test_a_silent_or_down_connector_is_a_stale_data_finding(accounts, settings):
    settings.RISK_STALE_SECONDS = 30
    now = timezone.now()
    exchange = accounts["okx"].exchange
    ConnectorStatusFactory(exchange=exchange, state="subscribed", last_message_at=now)
    silent = ConnectorStatusFactory(
        exchange=exchange,
        stream="private",
        account=accounts["okx"],
        last_message_at=now - timedelta(seconds=31),
    )
    down = ConnectorStatusFactory(exchange=accounts["bybit"].exchange, state="disconnected")
    ConnectorStatusFactory(exchange=accounts["deribit"].exchange, state="stopped")

    events = run_checks_once(now)

    assert [(e.kind, e.details["connector"]) for e in events] == [
        ("stale_data", silent.pk),
        ("stale_data", down.pk),
    ]
    assert events[0].message.startswith(f"private stream of {accounts['okx']}: no message since ")
    assert (
        events[1].message
        == f"public stream of {accounts['bybit'].exchange.slug}: state disconnected"
    )
    assert run_checks_once(now + timedelta(seconds=5)) == []


def test_the_command_runs_the_checks_once_and_beat_has_the_schedule(accounts):
    losing(accounts["okx"], "okx", "-600")
    RiskLimitFactory(name="desk day", max_daily_loss=D("500"))
    out = StringIO()
    call_command("risk_check", stdout=out)
    assert out.getvalue().splitlines()[-1] == "1 new finding(s)"
    task = PeriodicTask.objects.get(name="Risk checks")
    assert (task.task, task.interval.every, task.interval.period, task.enabled) == (
        "risk.tasks.run_risk_checks",
        30,
        "seconds",
        True,
    )


def test_a_position_over_its_limit_is_a_finding_and_can_engage_the_kill_switch(accounts):
    okx, bybit = accounts["okx"], accounts["bybit"]
    position = losing(okx, "okx", "0")  # 1 contract of 0.01 BTC at the mark 89400
    losing(bybit, "bybit", "0")  # 1 BTC at the mark 89400
    RiskLimitFactory(name="desk size", max_position=D("1000"))
    RiskLimitFactory(
        name="okx perp",
        account=okx,
        instrument=position.instrument,
        max_position=D("0.5"),
        trip_kill_switch=True,
    )

    events = run_checks_once()

    assert [(e.kind, e.severity, e.account, e.message) for e in events] == [
        (
            "position_limit",
            "critical",
            okx,
            f"{okx} BTC/USDT:USDT: position 1 is beyond the limit of 0.5 ('okx perp')",
        ),
        (
            "position_limit",
            "critical",
            bybit,
            f"{bybit} BTC/USDT:USDT: position worth 89400 USD is beyond the limit of 1000 USD"
            " ('desk size')",
        ),
    ]
    assert KillSwitch.objects.is_engaged(okx)
    assert not KillSwitch.objects.is_engaged(bybit)
    assert KillSwitch.objects.get().reason == (
        "position limit 'okx perp' breached: position 1 is beyond the limit of 0.5"
    )


def test_an_open_order_far_from_the_market_is_a_warning(make_user, client_for, accounts):
    trader_user = make_user("tom", "trader")
    AccountGrant.objects.create(user=trader_user, account=accounts["okx"])
    trader = client_for(trader_user)
    near = order_body(accounts["okx"], "okx") | {"price": "81000"}
    far = order_body(accounts["okx"], "okx") | {"price": "80000"}
    made = [trader.post("/api/v1/orders/", body, format="json") for body in (near, far)]
    assert [m.status_code for m in made] == [201, 201], [m.content for m in made]
    ticker = latest_key(ticker_channel("okx", PERPS["okx"][0]))
    cache.set(ticker, {"mark_price": "90000", "last_price": "90001"})

    [event] = run_checks_once()

    order = Order.objects.get(pk=made[1].json()["id"])
    assert (event.kind, event.severity, event.details["order"]) == (
        "far_order",
        "warning",
        order.pk,
    )
    assert event.message == (
        f"order {order.client_order_id} on BTC/USDT:USDT at 80000 is 11.11% from the reference"
        " 90000 (more than 10%)"
    )
