"""The pieces the OKX and Bybit faces share (exchanges/simulator/common.py)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import pytest

from exchanges.simulator.common.faults import Faults, answer_survives, push
from exchanges.simulator.common.limits import RollingWindow, WindowCount
from exchanges.simulator.common.signing import hmac_sha256


def test_hmac_sha256_matches_rfc_4231_test_case_2():
    assert hmac_sha256("Jefe", "what do ya want for nothing?").hex() == (
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )


async def test_answer_survives_waits_then_loses_the_counted_answers():
    faults = Faults(ack_delay_ms=20, lose_acks=1, lost_ack_wait_ms=30)
    started = time.monotonic()
    assert await asyncio.wait_for(answer_survives(faults), 2) is False
    lost_after = time.monotonic() - started
    started = time.monotonic()
    assert await asyncio.wait_for(answer_survives(faults), 2) is True
    kept_after = time.monotonic() - started
    assert lost_after >= 0.05 and 0.02 <= kept_after < lost_after
    assert (faults.lose_acks, faults.fired) == (0, {"lose_acks": 1})


@dataclass
class Conn:
    held: bytes | None = None


async def test_push_reorders_a_pair_and_duplicates():
    loop = asyncio.get_running_loop()
    faults = Faults(reorder_private=1, duplicate_private=1)
    conn, sent = Conn(), []
    push(faults, conn, sent.append, b"1", loop=loop, hold_s=5)
    assert (sent, conn.held) == ([], b"1")
    push(faults, conn, sent.append, b"2", loop=loop, hold_s=5)
    assert (sent, conn.held) == ([b"2", b"2", b"1"], None)
    push(faults, conn, sent.append, b"3", loop=loop, hold_s=5)
    assert sent == [b"2", b"2", b"1", b"3"]
    assert faults.fired == {"reorder_private": 1, "duplicate_private": 1}


async def test_push_releases_a_held_message_after_hold_s():
    loop = asyncio.get_running_loop()
    faults = Faults(reorder_private=1)
    conn, sent = Conn(), []
    released = loop.create_future()

    def send(message: bytes) -> None:
        sent.append(message)
        released.set_result(None)

    push(faults, conn, send, b"alone", loop=loop, hold_s=0.02)
    assert sent == []
    await asyncio.wait_for(released, 2)
    assert (sent, conn.held) == ([b"alone"], None)


@pytest.fixture
def clock():
    now = [100.0]
    return now


def test_rolling_window_counts_the_last_window_per_key(clock):
    window = RollingWindow(lambda: clock[0])
    assert window.hit("a", 2, 1.0) == WindowCount(True, 1, 1.0)
    clock[0] = 100.25
    assert window.hit("a", 2, 1.0) == WindowCount(True, 2, 0.75)
    assert window.hit("a", 2, 1.0) == WindowCount(False, 2, 0.75)
    assert window.hit("b", 2, 1.0) == WindowCount(True, 1, 1.0)
    clock[0] = 101.0
    assert window.hit("a", 2, 1.0) == WindowCount(True, 2, 0.25)
    clock[0] = 102.5
    assert window.hit("a", 2, 1.0) == WindowCount(True, 1, 1.0)
