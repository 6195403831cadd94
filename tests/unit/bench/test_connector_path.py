"""The connector benchmark drives the real connector: every book event of a generated stream
(2,000 messages: a snapshot and updates, no gap before the 20,000th) is applied, and a book is
published once per loop turn: after each event, or after each ten."""

import pytest

from bench.connector_path import measure


@pytest.mark.parametrize(("burst", "published"), [(1, 2_000), (10, 200)])
async def test_every_event_is_applied_and_each_loop_turn_publishes_once(burst, published):
    result = await measure("okx", 2_000, 20, burst)
    assert (result["messages"], result["book_events"], result["rebuilds"]) == (2_000, 2_000, {})
    assert result["published"] == published
