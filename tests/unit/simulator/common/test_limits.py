"""Request windows (common/limits.py)."""

from __future__ import annotations

import pytest

from exchanges.simulator.common.limits import RollingWindow, WindowCount


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
