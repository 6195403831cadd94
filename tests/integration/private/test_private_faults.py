"""Private streams under the simulator's faults, over real sockets: an order the gateway
created first is updated by the pushes (not adopted); pushes sent twice and swapped give one
fill each and an order status that never goes back; fills made while the private socket is
down are recovered by the REST catch-up that follows the reconnect (not by reconciliation)."""

from __future__ import annotations

import asyncio

import pytest

from exchanges.venues.base import OrderRequest, OrderType, Side, Venue
from exchanges.venues.ws import Backoff
from marketdata.connectors.persist import in_thread
from marketdata.connectors.private import open_private_stream
from orders import state
from orders.models import Fill, Order, OrderEvent
from tests.factories import OrderFactory
from tests.integration.private.conftest import (
    BOOKS,
    MIN_SIZE,
    make_accounts,
    make_exchanges,
    market_order,
)
from tests.support.harness import eventually

pytestmark = pytest.mark.django_db(transaction=True)

STATUS_RANK = {
    "pending_new": 0,
    "new": 1,
    "pending_cancel": 1,
    "partially_filled": 2,
    "filled": 3,
    "canceled": 3,
    "expired": 3,
    "rejected": 3,
}


@pytest.fixture
def accounts(sim, transactional_db):
    return make_accounts(sim, make_exchanges(sim))


async def caught_up(service, count: int = 1) -> None:
    await eventually(
        lambda: all(c.catch_ups >= count for c in service.accounts.values()),
        timeout=20,
        interval=0.05,
    )


def the_order(account, client_order_id: str) -> Order | None:
    return Order.objects.filter(account=account, client_order_id=client_order_id).first()


def history(order: Order) -> list[tuple[str, str]]:
    return list(
        OrderEvent.objects.filter(order=order)
        .order_by("sequence")
        .values_list("from_status", "to_status")
    )


def assert_only_forward(events: list[tuple[str, str]]) -> None:
    for before, after in events:
        if before and before != after:  # a fill recorded on a filled order repeats its status
            assert state.can_transition(before, after), (before, after)
            assert STATUS_RANK[after] >= STATUS_RANK[before], (before, after)


@pytest.mark.parametrize("venue", [Venue.OKX, Venue.BYBIT, Venue.DERIBIT])
async def test_an_order_created_first_is_updated_by_the_pushes(
    venue, accounts, start_service, venue_rest
):
    account = accounts[venue]
    service = await start_service(dead_man_seconds=0)
    await caught_up(service)
    instrument_symbol = BOOKS[venue]
    order = await in_thread(
        lambda: OrderFactory(
            account=account,
            instrument=account.exchange.instruments.get(symbol=instrument_symbol),
            client_order_id=f"itfirst{venue}1",
            order_type="market",
            price=None,
            quantity=MIN_SIZE[venue],
            status="pending_new",
        )
    )
    rest = await venue_rest(account)
    await asyncio.to_thread(rest.place_order, market_order(rest, order.client_order_id))

    async def filled():
        row = await in_thread(the_order, account, order.client_order_id)
        # the order's end and its fill are separate events (Deribit: user.orders and
        # user.trades), applied one after the other: wait for both
        fills = await in_thread(lambda: list(Fill.objects.filter(account=account)))
        done = (
            row is not None
            and row.status == "filled"
            and sum(f.quantity for f in fills) == MIN_SIZE[venue]
        )
        return (row, fills) if done else None

    row, fills = await eventually(filled, timeout=15, interval=0.05)
    assert (row.pk, row.is_external, row.filled_quantity) == (order.pk, False, MIN_SIZE[venue])
    assert row.venue_order_id
    assert {f.order_id for f in fills} == {order.pk}
    assert await in_thread(lambda: Order.objects.filter(account=account).count()) == 1
    assert_only_forward(await in_thread(history, row))


