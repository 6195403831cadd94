"""`run_connectors` as a real process against the simulator, with its own database file: its
heartbeat turns connected, it serves prometheus metrics, and on SIGTERM it writes the trades
it holds (here it holds them all: the batch interval is an hour) and exits 0 with the stream
marked disconnected."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings

from tests.e2e.test_run_gateway import free_port

pytestmark = pytest.mark.slow


def manage(env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def query(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db, timeout=20) as connection:
        return connection.execute(sql).fetchall()


def wait_for(condition, what: str, log: Path, process, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, f"{what}\n{log.read_text()}"
        time.sleep(0.2)


def test_run_connectors_streams_and_stops_cleanly_on_sigterm(sim_module, tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        GATEWAY_VAR_DIR=str(tmp_path / "var"),
        SIMULATOR_HOST="127.0.0.1",
        SIMULATOR_PORT_DERIBIT=str(sim_module.ports["deribit"]),
        SIMULATOR_PORT_OKX=str(sim_module.ports["okx"]),
        SIMULATOR_PORT_BYBIT=str(sim_module.ports["bybit"]),
        CONNECTOR_STATUS_SECONDS="0.2",
        MARKETDATA_TRADE_BATCH_SECONDS="3600",
        PYTHONUNBUFFERED="1",
    )
    sim_module.call(sim_module.simulator.advance, 30)  # trades for the backfill to find
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "seed_demo")
    db = tmp_path / "var" / "gateway.sqlite3"
    metrics_port = free_port()
    log = tmp_path / "connectors.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "run_connectors",
                "--exchange",
                "okx-simulator",
                "--metrics-port",
                str(metrics_port),
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        status = (
            "SELECT e.slug, c.state, c.messages FROM marketdata_connectorstatus c "
            "JOIN exchanges_exchange e ON e.id = c.exchange_id WHERE c.stream = 'public'"
        )
        rows = wait_for(
            lambda: [r for r in query(db, status) if r[1] == "connected" and r[2] > 50],
            "the OKX stream's heartbeat",
            log,
            process,
        )
        assert [r[0] for r in rows] == ["okx-simulator"]  # --exchange: OKX only
        metrics = requests.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).text
        assert 'gateway_stream_up{exchange="okx-simulator",stream="public"} 1.0' in metrics
        assert 'gateway_stream_messages_total{exchange="okx-simulator",stream="public"}' in metrics
        assert query(db, "SELECT count(*) FROM marketdata_tradetick") == [(0,)]  # all held
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    output = log.read_text()
    assert process.returncode == 0, output
    assert "connectors stopped" in output
    ((trades,),) = query(db, "SELECT count(*) FROM marketdata_tradetick")
    assert trades > 0  # the backfill and the streamed trades, written at shutdown
    assert query(db, status.replace("e.slug, c.state, c.messages", "e.slug, c.state")) == [
        ("okx-simulator", "disconnected")
    ]
    # the demo account's private stream on the same exchange, closed and marked too
    private = (
        "SELECT e.slug, a.label, c.state FROM marketdata_connectorstatus c "
        "JOIN exchanges_exchange e ON e.id = c.exchange_id "
        "JOIN exchanges_exchangeaccount a ON a.id = c.account_id WHERE c.stream = 'private'"
    )
    assert [(slug, state) for slug, _, state in query(db, private)] == [
        ("okx-simulator", "disconnected")
    ]
