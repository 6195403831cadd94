"""Private streams in the connector service, against the simulator over real sockets: orders
placed on an account's keys by another client reach the database through the account's
stream (adopted as external), fills recorded once, positions and balances applied, every
change published on the account's channels, and one heartbeat row per account stream."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from exchanges.venues.base import Venue
from marketdata.connectors.persist import in_thread
from marketdata.models import ConnectorStatus
from orders import notify
from orders.models import Fill, Order
from portfolio.models import Balance, Position
from tests.integration.private.conftest import (
    BOOKS,
    MIN_SIZE,
    make_accounts,
    make_exchanges,
    market_order,
)
from tests.support.harness import eventually

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def accounts(sim, transactional_db):
    return make_accounts(sim, make_exchanges(sim))


async def caught_up(service, timeout: float = 20) -> None:
    await eventually(
        lambda: service.accounts and all(c.catch_ups >= 1 for c in service.accounts.values()),
        timeout=timeout,
        interval=0.05,
    )


def order_of(account, venue_order_id: str) -> Order | None:
    return (
        Order.objects.select_related("instrument")
        .filter(account=account, venue_order_id=venue_order_id)
        .first()
    )


async def test_orders_of_another_client_reach_the_database_through_each_private_stream(
    accounts, start_service, captured, venue_rest
):
    service = await start_service(dead_man_seconds=0)
    assert set(service.accounts) == {account.pk for account in accounts.values()}
    await caught_up(service)
    for venue, account in accounts.items():
        rest = await venue_rest(account)
        ack = await asyncio.to_thread(rest.place_order, market_order(rest, f"itpriv{venue}1"))

        async def filled(account=account, ack=ack):
            order = await in_thread(order_of, account, ack.venue_order_id)
            return order if order is not None and order.status == "filled" else None

        order = await eventually(filled, timeout=15, interval=0.05)
        assert order.is_external is True
        assert order.client_order_id == f"itpriv{venue}1"
        assert order.instrument.symbol == BOOKS[venue]
        assert order.filled_quantity == MIN_SIZE[venue]

        # the order's end and its fill are two events of one push (OKX: the orders channel
        # carries both), applied one after the other: the fill may follow a moment later
        async def all_fills(order=order, venue=venue):
            rows = await in_thread(lambda: list(Fill.objects.filter(order=order)))
            return rows if sum(f.quantity for f in rows) == MIN_SIZE[venue] else None

        fills = await eventually(all_fills, timeout=15, interval=0.05)
        assert len({f.trade_id for f in fills}) == len(fills)

        async def position(account=account, venue=venue):
            return await in_thread(
                lambda: Position.objects.filter(
                    account=account, instrument__symbol=BOOKS[venue], quantity=MIN_SIZE[venue]
                ).exists()
            )

        await eventually(position, timeout=15, interval=0.05)
        assert await in_thread(
            lambda account=account: Balance.objects.filter(account=account).count()
        )

        orders_channel = notify.account_channel(notify.ORDERS, account.pk)
        fills_channel = notify.account_channel(notify.FILLS, account.pk)
        await eventually(
            lambda order=order, orders_channel=orders_channel: any(
                row["id"] == order.pk and row["status"] == "filled"
                for data in captured.of(orders_channel)
                for row in data["orders"]
            ),
            timeout=5,
        )
        published_fills = {
            row["trade_id"]: row for data in captured.of(fills_channel) for row in data["fills"]
        }
        assert set(published_fills) == {f.trade_id for f in fills}
        for fill in fills:
            row = published_fills[fill.trade_id]
            assert row["order"] == order.pk
            assert Decimal(row["quantity"]) == fill.quantity
            assert row["account"] == account.pk
        assert all(data["account"] == account.pk for data in captured.of(orders_channel))

    await service.write_status()
    rows = await in_thread(
        lambda: {row.account_id: row for row in ConnectorStatus.objects.filter(stream="private")}
    )
    assert set(rows) == {account.pk for account in accounts.values()}
    for account in accounts.values():
        row = rows[account.pk]
        assert row.exchange_id == account.exchange_id
        assert row.state in ("connected", "authenticated", "subscribed")
        assert row.messages > 0


async def test_accounts_disabled_and_added_are_picked_up_without_restart(accounts, start_service):
    service = await start_service(dead_man_seconds=0)
    okx = accounts[Venue.OKX]
    await caught_up(service)
    okx.enabled = False
    await in_thread(okx.save)
    await eventually(lambda: okx.pk not in service.accounts, timeout=5)

    async def final_row():
        row = await in_thread(lambda: ConnectorStatus.objects.get(account=okx, stream="private"))
        return (row.state, row.detail) == ("disconnected", "stopped")

    await eventually(final_row, timeout=5, interval=0.02)  # written once the stream has closed
    others = {pk: c for pk, c in service.accounts.items()}
    assert set(others) == {accounts[Venue.BYBIT].pk, accounts[Venue.DERIBIT].pk}
    okx.enabled = True
    await in_thread(okx.save)
    await eventually(lambda: okx.pk in service.accounts, timeout=5)
    await caught_up(service)
    assert all(service.accounts[pk] is connector for pk, connector in others.items())
