import pytest

from exchanges.venues.ratelimit import Limit, RateLimiter, TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_refill_at_rate():
    clock = FakeClock()
    bucket = TokenBucket(Limit(rate=5, burst=2), clock)
    assert bucket.reserve() == 0
    assert bucket.reserve() == 0
    assert bucket.reserve() == pytest.approx(0.2)  # third token is 1/5 s away
    clock.now += 0.2
    assert bucket.try_acquire() is False  # the debt was paid by the refill, nothing left
    clock.now += 0.2
    assert bucket.try_acquire() is True


def test_penalize_blocks_until_the_venue_reset():
    clock = FakeClock()
    bucket = TokenBucket(Limit(rate=100, burst=100), clock)
    bucket.penalize(3.0)
    assert bucket.try_acquire() is False
    assert bucket.reserve() == pytest.approx(3.0)
    clock.now += 3.0
    assert bucket.try_acquire() is True


def test_limiter_routes_groups_and_falls_back_to_default():
    clock = FakeClock()
    limiter = RateLimiter({"default": Limit(10, 1), "orders": Limit(1, 1)}, clock=clock)
    assert limiter.bucket("orders").limit == Limit(1, 1)
    assert limiter.bucket("unknown").limit == Limit(10, 1)
    assert limiter.acquire("orders") == 0
    limiter.penalize("orders", 1.0)
    assert limiter.bucket("orders").try_acquire() is False
    assert limiter.bucket("default").try_acquire() is True


def test_default_group_is_required():
    with pytest.raises(ValueError, match="default"):
        RateLimiter({"orders": Limit(1, 1)})
