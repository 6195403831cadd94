"""One WebSocket driver for every venue: connect, keep alive, reconnect, resubscribe.

The venue-specific part is a sans-IO `WsSession`: it says what to send on connect (login,
subscriptions), turns each raw message into normalized events, and says what a keepalive ping
looks like. The driver owns the socket: it reconnects with jittered exponential backoff, calls
`on_connect` again (so subscriptions are restored), closes a connection that has been silent for
longer than the session's `idle_timeout`, and reports every state change as a `StreamStatus`.
Keeping the session free of I/O is what lets `bench/book_path.py` run the production decoding
path over a file.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
import websockets
from websockets.exceptions import InvalidHandshake, WebSocketException

from exchanges.venues.base import (
    Event,
    ProtocolError,
    StreamKind,
    StreamState,
    StreamStatus,
    Venue,
    now_ns,
)

log = logging.getLogger(__name__)


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
    `ProtocolError` at most, which the driver logs with the raw text and skips."""

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
    ) -> None:
        self.url = url
        self.session = session
        self.venue = venue
        self.kind = kind
        self.backoff = backoff or Backoff()
        self.open_timeout = open_timeout
        self._connect = connect
        self._events: asyncio.Queue[Event] = asyncio.Queue()
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

    async def events(self) -> AsyncIterator[Event]:
        self.start()
        while True:
            event = await self._events.get()
            if event is _STOP:
                return
            yield event

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
        self._events.put_nowait(_STOP)

    def emit(self, event: Event) -> None:
        self._events.put_nowait(event)

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
                for event in events:
                    self._events.put_nowait(event)
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
    """What a `MarketStream` / `AccountStream` over one `WsClient` (`self.client`) does the same
    on every venue: iterate the client's events, and close it."""

    client: WsClient

    def events(self) -> AsyncIterator[Event]:
        return self.client.events()

    async def close(self) -> None:
        await self.client.close()


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
