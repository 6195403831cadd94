"""One WebSocket driver for every venue: connect, keep alive, reconnect, resubscribe.

The venue-specific part is a sans-IO `WsSession`: it says what to send on connect (login,
subscriptions), turns each raw message into normalized events, and says what a keepalive ping
looks like. The driver owns the socket: it reconnects with jittered exponential backoff, calls
`on_connect` again (so subscriptions are restored), closes a connection that has been silent for
longer than the session's `idle_timeout`, and reports every state change as a `StreamStatus`.
Keeping the session free of I/O is what lets `bench/book_path.py` run the production decoding
path over a file.

Lifecycle, the same on every venue: a public stream opens its socket at the first
`subscribe()` (Bybit opens one per category there), a private stream when `events()` is first
called (it subscribes its own channels after login); `events()` of a public stream only reads.
`close()` ends the iteration.

A consumer that falls behind: events wait in a bounded `EventQueue` (`max_queue`). When it is
full, an event is dropped (`WsClient.dropped` counts them, the first of a run is logged). A
dropped book event leaves the consumer's copy of that book wrong, so the session drops the book
and rebuilds it from a fresh snapshot, as on a sequence gap (`resync_book`: a
`StreamStatus(RESYNCING)` for the symbol, then nothing for it until the snapshot). Statuses
get `STATUS_HEADROOM` places beyond the bound so that news reaches the consumer; past that they
are dropped too. Nothing grows without limit.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
import websockets
from websockets.exceptions import InvalidHandshake, WebSocketException

from exchanges.venues.base import (
    BookDelta,
    BookSnapshot,
    Event,
    ProtocolError,
    StreamKind,
    StreamState,
    StreamStatus,
    Venue,
    now_ns,
)

log = logging.getLogger(__name__)

DEFAULT_MAX_QUEUE = 10_000  # events a consumer may be behind before they are dropped
STATUS_HEADROOM = 100  # places beyond the bound kept for StreamStatus events


class EventQueue:
    """The events a stream has ready for its consumer, at most `limit` of them (a
    `StreamStatus` may take `STATUS_HEADROOM` more); `offer` refuses an event beyond that."""

    __slots__ = ("_items", "_ready", "limit")

    def __init__(self, limit: int = DEFAULT_MAX_QUEUE) -> None:
        if limit < 1:
            raise ValueError("an event queue holds at least one event")
        self.limit = limit
        self._items: collections.deque[Any] = collections.deque()
        self._ready = asyncio.Event()

    def __len__(self) -> int:
        return len(self._items)

    def offer(self, event: Event) -> bool:
        """Queue `event`; False (not queued) when the consumer is `limit` events behind."""
        size = len(self._items)
        if size >= self.limit and (
            type(event) is not StreamStatus or size >= self.limit + STATUS_HEADROOM
        ):
            return False
        self._items.append(event)
        self._ready.set()
        return True

    def stop(self) -> None:
        """End the iteration after what is queued (always accepted)."""
        self._items.append(_STOP)
        self._ready.set()

    async def events(self) -> AsyncIterator[Event]:
        """Every queued event as it arrives, until `stop()`."""
        items = self._items
        while True:
            while not items:
                self._ready.clear()
                await self._ready.wait()
            event = items.popleft()
            if event is _STOP:
                return
            yield event


@dataclass(slots=True)
class Backoff:
    """Exponential backoff with jitter: attempt n waits a random time in [d/2, d], d = initial*2^n."""

    initial: float = 0.5
    maximum: float = 30.0
    rng: random.Random | None = None

    def delay(self, attempt: int) -> float:
        ceiling = min(self.maximum, self.initial * (2**attempt))
        rng = self.rng or random
        return ceiling / 2 + rng.random() * ceiling / 2


class Link:
    """What a session may do with the live connection, without touching the socket itself."""

    def __init__(self, client: WsClient) -> None:
        self._client = client
        self._outbox: asyncio.Queue[str | bytes] = asyncio.Queue()
        self.closed = False

    def send(self, message: str | bytes | dict | list) -> None:
        if self.closed:
            return
        if isinstance(message, dict | list):
            message = orjson.dumps(message).decode()
        self._outbox.put_nowait(message)

    def emit(self, event: Event) -> None:
        self._client.emit(event)

    def spawn(self, coroutine: Awaitable[Any]) -> asyncio.Task:
        """Run background work tied to this connection (e.g. fetch a REST book snapshot)."""
        task = asyncio.ensure_future(coroutine)
        self._client._tasks.add(task)
        task.add_done_callback(self._client._task_done)
        return task

    def reconnect(self, reason: str) -> None:
        """Drop this connection; the driver reconnects and the session resubscribes."""
        log.warning("%s %s stream reconnecting: %s", self._client.venue, self._client.kind, reason)
        self._client._request_reconnect(reason)


class WsSession(Protocol):
    """The venue-specific half of a stream. Must not raise on a bad message: raise
    `ProtocolError` at most, which the driver logs with the raw text and skips.

    A public session also has `resync_book(symbol, detail, link) -> list[Event]`: drop the
    book of unified `symbol` and rebuild it from a fresh snapshot, as on a gap (the driver
    calls it when the consumer missed one of that book's events)."""

    ping_interval: float  # seconds between keepalive pings (0 = none)
    idle_timeout: float  # reconnect when nothing arrived for this long (0 = never)

    def on_connect(self, link: Link) -> None: ...
    def on_message(self, raw: str | bytes, link: Link) -> list[Event]: ...
    def ping(self) -> str | bytes | None: ...
    def on_disconnect(self) -> None: ...


class WsClient:
    """Runs one venue WebSocket for as long as it is iterated or until `close()`."""

    def __init__(
        self,
        url: str,
        session: WsSession,
        *,
        venue: Venue,
        kind: StreamKind,
        backoff: Backoff | None = None,
        open_timeout: float = 10.0,
        connect: Callable[..., Any] = websockets.connect,
        max_queue: int = DEFAULT_MAX_QUEUE,
    ) -> None:
        self.url = url
        self.session = session
        self.venue = venue
        self.kind = kind
        self.backoff = backoff or Backoff()
        self.open_timeout = open_timeout
        self._connect = connect
        self._events = EventQueue(max_queue)
        self.dropped = 0  # events the consumer was too far behind to get
        self._dropping: EventQueue | None = None  # the queue that overflowed, while it is full
        self._runner: asyncio.Task | None = None
        self._tasks: set[asyncio.Task] = set()
        self._closed = False
        self._ws: Any = None
        self.link: Link | None = None
        self.reconnects = 0
        self.connected = asyncio.Event()

    # -- public -------------------------------------------------------------------------

    def start(self) -> None:
        if self._runner is None:
            self._runner = asyncio.create_task(self._run(), name=f"ws-{self.venue}-{self.kind}")

    def events(self) -> AsyncIterator[Event]:
        """The events, until `close()`. Reading does not open the socket: `start()` does."""
        return self._events.events()

    def send(self, message: str | bytes | dict | list) -> None:
        """Send on the current connection if there is one (sessions resend state on connect)."""
        if self.link is not None:
            self.link.send(message)

    async def close(self) -> None:
        self._closed = True
        if self._ws is not None:
            await self._ws.close()
        if self._runner is not None:
            self._runner.cancel()
            try:
                await self._runner
            except asyncio.CancelledError:
                pass
        for task in list(self._tasks):
            task.cancel()
        self._status(StreamState.STOPPED)
        self._events.stop()

    def emit(self, event: Event) -> None:
        """Hand `event` to the consumer, or drop it when the consumer is too far behind."""
        self.hand_over(event, self._events)

    def hand_over(self, event: Event, queue: EventQueue) -> None:
        """Queue `event` in `queue` (this client's, or one merging several clients' events),
        or drop it by the policy when the consumer is too far behind."""
        if queue.offer(event):
            if self._dropping is queue and len(queue) <= queue.limit // 2:
                self._dropping = None  # the consumer has room again
        else:
            self.drop(event, queue)

    def drop(self, event: Event, queue: EventQueue | None = None) -> None:
        """What happens to an event the consumer is too far behind to take (see the module
        docstring): counted, logged at the start of a run of drops, and a book event makes the
        session rebuild that book. Also used by queues that merge several clients' events."""
        if queue is None:
            queue = self._events
        self.dropped += 1
        if self._dropping is None:
            self._dropping = queue
            log.warning(
                "%s %s consumer is %d events behind: dropping events",
                self.venue,
                self.kind,
                queue.limit,
            )
        if type(event) is BookDelta or type(event) is BookSnapshot:
            resync = getattr(self.session, "resync_book", None)
            if resync is not None and self.link is not None:
                detail = f"consumer fell behind; {type(event).__name__} dropped, resyncing"
                for status in resync(event.symbol, detail, self.link):
                    queue.offer(status)  # within STATUS_HEADROOM

    # -- internals ----------------------------------------------------------------------

    def _status(self, state: StreamState, detail: str = "") -> None:
        self.emit(StreamStatus(self.venue, self.kind, state, now_ns(), detail))

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error(
                "%s %s background task failed", self.venue, self.kind, exc_info=task.exception()
            )

    def _request_reconnect(self, reason: str) -> None:
        if self._ws is not None:
            task = asyncio.ensure_future(self._ws.close(code=1000, reason=reason[:120]))
            self._tasks.add(task)
            task.add_done_callback(self._task_done)

    async def _run(self) -> None:
        attempt = 0
        while not self._closed:
            self._status(StreamState.CONNECTING, self.url)
            try:
                async with self._connect(
                    self.url,
                    open_timeout=self.open_timeout,
                    ping_interval=None,
                    max_size=2**24,
                    compression=None,
                ) as ws:
                    attempt = 0
                    await self._serve(ws)
            except asyncio.CancelledError:
                raise
            except (OSError, TimeoutError, WebSocketException, InvalidHandshake) as exc:
                self._status(StreamState.DISCONNECTED, f"{type(exc).__name__}: {exc}")
            else:
                self._status(StreamState.DISCONNECTED, "closed")
            finally:
                self._ws = None
                self.connected.clear()
                if self.link is not None:
                    self.link.closed = True
                    self.link = None
                self.session.on_disconnect()
            if self._closed:
                break
            delay = self.backoff.delay(attempt)
            attempt += 1
            self.reconnects += 1
            await asyncio.sleep(delay)

    async def _serve(self, ws: Any) -> None:
        self._ws = ws
        link = self.link = Link(self)
        self._status(StreamState.CONNECTED, self.url)
        self.connected.set()
        self.session.on_connect(link)
        loop = asyncio.get_running_loop()
        last_received = loop.time()
        writer = asyncio.create_task(self._write(ws, link))
        keeper = asyncio.create_task(self._keepalive(ws, link, lambda: last_received))
        try:
            async for raw in ws:
                last_received = loop.time()
                try:
                    events = self.session.on_message(raw, link)
                except ProtocolError as exc:
                    log.warning(
                        "%s %s skipped message (%s): %.500s", self.venue, self.kind, exc, raw
                    )
                    continue
                queue = self._events
                for event in events:
                    if not queue.offer(event):
                        self.drop(event, queue)
                if self._dropping is queue and len(queue) <= queue.limit // 2:
                    self._dropping = None  # the consumer has room again
        finally:
            writer.cancel()
            keeper.cancel()

    async def _write(self, ws: Any, link: Link) -> None:
        while True:
            message = await link._outbox.get()
            await ws.send(message)

    async def _keepalive(self, ws: Any, link: Link, last_received: Callable[[], float]) -> None:
        session = self.session
        interval = session.ping_interval or 0
        idle = session.idle_timeout or 0
        tick = min(x for x in (interval, idle / 3 if idle else 0, 1.0) if x > 0)
        loop = asyncio.get_running_loop()
        next_ping = loop.time() + interval if interval else None
        while True:
            await asyncio.sleep(tick)
            now = loop.time()
            if idle and now - last_received() > idle:
                log.warning(
                    "%s %s stream silent for %.1fs, reconnecting", self.venue, self.kind, idle
                )
                await ws.close(code=1000, reason="idle")
                return
            if next_ping is not None and now >= next_ping:
                message = session.ping()
                if message is not None:
                    link.send(message)
                next_ping = now + interval


class SocketStream:
    """What a `PublicStream` over one `WsClient` (`self.client`) does the same on every venue:
    iterate the client's events (the socket opens at the first `subscribe()`), and close it."""

    client: WsClient

    def events(self) -> AsyncIterator[Event]:
        return self.client.events()

    async def close(self) -> None:
        await self.client.close()


class PrivateSocketStream(SocketStream):
    """A `PrivateStream` over one `WsClient`: iterating opens the socket (the session logs in
    and subscribes its own channels)."""

    def events(self) -> AsyncIterator[Event]:
        self.client.start()
        return self.client.events()


class OfflineLink(Link):
    """A link with no socket, for running a session over recorded messages (tests, benchmarks).

    What the session would have sent is kept in `sent`, the events it emitted from background
    work in `events`, and the reconnects it asked for in `reconnect_reasons`. Background work
    (`spawn`: OKX's REST book snapshot when the stream sends none, its clock sync before login)
    runs on the caller's event loop and is kept in `tasks` to be awaited; without a running loop
    (the synchronous `bench/book_path.py`) there is nowhere to run it, and `spawn` raises.
    """

    def __init__(self) -> None:
        self.sent: list[str | bytes] = []
        self.events: list[Event] = []
        self.reconnect_reasons: list[str] = []
        self.tasks: list[asyncio.Task] = []
        self.closed = False

    def send(self, message: str | bytes | dict | list) -> None:
        if isinstance(message, dict | list):
            message = orjson.dumps(message).decode()
        self.sent.append(message)

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def spawn(self, coroutine: Awaitable[Any]) -> asyncio.Task:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            if asyncio.iscoroutine(coroutine):
                coroutine.close()
            raise RuntimeError(
                "an offline link runs background work only inside a running event loop"
            ) from None
        task = asyncio.ensure_future(coroutine)
        self.tasks.append(task)
        return task

    def reconnect(self, reason: str) -> None:
        self.reconnect_reasons.append(reason)


_STOP: Any = object()
