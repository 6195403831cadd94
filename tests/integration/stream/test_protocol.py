"""`/ws/stream` over the real ASGI application in process: login, subscribe with a snapshot
before the updates, unsubscribe, ping, and every error, each leaving the connection up."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client as DjangoClient

from marketdata import feed
from marketdata.stream.consumer import CLOSE_NOT_AUTHENTICATED, MAX_CHANNELS, MAX_MESSAGE
from tests.integration.stream.conftest import (
    BYBIT_TICKER,
    OKX_BOOK,
    OKX_TRADES,
    ORIGIN,
    stream_client,
)
from tests.support.harness import eventually

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def in_memory_layer(settings):
    """The in-memory layer whatever `REDIS_URL` says (its groups can be looked at)."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def book(sequence: int) -> dict:
    return {"venue": "okx", "symbol": "BTC/USDT:USDT", "sequence": sequence, "bids": [["1", "2"]]}


async def expect_closed(query: str = "", headers=None) -> int:
    from gateway_site.asgi import application

    communicator = WebsocketCommunicator(
        application, f"/ws/stream?{query}", headers=[ORIGIN, *(headers or [])]
    )
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    closed = await communicator.receive_output(5)
    assert closed["type"] == "websocket.close"
    await communicator.wait()
    return closed["code"]


async def test_anonymous_and_bad_token_connections_are_closed_with_4401(listed):
    assert await expect_closed() == CLOSE_NOT_AUTHENTICATED
    assert await expect_closed("token=not-a-token") == CLOSE_NOT_AUTHENTICATED


async def test_token_login_subscribes_and_gets_snapshot_then_updates_in_order(
    viewer_token, publisher
):
    publisher.publish(OKX_BOOK, book(1))
    await publisher.flush()  # the latest state in the cache: the snapshot
    async with stream_client(f"token={viewer_token}") as client:
        assert await client.subscribe(OKX_BOOK, BYBIT_TICKER) == {
            "type": "subscribed",
            "channels": [OKX_BOOK, BYBIT_TICKER],
        }
        assert await client.receive() == {"channel": OKX_BOOK, "type": "snapshot", "data": book(1)}
        for sequence in (2, 3, 4):
            publisher.publish(OKX_BOOK, book(sequence))
        ticker = {"venue": "bybit", "symbol": "BTC/USDT:USDT", "best_bid": "10.5"}
        publisher.publish(BYBIT_TICKER, ticker)
        await publisher.flush()
        received = [await client.receive() for _ in range(4)]
        assert received == [
            {"channel": OKX_BOOK, "type": "update", "data": book(2)},
            {"channel": OKX_BOOK, "type": "update", "data": book(3)},
            {"channel": OKX_BOOK, "type": "update", "data": book(4)},
            {"channel": BYBIT_TICKER, "type": "update", "data": ticker},
        ]
        # a channel with data now gets its snapshot on the next subscription's connection
    async with stream_client(f"token={viewer_token}") as late:
        await late.subscribe(BYBIT_TICKER, OKX_TRADES)
        assert await late.receive() == {"channel": BYBIT_TICKER, "type": "snapshot", "data": ticker}
        await late.send({"op": "ping"})
        assert await late.receive() == {"type": "pong"}  # no trades snapshot: none published


async def test_session_login(user_with, listed, publisher):
    user, _ = await database_sync_to_async(user_with)("trader")
    django_client = DjangoClient()
    await database_sync_to_async(django_client.force_login)(user)
    cookie = f"sessionid={django_client.cookies['sessionid'].value}".encode()
    async with stream_client(headers=[(b"cookie", cookie)]) as client:
        assert await client.subscribe(OKX_BOOK) == {"type": "subscribed", "channels": [OKX_BOOK]}
        publisher.publish(OKX_BOOK, book(7))
        await publisher.flush()
        assert await client.receive() == {"channel": OKX_BOOK, "type": "update", "data": book(7)}


