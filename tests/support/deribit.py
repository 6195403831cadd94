"""A small Deribit client written from the documentation, for driving the face over sockets.

It signs requests itself (docs "Deribit signature credentials"), keeps numbers as Decimal and
collects notifications, so the tests never go through the gateway's adapter.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import itertools
import json
import secrets
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import aiohttp
import orjson

from exchanges.simulator.server import Simulator
from exchanges.venues.base import Credentials, Venue
from tests.support import harness
from tests.support.shape import assert_same_shape

VENUE = Venue.DERIBIT
TIMEOUT = 5.0
SECOND = Credentials(api_key="SimDeribitSecond", secret="sim-deribit-second-secret")
DOCS_VECTOR = Credentials(api_key="AAAAAAAAAAA", secret="ABCD")
FACE_OPTIONS = {"flush_interval_ms": 20, "min_heartbeat_interval": 0.05}


def parse(raw: str | bytes) -> Any:
    return json.loads(raw, parse_float=Decimal)


def _exact(value: Any) -> Any:
    if isinstance(value, Decimal):
        return orjson.Fragment(format(value, "f"))
    raise TypeError(type(value).__name__)


def encode(message: Any) -> str:
    """JSON with Decimals as numbers carrying their exact digits, as a careful client sends."""
    return orjson.dumps(message, default=_exact).decode()


def sign(secret: str, timestamp: int | str, nonce: str, data: str) -> str:
    message = f"{timestamp}\n{nonce}\n{data}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def hmac_header(
    credentials: Credentials,
    method: str,
    uri: str,
    body: str = "",
    *,
    ts: int | None = None,
    nonce: str | None = None,
) -> str:
    ts = now_ms() if ts is None else ts
    nonce = secrets.token_hex(4) if nonce is None else nonce
    data = f"{method}\n{uri}\n{body}\n"
    signature = sign(credentials.secret, ts, nonce, data)
    return f"deri-hmac-sha256 id={credentials.api_key},ts={ts},sig={signature},nonce={nonce}"


def basic_header(credentials: Credentials) -> str:
    token = base64.b64encode(f"{credentials.api_key}:{credentials.secret}".encode()).decode()
    return f"Basic {token}"


def strip(payload: Any, optional: set[str]) -> Any:
    """`payload` without the keys in `optional`, at every depth."""
    if isinstance(payload, dict):
        return {k: strip(v, optional) for k, v in payload.items() if k not in optional}
    if isinstance(payload, list):
        return [strip(item, optional) for item in payload]
    return payload


def assert_conforms(actual: Any, expected: Any, optional: set[str] = frozenset()) -> None:
    """Same keys, nesting and JSON kinds as the venue's payload, `optional` keys aside."""
    assert_same_shape(strip(actual, set(optional)), strip(expected, set(optional)))


async def start_simulator(**face_options: Any) -> Simulator:
    """A Deribit-only simulator with the demo, a second and the docs-vector account."""
    return await harness.start_face(
        VENUE,
        seed=7,
        accounts=[
            (VENUE, Credentials("SimDeribitDemoKey", "sim-deribit-demo-secret-0001")),
            (VENUE, SECOND),
            (VENUE, DOCS_VECTOR),
        ],
        options={**FACE_OPTIONS, **face_options},
    )


class Http:
    """JSON-RPC over HTTP against the face."""

    def __init__(self, session: aiohttp.ClientSession, base: str):
        self.session = session
        self.base = base

    async def get(
        self, method: str, params: dict | None = None, headers: dict | None = None
    ) -> tuple[int, dict]:
        query = {
            k: (str(v).lower() if isinstance(v, bool) else str(v))
            for k, v in (params or {}).items()
        }
        async with self.session.get(
            f"{self.base}/api/v2/{method}", params=query, headers=headers or {}
        ) as response:
            return response.status, parse(await response.read())

    async def post(
        self,
        method: str,
        params: dict | None = None,
        headers: dict | None = None,
        request_id: int = 1,
    ) -> tuple[int, dict]:
        body = encode(
            {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params or {}}
        )
        async with self.session.post(
            f"{self.base}/api/v2/{method}",
            data=body,
            headers={"Content-Type": "application/json", **(headers or {})},
        ) as response:
            return response.status, parse(await response.read())


