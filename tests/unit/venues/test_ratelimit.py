"""Request budgets: moving windows per group, deployment ceilings, holds, and one budget shared
by several processes through Redis (when a Redis answers on REDIS_URL or 127.0.0.1:6379)."""

import os
import subprocess
import sys
import time
import uuid

import pytest
import redis

from exchanges.venues.ratelimit import Limit, RateLimiter, headroom

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


def redis_reachable() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


needs_redis = pytest.mark.skipif(not redis_reachable(), reason=f"no Redis at {REDIS_URL}")


def unique_scope() -> str:
    return f"test-{uuid.uuid4().hex}"


def test_window_is_burst_over_rate_in_whole_seconds():
    assert Limit(rate=30, burst=60).window_seconds == 2
    assert Limit(rate=5, burst=20).window_seconds == 4
    with pytest.raises(ValueError, match="whole number of seconds"):
        _ = Limit(rate=3, burst=2).window_seconds


def test_ceiling_only_lowers_and_keeps_the_window():
    assert Limit(rate=30, burst=60).lowered(100) == Limit(rate=30, burst=60)
    assert Limit(rate=30, burst=60).lowered(50) == Limit(rate=15, burst=30)
    assert Limit(rate=1, burst=1).lowered(10) == Limit(rate=1, burst=1)  # never below one
    for percent in (0, 101, -5):
        with pytest.raises(ValueError, match=r"1\.\.100 percent"):
            Limit(rate=1, burst=1).lowered(percent)


def test_headroom_leaves_one_request_in_twenty_for_jitter():
    assert [headroom(Limit(rate=r, burst=b)) for r, b in ((1, 1), (1, 2), (30, 60), (20, 100))] == [
        0,
        1,
        3,
        5,
    ]


def test_burst_goes_at_once_then_the_window_is_full():
    limiter = RateLimiter({"default": Limit(rate=1, burst=4)}, scope=unique_scope())
    budget = limiter.bucket("default")
    assert [budget.try_acquire() for _ in range(4)] == [True, True, True, False]  # 4 less 1
    assert 0 < budget.wait_time() <= 4


def test_acquire_waits_for_the_oldest_request_to_leave_the_window():
    waits: list[float] = []

    def record_then_sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    limiter = RateLimiter(
        {"default": Limit(rate=1, burst=1)}, scope=unique_scope(), sleep=record_then_sleep
    )
    assert limiter.acquire() == 0
    waited = limiter.acquire()
    assert waits and 0 < waits[0] <= 1
    assert waited == pytest.approx(sum(waits))


def test_a_cost_takes_that_many_requests():
    limiter = RateLimiter({"default": Limit(rate=10, burst=20)}, scope=unique_scope())
    budget = limiter.bucket("default")
    assert budget.try_acquire(15) is True
    assert budget.try_acquire(5) is False  # 19 usable: 4 left
    assert budget.try_acquire(4) is True


def test_groups_route_and_unknown_groups_count_against_the_default():
    limiter = RateLimiter(
        {"default": Limit(10, 10), "orders": Limit(1, 1)}, scope=unique_scope(), percent=50
    )
    assert limiter.bucket("orders").limit == Limit(1, 1)
    assert limiter.bucket("unknown").limit == Limit(5, 5)
    assert limiter.acquire("orders") == 0
    assert limiter.bucket("orders").try_acquire() is False
    assert limiter.bucket("default").try_acquire() is True


def test_penalize_holds_the_group_back():
    limiter = RateLimiter({"default": Limit(100, 100), "orders": Limit(1, 1)}, scope=unique_scope())
    limiter.penalize("default", 30.0)
    assert limiter.bucket("default").try_acquire() is False
    assert 29 < limiter.bucket("default").wait_time() <= 30
    assert limiter.bucket("orders").try_acquire() is True  # other groups are not held


def test_unnamed_limiters_share_with_nobody():
    first = RateLimiter({"default": Limit(1, 1)})
    second = RateLimiter({"default": Limit(1, 1)})
    assert first.scope != second.scope
    assert first.bucket("default").try_acquire() is True
    assert second.bucket("default").try_acquire() is True


def test_scopes_do_not_share_a_budget():
    limits = {"default": Limit(1, 1)}
    first = RateLimiter(limits, scope=unique_scope())
    second = RateLimiter(limits, scope=unique_scope())
    same_as_first = RateLimiter(limits, scope=first.scope)
    assert first.bucket("default").try_acquire() is True
    assert same_as_first.bucket("default").try_acquire() is False  # one process, one scope
    assert second.bucket("default").try_acquire() is True


def test_default_group_is_required():
    with pytest.raises(ValueError, match="default"):
        RateLimiter({"orders": Limit(1, 1)})


OTHER_PROCESS = """
import sys
from exchanges.venues.ratelimit import Limit, RateLimiter, headroom
limiter = RateLimiter({"default": Limit(rate=1, burst=5)}, scope=sys.argv[1], storage_url=sys.argv[2])
taken = sum(limiter.bucket("default").try_acquire() for _ in range(3))
limiter.penalize("default", float(sys.argv[3])) if len(sys.argv) > 3 else None
print(taken)
"""


def run_other_process(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", OTHER_PROCESS, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


@needs_redis
def test_processes_on_redis_share_one_budget():
    scope = unique_scope()
    limiter = RateLimiter({"default": Limit(rate=1, burst=5)}, scope=scope, storage_url=REDIS_URL)
    assert run_other_process(scope, REDIS_URL) == "3"  # the other process took 3 of 4 usable
    budget = limiter.bucket("default")
    assert [budget.try_acquire() for _ in range(3)] == [True, False, False]


@needs_redis
def test_a_hold_set_by_another_process_holds_this_one():
    scope = unique_scope()
    limiter = RateLimiter({"default": Limit(rate=1, burst=5)}, scope=scope, storage_url=REDIS_URL)
    assert run_other_process(scope, REDIS_URL, "30") == "3"
    assert limiter.bucket("default").try_acquire() is False
    assert 28 < limiter.bucket("default").wait_time() <= 30
    limiter.penalize("default", 1.0)  # a shorter hold does not shorten the longer one
    assert limiter.bucket("default").wait_time() > 28


def test_memory_budgets_are_per_process():
    scope = unique_scope()
    limiter = RateLimiter({"default": Limit(rate=1, burst=5)}, scope=scope)
    assert run_other_process(scope, "memory://") == "3"
    budget = limiter.bucket("default")
    assert sum(budget.try_acquire() for _ in range(6)) == 4
