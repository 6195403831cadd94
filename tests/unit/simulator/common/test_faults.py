"""Fault switches: counted faults, seeded drop probability, run-time updates, drop callbacks;
and how faces apply them: answer faults and private-push faults (common/faults.py)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import pytest

from exchanges.simulator.common.faults import COUNTED, Faults, answer_survives, push


def test_counted_faults_fire_exactly_n_times():
    faults = Faults(lose_acks=2, rate_limit_burst=1)
    assert [faults.take("lose_acks") for _ in range(4)] == [True, True, False, False]
    assert [faults.take("rate_limit_burst") for _ in range(2)] == [True, False]
    assert faults.take("duplicate_private") is False
    assert faults.lose_acks == 0
    assert faults.fired == {"lose_acks": 2, "rate_limit_burst": 1}


def test_take_refuses_names_that_are_not_counted_faults():
    with pytest.raises(KeyError):
        Faults().take("ack_delay_ms")
    assert set(COUNTED) == {
        "lose_acks",
        "duplicate_private",
        "reorder_private",
        "skip_book_sequence",
        "corrupt_checksum",
        "rate_limit_burst",
    }


def test_drop_probability_is_deterministic_under_the_seed():
    def draws(seed: int) -> list[bool]:
        faults = Faults(seed=seed, drop_ws_probability=0.3)
        return [faults.should_drop() for _ in range(200)]

    first, again, other = draws(5), draws(5), draws(6)
    assert first == again
    assert first != other
    assert 30 <= sum(first) <= 90
    assert Faults(seed=5).should_drop() is False
    assert all(Faults(drop_ws_probability=1.0).should_drop() for _ in range(5))


def test_update_changes_switches_and_rejects_bad_values_atomically():
    faults = Faults()
    result = faults.update(ack_delay_ms=150, refuse_connections=True, skip_book_sequence=3)
    assert result["ack_delay_ms"] == 150
    assert (faults.ack_delay_ms, faults.refuse_connections, faults.skip_book_sequence) == (
        150,
        True,
        3,
    )
    bad = [
        {"no_such_fault": 1},
        {"lose_acks": -1},
        {"lose_acks": 1.5},
        {"lose_acks": True},
        {"refuse_connections": "yes"},
        {"freeze_books": 1},
        {"drop_ws_probability": 1.5},
        {"seed": 3},
    ]
    for changes in bad:
        with pytest.raises(ValueError):
            faults.update(ack_delay_ms=1, **changes)
        assert faults.ack_delay_ms == 150, changes
    with pytest.raises(ValueError):
        Faults(lose_acks=-2)


def test_as_dict_lists_every_switch_and_what_fired():
    faults = Faults(corrupt_checksum=1)
    faults.take("corrupt_checksum")
    assert faults.as_dict() == {
        "ack_delay_ms": 0,
        "lose_acks": 0,
        "lost_ack_wait_ms": 200,
        "duplicate_private": 0,
        "reorder_private": 0,
        "skip_book_sequence": 0,
        "corrupt_checksum": 0,
        "rate_limit_burst": 0,
        "refuse_connections": False,
        "freeze_books": False,
        "drop_ws_probability": 0.0,
        "fired": {"corrupt_checksum": 1},
    }


def test_drop_ws_bumps_the_counter_and_runs_callbacks():
    faults = Faults()
    calls: list[int] = []
    faults.on_drop(lambda: calls.append(faults.drop_requested))
    faults.drop_ws()
    faults.drop_ws()
    assert calls == [1, 2]
    assert faults.drop_requested == 2


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
