"""`orders.ingest`: venue order updates and fills move our orders forward only, once each,
whatever order, repetition or lateness they arrive with."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from exchanges.venues.base import (
    FillEvent,
    Liquidity,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Side,
    TimeInForce,
    Venue,
)
from orders import ingest
from orders.models import Fill, Order, OrderEvent
from tests.factories import T0, ExchangeAccountFactory, InstrumentFactory, OrderFactory

pytestmark = pytest.mark.django_db

D = Decimal
SYMBOL = "BTC/USDT:USDT"
NS = 1_000_000_000
T0_NS = int(T0.timestamp()) * NS


@pytest.fixture
def order():
    account = ExchangeAccountFactory(exchange__venue="okx")
    instrument = InstrumentFactory(
        exchange=account.exchange, symbol=SYMBOL, venue_symbol="BTC-USDT-SWAP"
    )
    return OrderFactory(account=account, instrument=instrument, quantity=D(100), price=D(65000))


def update(order, status, filled="0", *, at=0, average=None, venue_order_id="V1", **changes):
    return OrderUpdate(
        venue=Venue.OKX,
        symbol=SYMBOL,
        client_order_id=order.client_order_id,
        venue_order_id=venue_order_id,
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        price=changes.pop("price", D(65000)),
        quantity=changes.pop("quantity", D(100)),
        filled_quantity=D(filled),
        average_price=D(average) if average else None,
        status=status,
        exchange_ts=T0_NS + at * NS,
        receive_ts=T0_NS + at * NS,
        **changes,
    )


def fill(
    order, trade_id, quantity, price="65000", *, at=1, client_order_id=None, venue_order_id="V1"
):
    return FillEvent(
        venue=Venue.OKX,
        symbol=SYMBOL,
        trade_id=trade_id,
        venue_order_id=venue_order_id,
        client_order_id=client_order_id if client_order_id is not None else order.client_order_id,
        side=Side.BUY,
        price=D(price),
        quantity=D(quantity),
        fee=D("0.5"),
        fee_currency="USDT",
        liquidity=Liquidity.MAKER,
        exchange_ts=T0_NS + at * NS,
        receive_ts=T0_NS + at * NS,
    )


def reload(order):
    return Order.objects.get(pk=order.pk)


def history(order):
    return list(
        OrderEvent.objects.filter(order=order).values_list("kind", "from_status", "to_status")
    )


def test_the_acknowledgement_gives_the_venue_id_and_new(order):
    applied = ingest.apply_order_update(order.account, update(order, OrderStatus.NEW, at=1))

    row = reload(order)
    assert applied.changed and applied.order.pk == order.pk
    assert (row.status, row.venue_order_id, row.venue_updated_at) == (
        "new",
        "V1",
        T0 + timedelta(seconds=1),
    )
    assert row.acknowledged_at is not None
    assert history(order) == [("status_change", "pending_new", "new")]


def test_a_repeated_push_changes_nothing(order):
    push = update(order, OrderStatus.PARTIALLY_FILLED, "40", at=2, average="65000")
    ingest.apply_order_update(order.account, push)
    again = ingest.apply_order_update(order.account, push)

    assert (again.changed, again.ignored) == (False, "nothing new")
    assert len(history(order)) == 1


def test_reordered_pushes_never_move_the_order_back(order):
    ingest.apply_order_update(
        order.account, update(order, OrderStatus.FILLED, "100", at=3, average="65000")
    )
    late = ingest.apply_order_update(
        order.account, update(order, OrderStatus.PARTIALLY_FILLED, "50", at=2)
    )
    later_same = ingest.apply_order_update(order.account, update(order, OrderStatus.NEW, "0", at=3))

    row = reload(order)
    assert (row.status, row.filled_quantity) == ("filled", D(100))
    assert late.ignored == "stale" and later_same.ignored == "terminal"
    assert row.closed_at == T0 + timedelta(seconds=3)


def test_an_older_push_brings_only_more_filled_or_the_end(order):
    """Venues stamp an answer with when its processing finished: OKX's placement answer can be
    a millisecond younger than the fill its push reports. Filled only grows and an end stays:
    those an older stamp still brings; an amendment's figures and the time it does not."""
    ingest.apply_order_update(order.account, update(order, OrderStatus.NEW, "0", at=1))
    ingest.apply_order_update(
        order.account, update(order, OrderStatus.PARTIALLY_FILLED, "50", at=5, price=D(65100))
    )
    same = ingest.apply_order_update(
        order.account, update(order, OrderStatus.PARTIALLY_FILLED, "50", at=4)
    )
    assert same.ignored == "stale"
    more = ingest.apply_order_update(
        order.account, update(order, OrderStatus.PARTIALLY_FILLED, "70", at=4, average="65000")
    )
    assert more.changed
    row = reload(order)
    assert (row.filled_quantity, row.average_fill_price, row.price) == (D(70), D(65000), D(65100))
    assert row.venue_updated_at == T0 + timedelta(seconds=5)
    ended = ingest.apply_order_update(
        order.account, update(order, OrderStatus.FILLED, "100", at=3, average="65010")
    )
    assert ended.changed
    row = reload(order)
    assert (row.status, row.filled_quantity, row.closed_at) == (
        "filled",
        D(100),
        T0 + timedelta(seconds=3),
    )


