"""Fixtures of the `/ws/stream` tests: users by role with their tokens, listed instruments, a
publisher into the feed, in-process clients of the real ASGI app (`WebsocketCommunicator`),
and a real daphne server on a free port for tests over sockets."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.apps import apps as django_apps
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token

from marketdata.feed import FeedPublisher
from marketdata.stream import hub as hub_module
from marketdata.stream.access import LISTINGS
from tests.factories import ExchangeFactory, InstrumentFactory
from tests.plugins.daphne import LiveDaphne

ORIGIN = (b"origin", b"http://127.0.0.1")
OKX_BOOK = "book.okx.BTC/USDT:USDT"
OKX_TRADES = "trades.okx.BTC/USDT:USDT"
BYBIT_TICKER = "ticker.bybit.BTC/USDT:USDT"


@pytest.fixture
def roles(transactional_db):
    """The role groups (a transactional test empties the tables the migration filled)."""
    importlib.import_module("exchanges.migrations.0006_roles").create_roles(django_apps, None)


@pytest.fixture
def listed(transactional_db):
    """BTC/USDT:USDT on enabled OKX and Bybit; ETH/USDT:USDT only on a disabled OKX."""
    LISTINGS.clear()
    okx = ExchangeFactory(venue="okx", slug="okx-sim")
    bybit = ExchangeFactory(venue="bybit", slug="bybit-sim")
    off = ExchangeFactory(venue="okx", slug="okx-off", enabled=False)
    for exchange in (okx, bybit):
        InstrumentFactory(exchange=exchange, symbol="BTC/USDT:USDT", venue_symbol="BTC-USDT")
    InstrumentFactory(exchange=off, symbol="ETH/USDT:USDT", venue_symbol="ETH-USDT")
    yield
    LISTINGS.clear()


@pytest.fixture
def user_with(roles, settings) -> Callable[..., tuple[User, str]]:
    """`user_with("viewer")` -> a user in those roles and their API token."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    made = iter(range(10_000))

    def make(*role_names: str) -> tuple[User, str]:
        user = User.objects.create_user(f"streamer{next(made)}", password="not-used-pw-123")
        for name in role_names:
            user.groups.add(Group.objects.get(name=name))
        return user, Token.objects.create(user=user).key

    return make


@pytest.fixture
async def viewer_token(user_with, listed) -> str:
    return (await database_sync_to_async(user_with)("viewer"))[1]


@pytest.fixture
async def publisher() -> AsyncIterator[FeedPublisher]:
    """A publisher into this loop's channel layer and cache; `flush()` sends."""
    yield FeedPublisher()


@pytest.fixture(autouse=True)
async def _stop_hub(fresh_throttles) -> AsyncIterator[None]:
    """Each test starts with an empty cache (no latest state) and ends with its hub stopped."""
    yield
    hub = hub_module.current_hub()
    if hub is not None and hub.loop is asyncio.get_running_loop():
        await hub.aclose()


class Client:
    """An in-process `/ws/stream` client of the real ASGI application."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.communicator = communicator

    async def send(self, message: Any) -> None:
        await self.communicator.send_json_to(message)

    async def send_text(self, text: str) -> None:
        await self.communicator.send_to(text_data=text)

    async def receive(self, timeout: float = 5.0) -> dict:
        return await self.communicator.receive_json_from(timeout)

    async def subscribe(self, *channels: str) -> dict:
        await self.send({"op": "subscribe", "channels": list(channels)})
        return await self.receive()


@asynccontextmanager
async def stream_client(
    query: str = "", headers: list[tuple[bytes, bytes]] | None = None
) -> AsyncIterator[Client]:
    from gateway_site.asgi import application

    path = "/ws/stream" + (f"?{query}" if query else "")
    communicator = WebsocketCommunicator(application, path, headers=[ORIGIN, *(headers or [])])
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    try:
        yield Client(communicator)
    finally:
        await communicator.disconnect()


# --------------------------------------------------------------------------- a real server


@pytest.fixture
async def daphne(live_daphne) -> AsyncIterator[LiveDaphne]:
    """The server, whose hub is stopped after the test: the next test's hub joins the feed
    anew (with Redis as the cache, clearing the cache also empties the layer's keys)."""
    yield live_daphne
    hub = hub_module.current_hub()
    if hub is not None and hub.loop is live_daphne.loop:
        await live_daphne.run(hub.aclose())


# --------------------------------------------------------------------------- channels-redis


def redis_url() -> str | None:
    """`REDIS_URL`, or the local Redis on db 5; None when it does not answer (tests skip)."""
    import os

    import redis

    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/5"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5).ping()
    except redis.RedisError:
        return None
    return url


@pytest.fixture
def redis_layer(settings) -> str:
    """The channels-redis layer on a key prefix of this test's own (no cross-talk between
    concurrent runs sharing one Redis)."""
    import uuid

    url = redis_url()
    if url is None:
        pytest.skip("no Redis reachable (REDIS_URL or 127.0.0.1:6379)")
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [url], "prefix": f"asgi-test-{uuid.uuid4().hex[:12]}:"},
        }
    }
    return url
