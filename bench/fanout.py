"""Fan-out benchmark: the gateway's `/ws/stream` beside a bare `websockets` broadcast server,
the same synthetic feed to the same 100 WebSocket clients, measured at the clients.

    python -m bench.fanout [--clients 100] [--slow 5] [--seconds 5] [--layers memory,redis]

The feed (`BookFeed`): 20-level books of four channels (`book.okx.BTC/USDT:USDT`, ...),
Decimal strings as the connectors publish them, each update stamped with its publish time
(`stamp`, ns). Every client subscribes to all four. Two phases per server:

- light: 20 updates/s published, i.e. 20/s per client and 2,000 messages/s delivered in
  total; latency = receive time minus `stamp` (same host, same clock) over every message;
- max: published as fast as the server process can (four updates, then a yield), for
  throughput; latency sampled on every 10th message.

Servers (`bench.fanout_servers`, each its own process): `bare` serializes once and calls
`websockets.broadcast`; `gateway` is daphne serving the production ASGI app, fed through
`FeedPublisher` -> channel layer (in-memory, and channels-redis when Redis answers) -> hub ->
mailboxes -> writers. The clients run in this process (asyncio, `websockets`); `--slow` of
them read with a `SLOW_DELAY` pause after each message on a 4 KiB receive buffer.

Figures per server and phase: delivered messages/s (all clients), p50/p99 latency of the fast
clients and the worst fast client's p99, updates the fast clients lost to conflation, the
slow clients' largest lag and conflated count, the server's largest client queue (mailbox
entries) and socket backlog, and the CPU share of the server and of the client process.
Goal: gateway >= half the bare delivered rate at max, fast p99 within 2x of bare at light,
no fast client slowed by the slow ones (each gets every light-phase update). Only 127.0.0.1;
about a minute in all.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import orjson

from exchanges.venues.base import Venue
from marketdata.feed import BOOK_DEPTH, book_channel, book_data

REPO = Path(__file__).resolve().parents[1]
CHANNELS = (
    (Venue.OKX, "BTC/USDT:USDT"),
    (Venue.BYBIT, "BTC/USDT:USDT"),
    (Venue.DERIBIT, "BTC/USD:BTC"),
    (Venue.OKX, "ETH/USDT:USDT"),
)
LIGHT_RATE = 20  # updates/s published in the light phase: 20/s to each client
SLOW_DELAY = 0.1  # a slow client reads one message per 100 ms (10/s)
SLOW_RECEIVE_BUFFER = 4096
MAX_SAMPLE_EVERY = 10
WARM_UP = 1.0  # seconds of light feed before measuring (cold connections, scripts, threads)


class BookFeed:
    """A seeded synthetic book feed: `variants` precomputed books per channel (a mid that
    wanders, sizes that change), served round robin over the channels with a fresh sequence
    number and publish stamp."""

    def __init__(self, seed: int = 1, variants: int = 64, depth: int = BOOK_DEPTH) -> None:
        rng = random.Random(seed)
        self.channels = [book_channel(venue, symbol) for venue, symbol in CHANNELS]
        self.books: list[list[dict]] = []
        for venue, symbol in CHANNELS:
            mid = Decimal(rng.randint(2_000, 100_000))
            books = []
            for _ in range(variants):
                mid += Decimal(rng.randint(-5, 5)) / 10
                bids = [(mid - Decimal(i) / 10, self._size(rng)) for i in range(1, depth + 1)]
                asks = [(mid + Decimal(i) / 10, self._size(rng)) for i in range(1, depth + 1)]
                books.append(
                    book_data(
                        venue,
                        symbol,
                        bids,
                        asks,
                        sequence=None,
                        exchange_ts=1_764_000_000_000_000_000,
                        receive_ts=1_764_000_000_001_000_000,
                    )
                )
            self.books.append(books)
        self.count = 0

    @staticmethod
    def _size(rng: random.Random) -> Decimal:
        return Decimal(rng.randint(1, 50_000)) / 1000

    def next(self) -> tuple[str, dict]:
        n = self.count
        self.count += 1
        index = n % len(self.channels)
        books = self.books[index]
        book = books[(n // len(self.channels)) % len(books)]
        return self.channels[index], {**book, "sequence": n, "stamp": time.time_ns()}


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


# --------------------------------------------------------------------------- clients


@dataclass
class ClientStats:
    slow: bool
    received: int = 0
    conflated: int = 0
    latencies: list[float] = field(default_factory=list)  # ms

    def reset(self) -> None:
        self.received, self.conflated, self.latencies = 0, 0, []


@dataclass
class PhaseState:
    recording: bool = False
    sample_every: int = 1


async def run_client(url: str, stats: ClientStats, state: PhaseState, ready) -> None:
    import websockets

    sock = None
    if stats.slow:
        host, port = url.split("//")[1].split("/")[0].split(":")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SLOW_RECEIVE_BUFFER)
        sock.connect((host, int(port)))
        sock.setblocking(False)
    async with websockets.connect(
        url, origin="http://127.0.0.1", sock=sock, max_size=None, ping_interval=None
    ) as ws:
        channels = [book_channel(venue, symbol) for venue, symbol in CHANNELS]
        await ws.send(orjson.dumps({"op": "subscribe", "channels": channels}).decode())
        ack = orjson.loads(await ws.recv())
        assert ack == {"type": "subscribed", "channels": channels}, ack
        ready()
        while True:
            text = await ws.recv()
            now = time.time_ns()
            if state.recording and not text.startswith('{"channel":"book', 0, 20):
                continue
            if state.recording:
                stats.received += 1
                conflated = '"conflated"' in text
                if stats.slow or conflated or stats.received % state.sample_every == 0:
                    message = orjson.loads(text)
                    if message["type"] == "update":
                        stats.conflated += message.get("conflated", 0)
                        stats.latencies.append((now - message["data"]["stamp"]) / 1e6)
            if stats.slow:
                await asyncio.sleep(SLOW_DELAY)


# --------------------------------------------------------------------------- servers


def prepare_database(directory: Path) -> tuple[dict, str]:
    """A fresh SQLite database with the instruments of the feed's channels and a viewer's
    token; the environment that points the gateway at it."""
    import subprocess

    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    env["DATABASE_URL"] = f"sqlite:///{directory / 'fanout.sqlite3'}"
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=REPO, env=env, check=True)
    script = f"""
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token
from exchanges.models import Exchange, Instrument
channels = {[(str(v), s) for v, s in CHANNELS]!r}
for venue in sorted({{v for v, _ in channels}}):
    Exchange.objects.create(venue=venue, environment="simulator", name=venue, slug=venue,
        rest_url="http://127.0.0.1:1", public_ws_url="ws://127.0.0.1:1",
        private_ws_url="ws://127.0.0.1:1", enabled=True)
