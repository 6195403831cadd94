"""Risk limits, the kill switch history and risk events: scopes, state and append-only rows."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from gateway_site.models_base import AppendOnlyError
from risk.models import KillSwitch, RiskEvent
from tests.factories import (
    T0,
    ExchangeAccountFactory,
    KillSwitchFactory,
    RiskEventFactory,
    RiskLimitFactory,
)

D = Decimal


def test_risk_limit_scope_and_values(account, instrument):
    assert RiskLimitFactory(name="g").scope == "global"
    assert RiskLimitFactory(account=account).scope == "account deribit-test/main"
    assert RiskLimitFactory(account=account, instrument=instrument).scope == (
        "account deribit-test/main, instrument BTC/USD:BTC (BTC-PERPETUAL)"
    )
    for bad in ({"max_order_quantity": D(0)}, {"price_band_pct": D(-1)}):
        with pytest.raises(IntegrityError), transaction.atomic():
            RiskLimitFactory(**bad)


def test_kill_switch_state_is_the_latest_action(account):
    other = ExchangeAccountFactory(exchange=account.exchange)
    assert KillSwitch.objects.is_engaged() is False
    assert KillSwitch.objects.is_engaged(account) is False

    KillSwitchFactory(account=account, engaged=True, created_at=T0)
    assert KillSwitch.objects.is_engaged(account) is True
    assert KillSwitch.objects.is_engaged(other) is False
    assert KillSwitch.objects.is_engaged() is False

    KillSwitchFactory(account=None, engaged=True, created_at=T0 + timedelta(seconds=1))
    assert KillSwitch.objects.is_engaged(other) is True
    assert KillSwitch.objects.is_engaged() is True

    KillSwitchFactory(account=None, engaged=False, created_at=T0 + timedelta(seconds=2))
    KillSwitchFactory(account=account, engaged=False, created_at=T0 + timedelta(seconds=3))
    assert KillSwitch.objects.is_engaged(account) is False
    assert KillSwitch.objects.is_engaged() is False
    assert KillSwitch.objects.count() == 4
    assert str(KillSwitch.objects.latest_for(None)) == "released for all accounts"


def test_kill_switch_and_risk_events_are_append_only(account):
    action = KillSwitchFactory(account=account)
    action.engaged = False
    with pytest.raises(AppendOnlyError):
        action.save()
    event = RiskEventFactory(account=account)
    with pytest.raises(AppendOnlyError):
        RiskEvent.objects.filter(pk=event.pk).update(message="x")
    with pytest.raises(AppendOnlyError):
        event.delete()