class Ws:
    """A JSON-RPC WebSocket session: answers by id, notifications kept in arrival order."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse):
        self.ws = ws
        self.ids = itertools.count(1)
        self.answers: dict[Any, asyncio.Future] = {}
        self.notifications: list[dict] = []
        self.closed = asyncio.Event()
        self.reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def connect(cls, session: aiohttp.ClientSession, url: str) -> Ws:
        return cls(await session.ws_connect(url, autoping=True))

    async def _read(self) -> None:
        try:
            async for msg in self.ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    continue
                message = parse(msg.data)
                future = self.answers.pop(message.get("id"), None) if "id" in message else None
                if future is not None:
                    future.set_result(message)
                    continue
                self.notifications.append(message)
        finally:
            self.closed.set()

    async def send(self, method: str, params: dict | None = None) -> Any:
        request_id = next(self.ids)
        future = asyncio.get_running_loop().create_future()
        self.answers[request_id] = future
        await self.ws.send_str(
            encode({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params or {}})
        )
        return future

    async def call(self, method: str, params: dict | None = None, timeout: float = TIMEOUT) -> dict:
        future = await self.send(method, params)
        return await asyncio.wait_for(future, timeout)

    async def result(self, method: str, params: dict | None = None) -> Any:
        answer = await self.call(method, params)
        assert "result" in answer, answer
        return answer["result"]

    @property
    def close_code(self) -> int | None:
        """How the socket ended (1006: the TCP connection was cut without a close frame)."""
        return self.ws.close_code

    async def round_trip(self) -> None:
        """One `public/test` over this socket: every push the face queued on it before the
        answer has arrived once the answer has (the face sends a socket's queue in order)."""
        await self.result("public/test")

    async def login(self, credentials: Credentials) -> dict:
        ts = now_ms()
        nonce = secrets.token_hex(4)
        return await self.result(
            "public/auth",
            {
                "grant_type": "client_signature",
                "client_id": credentials.api_key,
                "timestamp": ts,
                "nonce": nonce,
                "data": "",
                "signature": sign(credentials.secret, ts, nonce, ""),
            },
        )

    async def wait_for(
        self, predicate: Callable[[dict], bool], timeout: float = TIMEOUT, start: int = 0
    ) -> dict:
        """The first notification (from index `start`) that satisfies `predicate`."""

        def find() -> dict | None:
            for message in self.notifications[start:]:
                if predicate(message):
                    return message
            if self.closed.is_set():
                raise AssertionError("connection closed while waiting")
            return None

        return await harness.eventually(find, timeout)

    async def channel(self, name: str, timeout: float = TIMEOUT, start: int = 0) -> dict:
        return await self.wait_for(
            lambda m: m.get("params", {}).get("channel") == name, timeout, start
        )

    def on(self, name: str) -> list[dict]:
        return [
            m["params"]["data"]
            for m in self.notifications
            if m.get("params", {}).get("channel") == name
        ]

    async def close(self) -> None:
        await self.ws.close()
        self.reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.reader


class ChainedBook:
    """The receiving side of `book.*`: a snapshot, then changes whose `prev_change_id` must be
    the previous message's `change_id` (docs "book.{instrument_name}.{interval}")."""

    def __init__(self) -> None:
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        self.change_id: int | None = None
        self.gaps = 0
        self.applied = 0

    def apply(self, data: dict) -> bool:
        if data["type"] == "snapshot":
            self.bids = {p: a for _, p, a in data["bids"]}
            self.asks = {p: a for _, p, a in data["asks"]}
            self.change_id = data["change_id"]
            return True
        chained = self.change_id is not None and data["prev_change_id"] == self.change_id
        if not chained:
            self.gaps += 1  # a real client resubscribes; here the count is what is checked
        for side, levels in (("bids", self.bids), ("asks", self.asks)):
            for action, price, amount in data[side]:
                if not chained:
                    if action == "delete":
                        levels.pop(price, None)
                    else:
                        levels[price] = amount
                elif action == "delete":
                    assert price in levels, f"delete of absent level {price}"
                    del levels[price]
                elif action == "new":
                    assert price not in levels, f"new level {price} already present"
                    levels[price] = amount
                else:
                    assert price in levels, f"change of absent level {price}"
                    levels[price] = amount
        self.change_id = data["change_id"]
        self.applied += chained
        return chained

    def top(self, depth: int) -> tuple[list[list], list[list]]:
        bids = sorted(self.bids.items(), reverse=True)[:depth]
        asks = sorted(self.asks.items())[:depth]
        return [[p, a] for p, a in bids], [[p, a] for p, a in asks]
