"""The two servers `bench.fanout` compares, each run as its own process on 127.0.0.1:

    python -m bench.fanout_servers gateway    # daphne + the gateway's ASGI app (/ws/stream)
    python -m bench.fanout_servers bare       # a bare `websockets` broadcast server

Both print `ready <port>` and then obey one command per stdin line, answering each with one
JSON line on stdout:

- `phase <rate> <seconds>`: generate the synthetic feed (`fanout.BookFeed`) for `seconds`,
  `rate` updates/s (0: as fast as the process can), and answer with the server's figures:
  updates published, CPU seconds, the largest queue (gateway: mailbox entries) and socket
  backlog (bytes held unsent) of any client, and updates conflated.
- `quit`.

The gateway publishes through the production `FeedPublisher` into the channel layer
(`REDIS_URL` set: channels-redis; unset: the in-memory layer), so every update goes
publisher -> layer -> hub -> mailboxes -> writers -> daphne. The bare server serializes each
update once and hands it to `websockets.broadcast` for every connection (no conflation, no
backpressure: a slow client's buffer grows). Same feed, same envelope, same clients.

`FANOUT_PROFILE=PATH` writes the gateway server's cProfile statistics to PATH.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable

import orjson

from bench.fanout import BookFeed


def answer(message: dict) -> None:
    sys.stdout.write(orjson.dumps(message).decode() + "\n")
    sys.stdout.flush()


async def stdin_lines():
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        yield line.decode().split()


async def paced(
    feed: BookFeed, rate: float, seconds: float, publish: Callable, behind: Callable
) -> int:
    """Publish `feed` at `rate` updates/s for `seconds`; the number published. Rate 0: flat
    out, one update per channel a round, the next round once the server has taken in the last
    (`behind()` is 0: the bare server's broadcast is synchronous; the gateway's hub has fanned
    out every batch the publisher sent)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    deadline = start + seconds
    published = 0
    if rate:
        interval = 1.0 / rate
        while (now := loop.time()) < deadline:
            due = start + published * interval
            if due > now:
                await asyncio.sleep(due - now)
                continue
            publish(*feed.next())
            published += 1
        return published
    while loop.time() < deadline:
        for _ in range(len(feed.channels)):
            publish(*feed.next())
        published += len(feed.channels)
        await asyncio.sleep(0)
        while behind():
            await asyncio.sleep(0)
    return published


class Sampler:
    """Per client, in connection order: the largest queue and socket backlog seen, sampled
    every 10 ms while a phase runs (`probe()` -> [(queue, backlog, conflated), ...])."""

    def __init__(self, probe: Callable[[], list[tuple[int, int, int]]]) -> None:
        self.probe = probe
        self.start = [c for _, _, c in probe()]
        self.max_queue = [0] * len(self.start)
        self.max_backlog = [0] * len(self.start)

    def sample(self) -> list[tuple[int, int, int]]:
        seen = self.probe()
        for i, (queue, backlog, _) in enumerate(seen[: len(self.start)]):
            self.max_queue[i] = max(self.max_queue[i], queue)
            self.max_backlog[i] = max(self.max_backlog[i], backlog)
        return seen

    async def run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(0.01)


async def run_phase(feed, rate, seconds, publish, probe, behind=lambda: 0, flush=None):
    sampler = Sampler(probe)
    sampling = asyncio.get_running_loop().create_task(sampler.run())
    cpu = time.process_time()
    published = await paced(feed, rate, seconds, publish, behind)
    if flush is not None:
        await flush()
    sampling.cancel()
    end = sampler.sample()
    return {
        "published": published,
        "cpu_s": round(time.process_time() - cpu, 3),
        "max_queue": sampler.max_queue,
        "max_backlog": sampler.max_backlog,
        "conflated": [c - c0 for (_, _, c), c0 in zip(end, sampler.start, strict=False)],
    }


# --------------------------------------------------------------------------- gateway


def serve_gateway() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway_site.settings")
    django.setup()
    from daphne.server import Server

    from gateway_site.asgi import application
    from marketdata.feed import FeedPublisher
    from marketdata.stream import hub as hub_module

    def probe() -> list[tuple[int, int, int]]:
        hub = hub_module.current_hub()
        boxes = list(hub.clients) if hub is not None else []
        return [
            (len(box.queue), box.socket_backlog() if box.socket_backlog else 0, box.conflated)
            for box in boxes
        ]

    async def control(server: Server) -> None:
        feed = BookFeed(seed=1)
        async for words in stdin_lines():
            if words[0] == "quit":
                break
            publisher = FeedPublisher()
            running = asyncio.get_running_loop().create_task(publisher.run())

            hub = hub_module.current_hub()
            batches = (publisher.batches, hub.batches)

            def behind(publisher=publisher, hub=hub, batches=batches) -> int:
                sent = publisher.batches - batches[0]
                return len(publisher.pending) + sent - (hub.batches - batches[1])

            async def drain(publisher=publisher, running=running):
                await publisher.aclose()
                await running

            result = await run_phase(
                feed, float(words[1]), float(words[2]), publisher.publish, probe, behind, drain
            )
            answer({**result, "dropped": publisher.dropped})
        server.stop()

    server = Server(
        application=application,
        endpoints=["tcp:port=0:interface=127.0.0.1"],
        signal_handlers=False,
        verbosity=0,
    )

    def ready() -> None:
        asyncio.get_event_loop().create_task(announce(server))

    async def announce(server: Server) -> None:
        while not server.listening_addresses:
            await asyncio.sleep(0.01)
        answer({"ready": server.listening_addresses[0][1]})
        await control(server)

    server.ready_callable = ready
    server.run()


# --------------------------------------------------------------------------- bare


async def serve_bare() -> None:
    from websockets.asyncio.server import broadcast, serve
    from websockets.exceptions import ConnectionClosed

    clients: dict = {}  # connection order, like the gateway hub's

    async def handler(ws) -> None:
        request = orjson.loads(await ws.recv())
        await ws.send(
            orjson.dumps({"type": "subscribed", "channels": request["channels"]}).decode()
        )
        clients[ws] = None
        try:
            async for _ in ws:
                pass
        except ConnectionClosed:
            pass
        finally:
            clients.pop(ws, None)

    def publish(channel: str, data: dict) -> None:
        text = orjson.dumps({"channel": channel, "type": "update", "data": data}).decode()
        broadcast(clients, text)

    def probe() -> list[tuple[int, int, int]]:
        return [(0, ws.transport.get_write_buffer_size(), 0) for ws in clients]

    async with serve(handler, "127.0.0.1", 0, max_size=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        answer({"ready": port})
        feed = BookFeed(seed=1)
        async for words in stdin_lines():
            if words[0] == "quit":
                break
            answer(await run_phase(feed, float(words[1]), float(words[2]), publish, probe))


if __name__ == "__main__":
    if sys.argv[1:] == ["gateway"]:
        if os.environ.get("FANOUT_PROFILE"):
            import cProfile

            cProfile.run("serve_gateway()", os.environ["FANOUT_PROFILE"])
        else:
            serve_gateway()
    elif sys.argv[1:] == ["bare"]:
        asyncio.run(serve_bare())
    else:
        raise SystemExit("usage: python -m bench.fanout_servers gateway|bare")
