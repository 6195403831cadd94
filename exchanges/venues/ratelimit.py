"""Token buckets per venue endpoint group, so the adapters stay under the published limits.

A bucket refills at `rate` tokens per second up to `burst`. `acquire` waits for a token (the
REST clients are synchronous and thread-safe); `penalize` empties a group for a while after the
venue answered with a rate-limit error, so every caller backs off, not just the one that hit it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limit:
    rate: float  # tokens per second
    burst: int


class TokenBucket:
    def __init__(self, limit: Limit, clock=time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._tokens = float(limit.burst)
        self._updated = clock()
        self._blocked_until = 0.0
        self._lock = threading.Lock()

    def _refill(self, now: float) -> None:
        elapsed = now - self._updated
        if elapsed > 0:
            self._tokens = min(self.limit.burst, self._tokens + elapsed * self.limit.rate)
            self._updated = now

    def reserve(self, cost: float = 1.0) -> float:
        """Take `cost` tokens now (possibly going into debt) and return how long to wait first."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            self._tokens -= cost
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self.limit.rate
            return max(wait, self._blocked_until - now)

    def try_acquire(self, cost: float = 1.0) -> bool:
        with self._lock:
            now = self._clock()
            self._refill(now)
            if now < self._blocked_until or self._tokens < cost:
                return False
            self._tokens -= cost
            return True

    def penalize(self, seconds: float) -> None:
        with self._lock:
            now = self._clock()
            self._blocked_until = max(self._blocked_until, now + seconds)
            self._tokens = min(self._tokens, 0.0)
            self._updated = now


class RateLimiter:
    """One bucket per endpoint group; unknown groups fall back to `default`."""

    def __init__(self, limits: dict[str, Limit], default: str = "default", clock=time.monotonic):
        if default not in limits:
            raise ValueError(f"the default group {default!r} needs a limit")
        self._buckets = {group: TokenBucket(limit, clock) for group, limit in limits.items()}
        self._default = default

    def bucket(self, group: str) -> TokenBucket:
        return self._buckets.get(group) or self._buckets[self._default]

    def acquire(self, group: str = "default", cost: float = 1.0) -> float:
        """Block until allowed; returns the seconds waited."""
        wait = self.bucket(group).reserve(cost)
        if wait > 0:
            time.sleep(wait)
        return wait

    async def acquire_async(self, group: str = "default", cost: float = 1.0) -> float:
        wait = self.bucket(group).reserve(cost)
        if wait > 0:
            await asyncio.sleep(wait)
        return wait

    def penalize(self, group: str, seconds: float) -> None:
        self.bucket(group).penalize(seconds)
