"""`make run` as a user runs it: migrate, seed_demo, run_gateway as real processes on free ports
with a fresh embedded database, then the admin, the API and the simulated venues answer, the
embedded market data connectors stream every venue (their heartbeats turn connected, the API
serves a live book from the feed's cache), and SIGTERM stops everything."""

import os
import signal
import socket
import subprocess
import sys
import time
from decimal import Decimal as D
from pathlib import Path

import pytest
import requests
from django.conf import settings

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def gateway_env(tmp_path: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        GATEWAY_VAR_DIR=str(tmp_path / "var"),
        SIMULATOR_PORT_DERIBIT=str(free_port()),
        SIMULATOR_PORT_OKX=str(free_port()),
        SIMULATOR_PORT_BYBIT=str(free_port()),
        PYTHONUNBUFFERED="1",
    )
    return env


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


def test_seeded_gateway_serves_admin_api_and_simulator(gateway_env, tmp_path):
    manage(gateway_env, "migrate", "--noinput", "-v", "0")
    seeded = manage(gateway_env, "seed_demo")
    password = seeded.split("password (shown once): ")[1].split()[0]
    token = seeded.split("(Authorization: Token ")[1].split(")")[0]
    web_port = free_port()
    log_path = tmp_path / "gateway.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "run_gateway", "--port", str(web_port)],
            cwd=settings.BASE_DIR,
            env=gateway_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        deadline = time.monotonic() + 60
        while "gateway ready" not in log_path.read_text():
            assert process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
        output = log_path.read_text()
        for venue in ("deribit", "okx", "bybit"):
            assert f"simulator {venue} ready" in output

        base = f"http://127.0.0.1:{web_port}"
        assert requests.get(f"{base}/healthz", timeout=10).json() == {"status": "ok"}
        session = requests.Session()
        login_page = session.get(f"{base}/admin/login/", timeout=10)
        assert login_page.status_code == 200
        response = session.post(
            f"{base}/admin/login/?next=/admin/exchanges/instrument/",
            data={
                "username": "admin",
                "password": password,
                "csrfmiddlewaretoken": session.cookies["csrftoken"],
                "next": "/admin/exchanges/instrument/",
            },
            headers={"Referer": f"{base}/admin/login/"},
            timeout=10,
        )
        assert response.status_code == 200
        assert "BTC-PERPETUAL" in response.text and "BTC-USDT-SWAP" in response.text

        okx_port = gateway_env["SIMULATOR_PORT_OKX"]
        ticker = requests.get(
            f"http://127.0.0.1:{okx_port}/api/v5/market/ticker?instId=BTC-USDT-SWAP", timeout=10
        ).json()
        assert ticker["code"] == "0" and ticker["data"][0]["instId"] == "BTC-USDT-SWAP"

        api = requests.Session()
        api.headers["Authorization"] = f"Token {token}"

        def connected() -> dict:
            rows = api.get(f"{base}/api/v1/connectors/", timeout=10).json()["results"]
            states = {row["exchange"]: row["state"] for row in rows if row["stream"] == "public"}
            return states if len(states) == 3 and set(states.values()) == {"connected"} else {}

        deadline = time.monotonic() + 60
        while not connected():
            assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
        assert "market data connectors running" in log_path.read_text()
        for venue, symbol in (
            ("deribit", "BTC/USD:BTC"),
            ("okx", "BTC/USDT:USDT"),
            ("bybit", "BTC/USDT:USDT"),
        ):
            while True:
                book = api.get(
                    f"{base}/api/v1/marketdata/book/",
                    params={"venue": venue, "symbol": symbol},
                    timeout=10,
                )
                if book.status_code == 200:
                    break
                assert book.status_code == 404 and time.monotonic() < deadline, book.text
                time.sleep(0.2)
            body = book.json()
            assert (body["venue"], body["symbol"]) == (venue, symbol)
            assert D(body["bids"][0][0]) < D(body["asks"][0][0])
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert process.returncode == 0, log_path.read_text()