@pytest.mark.parametrize("venue", [Venue.OKX, Venue.BYBIT, Venue.DERIBIT])
async def test_duplicated_and_swapped_pushes_give_one_fill_each_and_never_go_back(
    venue, sim, accounts, start_service, venue_rest
):
    account = accounts[venue]
    service = await start_service(dead_man_seconds=0)
    await caught_up(service)
    sim.call(sim.faults[venue].update, duplicate_private=40, reorder_private=40)
    rest = await venue_rest(account)
    size = MIN_SIZE[venue] * 50  # big enough to take several levels: several fills
    ack = await asyncio.to_thread(rest.place_order, market_order(rest, f"itdup{venue}1", size=size))

    async def filled():
        row = await in_thread(the_order, account, f"itdup{venue}1")
        return row if row is not None and row.status == "filled" else None

    row = await eventually(filled, timeout=20, interval=0.05)
    venue_fills = await asyncio.to_thread(rest.fills)
    ours = {f.trade_id: f for f in venue_fills.fills if f.venue_order_id == ack.venue_order_id}
    assert sum(f.quantity for f in ours.values()) == size

    async def all_recorded():
        rows = await in_thread(lambda: list(Fill.objects.filter(account=account, order=row)))
        return rows if {f.trade_id for f in rows} == set(ours) else None

    rows = await eventually(all_recorded, timeout=10, interval=0.05)
    assert len(rows) == len(ours)
    assert sorted((f.trade_id, f.quantity, f.price) for f in rows) == sorted(
        (f.trade_id, f.quantity, f.price) for f in ours.values()
    )
    fired = sim.call(lambda: dict(sim.faults[venue].fired))
    assert fired.get("duplicate_private", 0) > 0 and fired.get("reorder_private", 0) > 0
    assert (row.filled_quantity, row.is_external) == (size, True)
    assert_only_forward(await in_thread(history, row))


def slow_reconnect(wanted, rest, **options):
    """The private stream with a reconnect delay of 1 to 2 s: time to trade while it is down."""
    stream = open_private_stream(wanted, rest, **options)
    stream.client.backoff = Backoff(initial=2.0, maximum=2.0)
    return stream


@pytest.mark.parametrize("venue", [Venue.OKX, Venue.BYBIT, Venue.DERIBIT])
async def test_a_partial_fill_while_the_socket_is_down_is_recovered_by_the_catch_up(
    venue, sim, accounts, start_service, venue_rest
):
    account = accounts[venue]
    service = await start_service(
        dead_man_seconds=0, account_stream_factory=slow_reconnect, slugs=[f"{venue}-sim"]
    )
    await caught_up(service)
    connector = service.accounts[account.pk]
    sim.call(setattr, sim.simulator, "generator_running", False)  # the book holds still
    rest = await venue_rest(account)
    symbol = BOOKS[venue]
    name = rest.symbols.venue(symbol)
    book = await asyncio.to_thread(rest.order_book, name, 5)
    best_ask, ask_size = book.asks[0]
    quantity = ask_size + MIN_SIZE[venue]  # takes the best ask level, the rest rests there
    client_order_id = f"itdrop{venue}1"
    order = await in_thread(
        lambda: OrderFactory(
            account=account,
            instrument=account.exchange.instruments.get(symbol=symbol),
            client_order_id=client_order_id,
            price=best_ask,
            quantity=quantity,
            status="pending_new",
        )
    )
    sim.call(sim.faults[venue].drop_ws)
    await eventually(lambda: not connector.connected, timeout=5, interval=0.01)
    request = OrderRequest(
        symbol, name, client_order_id, Side.BUY, OrderType.LIMIT, quantity, best_ask
    )
    placed = await asyncio.to_thread(rest.place_order, request)
    at_venue = await asyncio.to_thread(rest.order_by_client_id, name, client_order_id)
    assert (at_venue.status, at_venue.filled_quantity) == ("partially_filled", ask_size)
    assert not connector.connected  # traded while the private socket was down

    await eventually(lambda: connector.catch_ups >= 2, timeout=15, interval=0.05)
    assert connector.health.reconnects == 1
    row = await in_thread(lambda: Order.objects.get(pk=order.pk))
    assert (row.status, row.filled_quantity) == ("partially_filled", ask_size)
    assert row.venue_order_id == placed.venue_order_id
    fills = await in_thread(lambda: list(Fill.objects.filter(order=row)))
    assert sum(f.quantity for f in fills) == ask_size
    assert {f.price for f in fills} == {best_ask}
