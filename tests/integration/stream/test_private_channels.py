"""`/ws/stream` private channels over the real ASGI application in process: a trader reads the
orders, fills, positions and balances of the accounts granted to them (a snapshot from the
database, then the updates `orders.notify` publishes), never another account's; a viewer reads
every account; permissions and unknown accounts are refused; an update the snapshot already
held is not sent again."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from channels.db import database_sync_to_async

from exchanges.models import AccountGrant
from orders import notify
from tests.factories import (
    BalanceFactory,
    ExchangeAccountFactory,
    ExchangeFactory,
    FillFactory,
    InstrumentFactory,
    OrderFactory,
    PositionFactory,
)
from tests.integration.stream.conftest import stream_client

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def in_memory_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest.fixture
def desk(user_with, listed):
    """Two accounts on one exchange, each with an open and a filled order, a fill, a position
    and a balance; a trader granted only the first, a viewer, and a user in no role."""
    exchange = ExchangeFactory(venue="deribit", slug="deribit-desk")
    instrument = InstrumentFactory(exchange=exchange, symbol="BTC/USD:BTC")
    rows = {}
    for label in ("mine", "theirs"):
        account = ExchangeAccountFactory(exchange=exchange, label=label)
        open_order = OrderFactory(account=account, instrument=instrument, status="new")
        filled = OrderFactory(
            account=account, instrument=instrument, status="filled", filled_quantity=Decimal(100)
        )
        fill = FillFactory(order=filled, quantity=Decimal(100))
        PositionFactory(account=account, instrument=instrument)
        BalanceFactory(account=account)
        rows[label] = (account, open_order, filled, fill)
    trader, trader_token = user_with("trader")
    AccountGrant.objects.create(user=trader, account=rows["mine"][0])
    _, viewer_token = user_with("viewer")
    _, nobody_token = user_with()
    return rows, trader_token, viewer_token, nobody_token


async def test_a_trader_gets_snapshots_then_updates_of_granted_accounts_only(desk):
    rows, trader_token, _, _ = desk
    mine, open_order, filled, fill = rows["mine"]
    theirs, their_open, _, _ = rows["theirs"]
    async with stream_client(f"token={trader_token}") as client:
        assert await client.subscribe("orders", "fills", "positions", "balances") == {
            "type": "subscribed",
            "channels": ["orders", "fills", "positions", "balances"],
        }
        snapshots = {}
        for _ in range(4):
            message = await client.receive()
            assert message["type"] == "snapshot"
            snapshots[message["channel"]] = message["data"]
        assert set(snapshots) == {
            f"{kind}.{mine.pk}" for kind in ("orders", "fills", "positions", "balances")
        }
        orders = snapshots[f"orders.{mine.pk}"]
        assert orders["account"] == mine.pk
        assert [row["id"] for row in orders["orders"]] == [open_order.pk]  # open orders only
        row = orders["orders"][0]
        assert row["status"] == "new"
        assert row["quantity"] == "100.000000000000000000"
        assert row["price"] == "65000.500000000000000000"
        assert row["symbol"] == "BTC/USD:BTC"
        assert row["client_order_id"] == open_order.client_order_id
        fills = snapshots[f"fills.{mine.pk}"]["fills"]
        assert [(f["id"], f["order"], f["trade_id"]) for f in fills] == [
            (fill.pk, filled.pk, fill.trade_id)
        ]
        position = snapshots[f"positions.{mine.pk}"]["positions"]
        assert [
            (p["symbol"], p["quantity"], p["average_price"], p["settle_currency"]) for p in position
        ] == [("BTC/USD:BTC", "-250.000000000000000000", "64990.250000000000000000", "BTC")]
        balances = snapshots[f"balances.{mine.pk}"]["balances"]
        assert [(b["currency"], b["total"], b["available"], b["locked"]) for b in balances] == [
            ("BTC", "10.500000000000000000", "10.250000000000000000", "0.250000000000000000")
        ]

        # another account's update never arrives; the granted account's does
        their_row = await database_sync_to_async(notify.order_data)(their_open)
        notify.publish_account_event(theirs.pk, notify.ORDERS, {**their_row, "status": "canceled"})
        # the snapshot's own state, published late: dropped
        notify.publish_account_event(mine.pk, notify.ORDERS, row)
        later = (open_order.updated_at + timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
        notify.publish_account_event(
            mine.pk, notify.ORDERS, {**row, "status": "canceled", "updated_at": later}
        )
        update = await client.receive()
        assert update == {
            "channel": f"orders.{mine.pk}",
            "type": "update",
            "data": {
                "account": mine.pk,
                "orders": [{**row, "status": "canceled", "updated_at": later}],
            },
        }

        # a granted account by id; another's is unknown, like one that does not exist
        assert await client.subscribe(f"orders.{theirs.pk}") == {
            "type": "error",
            "code": "unknown_channel",
            "message": f"'orders.{theirs.pk}': no account {theirs.pk}",
            "channel": f"orders.{theirs.pk}",
        }
        assert await client.receive() == {"type": "subscribed", "channels": []}
        assert await client.subscribe("orders.007") == {
            "type": "error",
            "code": "unknown_channel",
            "message": "'orders.007': expected 'orders' or 'orders.<account id>'",
            "channel": "orders.007",
        }
        assert await client.receive() == {"type": "subscribed", "channels": []}


async def test_a_viewer_reads_every_account_and_a_user_without_role_none(desk):
    rows, _, viewer_token, nobody_token = desk
    ids = sorted(account.pk for account, *_ in rows.values())
    async with stream_client(f"token={viewer_token}") as client:
        assert await client.subscribe("balances", f"positions.{ids[1]}") == {
            "type": "subscribed",
            "channels": ["balances", f"positions.{ids[1]}"],
        }
        channels = sorted([(await client.receive())["channel"] for _ in range(len(ids) + 1)])
        assert channels == sorted([*(f"balances.{pk}" for pk in ids), f"positions.{ids[1]}"])
        await client.send({"op": "unsubscribe", "channels": ["balances"]})
        assert await client.receive() == {"type": "unsubscribed", "channels": ["balances"]}
        notify.publish_account_event(ids[1], notify.BALANCES, {"currency": "BTC"})
        notify.publish_account_event(ids[1], notify.POSITIONS, {"symbol": "ETH/USD:ETH"})
        assert await client.receive() == {  # published after the balance: nothing came before
            "channel": f"positions.{ids[1]}",
            "type": "update",
            "data": {"account": ids[1], "positions": [{"symbol": "ETH/USD:ETH"}]},
        }
    async with stream_client(f"token={nobody_token}") as client:
        assert await client.subscribe("orders") == {
            "type": "error",
            "code": "forbidden",
            "message": "you may not read 'orders'",
            "channel": "orders",
        }
