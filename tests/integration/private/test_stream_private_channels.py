"""Account updates end to end, over real sockets: the simulator, the connector service on
daphne's loop (as `run_gateway` embeds it) with every account's private stream, and a
`websockets` client of a trader on `/ws/stream`. The trader subscribes to the private
channels, gets the snapshot of the one account granted to them, then the updates of the orders
another client of the same keys places there; the orders of an account not granted to them
reach the database but never the trader's socket."""

from __future__ import annotations

import asyncio
import importlib

import orjson
import pytest
import websockets
from django.apps import apps as django_apps
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token

from exchanges.models import AccountGrant
from exchanges.venues.base import Venue
from marketdata.connectors.persist import in_thread
from marketdata.connectors.service import MarketDataService
from marketdata.stream.access import LISTINGS
from orders.models import Order
from tests.integration.marketdata.conftest import FAST, QUICK_RESTART
from tests.integration.private.conftest import make_accounts, make_exchanges, market_order
from tests.support.harness import eventually

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def accounts(sim, transactional_db):
    LISTINGS.clear()
    yield make_accounts(sim, make_exchanges(sim))
    LISTINGS.clear()


@pytest.fixture
def trader_token(accounts) -> str:
    """A trader granted the OKX account only."""
    importlib.import_module("exchanges.migrations.0006_roles").create_roles(django_apps, None)
    user = User.objects.create_user("trader1", password="not-used-pw-123")
    user.groups.add(Group.objects.get(name="trader"))
    AccountGrant.objects.create(user=user, account=accounts[Venue.OKX])
    return Token.objects.create(user=user).key


@pytest.fixture
async def service(live_daphne, accounts, trader_token):
    async def start() -> MarketDataService:
        running = MarketDataService(
            intervals=FAST, restart_backoff=QUICK_RESTART, dead_man_seconds=0
        )
        await running.start()
        return running

    running = await live_daphne.run(start())
    yield running
    await live_daphne.run(running.stop())


async def filled(account, client_order_id: str) -> Order | None:
    order = await in_thread(
        lambda: Order.objects.filter(account=account, client_order_id=client_order_id).first()
    )
    return order if order is not None and order.status == "filled" else None


async def test_a_trader_reads_snapshot_then_updates_of_the_granted_account_only(
    live_daphne, service, accounts, trader_token, venue_rest
):
    okx, bybit = accounts[Venue.OKX], accounts[Venue.BYBIT]
    await eventually(
        lambda: all(c.catch_ups >= 1 for c in service.accounts.values()), timeout=20, interval=0.05
    )
    received: list[dict] = []
    async with websockets.connect(
        f"{live_daphne.url}?token={trader_token}", origin="http://127.0.0.1"
    ) as socket:

        async def read() -> None:
            async for raw in socket:
                received.append(orjson.loads(raw))

        reader = asyncio.ensure_future(read())
        try:
            await socket.send(
                orjson.dumps(
                    {"op": "subscribe", "channels": ["orders", "fills", "positions", "balances"]}
                ).decode()
            )
            await eventually(lambda: len(received) >= 5, timeout=10)
            assert received[0] == {
                "type": "subscribed",
                "channels": ["orders", "fills", "positions", "balances"],
            }
            snapshots = {m["channel"]: m["data"] for m in received[1:5]}
            assert {m["type"] for m in received[1:5]} == {"snapshot"}
            assert set(snapshots) == {
                f"{kind}.{okx.pk}" for kind in ("orders", "fills", "positions", "balances")
            }
            assert snapshots[f"orders.{okx.pk}"] == {"account": okx.pk, "orders": []}
            balances = snapshots[f"balances.{okx.pk}"]["balances"]
            assert {b["currency"] for b in balances} >= {"USDT", "BTC"}  # the catch-up's

            bybit_rest, okx_rest = await venue_rest(bybit), await venue_rest(okx)
            await asyncio.to_thread(bybit_rest.place_order, market_order(bybit_rest, "itwsbybit1"))
            await eventually(lambda: filled(bybit, "itwsbybit1"), timeout=15, interval=0.05)
            await asyncio.to_thread(okx_rest.place_order, market_order(okx_rest, "itwsokx1"))
            okx_order = await eventually(lambda: filled(okx, "itwsokx1"), timeout=15, interval=0.05)

            def seen_filled() -> bool:
                return any(
                    row["id"] == okx_order.pk and row["status"] == "filled"
                    for m in received
                    if m.get("channel") == f"orders.{okx.pk}"
                    for row in m["data"]["orders"]
                )

            await eventually(seen_filled, timeout=10)
            await eventually(
                lambda: any(m.get("channel") == f"fills.{okx.pk}" for m in received[5:]),
                timeout=10,
            )
        finally:
            reader.cancel()
    updates = received[5:]
    assert updates and {m["type"] for m in updates} == {"update"}
    assert {m["channel"].rsplit(".", 1)[1] for m in updates} == {str(okx.pk)}
    assert {m["data"]["account"] for m in updates} == {okx.pk}
    orders = [
        row for m in updates if m["channel"].startswith("orders.") for row in m["data"]["orders"]
    ]
    assert {row["client_order_id"] for row in orders} == {"itwsokx1"}
    fills = [
        row for m in updates if m["channel"].startswith("fills.") for row in m["data"]["fills"]
    ]
    assert fills and {row["order"] for row in fills} == {okx_order.pk}
