"""A minimal Bybit v5 client for the face's tests, written from the documentation only.

It signs REST requests and the WebSocket auth the documented way (docs "Authentication":
hex HMAC-SHA256 of timestamp + key + recv_window + payload; `GET/realtime` + expires), so the
tests prove the face accepts what a real Bybit client sends. It does not use the gateway's
Bybit adapter on purpose (two independent readings of the docs must meet).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import aiohttp

from exchanges.simulator.engine.core import Engine
from exchanges.venues.base import Credentials, Venue
from tests.plugins.venues import load_payload
from tests.support import harness
from tests.support.shape import assert_same_shape

VENUE = Venue.BYBIT
ALICE = Credentials(api_key="BybitSimAlice001", secret="alice-secret-0000000000000001")
BOB = Credentials(api_key="BybitSimBob00002", secret="bob-secret-00000000000000002")
FAST_OPTIONS = {"book_intervals": False}


def sign(secret: str, prehash: str) -> str:
    return hmac.new(secret.encode(), prehash.encode(), hashlib.sha256).hexdigest()


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@asynccontextmanager
async def bybit_sim(
    options: dict | None = None,
    faults: dict | None = None,
    warm: float = 1.0,
    *,
    engine: Engine | None = None,
    accounts: list[Credentials] = (),
):
    """The simulator with only the Bybit face, two accounts, the timed generator off."""
    async with harness.running_face(
        VENUE,
        seed=7,
        accounts=[(VENUE, c) for c in (ALICE, BOB, *accounts)],
        options={**FAST_OPTIONS, **(options or {})},
        faults=faults,
        engine=engine,
        warm_up=warm,
    ) as sim:
        yield sim


class Rest:
    """Signed and public REST calls; returns (HTTP status, JSON body, headers)."""

    def __init__(self, session: aiohttp.ClientSession, base: str, creds: Credentials | None):
        self.session = session
        self.base = base
        self.creds = creds

    def headers(self, payload: str, *, ts: int | None = None, recv_window: str = "5000") -> dict:
        assert self.creds is not None
        timestamp = str(ts if ts is not None else now_ms())
        prehash = f"{timestamp}{self.creds.api_key}{recv_window}{payload}"
        return {
            "X-BAPI-API-KEY": self.creds.api_key,
            "X-BAPI-TIMESTAMP": timestamp,
            "X-BAPI-SIGN": sign(self.creds.secret, prehash),
            "X-BAPI-RECV-WINDOW": recv_window,
        }

    async def get(
        self,
        path: str,
        params: dict | None = None,
        *,
        signed: bool = True,
        headers: dict | None = None,
    ) -> tuple[int, dict, Any]:
        query = urlencode(params or {})
        if headers is None:
            headers = self.headers(query) if signed else {}
        url = f"{self.base}{path}" + (f"?{query}" if query else "")
        async with self.session.get(url, headers=headers) as response:
            return (
                response.status,
                json.loads(await response.text(), parse_float=Decimal),
                response.headers,
            )

    async def post(
        self, path: str, body: dict | str, *, headers: dict | None = None
    ) -> tuple[int, dict, Any]:
        raw = body if isinstance(body, str) else json.dumps(body)
        if headers is None:
            headers = self.headers(raw)
        headers = {**headers, "Content-Type": "application/json"}
        async with self.session.post(f"{self.base}{path}", data=raw, headers=headers) as response:
            return (
                response.status,
                json.loads(await response.text(), parse_float=Decimal),
                response.headers,
            )


class Stream:
    """One WebSocket with a receive buffer and `expect(predicate)`."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse):
        self.ws = ws
        self.seen: list[dict] = []

    async def send(self, message: dict) -> None:
        await self.ws.send_str(json.dumps(message))

    async def recv(self, timeout: float = 2.0) -> dict:
        data = await harness.receive(self.ws, timeout, json.loads)
        self.seen.append(data)
        return data

    async def expect(self, predicate: Callable[[dict], bool], timeout: float = 3.0) -> dict:
        return await harness.first(self.recv, predicate, timeout)

    async def auth(self, creds: Credentials, *, expires: int | None = None) -> dict:
        expires = expires if expires is not None else now_ms() + 10_000
        signature = sign(creds.secret, f"GET/realtime{expires}")
        await self.send(
            {"req_id": "auth-1", "op": "auth", "args": [creds.api_key, expires, signature]}
        )
        return await self.expect(lambda m: m.get("op") == "auth")

    async def subscribe(self, *topics: str, req_id: str = "sub-1") -> dict:
        await self.send({"req_id": req_id, "op": "subscribe", "args": list(topics)})
        return await self.expect(lambda m: m.get("op") == "subscribe")


