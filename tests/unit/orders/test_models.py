"""Orders, order events and fills: database constraints, status changes, append-only history."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError

from gateway_site.models_base import AppendOnlyError
from orders.models import Fill, Order, OrderEvent
from orders.state import InvalidTransition
from tests.factories import (
    ExchangeAccountFactory,
    FillFactory,
    InstrumentFactory,
    OrderEventFactory,
    OrderFactory,
)

D = Decimal


def test_defaults(order):
    order.refresh_from_db()
    assert order.status == "pending_new"
    assert order.filled_quantity == 0
    assert order.time_in_force == "gtc"
    assert len(order.client_order_id) == 29 and order.client_order_id.startswith("gw")
    assert order.is_open is True
    assert order.remaining_quantity == D(100)


@pytest.mark.parametrize(
    "quantity",
    [
        D("0.00000001"),  # one satoshi
        D("21000000.0000001"),  # 15 significant digits: exact on SQLite too
        D("123456789.123456789012345678"),  # 27 digits: PostgreSQL only
    ],
)
def test_decimals_round_trip_exactly(account, instrument, quantity):
    """numeric(38, 18) is exact on PostgreSQL; SQLite keeps 15 significant digits (see
    exchanges/fields.py)."""
    if connection.vendor == "sqlite" and len(quantity.as_tuple().digits) > 15:
        pytest.skip("SQLite stores decimals as REAL: 15 significant digits")
    order = OrderFactory(
        account=account,
        instrument=instrument,
        price=D("0.0005"),
        quantity=quantity,
        average_fill_price=D("99999999999.5"),
    )
    order.refresh_from_db()
    assert (order.price, order.quantity, order.average_fill_price) == (
        D("0.0005"),
        quantity,
        D("99999999999.5"),
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"quantity": D(0)},
        {"quantity": D(-1)},
        {"filled_quantity": D(-1)},
        {"quantity": D(10), "filled_quantity": D("10.5")},
        {"order_type": "limit", "price": None},
        {"price": D(0)},
        {"order_type": "market", "price": None, "post_only": True},
    ],
    ids=[
        "zero-quantity",
        "negative-quantity",
        "negative-filled",
        "overfilled",
        "limit-without-price",
        "zero-price",
        "post-only-market",
    ],
)
def test_check_constraints(account, instrument, fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderFactory(account=account, instrument=instrument, **fields)


def test_market_order_without_price(account, instrument):
    order = OrderFactory(account=account, instrument=instrument, order_type="market", price=None)
    assert Order.objects.get(pk=order.pk).price is None


def test_filled_equal_to_quantity_is_allowed(order):
    order.filled_quantity = order.quantity
    order.save()
    assert Order.objects.get(pk=order.pk).filled_quantity == D(100)


def test_client_order_id_unique(order):
    with pytest.raises(IntegrityError):
        OrderFactory(
            account=order.account,
            instrument=order.instrument,
            client_order_id=order.client_order_id,
        )


def test_venue_order_id_unique_per_account(order):
    order.venue_order_id = "ETH-123"
    order.save()
    other_account = ExchangeAccountFactory(exchange=order.account.exchange)
    OrderFactory(account=other_account, instrument=order.instrument, venue_order_id="ETH-123")
    # Several orders not yet acknowledged have no venue order id.
    OrderFactory(account=order.account, instrument=order.instrument)
    OrderFactory(account=order.account, instrument=order.instrument)
    with pytest.raises(IntegrityError):
        OrderFactory(account=order.account, instrument=order.instrument, venue_order_id="ETH-123")


def test_set_status(order):
    assert order.set_status("new") == "new"
    assert order.closed_at is None
    order.set_status("partially_filled")
    order.set_status("filled")
    assert order.closed_at is not None
    assert order.is_open is False
    with pytest.raises(InvalidTransition, match="filled is terminal"):
        order.set_status("canceled")
    assert order.status == "filled"


def test_events_are_numbered_per_order(order):
    other = OrderFactory(account=order.account, instrument=order.instrument)
    first = OrderEvent.objects.append(order=order, kind="submit", to_status="pending_new")
    second = OrderEventFactory(order=order, from_status="pending_new", to_status="new")
    third = OrderEventFactory(order=order, kind="venue_message", payload={"state": "open"})
    assert [first.sequence, second.sequence, third.sequence] == [1, 2, 3]
    assert OrderEventFactory(order=other).sequence == 1
    assert list(order.events.values_list("sequence", "kind")) == [
        (1, "submit"),
        (2, "status_change"),
        (3, "venue_message"),
    ]
    assert OrderEvent.objects.get(pk=third.pk).payload == {"state": "open"}


def test_event_sequence_unique(order):
    OrderEventFactory(order=order)
    with pytest.raises(IntegrityError):
        OrderEvent(order=order, sequence=1, kind="fill").save()


def test_events_refuse_change(order):
    event = OrderEventFactory(order=order, message="ack")
    event.message = "edited"
    with pytest.raises(AppendOnlyError, match="append-only"):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        OrderEvent.objects.filter(pk=event.pk).update(message="edited")
    with pytest.raises(AppendOnlyError):
        OrderEvent.objects.filter(pk=event.pk).delete()
    assert OrderEvent.objects.get(pk=event.pk).message == "ack"


def test_order_with_history_cannot_be_deleted(order):
    OrderEventFactory(order=order)
    with pytest.raises(ProtectedError):
        order.delete()


def test_fill_unique_per_account_instrument_trade(order):
    FillFactory(order=order, trade_id="T-1")
    # The same trade seen by another of our accounts (the other side of the trade).
    other_account = ExchangeAccountFactory(exchange=order.account.exchange)
    FillFactory(order=None, account=other_account, instrument=order.instrument, trade_id="T-1")
    # OKX trade ids are unique per instrument only.
    other_instrument = InstrumentFactory(exchange=order.account.exchange)
    FillFactory(order=None, account=order.account, instrument=other_instrument, trade_id="T-1")
    with pytest.raises(IntegrityError):
        FillFactory(order=order, trade_id="T-1")


def test_unmatched_fill(account, instrument):
    fill = FillFactory(order=None, account=account, instrument=instrument, venue_order_id="V9")
    fill = Fill.objects.get(pk=fill.pk)
    assert fill.order is None
    assert (fill.price, fill.quantity, fill.fee) == (D("65000.5"), D(10), D("0.0000005"))


@pytest.mark.parametrize("fields", [{"quantity": D(0)}, {"price": D(0)}])
def test_fill_constraints(order, fields):
    with pytest.raises(IntegrityError):
        FillFactory(order=order, **fields)
