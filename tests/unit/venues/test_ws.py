"""The shared WebSocket driver over a real local socket: connect, resubscribe, keep alive,
reconnect after a drop or a silent server, and skip a message the session cannot read."""

import asyncio
import random
from decimal import Decimal

import pytest
import websockets

from exchanges.venues.base import (
    BookDelta,
    BookSnapshot,
    ProtocolError,
    StreamKind,
    StreamState,
    StreamStatus,
    Trade,
    Venue,
)
from exchanges.venues.ws import STATUS_HEADROOM, Backoff, EventQueue, OfflineLink, WsClient


class EchoSession:
    """Subscribes on connect; turns each `trade:<id>` text into a Trade; `bad` is unreadable."""

    def __init__(self, ping_interval=0.0, idle_timeout=0.0):
        self.ping_interval = ping_interval
        self.idle_timeout = idle_timeout
        self.connects = 0
        self.disconnects = 0

    def on_connect(self, link):
        self.connects += 1
        link.send({"op": "subscribe", "n": self.connects})

    def on_message(self, raw, link):
        if raw == "bad":
            raise ProtocolError("unreadable")
        if raw.startswith("trade:"):
            return [Trade(Venue.OKX, "BTC/USDT", raw[6:], Decimal(1), Decimal(1), "buy", 0, 0)]
        return []

    def ping(self):
        return "ping"

    def on_disconnect(self):
        self.disconnects += 1


async def next_trade(events, timeout=5.0):
    async def find():
        async for event in events:
            if isinstance(event, Trade):
                return event
        return None

    return await asyncio.wait_for(find(), timeout)


async def test_resubscribes_after_the_server_drops_the_connection():
    received = []

    async def handler(ws):
        message = await ws.recv()
        received.append(message)
        await ws.send("bad")
        await ws.send(f"trade:{len(received)}")
        if len(received) == 1:
            await ws.close()
        else:
            await ws.wait_closed()

    async with websockets.serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        session = EchoSession()
        client = WsClient(
            f"ws://127.0.0.1:{port}",
            session,
            venue=Venue.OKX,
            kind=StreamKind.PUBLIC,
            backoff=Backoff(initial=0.01, maximum=0.05, rng=random.Random(1)),
        )
        client.start()
        events = client.events()
        first = await next_trade(events)
        second = await next_trade(events)
        await client.close()

    assert (first.trade_id, second.trade_id) == ("1", "2")
    assert received == ['{"op":"subscribe","n":1}', '{"op":"subscribe","n":2}']
    assert session.connects == 2 and session.disconnects >= 1 and client.reconnects >= 1


async def test_keepalive_pings_and_reconnects_when_the_server_goes_silent():
    pings = []
    connections = []

    async def handler(ws):
        connections.append(ws)
        async for message in ws:
            if message == "ping":
                pings.append(message)
        # never answers: the client's idle timeout must fire

    async with websockets.serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        session = EchoSession(ping_interval=0.05, idle_timeout=0.3)
        client = WsClient(
            f"ws://127.0.0.1:{port}",
            session,
            venue=Venue.BYBIT,
            kind=StreamKind.PRIVATE,
            backoff=Backoff(initial=0.01, maximum=0.02),
        )
        states = []
        client.start()

        async def collect():
            async for event in client.events():
                if isinstance(event, StreamStatus):
                    states.append(event.state)
                    if states.count(StreamState.CONNECTED) == 2:
                        return

        await asyncio.wait_for(collect(), 5)
        await client.close()

    assert len(pings) >= 2
    assert states[:3] == [StreamState.CONNECTING, StreamState.CONNECTED, StreamState.DISCONNECTED]
    assert len(connections) == 2


async def test_backs_off_while_the_venue_refuses_connections():
    session = EchoSession()
    client = WsClient(
        "ws://127.0.0.1:9",  # discard port: nothing listens
        session,
        venue=Venue.DERIBIT,
        kind=StreamKind.PUBLIC,
        backoff=Backoff(initial=0.01, maximum=0.02),
        open_timeout=1,
    )
    seen = []
    client.start()

    async def collect():
        async for event in client.events():
            seen.append(event)
            if [e.state for e in seen].count(StreamState.DISCONNECTED) == 3:
                return

    await asyncio.wait_for(collect(), 5)
    await client.close()
    assert session.connects == 0
    assert all(isinstance(e, StreamStatus) for e in seen)
    assert client.reconnects >= 3


def test_backoff_is_jittered_and_capped():
    backoff = Backoff(initial=1, maximum=8, rng=random.Random(7))
    delays = [backoff.delay(n) for n in range(6)]
    ceilings = [1, 2, 4, 8, 8, 8]
    assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    assert len(set(delays)) == len(delays)


def test_offline_link_records_what_a_session_sends():
    link = OfflineLink()
    session = EchoSession()
    session.on_connect(link)
    link.reconnect("gap")
    assert link.sent == ['{"op":"subscribe","n":1}'] and link.reconnect_reasons == ["gap"]