async def public(session: aiohttp.ClientSession, sim, category: str = "linear") -> Stream:
    """A public stream of `category`."""
    return Stream(await session.ws_connect(sim.urls[VENUE]["ws_public"] + f"/{category}"))


async def private(
    session: aiohttp.ClientSession, sim, *topics: str, url_suffix: str = ""
) -> Stream:
    """A private stream authenticated as ALICE and subscribed to `topics`."""
    stream = Stream(await session.ws_connect(sim.urls[VENUE]["ws_private"] + url_suffix))
    assert (await stream.auth(ALICE))["success"] is True
    if topics:
        assert (await stream.subscribe(*topics))["success"] is True
    return stream


async def drain_books(stream: Stream, checkers: dict[str, BookChecker], quiet: float = 0.3) -> None:
    """Apply book pushes (by topic) until none arrives for `quiet` seconds (`harness.collect`)."""
    messages = await harness.collect(
        stream.recv, quiet=quiet, limit=30.0, wanted=lambda m: m.get("topic") in checkers
    )
    for message in messages:
        checkers[message["topic"]].apply(message)


async def drain_book(stream: Stream, topic: str, checker: BookChecker, quiet: float = 0.3) -> None:
    await drain_books(stream, {topic: checker}, quiet)


def topic_is(name: str) -> Callable[[dict], bool]:
    return lambda m: m.get("topic") == name


def fixed_clock(ms: int) -> Callable[[], int]:
    """An engine clock standing still at `ms` (for the documentation's fixed timestamps)."""
    return lambda: ms * 1_000_000


async def best(rest: Rest, category: str, symbol: str) -> tuple[Decimal, Decimal]:
    """Best bid and ask from the REST book."""
    _, body, _ = await rest.get(
        "/v5/market/orderbook", {"category": category, "symbol": symbol}, signed=False
    )
    return Decimal(body["result"]["b"][0][0]), Decimal(body["result"]["a"][0][0])


class BookChecker:
    """Applies `orderbook.N` pushes the way a Bybit client must, and checks `u` is contiguous."""

    def __init__(self) -> None:
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        self.u: int | None = None
        self.messages = 0

    def apply(self, message: dict) -> None:
        data = message["data"]
        if message["type"] == "snapshot":
            self.bids = {Decimal(p): Decimal(q) for p, q in data["b"]}
            self.asks = {Decimal(p): Decimal(q) for p, q in data["a"]}
        else:
            assert self.u is not None, "delta before snapshot"
            assert data["u"] == self.u + 1, f"u gap: {self.u} -> {data['u']}"
            for side, levels in ((self.bids, data["b"]), (self.asks, data["a"])):
                for p, q in levels:
                    if Decimal(q) == 0:
                        side.pop(Decimal(p), None)
                    else:
                        side[Decimal(p)] = Decimal(q)
        self.u = data["u"]
        self.messages += 1

    def top(self, depth: int) -> tuple[list, list]:
        bids = sorted(self.bids.items(), reverse=True)[:depth]
        asks = sorted(self.asks.items())[:depth]
        return bids, asks


def _strip(actual: Any, extras: set[str]) -> Any:
    if isinstance(actual, dict):
        return {k: _strip(v, extras) for k, v in actual.items() if k not in extras}
    if isinstance(actual, list):
        return [_strip(v, extras) for v in actual]
    return actual


def _nullable(expected: Any, actual: Any) -> Any:
    if expected is None and isinstance(actual, str):
        return actual
    if isinstance(expected, dict) and isinstance(actual, dict):
        return {k: _nullable(v, actual.get(k)) for k, v in expected.items()}
    if isinstance(expected, list) and expected and isinstance(actual, list) and actual:
        return [_nullable(expected[0], actual[0])]
    return expected


def conform(actual: Any, name: str, extras: set[str] = frozenset()) -> None:
    """Shape of `actual` against the recorded payload `name`, minus documented `extras` keys;
    a recorded null accepts a string (tests/unit/simulator/bybit/test_conformance.py doc)."""
    expected = load_payload("bybit", name)
    stripped = _strip(copy.deepcopy(actual), set(extras))
    assert_same_shape(stripped, _nullable(expected, stripped))
