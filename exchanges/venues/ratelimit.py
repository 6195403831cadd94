"""Request budgets per venue endpoint group, shared by every process that uses one account.

The venue's published limits are the source: each venue's `constants.RATE_LIMITS` maps an
endpoint group to a `Limit` (`burst` requests per `burst / rate` seconds, the way the venues
publish them: OKX "60 requests per 2 seconds", Bybit "10 per second", Deribit's credit pools).
A deployment may only lower them (`percent`, the `Exchange` row's ceiling), never raise them.

Counting is a moving window from the `limits` library. Its storage decides who shares a budget:
`memory://` (the default) is one process; `redis://…` is every process that names the same
`scope` (web, workers, connectors trading one account), so together they stay under the venue's
limit. A venue's rate-limit answer holds the whole group back for a while (`penalize`); the hold
lives in the same storage, so every process backs off, not only the one that was refused.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import limits
import limits.storage
import limits.strategies
import redis

MEMORY = "memory://"


@dataclass(frozen=True, slots=True)
class Limit:
    rate: float  # requests per second, sustained
    burst: int  # requests at once; the window is burst / rate seconds

    @property
    def window_seconds(self) -> int:
        seconds = self.burst / self.rate
        if seconds != int(seconds) or seconds < 1:
            raise ValueError(f"{self}: burst / rate must be a whole number of seconds")
        return int(seconds)

    def lowered(self, percent: int) -> Limit:
        """This limit at `percent` (1 to 100) of its size: the same window, fewer requests."""
        if not 1 <= percent <= 100:
            raise ValueError(f"a rate-limit ceiling is 1..100 percent, not {percent}")
        burst = max(1, self.burst * percent // 100)
        return Limit(rate=burst / self.window_seconds, burst=burst)


def headroom(limit: Limit) -> int:
    """Requests of each window left unused: the venue counts arrivals on its clock, we count
    departures on ours, and network jitter can move a request across the window's edge. One in
    twenty (at least one, when the window holds more than one) keeps us under its count."""
    return max(1, limit.burst // 20) if limit.burst > 1 else 0


class _LocalHolds:
    """Hold deadlines of one process (monotonic time)."""

    def __init__(self) -> None:
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def hold(self, key: str, seconds: float) -> None:
        with self._lock:
            self._until[key] = max(self._until.get(key, 0.0), time.monotonic() + seconds)

    def remaining(self, key: str) -> float:
        with self._lock:
            return max(0.0, self._until.get(key, 0.0) - time.monotonic())


# Keep the later of the held deadline and the new one; the key expires with its deadline.
_HOLD_SCRIPT = """
local new = tonumber(ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', new)
end
return 1
"""


class _RedisHolds:
    """Hold deadlines every process sees: a key per group that expires when the hold ends."""

    def __init__(self, url: str) -> None:
        self._redis = redis.Redis.from_url(url)
        self._script = self._redis.register_script(_HOLD_SCRIPT)

    def hold(self, key: str, seconds: float) -> None:
        self._script(keys=[f"gateway:hold:{key}"], args=[max(1, int(seconds * 1000))])

    def remaining(self, key: str) -> float:
        ttl_ms = self._redis.pttl(f"gateway:hold:{key}")
        return ttl_ms / 1000 if ttl_ms > 0 else 0.0


_STORES: dict[str, tuple[limits.storage.Storage, _LocalHolds | _RedisHolds]] = {}
_STORES_LOCK = threading.Lock()


def _store(url: str) -> tuple[limits.storage.Storage, _LocalHolds | _RedisHolds]:
    """One storage per URL and process, so every limiter of the process shares its counts."""
    with _STORES_LOCK:
        if url not in _STORES:
            holds = _LocalHolds() if url == MEMORY else _RedisHolds(url)
            _STORES[url] = (limits.storage.storage_from_string(url), holds)
        return _STORES[url]


class GroupBudget:
    """The budget of one endpoint group under one scope."""

    def __init__(self, limiter: RateLimiter, group: str, limit: Limit) -> None:
        self.limit = limit
        self._limiter = limiter
        self._key = f"{limiter.scope}:{group}"
        self._item = limits.RateLimitItemPerSecond(
            limit.burst - headroom(limit), limit.window_seconds
        )

    def _cost(self, cost: float) -> int:
        """Whole requests, at most one window's worth (a larger cost could never be met)."""
        return min(max(1, math.ceil(cost)), self._item.amount)

    def try_acquire(self, cost: float = 1) -> bool:
        """Take `cost` requests if the window has room and no hold is on; never waits."""
        if self._limiter.holds.remaining(self._key) > 0:
            return False
        return self._limiter.strategy.hit(self._item, self._key, cost=self._cost(cost))

    def wait_time(self, cost: float = 1) -> float:
        """Seconds until `cost` requests could go: the hold, or the oldest request in the window
        leaving it."""
        held = self._limiter.holds.remaining(self._key)
        stats = self._limiter.strategy.get_window_stats(self._item, self._key)
        short = stats.remaining < self._cost(cost)
        window = stats.reset_time - time.time() if short else 0.0
        return max(held, window, 0.0)

    def penalize(self, seconds: float) -> None:
        self._limiter.holds.hold(self._key, seconds)


class RateLimiter:
    """One budget per endpoint group; unknown groups count against `default`.

    `scope` names who shares the budget (the exchange and the account; unnamed, the limiter
    shares with nobody); `storage_url` is `memory://` or a Redis URL; `percent` lowers every
    group to that share of the venue's limit.
    """

    def __init__(
        self,
        limits_by_group: Mapping[str, Limit],
        default: str = "default",
        *,
        scope: str | None = None,
        storage_url: str = MEMORY,
        percent: int = 100,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if default not in limits_by_group:
            raise ValueError(f"the default group {default!r} needs a limit")
        storage, self.holds = _store(storage_url)
        self.strategy = limits.strategies.MovingWindowRateLimiter(storage)
        self.scope = scope or f"local-{uuid.uuid4().hex}"
        self._sleep = sleep
        self._groups = {
            group: GroupBudget(self, group, limit.lowered(percent))
            for group, limit in limits_by_group.items()
        }
        self._default = default

    def bucket(self, group: str) -> GroupBudget:
        return self._groups.get(group) or self._groups[self._default]

    def acquire(self, group: str = "default", cost: float = 1) -> float:
        """Block until `group` has room for `cost` requests; returns the seconds waited."""
        budget = self.bucket(group)
        waited = 0.0
        while not budget.try_acquire(cost):
            wait = max(budget.wait_time(cost), 0.001)
            self._sleep(wait)
            waited += wait
        return waited

    def penalize(self, group: str, seconds: float) -> None:
        self.bucket(group).penalize(seconds)
