"""What the simulator's faces do alike: request signatures, the answer faults of an accepted
order, the private-push faults, and rolling-window request counting.

Only logic that is the same on several venues lives here; each face keeps its venue's recipe (what
is signed, how the digest is encoded, which error answers a refusal). OKX, Bybit and Deribit share
the signature, answer and push helpers; `RollingWindow` is Bybit's, since OKX counts fixed
windows and Deribit refills credit buckets ("Rate Limits"), which are other rules.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Protocol

from exchanges.simulator.faults import Faults

__all__ = [
    "HoldsPush",
    "RollingWindow",
    "WindowCount",
    "answer_survives",
    "hmac_sha256",
    "push",
    "release_held",
]


def hmac_sha256(secret: str, message: str) -> bytes:
    """HMAC-SHA256 of `message` keyed by `secret` (both UTF-8): the digest OKX signs in Base64
    ("REST Authentication"), Bybit ("Authentication") and Deribit ("Deribit signature
    credentials") in lowercase hex."""
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()


async def answer_survives(faults: Faults) -> bool:
    """Apply the answer faults to an order the engine has already accepted: wait `ack_delay_ms`,
    then, when `lose_acks` fires, wait `lost_ack_wait_ms` and return False; the face then cuts the
    connection instead of answering, so the client cannot tell whether the order exists."""
    if faults.ack_delay_ms:
        await asyncio.sleep(faults.ack_delay_ms / 1000)
    if faults.take("lose_acks"):
        await asyncio.sleep(faults.lost_ack_wait_ms / 1000)
        return False
    return True


class HoldsPush(Protocol):
    """A connection that can hold back one private push (the `reorder_private` fault)."""

    held: bytes | None


def push(
    faults: Faults,
    conn: HoldsPush,
    send: Callable[[bytes], None],
    message: bytes,
    *,
    loop: asyncio.AbstractEventLoop | None,
    hold_s: float,
) -> None:
    """Send one private push with the faults: `reorder_private` holds it back until the next push
    to the connection has gone (or `hold_s` has passed), `duplicate_private` sends it twice."""
    if conn.held is None and faults.take("reorder_private"):
        conn.held = message
        if loop is not None:
            loop.call_later(hold_s, release_held, conn, send)
        return
    send(message)
    if faults.take("duplicate_private"):
        send(message)
    release_held(conn, send)


def release_held(conn: HoldsPush, send: Callable[[bytes], None]) -> None:
    """Send the push `push` held back, if it still is."""
    if conn.held is not None:
        held, conn.held = conn.held, None
        send(held)


@dataclass(frozen=True, slots=True)
class WindowCount:
    """One request counted by `RollingWindow.hit`: whether it was allowed, how many requests the
    window holds now, and in how many seconds its oldest one leaves it."""

    allowed: bool
    used: int
    resets_in: float


class RollingWindow:
    """Requests per key over the last `window` seconds, refused past `limit`: Bybit's per-UID
    endpoint limits per rolling second and per-IP limit per 5 s ("Rate Limit Rules")."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self._hits: dict[Hashable, deque[float]] = {}

    def hit(self, key: Hashable, limit: int, window: float) -> WindowCount:
        """Count one request of `key` unless `limit` requests already lie in the window."""
        hits = self._hits.setdefault(key, deque())
        now = self.clock()
        while hits and hits[0] <= now - window:
            hits.popleft()
        allowed = len(hits) < limit
        if allowed:
            hits.append(now)
        resets_in = hits[0] + window - now if hits else 0.0
        return WindowCount(allowed, len(hits), resets_in)
