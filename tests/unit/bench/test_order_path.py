"""bench/order_path.py: its percentiles, and one small run end to end (simulator and gateway in
their own processes, every path placing real orders) when PostgreSQL is reachable."""

import subprocess
import sys

import pytest

from bench.order_path import percentiles


def test_percentiles_are_the_median_and_the_99th():
    samples = [float(n) for n in range(1, 201)]
    assert percentiles(samples) == (100.5, 199.0)
    assert percentiles([3.0]) == (3.0, 3.0)


def _postgres_reachable() -> bool:
    try:
        import psycopg

        psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", connect_timeout=2).close()
    except Exception:
        return False
    return True


@pytest.mark.skipif(not _postgres_reachable(), reason="the benchmark measures PostgreSQL")
def test_a_small_run_prints_every_path():
    done = subprocess.run(
        [sys.executable, "-m", "bench.order_path", "--orders", "6", "--clients", "2"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    labels = [
        "adapter place_order (bare)",
        "ccxt create_order",
        "orders.services.submit_order",
        "POST /api/v1/orders/ ",
        "POST /api/v1/orders/, 2 clients",
    ]
    for label in labels:
        assert any(line.startswith(label) for line in lines), (label, done.stdout)
    assert lines[-1].startswith("goal: REST p50 at most 2x ccxt's: ")
