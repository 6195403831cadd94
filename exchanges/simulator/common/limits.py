"""Request windows, one type per venue style: OKX counts fixed windows (`FixedWindows`), Bybit
rolling ones (`RollingWindow`), Deribit refills credit buckets (`CreditBucket`) ("Rate Limits"
of each venue's docs). Each face keeps its own table of limits; these only count."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass

__all__ = ["CreditBucket", "FixedWindows", "RollingWindow", "WindowCount"]


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


class FixedWindows:
    """Fixed-window counters per key: OKX's "N requests per W seconds" rules, a window starting
    with the first request after the last one ended."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.windows: dict[Hashable, tuple[float, int]] = {}

    def allow(self, key: Hashable, limit: int, window: float, cost: int = 1) -> bool:
        """Count `cost` requests of `key` unless that would pass `limit` in the current window."""
        now = self.clock()
        start, used = self.windows.get(key, (now, 0))
        if now - start >= window:
            start, used = now, 0
        if used + cost > limit:
            self.windows[key] = (start, used)
            return False
        self.windows[key] = (start, used + cost)
        return True


class CreditBucket:
    """A credit bucket: `rate` per second refill up to `burst` (Deribit "Rate Limits")."""

    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: float, now: float):
        self.rate = float(rate)
        self.burst = float(burst)
        self.tokens = float(burst)
        self.stamp = now

    def take(self, now: float) -> bool:
        """Spend one credit if the bucket, refilled up to `now`, holds one."""
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False
