"""Simulator benchmark: what one protocol face can send and take, measured at the client.

    python -m bench.simulator --venue okx [--seconds 5] [--taker-rate 100,1000] [--orders 400]
                              [--clients 8]

Starts `manage.py run_simulator` for the venue in a subprocess on a free 127.0.0.1 port (so
server and client each have their own interpreter), then:

1. market data: one public WebSocket subscribed to the venue's book, trade and ticker channels of
   every instrument on that connection (OKX `books`/`trades`/`tickers`; Bybit linear
   `orderbook.50`/`publicTrade`/`tickers`; Deribit `book.*.100ms`/`trades.*.100ms`/
   `ticker.*.100ms`), with generated taker flow turned up to each `--taker-rate` (trades/s per
   instrument; the highest saturates the simulator process). Prints messages/s over
   `--seconds` and the p50/p99 of receive time minus the message's own exchange timestamp
   (same host, same clock; millisecond resolution; the 100 ms channels add their interval).
2. order round trips over signed REST, with the face's rate limits switched off through
   `/_sim/config`: place a limit order far from the market, then cancel it; sequentially and
   with `--clients` concurrent clients. Prints orders/s (each order placed and canceled) and
   p50/p99 of the placement and of the cancel.

Reference points: OKX allows 60 placements per 2 s per instrument, Bybit 10-20/s per symbol,
Deribit 20 matching-engine requests/s on the base tier; a face must go well beyond those for
the gateway's own benchmarks to measure the gateway and not the simulator.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import os
import secrets
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import orjson

from exchanges.simulator.demo import DEMO_ACCOUNTS
from exchanges.simulator.instruments import DEFAULT_INSTRUMENTS
from exchanges.venues.base import Credentials, InstrumentKind, Venue

REPO = Path(__file__).resolve().parents[1]
ORDER_SYMBOL = {Venue.OKX: "BTC-USDT-SWAP", Venue.BYBIT: "BTCUSDT", Venue.DERIBIT: "BTC-PERPETUAL"}
ORDER_SIZE = {Venue.OKX: "1", Venue.BYBIT: "0.001", Venue.DERIBIT: "10"}
TICK = {Venue.OKX: Decimal("0.1"), Venue.BYBIT: Decimal("0.5"), Venue.DERIBIT: Decimal("0.5")}
NO_RATE_LIMITS = {
    Venue.OKX: {"rate_limits": False},
    Venue.BYBIT: {"rate_limits": False},
    Venue.DERIBIT: {
        "limits": {
            name: {"rate": 1_000_000, "burst": 1_000_000}
            for name in ("non_matching_engine", "matching_engine", "cancel_all")
        }
    },
}


# --------------------------------------------------------------------------- simulator process


@dataclass
class Running:
    process: subprocess.Popen
    urls: dict[str, str]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start_simulator(venue: Venue, taker_rate: float, step_interval: float) -> Running:
    """`manage.py run_simulator` for one venue on a free port; waits for its `ready` line."""
    command = [
        sys.executable,
        "manage.py",
        "run_simulator",
        "--venues",
        venue.value,
        f"--port-{venue.value}",
        "0",
        "--taker-rate",
        str(taker_rate),
        "--step-interval",
        str(step_interval),
    ]
    process = subprocess.Popen(
        command,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    line = process.stdout.readline() if process.stdout else ""
    if " ready " not in line:
        process.kill()
        raise RuntimeError(f"simulator did not start: {line!r}")
    urls = dict(part.split("=", 1) for part in line.split()[2:])
    return Running(process, urls)


# --------------------------------------------------------------------------- market data


def _symbols(venue: Venue) -> list[str]:
    infos = [i for i in DEFAULT_INSTRUMENTS if i.venue is venue]
    if venue is Venue.BYBIT:
        infos = [i for i in infos if i.kind is InstrumentKind.PERPETUAL and i.linear]
    return [i.venue_symbol for i in infos]


def _subscribe_messages(venue: Venue) -> list[bytes]:
    symbols = _symbols(venue)
    if venue is Venue.OKX:
        args = [
            {"channel": c, "instId": s} for s in symbols for c in ("books", "trades", "tickers")
        ]
        return [orjson.dumps({"op": "subscribe", "args": args})]
    if venue is Venue.BYBIT:
        topics = [
            t for s in symbols for t in (f"orderbook.50.{s}", f"publicTrade.{s}", f"tickers.{s}")
        ]
        return [
            orjson.dumps({"op": "subscribe", "args": topics[i : i + 10]})
            for i in range(0, len(topics), 10)
        ]
    channels = [
        c for s in symbols for c in (f"book.{s}.100ms", f"trades.{s}.100ms", f"ticker.{s}.100ms")
    ]
    return [
        orjson.dumps(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "public/subscribe",
                "params": {"channels": channels},
            }
        )
    ]


def _exchange_ms(venue: Venue, message: dict) -> int | None:
    """The exchange timestamp (ms) of a data message, None for acks and heartbeats."""
    if venue is Venue.OKX:
        data = message.get("data")
        return int(data[0]["ts"]) if data else None
    if venue is Venue.BYBIT:
        return int(message["ts"]) if "topic" in message and "ts" in message else None
    if message.get("method") != "subscription":
        return None
    data = message["params"]["data"]
    item = data[0] if isinstance(data, list) else data
    return int(item["timestamp"])


async def market_data(venue: Venue, url: str, seconds: float) -> dict:
    if venue is Venue.BYBIT:
        url = url + "/linear"
    latencies: list[float] = []
    async with aiohttp.ClientSession() as http, http.ws_connect(url, max_msg_size=0) as ws:
        for message in _subscribe_messages(venue):
            await ws.send_str(message.decode())
        warm_until = time.monotonic() + 1.0
        while time.monotonic() < warm_until:
            await ws.receive(timeout=5)
        count = 0
        started = time.monotonic()
        deadline = started + seconds
        while (now := time.monotonic()) < deadline:
            try:
                frame = await ws.receive(timeout=max(deadline - now, 0.01))
            except TimeoutError:
                break
            if frame.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                raise RuntimeError(f"connection ended: {frame.type} {frame.data!r}")
            received_ms = time.time_ns() / 1e6
            if frame.data == "pong":
                continue
            stamp = _exchange_ms(venue, orjson.loads(frame.data))
            if stamp is None:
                continue
            count += 1
            latencies.append(received_ms - stamp)
        elapsed = time.monotonic() - started
    return {
        "messages": count,
        "per_s": count / elapsed,
        "p50_ms": _percentile(latencies, 50),
        "p99_ms": _percentile(latencies, 99),
    }


# --------------------------------------------------------------------------- order round trips


class RestClient:
    """The few signed REST calls the benchmark needs, signed by each venue's documented recipe."""

    def __init__(
        self, venue: Venue, rest: str, credentials: Credentials, http: aiohttp.ClientSession
    ):
        self.venue = venue
        self.rest = rest
        self.credentials = credentials
        self.http = http

    async def best_bid(self) -> Decimal:
        symbol = ORDER_SYMBOL[self.venue]
        if self.venue is Venue.OKX:
            body = await self._get_public(f"/api/v5/market/ticker?instId={symbol}")
            return Decimal(body["data"][0]["bidPx"])
        if self.venue is Venue.BYBIT:
            body = await self._get_public(f"/v5/market/tickers?category=linear&symbol={symbol}")
            return Decimal(body["result"]["list"][0]["bid1Price"])
        body = await self._get_public(f"/api/v2/public/ticker?instrument_name={symbol}")
        return Decimal(str(body["result"]["best_bid_price"]))

    async def _get_public(self, path: str) -> dict:
        async with self.http.get(self.rest + path) as resp:
            return orjson.loads(await resp.read())

    async def place(self, price: Decimal) -> str:
        symbol, size = ORDER_SYMBOL[self.venue], ORDER_SIZE[self.venue]
        if self.venue is Venue.OKX:
            body = {
                "instId": symbol,
                "tdMode": "cross",
                "side": "buy",
                "ordType": "limit",
                "sz": size,
                "px": str(price),
            }
            reply = await self._okx("/api/v5/trade/order", body)
            return reply["data"][0]["ordId"]
        if self.venue is Venue.BYBIT:
            body = {
                "category": "linear",
                "symbol": symbol,
                "side": "Buy",
                "orderType": "Limit",
                "qty": size,
                "price": str(price),
            }
            reply = await self._bybit("/v5/order/create", body)
            return reply["result"]["orderId"]
        query = {"instrument_name": symbol, "amount": size, "type": "limit", "price": str(price)}
        reply = await self._deribit("/api/v2/private/buy", query)
        return reply["result"]["order"]["order_id"]

    async def cancel(self, order_id: str) -> None:
        symbol = ORDER_SYMBOL[self.venue]
        if self.venue is Venue.OKX:
            await self._okx("/api/v5/trade/cancel-order", {"instId": symbol, "ordId": order_id})
        elif self.venue is Venue.BYBIT:
            await self._bybit(
                "/v5/order/cancel", {"category": "linear", "symbol": symbol, "orderId": order_id}
            )
        else:
            await self._deribit("/api/v2/private/cancel", {"order_id": order_id})

    async def _okx(self, path: str, body: dict) -> dict:
        """OKX "REST Authentication": base64(HMAC-SHA256(ts + method + path + body))."""
        payload = orjson.dumps(body).decode()
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        digest = hmac.new(
            self.credentials.secret.encode(), f"{stamp}POST{path}{payload}".encode(), hashlib.sha256
        )
        headers = {
            "OK-ACCESS-KEY": self.credentials.api_key,
            "OK-ACCESS-SIGN": base64.b64encode(digest.digest()).decode(),
            "OK-ACCESS-TIMESTAMP": stamp,
            "OK-ACCESS-PASSPHRASE": self.credentials.passphrase,
            "Content-Type": "application/json",
        }
        async with self.http.post(self.rest + path, data=payload, headers=headers) as resp:
            reply = orjson.loads(await resp.read())
        if reply.get("code") != "0" or reply["data"][0].get("sCode") not in (None, "0"):
            raise RuntimeError(f"OKX {path}: {reply}")
        return reply

    async def _bybit(self, path: str, body: dict) -> dict:
        """Bybit v5 "Authentication": hex HMAC-SHA256(ts + key + recvWindow + body)."""
        payload = orjson.dumps(body).decode()
        stamp, window = str(time.time_ns() // 1_000_000), "5000"
        prehash = f"{stamp}{self.credentials.api_key}{window}{payload}"
        headers = {
            "X-BAPI-API-KEY": self.credentials.api_key,
            "X-BAPI-TIMESTAMP": stamp,
            "X-BAPI-RECV-WINDOW": window,
            "X-BAPI-SIGN": hmac.new(
                self.credentials.secret.encode(), prehash.encode(), hashlib.sha256
            ).hexdigest(),
            "Content-Type": "application/json",
        }
        async with self.http.post(self.rest + path, data=payload, headers=headers) as resp:
            reply = orjson.loads(await resp.read())
        if reply.get("retCode") != 0:
            raise RuntimeError(f"Bybit {path}: {reply}")
        return reply

    async def _deribit(self, path: str, query: dict) -> dict:
        """Deribit `deri-hmac-sha256`: hex HMAC-SHA256(ts \\n nonce \\n GET \\n uri \\n body \\n)."""
        uri = f"{path}?{urlencode(query)}"
        stamp, nonce = str(time.time_ns() // 1_000_000), secrets.token_hex(8)
        data = f"{stamp}\n{nonce}\nGET\n{uri}\n\n"
        signature = hmac.new(
            self.credentials.secret.encode(), data.encode(), hashlib.sha256
        ).hexdigest()
        headers = {
            "Authorization": f"deri-hmac-sha256 id={self.credentials.api_key},ts={stamp},sig={signature},nonce={nonce}"
        }
        async with self.http.get(self.rest + uri, headers=headers) as resp:
            reply = orjson.loads(await resp.read())
        if "error" in reply:
            raise RuntimeError(f"Deribit {path}: {reply}")
        return reply


async def _client(
    client: RestClient, price: Decimal, count: int, place_ms: list, cancel_ms: list
) -> None:
    for _ in range(count):
        started = time.perf_counter()
        order_id = await client.place(price)
        placed = time.perf_counter()
        await client.cancel(order_id)
        place_ms.append((placed - started) * 1000)
        cancel_ms.append((time.perf_counter() - placed) * 1000)


async def order_round_trips(venue: Venue, rest: str, orders: int, clients: int) -> dict:
    credentials = DEMO_ACCOUNTS[venue]
    place_ms: list[float] = []
    cancel_ms: list[float] = []
    async with aiohttp.ClientSession() as http:
        async with http.post(rest + "/_sim/config", json=NO_RATE_LIMITS[venue]) as resp:
            resp.raise_for_status()
        probe = RestClient(venue, rest, credentials, http)
        price = (await probe.best_bid() * Decimal("0.9") / TICK[venue]).to_integral_value(
            ROUND_DOWN
        ) * TICK[venue]
        await _client(probe, price, 20, [], [])  # warm-up: connections, caches
    sessions = [aiohttp.ClientSession() for _ in range(clients)]
    try:
        workers = [RestClient(venue, rest, credentials, s) for s in sessions]
        per_client = max(orders // clients, 1)
        started = time.perf_counter()
        await asyncio.gather(*(_client(w, price, per_client, place_ms, cancel_ms) for w in workers))
        elapsed = time.perf_counter() - started
    finally:
        for session in sessions:
            await session.close()
    done = per_client * clients
    return {
        "orders": done,
        "per_s": done / elapsed,
        "place_p50": _percentile(place_ms, 50),
        "place_p99": _percentile(place_ms, 99),
        "cancel_p50": _percentile(cancel_ms, 50),
        "cancel_p99": _percentile(cancel_ms, 99),
    }


def _percentile(values: list[float], pct: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--venue", choices=[v.value for v in Venue], default="okx")
    parser.add_argument("--seconds", type=float, default=5.0, help="market-data measuring time")
    parser.add_argument(
        "--taker-rate",
        default="100,1000",
        help="generated trades/s per instrument; a comma list gives one market-data row each",
    )
    parser.add_argument("--orders", type=int, default=400, help="orders per round-trip run")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients, second run")
    args = parser.parse_args()
    venue = Venue(args.venue)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway_site.settings")

    print(f"simulator benchmark: {venue} face, 127.0.0.1, client and server in separate processes")
    rates = [float(r) for r in str(args.taker_rate).split(",")]
    channels = 3 * len(_symbols(venue))
    print(f"\nmarket data, one public WebSocket, {channels} channels, {args.seconds:g} s per row")
    print(f"{'taker trades/s/instrument':28}{'messages/s':>12}{'p50 ms':>10}{'p99 ms':>10}")
    for rate in rates:
        running = start_simulator(venue, rate, 0.02)
        try:
            md = asyncio.run(market_data(venue, running.urls["ws_public"], args.seconds))
        finally:
            running.stop()
        print(f"{rate:<28g}{md['per_s']:>12,.0f}{md['p50_ms']:>10.1f}{md['p99_ms']:>10.1f}")

    running = start_simulator(venue, 2.0, 0.05)
    try:
        sequential = asyncio.run(order_round_trips(venue, running.urls["rest"], args.orders, 1))
        parallel = asyncio.run(
            order_round_trips(venue, running.urls["rest"], args.orders, args.clients)
        )
    finally:
        running.stop()
    print(f"\norder round trips over REST (place + cancel), rate limits off, {ORDER_SYMBOL[venue]}")
    print(
        f"{'':28}{'orders/s':>12}{'place p50':>11}{'place p99':>11}{'cancel p50':>12}{'cancel p99':>12}"
    )
    for name, result in (("1 client", sequential), (f"{args.clients} clients", parallel)):
        print(
            f"{name:28}{result['per_s']:>12,.0f}{result['place_p50']:>10.2f}ms"
            f"{result['place_p99']:>10.2f}ms{result['cancel_p50']:>11.2f}ms{result['cancel_p99']:>11.2f}ms"
        )
    print(
        "\nreference: venue order-entry limits per instrument: OKX 30/s, Bybit 10-20/s, "
        "Deribit 20/s (base tier)"
    )


if __name__ == "__main__":
    main()
