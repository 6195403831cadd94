"""The venue's dead-man switch on every private session, against the simulator over real
sockets: OKX `cancel-all-after` armed once the stream is subscribed and refreshed while it
lives, firing once the service stops; Bybit DCP subscribed on the socket with its window set
over REST; Deribit cancel-on-disconnect confirmed on the connection, cancelling the account's
orders when the connection drops."""

from __future__ import annotations

import asyncio
from decimal import ROUND_DOWN, Decimal

import pytest

from exchanges.venues.base import OrderRequest, OrderStatus, OrderType, Side, Venue
from tests.integration.private.conftest import BOOKS, MIN_SIZE, make_accounts, make_exchanges
from tests.support.harness import eventually

pytestmark = pytest.mark.django_db(transaction=True)

TICK = {Venue.OKX: Decimal("0.1"), Venue.DERIBIT: Decimal("0.5")}


@pytest.fixture
def accounts(sim, transactional_db):
    return make_accounts(sim, make_exchanges(sim))


async def resting(rest, venue: Venue, client_order_id: str):
    """A buy at half the best bid: it rests until something cancels it."""
    name = rest.symbols.venue(BOOKS[venue])
    bid = (await asyncio.to_thread(rest.ticker, name)).best_bid
    price = (bid / 2).quantize(TICK[venue], rounding=ROUND_DOWN)
    request = OrderRequest(
        BOOKS[venue], name, client_order_id, Side.BUY, OrderType.LIMIT, MIN_SIZE[venue], price
    )
    await asyncio.to_thread(rest.place_order, request)
    return name


async def status_at_venue(rest, name: str, client_order_id: str) -> OrderStatus:
    return (await asyncio.to_thread(rest.order_by_client_id, name, client_order_id)).status


async def test_okx_cancel_all_after_is_armed_refreshed_and_fires_once_nobody_refreshes(
    sim, accounts, start_service, venue_rest
):
    face = sim.faces[Venue.OKX]
    key = sim.credentials[Venue.OKX].api_key
    sim.call(face.configure, {"cancel_all_after_scale": 0.5})  # 10 s armed: 5 s on this clock
    service = await start_service(dead_man_seconds=10, slugs=["okx-sim"])
    armed = await eventually(lambda: sim.call(lambda: face._dead_man.get(key)), timeout=15)
    rest = await venue_rest(accounts[Venue.OKX])
    name = await resting(rest, Venue.OKX, "itdeadokx1")
    # refreshed every third of the timeout (3.3 s), before the 5 s countdown ends
    await eventually(
        lambda: sim.call(lambda: face._dead_man.get(key) not in (None, armed)),
        timeout=10,
        interval=0.1,
    )
    assert await status_at_venue(rest, name, "itdeadokx1") is OrderStatus.NEW
    await service.stop()  # nobody refreshes: the venue cancels

    async def canceled():
        return await status_at_venue(rest, name, "itdeadokx1") is OrderStatus.CANCELED

    await eventually(canceled, timeout=10, interval=0.1)


async def test_bybit_dcp_rides_on_the_socket_with_its_window_set(sim, accounts, start_service):
    face = sim.faces[Venue.BYBIT]
    key = sim.credentials[Venue.BYBIT].api_key
    service = await start_service(dead_man_seconds=20, slugs=["bybit-sim"])
    (connector,) = service.accounts.values()
    await eventually(
        lambda: (
            sim.call(lambda: dict(face._dcp[key].windows) if key in face._dcp else None)
            == {"DERIVATIVES": 20, "SPOT": 20, "OPTIONS": 20}
        ),
        timeout=15,
        interval=0.05,
    )
    assert "dcp" in connector.stream.session.topics


async def test_deribit_cancel_on_disconnect_is_confirmed_and_cancels_on_a_drop(
    sim, accounts, start_service, venue_rest
):
    service = await start_service(dead_man_seconds=60, slugs=["deribit-sim"])
    (connector,) = service.accounts.values()
    await eventually(
        lambda: (
            connector.stream is not None and connector.stream.session.cancel_on_disconnect_enabled
        ),
        timeout=15,
        interval=0.05,
    )
    rest = await venue_rest(accounts[Venue.DERIBIT])
    name = await resting(rest, Venue.DERIBIT, "itdeadderibit1")
    assert await status_at_venue(rest, name, "itdeadderibit1") is OrderStatus.NEW
    sim.call(sim.faults[Venue.DERIBIT].drop_ws)

    async def canceled():
        return await status_at_venue(rest, name, "itdeadderibit1") is OrderStatus.CANCELED

    await eventually(canceled, timeout=10, interval=0.05)
