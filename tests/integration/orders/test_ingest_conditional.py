"""`orders.ingest` for conditional orders: untriggered until the venue fires them, then a
`triggered` event and `triggered_at`, whichever message brings the news first."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from exchanges.venues.base import OrderStatus, OrderType, TriggerPrice
from orders import ingest, metrics
from orders.models import Order
from tests.factories import T0, ExchangeAccountFactory, InstrumentFactory, OrderFactory
from tests.integration.orders.test_ingest import fill, history, reload, update

pytestmark = pytest.mark.django_db

D = Decimal
SYMBOL = "BTC/USDT:USDT"


@pytest.fixture
def stop():
    account = ExchangeAccountFactory(exchange__venue="okx")
    instrument = InstrumentFactory(
        exchange=account.exchange, symbol=SYMBOL, venue_symbol="BTC-USDT-SWAP"
    )
    return OrderFactory(
        account=account,
        instrument=instrument,
        order_type=OrderType.STOP_MARKET,
        quantity=D(100),
        price=None,
        trigger_price=D(60000),
        trigger_by=TriggerPrice.MARK,
        reduce_only=True,
    )


def stop_update(order, status, filled="0", **changes):
    return replace(
        update(order, status, filled, price=None, **changes),
        order_type=OrderType.STOP_MARKET,
        trigger_price=changes.get("trigger_price", D(60000)),
        trigger_by=TriggerPrice.MARK,
    )


def test_untriggered_then_fired_then_filled(stop):
    ingest.apply_order_update(stop.account, stop_update(stop, OrderStatus.UNTRIGGERED, at=1))
    row = reload(stop)
    assert (row.status, row.venue_order_id, row.triggered_at) == ("untriggered", "V1", None)

    ingest.apply_order_update(stop.account, stop_update(stop, OrderStatus.NEW, at=5))
    row = reload(stop)
    assert row.status == "new"
    assert row.triggered_at == T0 + timedelta(seconds=5)

    ingest.apply_order_update(
        stop.account, stop_update(stop, OrderStatus.FILLED, "100", at=6, average="59990")
    )
    row = reload(stop)
    assert (row.status, row.filled_quantity, row.average_fill_price) == (
        "filled",
        D(100),
        D(59990),
    )
    assert row.triggered_at == T0 + timedelta(seconds=5)
    assert history(stop) == [
        ("status_change", "pending_new", "untriggered"),
        ("triggered", "untriggered", "new"),
        ("status_change", "new", "filled"),
    ]


def test_a_fill_first_is_the_news_that_it_fired(stop):
    ingest.apply_order_update(stop.account, stop_update(stop, OrderStatus.UNTRIGGERED, at=1))
    ingest.record_fill(stop.account, fill(stop, "T1", "40", "59980", at=4))
    row = reload(stop)
    assert (row.status, row.filled_quantity) == ("partially_filled", D(40))
    assert row.triggered_at == T0 + timedelta(seconds=4)


def test_an_untriggered_push_after_it_fired_does_not_move_it_back(stop):
    ingest.apply_order_update(stop.account, stop_update(stop, OrderStatus.NEW, at=5))
    applied = ingest.apply_order_update(
        stop.account, stop_update(stop, OrderStatus.UNTRIGGERED, at=3)
    )
    assert not applied.changed
    assert reload(stop).status == "new"


def test_a_cancel_before_it_fires_leaves_no_trigger_time(stop):
    ingest.apply_order_update(stop.account, stop_update(stop, OrderStatus.UNTRIGGERED, at=1))
    ingest.apply_order_update(stop.account, stop_update(stop, OrderStatus.CANCELED, at=2))
    row = reload(stop)
    assert (row.status, row.triggered_at) == ("canceled", None)


def test_a_trigger_price_moved_on_the_venue_is_taken(stop):
    ingest.apply_order_update(stop.account, stop_update(stop, OrderStatus.UNTRIGGERED, at=1))
    ingest.apply_order_update(
        stop.account, stop_update(stop, OrderStatus.UNTRIGGERED, at=2, trigger_price=D(61000))
    )
    assert reload(stop).trigger_price == D(61000)


def test_an_external_conditional_order_is_adopted_with_its_trigger(stop):
    foreign = replace(
        stop_update(stop, OrderStatus.UNTRIGGERED, at=1, venue_order_id="V9"),
        client_order_id="theirs",
        trigger_by=TriggerPrice.LAST,
    )
    adopted = ingest.apply_order_update(stop.account, foreign).order
    assert adopted.is_external
    assert (adopted.order_type, adopted.trigger_price, adopted.trigger_by) == (
        "stop_market",
        D(60000),
        "last",
    )
    assert adopted.triggered_at is None
    assert Order.objects.count() == 2


def test_a_fired_order_is_counted_once_its_news_commits(stop, django_capture_on_commit_callbacks):
    counter = metrics.ORDERS_TRIGGERED.labels(venue="okx")
    before = counter._value.get()
    with django_capture_on_commit_callbacks(execute=True):
        ingest.apply_order_update(stop.account, stop_update(stop, OrderStatus.UNTRIGGERED, at=1))
    assert counter._value.get() == before
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        ingest.apply_order_update(stop.account, stop_update(stop, OrderStatus.NEW, at=5))
        ingest.apply_order_update(
            stop.account, stop_update(stop, OrderStatus.FILLED, "100", at=6, average="59990")
        )
    assert callbacks  # run at the commit, not before
    assert counter._value.get() == before + 1