for venue, symbol in channels:
    base, quote = symbol.split(":")[0].split("/")
    Instrument.objects.create(exchange=Exchange.objects.get(slug=venue), venue_symbol=symbol,
        symbol=symbol, kind="perpetual", base=base, quote=quote, settle=quote, linear=True,
        contract_size=1, tick_size="0.1", lot_size=1, min_size=1)
user = User.objects.create_user("bench")
user.groups.add(Group.objects.get(name="viewer"))
print(Token.objects.create(user=user).key)
"""
    out = subprocess.run(
        [*manage, "shell", "-c", script], cwd=REPO, env=env, check=True, capture_output=True
    )
    return env, out.stdout.decode().split()[-1]


class ServerProcess:
    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process = process
        self.port = port

    @classmethod
    async def start(cls, kind: str, env: dict, log) -> ServerProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.fanout_servers",
            kind,
            cwd=REPO,
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
        )
        ready = await cls._line(process, 60)
        return cls(process, ready["ready"])

    @staticmethod
    async def _line(process, timeout: float) -> dict:
        line = await asyncio.wait_for(process.stdout.readline(), timeout)
        if not line:
            raise RuntimeError("the server process ended")
        return orjson.loads(line)

    async def command(self, *words: object, timeout: float = 60) -> dict:
        self.process.stdin.write((" ".join(map(str, words)) + "\n").encode())
        await self.process.stdin.drain()
        return await self._line(self.process, timeout)

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.stdin.write(b"quit\n")
            await self.process.stdin.drain()
            try:
                await asyncio.wait_for(self.process.wait(), 15)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


async def measure(kind: str, env: dict, url_of, args) -> list[dict]:
    server = await ServerProcess.start(kind, env, args.log)
    state = PhaseState()
    clients = [ClientStats(slow=i < args.slow) for i in range(args.clients)]
    loop = asyncio.get_running_loop()
    subscribed = 0
    all_ready = loop.create_future()

    def ready() -> None:
        nonlocal subscribed
        subscribed += 1
        if subscribed == len(clients) and not all_ready.done():
            all_ready.set_result(None)

    url = url_of(server.port)
    # the slow ones first: the servers list clients in connection order
    slow_ready = loop.create_future()

    def ready_slow() -> None:
        ready()
        if subscribed == args.slow and not slow_ready.done():
            slow_ready.set_result(None)

    tasks = [
        loop.create_task(run_client(url, stats, state, ready_slow))
        for stats in clients[: args.slow]
    ]
    rows = []
    try:
        if args.slow:
            await asyncio.wait_for(asyncio.shield(slow_ready), 60)
        tasks += [
            loop.create_task(run_client(url, stats, state, ready)) for stats in clients[args.slow :]
        ]
        await asyncio.wait_for(asyncio.shield(all_ready), 60)
        await server.command("phase", LIGHT_RATE, WARM_UP)  # connections, scripts, threads
        await asyncio.sleep(0.5)
        for phase, rate in (("light", LIGHT_RATE), ("max", 0)):
            for stats in clients:
                stats.reset()
            state.sample_every = 1 if rate else MAX_SAMPLE_EVERY
            state.recording = True
            started, cpu = time.monotonic(), time.process_time()
            figures = await server.command("phase", rate, args.seconds)
            elapsed = time.monotonic() - started
            client_cpu = time.process_time() - cpu
            state.recording = False
            rows.append(summarize(phase, figures, clients, elapsed, client_cpu, args.slow))
            await asyncio.sleep(1.0)  # let backlogs drain before the next phase
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.stop()
    return rows


def summarize(
    phase: str, server: dict, clients: list[ClientStats], elapsed: float, client_cpu: float, slow_n
) -> dict:
    """One table row: the clients' figures of a phase beside the server's (whose per-client
    lists are in connection order: the `slow_n` slow clients first)."""
    fast = [c for c in clients if not c.slow]
    slow = [c for c in clients if c.slow]
    fast_latencies = [ms for c in fast for ms in c.latencies]
    conflated = server["conflated"]
    return {
        "phase": phase,
        "published_s": server["published"] / elapsed,
        "published": server["published"],
        "delivered_s": sum(c.received for c in clients) / elapsed,
        "fast_p50": percentile(fast_latencies, 50),
        "fast_p99": percentile(fast_latencies, 99),
        "worst_fast_p99": max((percentile(c.latencies, 99) or 0 for c in fast), default=0),
        "fast_min_received": min((c.received + c.conflated for c in fast), default=0),
        "fast_conflated": sum(conflated[slow_n:]),
        "slow_max_lag": max((max(c.latencies, default=0) for c in slow), default=0),
        "slow_conflated": sum(conflated[:slow_n]),
        "fast_max_queue": max(server["max_queue"][slow_n:], default=0),
        "max_queue": max(server["max_queue"][:slow_n], default=0),
        "fast_max_backlog_kb": max(server["max_backlog"][slow_n:], default=0) / 1024,
        "max_backlog_kb": max(server["max_backlog"][:slow_n], default=0) / 1024,
        "server_cpu": server["cpu_s"] / elapsed,
        "client_cpu": client_cpu / elapsed,
        "dropped": server.get("dropped", 0),
    }


COLUMNS = (
    ("server", "{}"),
    ("phase", "{}"),
    ("published/s", "{:,.0f}"),
    ("delivered msg/s", "{:,.0f}"),
    ("fast p50 ms", "{:.2f}"),
    ("fast p99 ms", "{:.2f}"),
    ("worst fast p99", "{:.2f}"),
    ("fast conflated", "{:,}"),
    ("fast max queue / backlog KiB", "{}"),
    ("slow max lag ms", "{:,.0f}"),
    ("slow conflated", "{:,}"),
    ("slow max queue / backlog KiB", "{}"),
    ("server CPU", "{:.0%}"),
    ("client CPU", "{:.0%}"),
)
KEYS = (
    "server",
    "phase",
    "published_s",
    "delivered_s",
    "fast_p50",
    "fast_p99",
    "worst_fast_p99",
    "fast_conflated",
    "fast_buffers",
    "slow_max_lag",
    "slow_conflated",
    "slow_buffers",
    "server_cpu",
    "client_cpu",
)


def table(rows: list[dict]) -> str:
    """A Markdown table of the rows (`None` figures as "-")."""
    head = "| " + " | ".join(name for name, _ in COLUMNS) + " |"
    lines = [head, "|" + " --- |" * len(COLUMNS)]
    for row in rows:
        row = {
            **row,
            "fast_buffers": f"{row['fast_max_queue']:,} / {row['fast_max_backlog_kb']:,.0f}",
            "slow_buffers": f"{row['max_queue']:,} / {row['max_backlog_kb']:,.0f}",
        }
        cells = [
            "-" if row[key] is None else fmt.format(row[key])
            for key, (_, fmt) in zip(KEYS, COLUMNS, strict=True)
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def verdict(bare: list[dict], gateway: list[dict], name: str) -> list[str]:
    """The goals, each with its figure."""
    (bare_light, bare_max), (light, top) = bare, gateway
    ratio = top["delivered_s"] / bare_max["delivered_s"]
    p99 = (light["fast_p99"] or 0) / (bare_light["fast_p99"] or 1)
    every = light["fast_min_received"] == light["published"] and light["fast_conflated"] == 0
    return [
        f"{name}: max delivered {ratio:.2f}x bare ({'met' if ratio >= 0.5 else 'MISSED'}, goal"
        " >= 0.5x)",
        f"{name}: light fast p99 {p99:.2f}x bare ({'met' if p99 <= 2 else 'MISSED'}, goal <= 2x)",
        f"{name}: every fast client got every light-phase update beside the slow ones: "
        f"{'yes' if every else 'NO'} (fewest {light['fast_min_received']} of "
        f"{light['published']})",
    ]


def redis_reachable(url: str) -> bool:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5).ping()
    except redis.RedisError:
        return False
    return True


async def main(args) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="fanout-") as directory,
        open(Path(directory) / "servers.log", "w") as args.log,
    ):
        env, token = prepare_database(Path(directory))
        results: dict[str, list[dict]] = {}
        results["bare"] = await measure("bare", env, lambda p: f"ws://127.0.0.1:{p}/", args)
        for layer in args.layers.split(","):
            layer_env = dict(env)
            if layer == "redis":
                if not redis_reachable(args.redis_url):
                    print(f"(no Redis at {args.redis_url}: channels-redis skipped)")
                    continue
                layer_env["REDIS_URL"] = args.redis_url
            results[f"gateway ({layer})"] = await measure(
                "gateway", layer_env, lambda p: f"ws://127.0.0.1:{p}/ws/stream?token={token}", args
            )
    rows = [{"server": name, **row} for name, phase_rows in results.items() for row in phase_rows]
    print(
        f"\n{args.clients} clients ({args.slow} slow: {SLOW_DELAY * 1000:.0f} ms per message),"
        f" {len(CHANNELS)} book channels of {BOOK_DEPTH} levels, {args.seconds:g} s per phase\n"
    )
    print(table(rows))
    print()
    for name, phase_rows in results.items():
        if name != "bare":
            print("\n".join(verdict(results["bare"], phase_rows, name)))
    dropped = sum(row["dropped"] for row in rows)
    if dropped:
        print(f"(the gateway's publisher dropped {dropped} updates at max rate)")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--slow", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--layers", default="memory,redis")
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/5"
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