async def test_unsubscribe_stops_updates_and_ping_answers(viewer_token, publisher):
    async with stream_client(f"token={viewer_token}") as client:
        await client.subscribe(OKX_BOOK, BYBIT_TICKER)
        await client.send({"op": "unsubscribe", "channels": [OKX_BOOK, "arbitrage"]})
        assert await client.receive() == {"type": "unsubscribed", "channels": [OKX_BOOK]}
        publisher.publish(OKX_BOOK, book(1))
        publisher.publish(BYBIT_TICKER, {"best_bid": "1"})
        await publisher.flush()
        assert await client.receive() == {
            "channel": BYBIT_TICKER,
            "type": "update",
            "data": {"best_bid": "1"},
        }
        await client.send({"op": "ping"})
        assert await client.receive() == {"type": "pong"}


def error(code: str, message: str, channel: str | None = None) -> dict:
    body = {"type": "error", "code": code, "message": message}
    if channel is not None:
        body["channel"] = channel
    return body


async def test_every_bad_request_is_an_error_and_the_connection_stays_up(viewer_token):
    async with stream_client(f"token={viewer_token}") as client:
        await client.send_text("{not json")
        assert await client.receive() == error("bad_request", "a message is a JSON object")
        await client.send(["subscribe"])
        assert await client.receive() == error("bad_request", "a message is a JSON object")
        await client.send({"op": "watch", "channels": [OKX_BOOK]})
        assert await client.receive() == error(
            "unknown_op", "unknown op 'watch'; one of subscribe, unsubscribe, ping"
        )
        for channels in (OKX_BOOK, [OKX_BOOK, 3], None):
            await client.send({"op": "subscribe", "channels": channels})
            assert await client.receive() == error(
                "bad_request", "'channels' is a list of channel names"
            )
        await client.communicator.send_to(bytes_data=b'{"op": "ping"}')
        assert await client.receive() == error("bad_request", "send JSON text frames, not binary")
        await client.send_text('{"op": "ping", "pad": "' + "x" * MAX_MESSAGE + '"}')
        assert await client.receive() == error(
            "message_too_large", f"a message is at most {MAX_MESSAGE} characters"
        )
        await client.send(
            {"op": "subscribe", "channels": [f"book.okx.X{n}/USDT" for n in range(201)]}
        )
        assert await client.receive() == error(
            "too_many_channels", f"a connection reads at most {MAX_CHANNELS} channels"
        )
        unlisted, disabled = "book.okx.DOGE/USDT", "book.okx.ETH/USDT:USDT"
        await client.send(
            {"op": "subscribe", "channels": ["book.kraken.BTC/USD", unlisted, disabled, OKX_BOOK]}
        )
        assert [await client.receive() for _ in range(4)] == [
            error(
                "unknown_channel",
                "'book.kraken.BTC/USD': unknown venue 'kraken'; one of deribit, okx, bybit",
                "book.kraken.BTC/USD",
            ),
            error(
                "unknown_channel",
                f"{unlisted!r}: no enabled exchange lists this venue and symbol",
                unlisted,
            ),
            error(
                "unknown_channel",
                f"{disabled!r}: no enabled exchange lists this venue and symbol",
                disabled,
            ),
            {"type": "subscribed", "channels": [OKX_BOOK]},
        ]
        await client.send({"op": "ping"})
        assert await client.receive() == {"type": "pong"}


async def test_a_user_in_no_role_is_forbidden_every_channel(user_with, listed):
    _, token = await database_sync_to_async(user_with)()
    async with stream_client(f"token={token}") as client:
        await client.send({"op": "subscribe", "channels": [OKX_BOOK, feed.ARBITRAGE]})
        assert [await client.receive() for _ in range(3)] == [
            error("forbidden", f"you may not read {OKX_BOOK!r}", OKX_BOOK),
            error("forbidden", "you may not read 'arbitrage'", feed.ARBITRAGE),
            {"type": "subscribed", "channels": []},
        ]


