"""Fault switches: counted faults, seeded drop probability, run-time updates, drop callbacks."""

from __future__ import annotations

import pytest

from exchanges.simulator.common.faults import COUNTED, Faults


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
