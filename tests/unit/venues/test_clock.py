"""The venue clock every signer reads: local time plus the offset measured from server time."""

import time

from exchanges.venues.clock import Clock, measure_offset


def test_clock_offset_from_one_round_trip():
    clock = Clock()
    offset = clock.update(
        server_ns=10_000_000_000, sent_ns=4_000_000_000, received_ns=6_000_000_000
    )
    assert offset == 5_000_000_000
    assert clock.offset_ns == 5_000_000_000


def test_clock_sync_takes_the_middle_of_the_round_trip():
    clock = Clock()
    ahead = 7_000_000_000

    def server_time_ns() -> int:
        return time.time_ns() + ahead

    offset = clock.sync(server_time_ns)
    assert offset == clock.offset_ns
    assert abs(offset - ahead) < 50_000_000
    assert abs(measure_offset(server_time_ns) - ahead) < 50_000_000
    assert abs(clock.now_ms() - (time.time_ns() + ahead) // 1_000_000) < 50
    assert clock.update(server_ns=1_000, sent_ns=100, received_ns=300) == 800