def test_the_filled_quantity_never_decreases(order):
    ingest.apply_order_update(
        order.account, update(order, OrderStatus.PARTIALLY_FILLED, "60", at=2)
    )
    ingest.apply_order_update(
        order.account, update(order, OrderStatus.PARTIALLY_FILLED, "40", at=3)
    )

    assert reload(order).filled_quantity == D(60)


def test_an_open_push_during_a_cancel_keeps_it_pending_but_takes_the_fill(order):
    ingest.apply_order_update(order.account, update(order, OrderStatus.NEW, at=1))
    Order.objects.filter(pk=order.pk).update(status="pending_cancel")
    ingest.apply_order_update(
        order.account, update(order, OrderStatus.PARTIALLY_FILLED, "30", at=2)
    )
    row = reload(order)
    assert (row.status, row.filled_quantity) == ("pending_cancel", D(30))

    ingest.apply_order_update(order.account, update(order, OrderStatus.CANCELED, "30", at=3))
    assert reload(order).status == "canceled"


def test_a_rejection_keeps_the_venue_s_reason(order):
    ingest.apply_order_update(
        order.account,
        update(order, OrderStatus.REJECTED, at=1, reject_reason="51008: insufficient margin"),
    )
    row = reload(order)
    assert (row.status, row.reject_reason) == ("rejected", "51008: insufficient margin")


def test_an_amendment_on_the_venue_is_taken(order):
    ingest.apply_order_update(order.account, update(order, OrderStatus.NEW, at=1))
    ingest.apply_order_update(
        order.account, update(order, OrderStatus.NEW, at=2, price=D(64900), quantity=D(80))
    )

    row = reload(order)
    assert (row.price, row.quantity, row.status) == (D(64900), D(80), "new")


def test_an_unknown_order_is_adopted_as_external(order):
    foreign = replace(
        update(order, OrderStatus.NEW, at=1, venue_order_id="V9"), client_order_id="theirs-1"
    )
    applied = ingest.apply_order_update(order.account, foreign)

    adopted = applied.order
    assert adopted.pk != order.pk and adopted.is_external
    assert (adopted.venue_order_id, adopted.status, adopted.quantity) == ("V9", "new", D(100))
    assert adopted.client_order_id.startswith("gw")  # theirs-1 is not valid on every venue
    assert history(adopted) == [("reconciliation", "", "new")]


def test_a_message_about_an_unlisted_instrument_is_refused(order):
    stray = replace(
        update(order, OrderStatus.NEW, venue_order_id="V7"),
        symbol="DOGE/USDT",
        client_order_id=None,
    )
    with pytest.raises(ingest.UnknownInstrument):
        ingest.apply_order_update(order.account, stray)


def test_a_fill_is_recorded_once_and_moves_its_order(order):
    ingest.apply_order_update(order.account, update(order, OrderStatus.NEW, at=1))
    first = ingest.record_fill(order.account, fill(order, "T1", "30", "65000"))
    repeat = ingest.record_fill(order.account, fill(order, "T1", "30", "65000"))
    ingest.record_fill(order.account, fill(order, "T2", "70", "65010", at=2))

    assert (first.created, repeat.created) == (True, False)
    assert Fill.objects.filter(order=order).count() == 2
    row = reload(order)
    assert (row.status, row.filled_quantity, row.average_fill_price) == (
        "filled",
        D(100),
        D("65007"),
    )


def test_a_fill_before_the_acknowledgement_finds_its_order_by_client_id(order):
    early = ingest.record_fill(order.account, fill(order, "T1", "25", venue_order_id="V1"))
    assert early.order.pk == order.pk
    assert reload(order).status == "partially_filled"

    ingest.apply_order_update(order.account, update(order, OrderStatus.NEW, "0", at=0))
    row = reload(order)
    assert (row.status, row.filled_quantity, row.venue_order_id) == (
        "partially_filled",
        D(25),
        "V1",
    )


def test_a_fill_of_an_order_not_known_yet_waits_and_is_attached(order):
    orphan = ingest.record_fill(
        order.account, fill(order, "T5", "10", client_order_id="", venue_order_id="V-later")
    )
    assert orphan.order is None

    Order.objects.filter(pk=order.pk).update(venue_order_id="V-later")
    assert ingest.attach_fills(reload(order)) == 1
    assert Fill.objects.get(trade_id="T5").order_id == order.pk


def test_the_same_trade_id_on_two_accounts_is_two_fills(order):
    other = OrderFactory(
        account=ExchangeAccountFactory(exchange=order.account.exchange), instrument=order.instrument
    )
    ingest.record_fill(order.account, fill(order, "T1", "10"))
    ingest.record_fill(other.account, fill(other, "T1", "10", venue_order_id="V2"))

    assert Fill.objects.filter(trade_id="T1").count() == 2
