"""`apply_private_event` on a real database: each kind of account event applied by its
service and published once committed; account executions logged, never fills; an unknown
instrument or a message the database refuses skipped without stopping what follows; and an
account connector that is stopped applies every event its stream had already received."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace
from decimal import Decimal

import pytest
from channels.layers import InMemoryChannelLayer
from django.core.cache.backends.locmem import LocMemCache
from django.db import transaction

from exchanges.venues.base import (
    BalanceUpdate,
    FillEvent,
    Liquidity,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Side,
    StreamKind,
    StreamState,
    StreamStatus,
    TimeInForce,
    Venue,
)
from exchanges.venues.bybit import parse as bybit_parse
from exchanges.venues.ws import EventQueue
from marketdata import feed
from marketdata.connectors import config
from marketdata.connectors.dispatch import (
    APPLIED,
    SKIPPED,
    UNCHANGED,
    apply_private_event,
)
from marketdata.connectors.persist import in_thread
from marketdata.connectors.private import AccountConnector
from orders import notify
from orders.models import Fill, Order
from portfolio.models import Balance
from tests.factories import ExchangeAccountFactory, ExchangeFactory, InstrumentFactory
from tests.plugins.venues import load_payload

pytestmark = pytest.mark.django_db(transaction=True)

T = 1_764_000_000_000_000_000  # ns


@pytest.fixture
def account(transactional_db):
    exchange = ExchangeFactory(venue="bybit", slug="bybit-desk")
    InstrumentFactory(
        exchange=exchange,
        symbol="BTC/USDT:USDT",
        venue_symbol="BTCUSDT",
        quote="USDT",
        settle="USDT",
        linear=True,
        contract_size=Decimal(1),
        lot_size=Decimal("0.001"),
        min_size=Decimal("0.001"),
    )
    return ExchangeAccountFactory(exchange=exchange, label="desk")


@pytest.fixture
async def published():
    """Account updates go through a publisher on this loop; what it queued is the answer."""
    publisher = feed.FeedPublisher(
        layer=InMemoryChannelLayer(), cache=LocMemCache("dispatch-test", {})
    )
    notify.use_publisher(publisher, asyncio.get_running_loop())
    yield publisher
    notify.release_publisher(publisher)


def order_update(**changes) -> OrderUpdate:
    values = dict(
        venue=Venue.BYBIT,
        symbol="BTC/USDT:USDT",
        client_order_id="ext1",
        venue_order_id="v-1",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        price=Decimal("95000"),
        quantity=Decimal("0.002"),
        filled_quantity=Decimal(0),
        average_price=None,
        status=OrderStatus.NEW,
        exchange_ts=T,
        receive_ts=T,
    )
    return OrderUpdate(**{**values, **changes})


def fill_event(trade_id: str = "e-1", **changes) -> FillEvent:
    values = dict(
        venue=Venue.BYBIT,
        symbol="BTC/USDT:USDT",
        trade_id=trade_id,
        venue_order_id="v-1",
        client_order_id="ext1",
        side=Side.BUY,
        price=Decimal("95000"),
        quantity=Decimal("0.001"),
        fee=Decimal("0.05225"),
        fee_currency="USDT",
        liquidity=Liquidity.MAKER,
        exchange_ts=T + 1,
        receive_ts=T + 1,
    )
    return FillEvent(**{**values, **changes})


async def settle() -> None:
    """Let the callbacks the database thread scheduled on this loop run."""
    for _ in range(3):
        await asyncio.sleep(0)


async def test_each_event_is_applied_and_published_once_committed(account, published):
    assert await in_thread(apply_private_event, account, order_update()) == APPLIED
    assert await in_thread(apply_private_event, account, fill_event()) == APPLIED
    assert await in_thread(apply_private_event, account, fill_event()) == UNCHANGED  # a repeat
    balance = BalanceUpdate(Venue.BYBIT, "USDT", Decimal(100), Decimal(90), T, T, Decimal(10))
    assert await in_thread(apply_private_event, account, balance) == APPLIED
    await settle()
    channels = [channel for channel, _ in published.pending]
    orders, fills, positions, balances = (
        notify.account_channel(kind, account.pk)
        for kind in ("orders", "fills", "positions", "balances")
    )
    assert channels == [orders, fills, positions, orders, balances]
    order = await in_thread(lambda: Order.objects.get(account=account))
    assert (order.status, order.filled_quantity, order.is_external) == (
        "partially_filled",
        Decimal("0.001"),
        True,
    )
    data = dict(published.pending)
    row = await in_thread(notify.order_data, order)
    assert published.pending[3][1] == {"account": account.pk, "orders": [row]}
    assert data[positions]["positions"][0]["quantity"] == "0.001000000000000000"
    assert data[fills]["fills"][0]["trade_id"] == "e-1"
    assert data[fills]["fills"][0]["order"] == order.pk
    assert data[balances]["balances"][0]["total"] == "100.000000000000000000"
    assert published.latest == {}  # account rows are no channel's cached state
    assert await in_thread(lambda: Balance.objects.get(account=account).locked) == Decimal(10)


async def test_nothing_is_published_when_the_change_is_rolled_back(account, published):
    def rolled_back() -> str:
        with transaction.atomic():
            outcome = apply_private_event(account, order_update())
            transaction.set_rollback(True)
        return outcome

    assert await in_thread(rolled_back) == APPLIED
    await settle()
    assert list(published.pending) == []
    assert await in_thread(lambda: Order.objects.count()) == 0


async def test_account_executions_are_ledger_entries_never_fills(account, published):
    """The Bybit funding row of `ws_execution_account_shape` (documented shape, see its test
    in tests/unit/venues/bybit/test_private.py): a ledger entry, once, never a fill."""
    from portfolio.models import LedgerEntry

    item = load_payload("bybit", "ws_execution_account_shape")["data"][0]
    execution = bybit_parse.parse_account_execution(item, "BTC/USDT:USDT", T)
    assert await in_thread(apply_private_event, account, execution) == APPLIED
    assert await in_thread(apply_private_event, account, execution) == UNCHANGED
    await settle()
    assert await in_thread(lambda: Fill.objects.count()) == 0
    entries = await in_thread(
        lambda: list(LedgerEntry.objects.values_list("kind", "execution_id", "amount"))
    )
    assert entries == [(str(execution.kind), execution.execution_id, execution.amount)]


async def test_an_unknown_instrument_or_a_refused_message_is_skipped(account, published):
    unknown = order_update(symbol="DOGE/USDT:USDT", client_order_id="ext2", venue_order_id="v-2")
    assert await in_thread(apply_private_event, account, unknown) == SKIPPED
    # an order whose filled quantity exceeds its quantity: the database refuses it
    overfilled = order_update(filled_quantity=Decimal("0.003"), client_order_id="ext3")
    assert (
        await in_thread(apply_private_event, account, replace(overfilled, venue_order_id="v-3"))
        == SKIPPED
    )
    assert await in_thread(apply_private_event, account, order_update()) == APPLIED  # goes on
    await settle()
    assert await in_thread(
        lambda: list(Order.objects.values_list("venue_order_id", flat=True))
    ) == ["v-1"]
    assert len(published.pending) == 1


class RecordedStream:
    """A private stream at the venue edge: the events it already received, then nothing until
    `close()`, after which the iteration ends once those are read (as `ws.WsClient`)."""

    venue = Venue.BYBIT

    def __init__(self, events) -> None:
        self.queue = EventQueue()
        for event in events:
            self.queue.offer(event)

    def events(self):
        return self.queue.events()

    async def close(self) -> None:
        self.queue.stop()


async def test_a_stopped_connector_applies_every_event_already_received(account, published):
    wanted = (await in_thread(config.load_accounts))[account.pk]
    connected = StreamStatus(Venue.BYBIT, StreamKind.PRIVATE, StreamState.CONNECTED, T)
    stream = RecordedStream(
        [connected, order_update(), *(fill_event(f"e-{n}") for n in range(1, 4))]
    )
    connector = AccountConnector(wanted, stream_factory=lambda *args, **options: stream)
    gate = threading.Event()
    blocked = asyncio.ensure_future(in_thread(gate.wait))  # the database thread is busy
    life = asyncio.ensure_future(connector.run())
    while connector.stream is None:
        await asyncio.sleep(0.01)
    await connector.stop()  # SIGTERM: the stream closes with four events still unapplied
    gate.set()
    await asyncio.wait_for(life, 10)
    await blocked
    assert connector.outcomes == {APPLIED: 4}
    assert await in_thread(lambda: sorted(Fill.objects.values_list("trade_id", flat=True))) == [
        "e-1",
        "e-2",
        "e-3",
    ]
    assert connector.health.state is StreamState.STOPPED
