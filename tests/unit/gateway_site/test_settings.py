"""Settings helpers: each pytest-xdist worker's own Redis database."""

import os

import pytest

from gateway_site.settings import worker_redis_url


@pytest.mark.parametrize(
    ("url", "worker", "expected"),
    [
        ("redis://127.0.0.1:6379/0", "gw0", "redis://127.0.0.1:6379/1"),
        ("redis://127.0.0.1:6379/0", "gw1", "redis://127.0.0.1:6379/2"),
        ("redis://127.0.0.1:6379", "gw0", "redis://127.0.0.1:6379/1"),
        ("redis://127.0.0.1:6379/4", "gw3", "redis://127.0.0.1:6379/8"),
        (
            "redis://:pw@cache:6380/2?ssl_cert_reqs=none",
            "gw0",
            "redis://:pw@cache:6380/3?ssl_cert_reqs=none",
        ),
    ],
)
def test_each_worker_takes_its_own_database_after_the_urls(url, worker, expected):
    assert worker_redis_url(url, worker) == expected


def test_this_worker_runs_on_its_own_redis_database(settings):
    worker, url = os.environ.get("PYTEST_XDIST_WORKER"), os.environ.get("REDIS_URL")
    if not (worker and url):
        pytest.skip("runs under pytest-xdist with REDIS_URL set (as .ci/run does)")
    own = worker_redis_url(url, worker)
    assert settings.REDIS_URL == own
    assert settings.CACHES["default"]["LOCATION"] == own
    assert settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"] == [own]
    assert settings.RATE_LIMIT_STORAGE_URL == own
