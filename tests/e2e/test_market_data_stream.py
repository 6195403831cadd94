"""The market data path end to end, over real sockets: the simulator's three venues, the
connectors (the service `run_gateway` embeds, on the web server's loop), daphne serving the
ASGI app, and a `websockets` client on `/ws/stream` subscribed to the books, trades and
tickers of all three venues and a consolidated pair.

Through a dropped connection, a sequence gap and a frozen book on every venue, the client keeps
receiving, each book is rebuilt, every book it is given is uncrossed with its levels in order,
and once the market is paused the last book it holds of each venue is the simulator's own.
"""

from __future__ import annotations

import asyncio
import importlib
from decimal import Decimal

import orjson
import pytest
import websockets
from django.apps import apps as django_apps
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token

from exchanges.venues.base import Venue
from marketdata import feed
from marketdata.connectors.service import MarketDataService
from marketdata.stream.access import LISTINGS
from tests.integration.marketdata.conftest import (
    BOOKS,
    FAST,
    QUICK_RESTART,
    make_exchanges,
    subscribe,
)
from tests.support.harness import eventually

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PAIR = "BTC/USDT:USDT"  # consolidated across OKX and Bybit
CHANNELS = [
    *(feed.book_channel(v, s) for v, s in BOOKS.items()),
    *(feed.ticker_channel(v, s) for v, s in BOOKS.items()),
    *(feed.trades_channel(v, s) for v, s in BOOKS.items()),
    feed.consolidated_channel(PAIR),
]


@pytest.fixture
def web(live_daphne):
    return live_daphne


@pytest.fixture
def token(transactional_db) -> str:
    importlib.import_module("exchanges.migrations.0006_roles").create_roles(django_apps, None)
    user = User.objects.create_user("desk", password="not-used-pw-123")
    user.groups.add(Group.objects.get(name="viewer"))
    return Token.objects.create(user=user).key


@pytest.fixture
def exchanges(sim_module, transactional_db):
    LISTINGS.clear()
    exchanges = make_exchanges(sim_module)
    for venue, symbol in BOOKS.items():
        subscribe(exchanges[venue], symbol)
    yield exchanges
    for venue in BOOKS:
        sim_module.call(sim_module.faults[venue].update, skip_book_sequence=0, freeze_books=False)
    LISTINGS.clear()


@pytest.fixture
async def service(web, exchanges):
    """The connectors on the web server's loop, publishing into its channel layer (as
    `run_gateway` runs them)."""

    async def start() -> MarketDataService:
        running = MarketDataService(intervals=FAST, restart_backoff=QUICK_RESTART)
        await running.start()
        return running

    running = await web.run(start())
    yield running
    await web.run(running.stop())


class Desk:
    """The WebSocket client: everything it received, by channel, in order."""

    def __init__(self) -> None:
        self.messages: dict[str, list[dict]] = {name: [] for name in CHANNELS}
        self.errors: list[dict] = []

    async def read(self, socket) -> None:
        async for raw in socket:
            message = orjson.loads(raw)
            if message.get("channel") in self.messages:
                self.messages[message["channel"]].append(message)
            elif message.get("type") == "error":
                self.errors.append(message)

    def count(self, channel: str) -> int:
        return len(self.messages[channel])

    def books(self, venue: Venue) -> list[dict]:
        return [m["data"] for m in self.messages[feed.book_channel(venue, BOOKS[venue])]]


def in_order(book: dict) -> bool:
    bids = [Decimal(price) for price, _ in book["bids"]]
    asks = [Decimal(price) for price, _ in book["asks"]]
    sizes = [Decimal(size) for _, size in book["bids"] + book["asks"]]
    return (
        bids == sorted(bids, reverse=True)
        and asks == sorted(asks)
        and all(size > 0 for size in sizes)
        and (not bids or not asks or bids[0] < asks[0])
    )


async def more_of_everything(desk: Desk, timeout: float = 15) -> None:
    """Every channel gets at least one more message."""
    seen = {name: desk.count(name) for name in CHANNELS}
    await eventually(lambda: all(desk.count(n) > seen[n] for n in CHANNELS), timeout)


