"""The per-process hub: one task per web process joins the feed group once and fans each
batch out to this process's `/ws/stream` clients.

The connectors' `FeedPublisher` sends each batch as one channel-layer message to
`feed.FEED_GROUP`. The hub takes its own channel (`layer.new_channel()`), joins the group,
and loops on `layer.receive`; each update of a channel that some client reads is serialized
once (`update_text`) and offered to every subscribed client's `Mailbox`, synchronously. No
await per client: each client's writer task sends on its own, so a slow client slows neither
the hub nor the others.

Group membership expires in channels-redis (`group_expiry`, a day by default); the hub joins
again every `rejoin_every` seconds (60) and after a layer error. It starts with the first
client (`get_hub().attach`, on the running loop) and stops `idle_stop` seconds (60) after the
last one left, leaving the group, so an idle web process neither receives nor keeps a queue
in Redis; the next client starts it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from typing import Any

from marketdata import metrics
from marketdata.feed import BATCH_TYPE, FEED_GROUP
from marketdata.stream.mailbox import Mailbox, update_text

log = logging.getLogger(__name__)


def _idle_errors() -> tuple[type[BaseException], ...]:
    """What a channel layer raises when a blocking read merely found nothing: channels-redis
    4.3 on redis-py 8 lets the client's read timeout fire with its own 5 s BZPOPMIN (an idle
    hub would otherwise log an error every 5 s and back off)."""
    try:
        from redis.exceptions import TimeoutError as RedisTimeout
    except ImportError:  # no redis client installed: only the in-memory layer
        return ()
    return (RedisTimeout,)


IDLE_ERRORS = _idle_errors()
REJOIN_EVERY = 60.0
IDLE_STOP = 60.0
ERROR_BACKOFF = 1.0


class Hub:
    """Fans the feed out to this process's clients (module docstring)."""

    def __init__(
        self, layer: Any, *, rejoin_every: float = REJOIN_EVERY, idle_stop: float = IDLE_STOP
    ) -> None:
        self.layer = layer
        self.loop = asyncio.get_running_loop()
        self.rejoin_every = rejoin_every
        self.idle_stop = idle_stop
        self.subscribers: dict[str, dict[Mailbox, None]] = {}  # channel -> its clients
        self.clients: dict[Mailbox, set[str]] = {}  # client -> its channels
        self.channel_name: str | None = None
        self.batches = 0  # feed batches received
        self.updates = 0  # updates offered to at least one client
        self.conflated = 0
        self._task: asyncio.Task | None = None
        self._joined: asyncio.Future | None = None
        self._idle: asyncio.TimerHandle | None = None

    # -- clients ---------------------------------------------------------------------------

    async def attach(self, mailbox: Mailbox) -> None:
        """Register a client; starts the hub if needed and returns once it is in the group."""
        self.clients.setdefault(mailbox, set())
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        if self._task is None or self._task.done():
            self._joined = self.loop.create_future()
            self._task = self.loop.create_task(self._run(), name="marketdata-stream-hub")
        await asyncio.shield(self._joined)

    def detach(self, mailbox: Mailbox) -> None:
        self.unsubscribe(mailbox, self.clients.pop(mailbox, set()))
        if not self.clients and self._task is not None and self._idle is None:
            self._idle = self.loop.call_later(self.idle_stop, self._stop_if_idle)

    def subscribe(self, mailbox: Mailbox, channels: Iterable[str]) -> None:
        own = self.clients.setdefault(mailbox, set())
        for channel in channels:
            own.add(channel)
            self.subscribers.setdefault(channel, {})[mailbox] = None

    def unsubscribe(self, mailbox: Mailbox, channels: Iterable[str]) -> None:
        own = self.clients.get(mailbox, set())
        for channel in list(channels):
            own.discard(channel)
            boxes = self.subscribers.get(channel)
            if boxes is not None:
                boxes.pop(mailbox, None)
                if not boxes:
                    del self.subscribers[channel]

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    # -- the feed --------------------------------------------------------------------------

    def fan_out(self, updates: Iterable[Any]) -> None:
        """Offer each update to its channel's clients: merged into the unsent update of each
        client that is behind, else appended with the one serialization that every client
        keeping up sends as is (made only if some client needs it)."""
        subscribers = self.subscribers
        offered = conflated = 0
        for channel, data in updates:
            boxes = subscribers.get(channel)
            if not boxes:
                continue
            offered += 1
            text = None
            for box in boxes:
                if box.conflate(channel, data):
                    conflated += 1
                    continue
                if text is None:
                    text = update_text(channel, data)
                box.append(channel, data, text)
        self.updates += offered
        if conflated:
            self.conflated += conflated
            metrics.WS_CONFLATED.inc(conflated)

    async def _join(self) -> None:
        if self.channel_name is None:
            self.channel_name = await self.layer.new_channel()
        await self.layer.group_add(FEED_GROUP, self.channel_name)

    async def _rejoin(self) -> None:
        while True:
            await asyncio.sleep(self.rejoin_every)
            try:
                await self._join()
            except Exception:  # the layer is down: the receive loop reports and retries
                log.warning("stream hub could not rejoin %s", FEED_GROUP, exc_info=True)

    async def _run(self) -> None:
        joined = self._joined
        rejoin: asyncio.Task | None = None
        try:
            while True:
                try:
                    await self._join()
                    if joined is not None and not joined.done():
                        joined.set_result(None)
                    if rejoin is None:
                        rejoin = self.loop.create_task(self._rejoin())
                    while True:
                        try:
                            message = await self.layer.receive(self.channel_name)
                        except IDLE_ERRORS:
                            continue  # nothing came in the layer's blocking-read window
                        if message.get("type") == BATCH_TYPE:
                            self.batches += 1
                            self.fan_out(message.get("updates", ()))
                except asyncio.CancelledError:
                    raise
                except Exception:  # the layer failed: log, wait, join again
                    log.exception("stream hub lost the channel layer; joining again")
                    await asyncio.sleep(ERROR_BACKOFF)
        finally:
            if rejoin is not None:
                rejoin.cancel()
            if joined is not None and not joined.done():
                joined.cancel()

    def _stop_if_idle(self) -> None:
        self._idle = None
        if self.clients or self._task is None:
            return
        task, self._task = self._task, None
        task.cancel()
        name, self.channel_name = self.channel_name, None
        self.loop.create_task(self._leave(name))

    async def _leave(self, name: str | None) -> None:
        if name is None:
            return
        try:
            await self.layer.group_discard(FEED_GROUP, name)
        except Exception:  # the layer is down: the membership expires by itself
            log.warning("stream hub could not leave %s", FEED_GROUP, exc_info=True)

    async def aclose(self) -> None:
        """Stop now (tests, shutdown)."""
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        name, self.channel_name = self.channel_name, None
        await self._leave(name)


_hub: Hub | None = None


def get_hub() -> Hub:
    """This process's hub on the running loop and the default channel layer (a new one when
    the loop or the layer changed, as between tests)."""
    global _hub
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    loop = asyncio.get_running_loop()
    if _hub is None or _hub.loop is not loop or _hub.layer is not layer:
        _hub = Hub(layer)
    return _hub


def current_hub() -> Hub | None:
    """The hub if one exists (tests and the bench read its counters)."""
    return _hub
