"""The hub on channels-redis (skipped without a reachable Redis): one channel of its own in
the feed group, updates fanned out to in-process clients, and the membership joined again
when Redis has forgotten it (channels-redis group membership expires)."""

from __future__ import annotations

import pytest
import redis

from marketdata.feed import FEED_GROUP
from marketdata.stream.hub import get_hub
from tests.integration.stream.conftest import OKX_BOOK, stream_client
from tests.support.harness import eventually

pytestmark = pytest.mark.django_db(transaction=True)


async def test_the_hub_fans_out_over_channels_redis_and_rejoins_its_group(
    redis_layer, viewer_token, publisher, settings
):
    hub = get_hub()
    hub.rejoin_every = 0.05
    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]
    group_key = f"{prefix}:group:{FEED_GROUP}"
    store = redis.Redis.from_url(redis_layer)
    async with (
        stream_client(f"token={viewer_token}") as first,
        stream_client(f"token={viewer_token}") as second,
    ):
        for client in (first, second):
            assert await client.subscribe(OKX_BOOK) == {
                "type": "subscribed",
                "channels": [OKX_BOOK],
            }
        assert store.zrange(group_key, 0, -1) == [hub.channel_name.encode()]  # one member
        publisher.publish(OKX_BOOK, {"sequence": 1})
        await publisher.flush()
        for client in (first, second):
            assert await client.receive() == {
                "channel": OKX_BOOK,
                "type": "update",
                "data": {"sequence": 1},
            }
        store.delete(group_key)  # as if the membership had expired
        await eventually(lambda: store.zrange(group_key, 0, -1) == [hub.channel_name.encode()])
        publisher.publish(OKX_BOOK, {"sequence": 2})
        await publisher.flush()
        for client in (first, second):
            assert (await client.receive())["data"] == {"sequence": 2}
    assert hub.batches == 2
    store.close()