async def test_consolidated_and_arbitrage_channels(viewer_token, publisher):
    pair = feed.consolidated_channel("BTC/USDT:USDT")
    async with stream_client(f"token={viewer_token}") as client:
        await client.send({"op": "subscribe", "channels": [pair, "consolidated.ETH/USDT:USDT"]})
        assert await client.receive() == error(
            "unknown_channel",
            "'consolidated.ETH/USDT:USDT': no enabled exchange lists this venue and symbol",
            "consolidated.ETH/USDT:USDT",
        )
        assert await client.receive() == {"type": "subscribed", "channels": [pair]}
        assert await client.subscribe(feed.ARBITRAGE) == {
            "type": "subscribed",
            "channels": [feed.ARBITRAGE],
        }
        publisher.publish(feed.ARBITRAGE, {"opened": [{"id": 1, "symbol": "BTC/USDT:USDT"}]})
        await publisher.flush()
        assert await client.receive() == {
            "channel": feed.ARBITRAGE,
            "type": "update",
            "data": {"opened": [{"id": 1, "symbol": "BTC/USDT:USDT"}]},
        }


def trades(*ids: str) -> dict:
    return {"venue": "okx", "symbol": "BTC/USDT:USDT", "trades": [{"trade_id": i} for i in ids]}


async def test_trades_the_snapshot_holds_are_not_repeated_by_the_next_update(
    viewer_token, publisher
):
    publisher.publish(OKX_TRADES, trades("1", "2"))
    await publisher.flush()
    async with stream_client(f"token={viewer_token}") as client:
        await client.subscribe(OKX_TRADES)
        assert await client.receive() == {
            "channel": OKX_TRADES,
            "type": "snapshot",
            "data": trades("1", "2"),
        }
        for update in (trades("2", "3"), trades("1"), trades("4"), trades("1")):
            publisher.publish(OKX_TRADES, update)
            await publisher.flush()
        received = [(await client.receive())["data"] for _ in range(3)]
        # "2" and the lone "1" were in the snapshot; past the snapshot nothing is filtered
        assert received == [trades("3"), trades("4"), trades("1")]


async def test_the_hub_leaves_the_feed_when_idle_and_a_new_client_starts_it_again(
    in_memory_layer, viewer_token, publisher
):
    from marketdata.stream.hub import get_hub

    hub = get_hub()
    hub.idle_stop = 0.05
    groups = hub.layer.groups
    async with stream_client(f"token={viewer_token}") as client:
        await client.subscribe(OKX_BOOK)
        first = hub.channel_name
        assert list(groups[feed.FEED_GROUP]) == [first]
    await eventually(lambda: not hub.running and not groups.get(feed.FEED_GROUP))
    async with stream_client(f"token={viewer_token}") as client:
        await client.subscribe(OKX_BOOK)
        assert hub.running
        assert list(groups[feed.FEED_GROUP]) == [hub.channel_name] != [first]
        publisher.publish(OKX_BOOK, book(9))
        await publisher.flush()
        assert await client.receive() == {"channel": OKX_BOOK, "type": "update", "data": book(9)}


def sample(name: str) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value(name) or 0.0


async def test_clients_and_delivered_updates_are_counted(viewer_token, publisher):
    clients, delivered = sample("gateway_ws_clients"), sample("gateway_ws_delivered_total")
    async with (
        stream_client(f"token={viewer_token}") as first,
        stream_client(f"token={viewer_token}") as second,
    ):
        await eventually(lambda: sample("gateway_ws_clients") == clients + 2)
        for client in (first, second):
            await client.subscribe(OKX_BOOK)
        for sequence in (1, 2, 3):
            publisher.publish(OKX_BOOK, book(sequence))
        await publisher.flush()
        for client in (first, second):
            assert [(await client.receive())["data"] for _ in range(3)] == [
                book(1),
                book(2),
                book(3),
            ]
        await eventually(lambda: sample("gateway_ws_delivered_total") == delivered + 6)
    await eventually(lambda: sample("gateway_ws_clients") == clients)


async def test_a_connection_closes_with_1013_when_the_feed_cannot_be_joined(
    listed, viewer_token, settings, monkeypatch
):
    from marketdata.stream import consumer

    monkeypatch.setattr(consumer, "JOIN_TIMEOUT", 0.2)
    # a Redis that is not there: nothing listens on port 1
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }
    assert await expect_closed(f"token={viewer_token}") == consumer.CLOSE_TRY_AGAIN
