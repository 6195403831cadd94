"""The scheduled check for orphaned protection: a reduce-only stop or take profit still
waiting on the venue on a position that has traded since and is now flat is canceled there and
noted once; an order on an open position, one placed after the last trade, or one that is not
reduce-only is left alone."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from exchanges.models import Instrument
from exchanges.venues.base import Venue
from orders import services
from orders.models import Order
from risk.models import RiskEvent
from risk.monitor import run_checks_once
from tests.factories import FillFactory, OrderFactory, PositionFactory
from tests.support.trading import PERPS

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_throttles")]

D = Decimal


IDS = iter(range(1000, 2000))


def waiting_stop(account, instrument, **changes):
    fields = {
        "account": account,
        "instrument": instrument,
        "side": "sell",
        "order_type": "stop_market",
        "price": None,
        "quantity": D("0.01"),
        "trigger_price": D("50000"),
        "trigger_by": "mark",
        "reduce_only": True,
        "status": "untriggered",
        "venue_order_id": str(next(IDS)),
        "created_at": timezone.now() - timedelta(minutes=5),
    }
    fields.update(changes)
    return OrderFactory(**fields)


def test_a_stop_left_on_a_closed_position_is_canceled_once(accounts, sim):
    account = accounts["deribit"]
    symbol, _, quantity = PERPS["deribit"]
    instrument = Instrument.objects.get(exchange=account.exchange, symbol=symbol)
    # a reduce-only stop the venue holds (placed flat, so the venue had nothing to cut) ...
    orphan = services.submit_order(
        account=account,
        symbol=symbol,
        side="sell",
        order_type="stop_market",
        quantity=quantity,
        trigger_price=D("50000"),
        reduce_only=True,
    ).order
    assert orphan.status == "untriggered", orphan.reject_reason
    Order.objects.filter(pk=orphan.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    # ... on a position that has traded since and is flat now
    PositionFactory(account=account, instrument=instrument, quantity=D(0), entry_price=None)
    fresh = waiting_stop(account, instrument, created_at=timezone.now())  # after the trade
    plain = waiting_stop(account, instrument, reduce_only=False)
    closing = OrderFactory(account=account, instrument=instrument, status="filled")
    FillFactory(order=closing, account=account, instrument=instrument, executed_at=timezone.now())
    fresh.created_at = timezone.now() + timedelta(seconds=1)
    fresh.save()

    [event] = run_checks_once()

    assert (event.kind, event.severity, event.account_id) == ("orphaned_order", "info", account.pk)
    assert event.details["order"] == orphan.pk
    assert event.message == (
        f"stop_market {orphan.client_order_id} on {instrument.symbol} canceled: its position "
        "has closed"
    )
    orphan.refresh_from_db()
    assert orphan.status == "canceled"  # Deribit answers the cancel with the order's end
    assert ("cancel_request", "cancel requested by risk monitor") in list(
        orphan.events.values_list("kind", "message")
    )
    key = account.credentials().api_key
    assert sim.call(sim.engine.conditional_orders, Venue.DERIBIT, key) == []
    for untouched in (fresh, plain):
        untouched.refresh_from_db()
        assert untouched.status == "untriggered"
    assert run_checks_once() == []  # pending_cancel now: not looked at again
    assert RiskEvent.objects.filter(kind="orphaned_order").count() == 1


def test_a_stop_on_an_open_position_is_left_alone(accounts):
    account = accounts["bybit"]
    instrument = Instrument.objects.get(exchange=account.exchange, symbol=PERPS["bybit"][0])
    PositionFactory(account=account, instrument=instrument, quantity=D("0.01"))
    stop = waiting_stop(account, instrument)
    closing = OrderFactory(account=account, instrument=instrument, status="filled")
    FillFactory(order=closing, account=account, instrument=instrument, executed_at=timezone.now())

    assert [e for e in run_checks_once() if e.kind == "orphaned_order"] == []
    assert Order.objects.get(pk=stop.pk).status == "untriggered"
