"""`manage.py run_simulator`: option parsing, and a real start/ready/stop in a subprocess."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management.base import CommandError

from exchanges.management.commands.run_simulator import parse_account, parse_fault
from exchanges.simulator.server import available_venues
from exchanges.venues.base import Credentials, Venue

REPO = Path(__file__).resolve().parents[3]


def test_parse_account_with_and_without_passphrase():
    assert parse_account("okx:k1:s1:p:with:colons") == (
        Venue.OKX,
        Credentials(api_key="k1", secret="s1", passphrase="p:with:colons"),
    )
    assert parse_account("BYBIT:k2:s2") == (Venue.BYBIT, Credentials(api_key="k2", secret="s2"))
    for bad in ("okx:k1", "kraken:k:s", "okx::s"):
        with pytest.raises(CommandError):
            parse_account(bad)


def test_parse_fault_reads_json_values():
    assert parse_fault("okx:lose_acks=2") == (Venue.OKX, "lose_acks", 2)
    assert parse_fault("deribit:refuse_connections=true") == (
        Venue.DERIBIT,
        "refuse_connections",
        True,
    )
    assert parse_fault("bybit:drop_ws_probability=0.25") == (
        Venue.BYBIT,
        "drop_ws_probability",
        0.25,
    )
    for bad in ("okx:lose_acks", "okx:nope=1", "mars:lose_acks=1", "okx:lose_acks=lots"):
        with pytest.raises(CommandError):
            parse_fault(bad)


def test_command_prints_ready_lines_and_stops_on_sigterm():
    venues = available_venues()
    if not venues:
        pytest.skip("no simulator face can be imported yet")
    venue = venues[0]
    command = [
        sys.executable,
        "manage.py",
        "run_simulator",
        "--venues",
        venue.value,
        f"--port-{venue.value}",
        "0",
        "--seed",
        "3",
        "--account",
        f"{venue.value}:cmd-key:cmd-secret:cmd-pass",
    ]
    process = subprocess.Popen(
        command,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        line = process.stdout.readline()
        assert line.startswith(f"{venue.value} ready rest=http://127.0.0.1:"), line
        fields = dict(part.split("=", 1) for part in line.split()[2:])
        assert set(fields) == {"rest", "ws_public", "ws_private"}
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=5)
    assert process.returncode == 0, err
    assert out.strip().endswith("simulator stopped")
