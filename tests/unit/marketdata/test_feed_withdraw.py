"""`FeedPublisher.withdraw`: a channel whose latest state is no longer true is deleted from the
cache, unless it is published again before the publisher gets to it."""

from __future__ import annotations

from channels.layers import InMemoryChannelLayer
from django.core.cache.backends.locmem import LocMemCache

from marketdata.feed import FeedPublisher, latest_key

BOOK = "book.okx.BTC/USDT:USDT"


async def test_withdraw_deletes_the_latest_state_and_a_new_publish_restores_it():
    cache = LocMemCache("withdraw-test", {})
    publisher = FeedPublisher(layer=InMemoryChannelLayer(), cache=cache)
    publisher.publish(BOOK, {"bids": [["1", "2"]]})
    await publisher.flush()
    assert cache.get(latest_key(BOOK)) == {"bids": [["1", "2"]]}

    publisher.publish(BOOK, {"bids": [["1", "3"]]})
    publisher.withdraw(BOOK)  # queued update of a book found wrong: not stored either
    await publisher.flush()
    assert cache.get(latest_key(BOOK)) is None and BOOK not in publisher.latest

    publisher.withdraw(BOOK)
    publisher.publish(BOOK, {"bids": [["1", "4"]]})  # rebuilt before the flush: kept
    await publisher.flush()
    assert cache.get(latest_key(BOOK)) == {"bids": [["1", "4"]]}
    assert publisher.published == 3