async def test_offline_link_runs_background_work_on_the_running_loop():
    link = OfflineLink()

    async def work() -> int:
        link.send({"op": "late"})
        return 7

    task = link.spawn(work())
    assert link.tasks == [task]
    assert await task == 7
    assert link.sent == ['{"op":"late"}']


def test_offline_link_without_a_loop_refuses_background_work():
    link = OfflineLink()

    async def work() -> None:
        raise AssertionError("must not run")

    coroutine = work()
    with pytest.raises(RuntimeError, match="running event loop"):
        link.spawn(coroutine)
    assert coroutine.cr_frame is None  # closed, not left un-awaited
    assert link.tasks == []


# --------------------------------------------------------------------------- a slow consumer


class BookSession(EchoSession):
    """`delta:<n>` texts are deltas of one book. Like the venue sessions, `resync_book` drops
    the book (nothing more for it until `snapshot`), asks for it again and says so."""

    def __init__(self):
        super().__init__()
        self.resyncing = False

    def on_message(self, raw, link):
        if raw.startswith("delta:"):
            if self.resyncing:
                return []
            n = int(raw[6:])
            return [BookDelta(Venue.BYBIT, "BTC/USDT", (), (), n, n - 1, 0, 0)]
        if raw == "snapshot":
            self.resyncing = False
            return [BookSnapshot(Venue.BYBIT, "BTC/USDT", (), (), 100, 0, 0)]
        return super().on_message(raw, link)

    def resync_book(self, symbol, detail, link):
        if self.resyncing:
            return []
        self.resyncing = True
        link.send({"op": "resubscribe", "symbol": symbol})
        status = StreamStatus(
            Venue.BYBIT, StreamKind.PUBLIC, StreamState.RESYNCING, 0, detail, symbol
        )
        return [status]


async def test_a_consumer_that_falls_behind_loses_the_book_and_gets_it_rebuilt():
    resubscribed = asyncio.Event()
    drained = asyncio.Event()
    requests = []

    async def handler(ws):
        requests.append(await ws.recv())  # the subscription
        for n in range(1, 51):
            await ws.send(f"delta:{n}")
        requests.append(await ws.recv())  # the resubscription the dropped delta caused
        resubscribed.set()
        await drained.wait()
        await ws.send("snapshot")
        await ws.send("trade:after")
        await ws.wait_closed()

    async with websockets.serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        client = WsClient(
            f"ws://127.0.0.1:{port}",
            BookSession(),
            venue=Venue.BYBIT,
            kind=StreamKind.PUBLIC,
            max_queue=10,
        )
        client.start()
        await asyncio.wait_for(resubscribed.wait(), 5)  # nobody has read anything yet
        assert len(client._events) == 11  # the bound, and one status beyond it
        events = client.events()
        behind = [await anext(events) for _ in range(11)]
        drained.set()
        caught_up = await next_trade(events)
        await client.close()

    assert requests == ['{"op":"subscribe","n":1}', '{"op":"resubscribe","symbol":"BTC/USDT"}']
    assert [e.state for e in behind[:2]] == [StreamState.CONNECTING, StreamState.CONNECTED]
    assert [e.sequence for e in behind[2:10]] == [1, 2, 3, 4, 5, 6, 7, 8]
    resync = behind[10]
    assert (resync.state, resync.symbol) == (StreamState.RESYNCING, "BTC/USDT")
    assert resync.detail == "consumer fell behind; BookDelta dropped, resyncing"
    assert client.dropped == 1  # delta 9; the session sent nothing more for the book
    assert caught_up.trade_id == "after"


def test_event_queue_is_bounded_with_headroom_for_statuses():
    queue = EventQueue(limit=2)
    trade = Trade(Venue.OKX, "BTC/USDT", "1", Decimal(1), Decimal(1), "buy", 0, 0)
    status = StreamStatus(Venue.OKX, StreamKind.PUBLIC, StreamState.CONNECTED, 0)
    assert [queue.offer(trade), queue.offer(trade), queue.offer(trade)] == [True, True, False]
    assert all(queue.offer(status) for _ in range(STATUS_HEADROOM))
    assert not queue.offer(status)
    assert len(queue) == 2 + STATUS_HEADROOM
    with pytest.raises(ValueError):
        EventQueue(limit=0)


async def test_a_run_of_drops_is_counted_and_logged_once(caplog):
    client = WsClient("ws://unused", EchoSession(), venue=Venue.OKX, kind=StreamKind.PUBLIC)
    client._events = EventQueue(limit=4)
    trade = Trade(Venue.OKX, "BTC/USDT", "1", Decimal(1), Decimal(1), "buy", 0, 0)
    with caplog.at_level("WARNING", logger="exchanges.venues.ws"):
        for _ in range(7):
            client.emit(trade)
        events = client.events()
        for _ in range(3):
            await anext(events)  # the consumer catches up: one left of four
        client.emit(trade)
        for _ in range(4):
            client.emit(trade)
    assert client.dropped == 3 + 2
    behind = [r for r in caplog.records if "events behind" in r.getMessage()]
    assert [r.getMessage() for r in behind] == [
        "okx public consumer is 4 events behind: dropping events"
    ] * 2
