"""A minimal OKX v5 client written from the documentation, for driving the simulator's OKX face
over real sockets without the gateway's adapter: request signing ("REST Authentication"),
WebSocket login ("WebSocket" Login), and a local L2 book that checks the `seqId`/`prevSeqId`
chain and, when present, the CRC32 checksum of the top 25 levels. Starting the face, reading
and waiting go through `tests.support.harness`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import aiohttp
import orjson

from exchanges.simulator.server import Simulator
from exchanges.venues.base import Credentials, Venue
from tests.support import harness

OKX = Venue.OKX


def iso_timestamp(epoch_s: float | None = None) -> str:
    """`2020-12-08T09:08:57.715Z`: the OK-ACCESS-TIMESTAMP format."""
    moment = datetime.fromtimestamp(time.time() if epoch_s is None else epoch_s, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def b64_hmac(secret: str, text: str) -> str:
    return base64.b64encode(
        hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()
    ).decode()


def rest_headers(
    creds: Credentials, method: str, path: str, body: str = "", timestamp: str | None = None
) -> dict[str, str]:
    stamp = timestamp or iso_timestamp()
    return {
        "OK-ACCESS-KEY": creds.api_key,
        "OK-ACCESS-SIGN": b64_hmac(creds.secret, stamp + method + path + body),
        "OK-ACCESS-TIMESTAMP": stamp,
        "OK-ACCESS-PASSPHRASE": creds.passphrase,
        "Content-Type": "application/json",
    }


def login_request(creds: Credentials, timestamp: str | None = None) -> dict[str, Any]:
    stamp = timestamp or str(int(time.time()))
    return {
        "op": "login",
        "args": [
            {
                "apiKey": creds.api_key,
                "passphrase": creds.passphrase,
                "timestamp": stamp,
                "sign": b64_hmac(creds.secret, stamp + "GET" + "/users/self/verify"),
            }
        ],
    }


class OkxRest:
    """Signed REST calls to the face, returning (HTTP status, decoded JSON)."""

    def __init__(self, session: aiohttp.ClientSession, base: str, creds: Credentials):
        self.session = session
        self.base = base
        self.creds = creds

    async def get(self, path: str, *, signed: bool = True) -> tuple[int, Any]:
        headers = rest_headers(self.creds, "GET", path) if signed else {}
        async with self.session.get(self.base + path, headers=headers) as response:
            return response.status, orjson.loads(await response.read())

    async def post(self, path: str, payload: Any) -> tuple[int, Any]:
        body = orjson.dumps(payload).decode()
        headers = rest_headers(self.creds, "POST", path, body)
        async with self.session.post(self.base + path, data=body, headers=headers) as response:
            return response.status, orjson.loads(await response.read())


def _decode(text: str) -> Any:
    return text if text == "pong" else orjson.loads(text)


async def receive_json(ws: aiohttp.ClientWebSocketResponse, timeout: float = 3.0) -> Any:
    """The next text frame of an OKX socket: JSON, or the bare `pong`."""
    return await harness.receive(ws, timeout, _decode)


async def receive_until(
    ws: aiohttp.ClientWebSocketResponse,
    predicate: Callable[[Any], bool],
    timeout: float = 5.0,
    seen: list | None = None,
) -> Any:
    """The first message matching `predicate`; every message read goes to `seen`."""
    return await harness.first(lambda left: receive_json(ws, left), predicate, timeout, seen)


def signed_crc32(text: str) -> int:
    crc = zlib.crc32(text.encode())
    return crc - (1 << 32) if crc >= 1 << 31 else crc


class LocalBook:
    """An OKX `books`-style book kept the way the docs say a client keeps it."""

    def __init__(self) -> None:
        self.bids: dict[Decimal, tuple[str, str]] = {}
        self.asks: dict[Decimal, tuple[str, str]] = {}
        self.seq: int | None = None
        self.messages = 0
        self.checksums_verified = 0

    def load_rest(self, item: dict[str, Any]) -> None:
        self.bids = {Decimal(p): (p, q) for p, q, *_ in item["bids"]}
        self.asks = {Decimal(p): (p, q) for p, q, *_ in item["asks"]}
        self.seq = item["seqId"]

    def apply(self, action: str, item: dict[str, Any]) -> None:
        """Apply one push; raises AssertionError on a sequence gap or a checksum mismatch."""
        if action == "snapshot":
            assert item["prevSeqId"] == -1
            self.bids, self.asks = {}, {}
        else:
            assert self.seq is not None, "an update before any snapshot"
            assert item["prevSeqId"] == self.seq, (
                f"sequence gap: prevSeqId {item['prevSeqId']} after seqId {self.seq}"
            )
        for side, levels in ((self.bids, item["bids"]), (self.asks, item["asks"])):
            for price, size, *_ in levels:
                if Decimal(size) == 0:
                    side.pop(Decimal(price), None)
                else:
                    side[Decimal(price)] = (price, size)
        self.seq = item["seqId"]
        self.messages += 1
        if item["checksum"] != 0:
            assert item["checksum"] == self.checksum(), "checksum mismatch"
            self.checksums_verified += 1

    def sync_buffered(self, buffered: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Drop buffered updates the REST book already contains; returns the rest, checked."""
        assert self.seq is not None
        pending = [item for item in buffered if item["seqId"] > self.seq]
        if pending:
            assert pending[0]["prevSeqId"] <= self.seq < pending[0]["seqId"]
            self.seq = pending[0]["prevSeqId"]
        return pending

    def top(self, depth: int) -> tuple[list[list[str]], list[list[str]]]:
        bids = [list(self.bids[p]) for p in sorted(self.bids, reverse=True)[:depth]]
        asks = [list(self.asks[p]) for p in sorted(self.asks)[:depth]]
        return bids, asks

    def checksum(self) -> int:
        bids, asks = self.top(25)
        parts: list[str] = []
        for i in range(25):
            if i < len(bids):
                parts += bids[i]
            if i < len(asks):
                parts += asks[i]
        return signed_crc32(":".join(parts))

    def as_decimals(self) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        bids = [(p, Decimal(self.bids[p][1])) for p in sorted(self.bids, reverse=True)]
        asks = [(p, Decimal(self.asks[p][1])) for p in sorted(self.asks)]
        return bids, asks


async def start_okx(
    options: dict | None = None,
    *,
    faults: dict | None = None,
    warm_up: float = 1.0,
    engine: Any = None,
    accounts: list[tuple[Venue, Credentials]] | None = None,
) -> Simulator:
    """An OKX-only simulator on a free port with the generator paused (tests step it), after
    `warm_up` seconds of generated market so the books have makers."""
    return await harness.start_face(
        OKX,
        seed=1,
        options=options,
        faults=faults,
        warm_up=warm_up,
        engine=engine,
        accounts=accounts,
    )


async def drain(
    ws: aiohttp.ClientWebSocketResponse, quiet: float = 0.35, limit: float = 5.0
) -> list:
    """Every message until none has arrived for `quiet` seconds (`harness.collect`)."""
    return await harness.collect(lambda left: receive_json(ws, left), quiet=quiet, limit=limit)


def book_pushes(messages: list, channel: str) -> list[tuple[str, dict]]:
    """(action, data item) of each `channel` book push among `messages`, in order."""
    return [
        (m.get("action", "snapshot"), item)
        for m in messages
        if isinstance(m, dict) and m.get("arg", {}).get("channel") == channel and "data" in m
        for item in m["data"]
    ]