async def rebuilt_everywhere(service, web, reason: str, fault) -> None:
    connectors = {c.venue: c for c in service.connectors.values()}
    before = {v: connectors[v].health.rebuilds[reason] for v in BOOKS}
    for venue in BOOKS:
        fault(venue)

    def done() -> bool:
        return all(
            connectors[v].health.rebuilds[reason] > before[v]
            and connectors[v].books.get(s) is not None
            and connectors[v].books[s].valid
            for v, s in BOOKS.items()
        )

    await eventually(done, timeout=20)


async def test_the_desk_keeps_a_true_book_through_disconnects_gaps_and_freezes(
    sim_module, web, service, token
):
    desk = Desk()
    async with websockets.connect(
        f"{web.url}?token={token}", origin="http://127.0.0.1", max_size=2**22
    ) as socket:
        await socket.send(orjson.dumps({"op": "subscribe", "channels": CHANNELS}).decode())
        ack = orjson.loads(await socket.recv())
        assert ack == {"type": "subscribed", "channels": CHANNELS}
        reader = asyncio.ensure_future(desk.read(socket))
        try:
            await more_of_everything(desk, timeout=20)
            first = {name: desk.messages[name][0]["type"] for name in CHANNELS}
            assert set(first.values()) <= {"snapshot", "update"}

            faults = sim_module.faults
            await rebuilt_everywhere(
                service, web, "disconnect", lambda v: sim_module.call(faults[v].drop_ws)
            )
            await more_of_everything(desk)

            await rebuilt_everywhere(
                service,
                web,
                "gap",
                lambda v: sim_module.call(faults[v].update, skip_book_sequence=1),
            )
            await more_of_everything(desk)

            connectors = {c.venue: c for c in service.connectors.values()}
            before = {v: connectors[v].health.rebuilds["stale"] for v in BOOKS}
            for venue in BOOKS:
                sim_module.call(faults[venue].update, freeze_books=True)
            await eventually(
                lambda: all(connectors[v].health.rebuilds["stale"] > before[v] for v in BOOKS), 15
            )
            for venue in BOOKS:
                sim_module.call(faults[venue].update, freeze_books=False)
            await eventually(
                lambda: all(connectors[v].books[s].valid for v, s in BOOKS.items()), 20
            )
            await more_of_everything(desk)

            await _the_last_book_is_the_simulators(sim_module, desk, connectors)
        finally:
            reader.cancel()

    assert desk.errors == []
    for venue in BOOKS:
        books = desk.books(venue)
        assert books and all(in_order(book) for book in books), venue
    consolidated = [m["data"] for m in desk.messages[feed.consolidated_channel(PAIR)]]
    assert consolidated[-1]["venues"] == ["bybit", "okx"]
    trades = desk.messages[feed.trades_channel(Venue.OKX, BOOKS[Venue.OKX])]
    assert all(
        t["price"] and Decimal(t["quantity"]) > 0 for m in trades for t in m["data"]["trades"]
    )


async def _the_last_book_is_the_simulators(sim, desk: Desk, connectors) -> None:
    """With the market paused, the last book the desk got of each venue is the venue's book."""
    simulator = sim._require()

    def pause(running: bool) -> None:
        simulator.generator_running = running

    sim.call(pause, False)
    try:
        for venue, symbol in BOOKS.items():
            rest = connectors[venue].rest
            name = rest.symbols.venue(symbol)

            async def same(rest=rest, name=name, venue=venue) -> bool:
                snapshot = await asyncio.to_thread(rest.order_book, name, 50)
                books = desk.books(venue)
                if not books:
                    return False
                last = books[-1]
                depth = len(last["bids"])
                return depth > 0 and (last["bids"], last["asks"]) == (
                    feed.levels_data(snapshot.bids[:depth]),
                    feed.levels_data(snapshot.asks[: len(last["asks"])]),
                )

            await eventually(same, timeout=15, interval=0.1)
    finally:
        sim.call(pause, True)
