"""`/ws/stream` over a real daphne socket with the `websockets` client: a client that stops
reading is conflated (its queue bounded, its last message the latest state) while a fast one
beside it gets every update in order; a hundred clients connecting and subscribing at once,
on the in-memory layer and on channels-redis."""

from __future__ import annotations

import asyncio
import socket

import orjson
import pytest
import websockets

from marketdata.feed import FeedPublisher
from marketdata.stream import hub as hub_module
from marketdata.stream.mailbox import CONFLATE_AFTER
from tests.integration.stream.conftest import OKX_BOOK
from tests.support.harness import eventually

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
PAD = "x" * 2000  # a book-sized update fills socket buffers in few rounds


async def publish(sequences: range, channel: str = OKX_BOOK) -> None:
    """One batch on the server's loop, through the production publisher."""
    publisher = FeedPublisher()
    for sequence in sequences:
        publisher.publish(channel, {"sequence": sequence, "pad": PAD})
    await publisher.flush()


async def connect(url: str, token: str, *, receive_buffer: int | None = None):
    sock = None
    if receive_buffer is not None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        host, port = url.split("//")[1].split("/")[0].split(":")
        sock.connect((host, int(port)))
        sock.setblocking(False)
    return await websockets.connect(
        f"{url}?token={token}", origin="http://127.0.0.1", sock=sock, max_size=None
    )


async def subscribe(ws, *channels: str) -> None:
    await ws.send(orjson.dumps({"op": "subscribe", "channels": list(channels)}).decode())
    assert orjson.loads(await ws.recv()) == {"type": "subscribed", "channels": list(channels)}


async def test_a_slow_client_is_conflated_and_a_fast_one_gets_every_update(daphne, viewer_token):
    fast = await connect(daphne.url, viewer_token)
    slow = await connect(daphne.url, viewer_token, receive_buffer=4096)
    await subscribe(fast, OKX_BOOK)
    await subscribe(slow, OKX_BOOK)
    hub = hub_module.current_hub()
    boxes = list(hub.clients)
    assert len(boxes) == 2
    sequence = 0
    max_queue = 0

    async def round_of(count: int) -> None:
        nonlocal sequence, max_queue
        await daphne.run(publish(range(sequence + 1, sequence + count + 1)))
        for _ in range(count):  # the fast client reads each round before the next is sent
            sequence += 1
            message = orjson.loads(await asyncio.wait_for(fast.recv(), 5))
            assert (message["type"], message["data"]["sequence"]) == ("update", sequence)
            assert "conflated" not in message
        max_queue = max(max_queue, *(len(box.queue) for box in boxes))

    for _ in range(2_000):  # until the slow client's socket is full and its mailbox conflates
        await round_of(20)
        if any(box.conflated for box in boxes):
            break
    for _ in range(30):
        await round_of(20)
    [slow_box] = [box for box in boxes if box.conflated]
    assert max_queue <= CONFLATE_AFTER + 1
    assert slow_box.conflated > 0
    assert sum(box.conflated for box in boxes) == slow_box.conflated  # the fast one: none

    # the slow client reads again: updates in order, some standing for many, the last the latest
    seen, conflated = [], 0
    while not seen or seen[-1] != sequence:
        message = orjson.loads(await asyncio.wait_for(slow.recv(), 5))
        seen.append(message["data"]["sequence"])
        conflated += message.get("conflated", 0)
    assert seen == sorted(set(seen))
    assert conflated == slow_box.conflated
    assert len(seen) + conflated == sequence
    await fast.close()
    await slow.close()
    await eventually(lambda: not hub.clients)


async def hundred_at_once(daphne, token: str) -> None:
    async def one():
        ws = await connect(daphne.url, token)
        await subscribe(ws, OKX_BOOK)
        return ws

    clients = await asyncio.gather(*(one() for _ in range(100)))
    await daphne.run(publish(range(1, 4)))
    for ws in clients:
        received = [orjson.loads(await asyncio.wait_for(ws.recv(), 10)) for _ in range(3)]
        assert [m["data"]["sequence"] for m in received] == [1, 2, 3]
    await asyncio.gather(*(ws.close() for ws in clients))


async def test_a_hundred_clients_subscribe_at_once(daphne, viewer_token):
    await hundred_at_once(daphne, viewer_token)


async def test_a_hundred_clients_subscribe_at_once_on_channels_redis(
    daphne, viewer_token, redis_layer
):
    await hundred_at_once(daphne, viewer_token)
    hub = hub_module.current_hub()
    assert type(hub.layer).__name__ == "RedisChannelLayer"
    assert hub.batches == 1
    await daphne.run(hub.aclose())
