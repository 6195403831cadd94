"""The circuit breaker's pure decision with exact Decimal moves: the window's edges, the
strict threshold, falls and rises, and how a trip lifts (reset or cool-down)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from risk.breaker import (
    Mark,
    MarkWindows,
    Rule,
    Tripped,
    cooldown_until,
    decide,
    in_window,
    is_active,
    move_pct,
)

D = Decimal
T0 = datetime(2026, 12, 3, 12, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def marks(*pairs) -> list[Mark]:
    return [Mark(at(s), D(p)) for s, p in pairs]


RULE = Rule(move_pct=D("5"), window_seconds=60, cooldown_seconds=300)


def test_move_pct_is_signed_percent_of_the_reference():
    assert move_pct(D("100"), D("94.5")) == D("-5.5")
    assert move_pct(D("50000"), D("52600")) == D("5.2")
    with pytest.raises(ValueError, match="reference mark must be positive"):
        move_pct(D("0"), D("1"))


def test_a_fall_of_more_than_the_threshold_trips_with_the_figures():
    history = marks((0, "100"), (30, "99"))
    current = Mark(at(60), D("94.9"))
    assert decide(history, current, RULE) == Tripped(
        reference=Mark(at(0), D("100")), current=current, move_pct=D("-5.1")
    )


def test_a_rise_trips_and_the_reference_is_the_farthest_mark_in_the_window():
    history = marks((0, "101"), (10, "100"), (20, "102"))
    current = Mark(at(40), D("105.1"))
    tripped = decide(history, current, RULE)
    assert tripped.reference == Mark(at(10), D("100"))
    assert tripped.move_pct == D("5.1")


def test_a_move_of_exactly_the_threshold_does_not_trip():
    assert decide(marks((0, "100")), Mark(at(10), D("105")), RULE) is None
    assert decide(marks((0, "100")), Mark(at(10), D("95")), RULE) is None
    assert decide(marks((0, "100")), Mark(at(10), D("105.0001")), RULE).move_pct == D("5.0001")


def test_a_mark_exactly_window_seconds_old_is_in_the_window_one_older_is_not():
    assert decide(marks((0, "100")), Mark(at(60), D("90")), RULE).move_pct == D("-10")
    assert decide(marks((0, "100")), Mark(at(60.001), D("90")), RULE) is None


def test_a_slow_drift_spread_over_more_than_the_window_does_not_trip():
    history = marks((0, "100"), (30, "98"), (60, "96"), (90, "94"))
    assert decide(history, Mark(at(120), D("92")), RULE) is None


def test_no_history_or_no_positive_price_decides_nothing():
    assert decide([], Mark(at(0), D("100")), RULE) is None
    assert decide(marks((0, "0")), Mark(at(1), D("100")), RULE) is None
    assert decide(marks((0, "100")), Mark(at(1), D("0")), RULE) is None


def test_marks_from_the_future_are_not_in_the_window():
    assert in_window(marks((0, "1"), (61, "2")), at(60), 60) == marks((0, "1"))


def test_rule_refuses_nonsense_settings():
    with pytest.raises(ValueError, match="move_pct must be greater than zero"):
        Rule(move_pct=D("0"), window_seconds=60)
    with pytest.raises(ValueError, match="window_seconds must be greater than zero"):
        Rule(move_pct=D("1"), window_seconds=0)
    with pytest.raises(ValueError, match="cooldown_seconds must not be negative"):
        Rule(move_pct=D("1"), window_seconds=1, cooldown_seconds=-1)


def test_a_trip_lifts_when_its_cooldown_has_passed():
    until = cooldown_until(at(0), 300)
    assert until == at(300)
    assert is_active(until=until, reset_at=None, now=at(299.999)) is True
    assert is_active(until=until, reset_at=None, now=at(300)) is False


def test_a_trip_without_cooldown_lasts_until_reset():
    assert cooldown_until(at(0), 0) is None
    assert is_active(until=None, reset_at=None, now=at(10**6)) is True
    assert is_active(until=None, reset_at=at(50), now=at(50)) is False
    assert is_active(until=None, reset_at=at(50), now=at(49)) is True


def test_mark_windows_keep_only_recent_positive_marks_per_instrument():
    windows = MarkWindows()
    windows.add({1: D("100"), 2: D("10"), 3: None}, at(0), keep_seconds=60)
    windows.add({1: D("101"), 2: D("0")}, at(30), keep_seconds=60)
    assert windows.history(1) == marks((0, "100"), (30, "101"))
    assert windows.history(2) == marks((0, "10"))
    assert windows.history(3) == []
    windows.add({1: D("102")}, at(61), keep_seconds=60)
    assert windows.history(1) == marks((30, "101"), (61, "102"))
    assert windows.history(2) == []
    windows.clear()
    assert windows.history(1) == []
