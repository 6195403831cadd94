"""Positions, balances and reconciliation reports: uniqueness rules and values."""

from decimal import Decimal

import pytest
from django.db import IntegrityError

from portfolio.models import Balance, Position
from tests.factories import BalanceFactory, PositionFactory, ReconciliationReportFactory

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
