"""The book benchmark's generated streams go through each venue's production session: every
injected gap is detected and rebuilt from the next snapshot, and OKX checksums verify."""

import orjson
import pytest

from bench.book_path import generate, run
from exchanges.venues.base import Venue


@pytest.mark.parametrize("venue", list(Venue))
def test_generated_stream_gaps_are_detected_and_rebuilt(venue):
    lines = generate(venue, 3_000, seed=3, gap_every=1_000)
    result = run(venue, lines)
    stats = result["stats"]
    assert stats["messages"] == 3_000
    assert stats["gaps"] == 2
    assert stats["rebuilds"] == 2
    assert stats["checksum_mismatches"] == 0
    # the two updates after each gap are dropped until the fresh snapshot arrives
    assert stats["updates_applied"] == 3_000 - 1 - 2 * 4


def test_okx_checksums_of_the_older_protocol_verify_and_a_corrupt_one_is_caught():
    lines = generate(Venue.OKX, 400, seed=5, gap_every=0, checksum=True)
    assert run(Venue.OKX, lines)["stats"]["checksum_mismatches"] == 0

    message = orjson.loads(lines[200])
    message["data"][0]["checksum"] += 1
    lines[200] = orjson.dumps(message)
    stats = run(Venue.OKX, lines)["stats"]
    assert stats["checksum_mismatches"] == 1
    assert stats["rebuilds"] == 1
