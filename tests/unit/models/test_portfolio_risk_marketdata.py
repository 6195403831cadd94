"""Positions, balances, reports, risk limits, the kill switch history, risk events and the
market-data tables: uniqueness rules and the kill-switch state."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from exchanges.models import AppendOnlyError
from marketdata.models import Candle, ConnectorStatus
from portfolio.models import Balance, Position
from risk.models import KillSwitch, RiskEvent
from tests.factories import (
    T0,
    BalanceFactory,
    CandleFactory,
    ConnectorStatusFactory,
    ExchangeAccountFactory,
    KillSwitchFactory,
    PositionFactory,
    ReconciliationReportFactory,
    RiskEventFactory,
    RiskLimitFactory,
    TopOfBookSnapshotFactory,
    TradeTickFactory,
)

D = Decimal


def test_position_signed_and_unique(account, instrument):
    PositionFactory(account=account, instrument=instrument, quantity=D(-250))
    assert Position.objects.get(account=account).quantity == D(-250)
    with pytest.raises(IntegrityError):
        PositionFactory(account=account, instrument=instrument)


def test_balance_unique_per_currency(account):
    BalanceFactory(account=account, currency="BTC")
    BalanceFactory(account=account, currency="ETH", total=D("100"))
    assert list(Balance.objects.filter(account=account).values_list("currency", "total")) == [
        ("BTC", D("10.5")),
        ("ETH", D(100)),
    ]
    with pytest.raises(IntegrityError):
        BalanceFactory(account=account, currency="BTC")


def test_reconciliation_report_str(account):
    report = ReconciliationReportFactory(account=account)
    assert str(report) == f"orders {account.pk} 2026-11-25 12:00:00 mismatch"


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


def test_connector_status_one_row_per_stream(exchange, account):
    ConnectorStatusFactory(exchange=exchange, stream="public")
    ConnectorStatusFactory(exchange=exchange, account=account, stream="private")
    with pytest.raises(IntegrityError), transaction.atomic():
        ConnectorStatusFactory(exchange=exchange, stream="public")
    with pytest.raises(IntegrityError), transaction.atomic():
        ConnectorStatusFactory(exchange=exchange, account=account, stream="private")
    assert ConnectorStatus.objects.count() == 2


def test_trade_tick_unique_per_instrument(instrument):
    TradeTickFactory(instrument=instrument, trade_id="42")
    with pytest.raises(IntegrityError):
        TradeTickFactory(instrument=instrument, trade_id="42")


def test_candle_unique_and_values(instrument):
    CandleFactory(instrument=instrument)
    candle = Candle.objects.get(instrument=instrument)
    assert (candle.open, candle.high, candle.low, candle.close, candle.volume) == (
        D(65000),
        D("65100.5"),
        D(64950),
        D(65050),
        D(12340),
    )
    with pytest.raises(IntegrityError):
        CandleFactory(instrument=instrument)


def test_top_of_book_may_have_an_empty_side(instrument):
    snapshot = TopOfBookSnapshotFactory(instrument=instrument, best_ask=None, best_ask_size=None)
    snapshot.refresh_from_db()
    assert (snapshot.best_bid, snapshot.best_ask) == (D(65000), None)
