"""The one WebSocket connection type of every face: an outgoing queue, the writer task that
sends it, the idle watch, a normal close, and a drop.

A face subclasses `Connection` with its venue's session state (subscriptions, login, ...) and
keeps the venue's rules (which close code, which idle limit); the mechanics live here once:

- `send` queues a text message; past `max_queue` queued messages the connection closes with
  the `overflow` code and reason instead (OKX 4005 "Buffer is full, cannot write data").
- `push_private` sends a private push through the `reorder_private`/`duplicate_private` faults.
- the writer (`start`) sends the queue in order; before each message `Faults.should_drop` may
  drop the connection instead. After `finish` it sends what is queued, then closes (code 1000).
- `drop` ends the connection the way a network failure does: the TCP connection is aborted and
  no close frame is sent (RFC 6455 7.4.1: 1006 "MUST NOT be set as a status code in a Close
  control frame"; the client reports 1006 itself).
- `watch_idle` closes a connection that has been quiet for the face's limit.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from exchanges.simulator.common.faults import Faults, push

__all__ = ["NORMAL_CLOSE", "Connection"]

logger = logging.getLogger(__name__)

NORMAL_CLOSE = 1000


@dataclass(eq=False)
class Connection:
    """One WebSocket connection of a face (module doc); faces subclass it with their state."""

    ws: web.WebSocketResponse
    transport: Any  # the request's asyncio transport, which `drop` aborts
    faults: Faults
    conn_id: str = ""
    max_queue: int | None = None
    overflow: tuple[int, str] = (NORMAL_CLOSE, "")
    queue: deque = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    held: bytes | None = None  # a private push held back by the reorder fault
    closed: bool = False  # nothing more is sent
    closing: bool = False  # what is queued is sent, then the socket closes (`finish`)
    last_active: float = 0.0  # loop time of the last message sent (or activity the face counts)
    writer: asyncio.Task | None = None

    # ----------------------------------------------------------------- sending

    def send(self, payload: bytes | str) -> None:
        """Queue one text message (dropped once the connection is closed or closing)."""
        if self.closed or self.closing:
            return
        if self.max_queue is not None and len(self.queue) >= self.max_queue:
            self.queue.clear()
            self.closed = True
            code, reason = self.overflow
            self._spawn(self.close(code, reason))
            return
        self.queue.append(payload)
        self.wake.set()

    def push_private(
        self, payload: bytes, *, loop: asyncio.AbstractEventLoop | None, hold_s: float
    ) -> None:
        """Send one private push with the duplicate/reorder faults (`faults.push`)."""
        push(self.faults, self, self.send, payload, loop=loop, hold_s=hold_s)

    def touch(self) -> None:
        """Count activity now (a ping the venue treats as keeping the connection alive)."""
        self.last_active = asyncio.get_running_loop().time()

    # ----------------------------------------------------------------- the writer

    def start(self, name: str) -> asyncio.Task:
        """Start the writer task; the connection counts as active from now."""
        loop = asyncio.get_running_loop()
        self.last_active = loop.time()
        self.writer = loop.create_task(self._write(), name=name)
        return self.writer

    async def _write(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while not self.closed:
                if not self.queue:
                    if self.closing:
                        await self.close(NORMAL_CLOSE)
                        return
                    self.wake.clear()
                    await self.wake.wait()
                    continue
                payload = self.queue.popleft()
                if self.faults.should_drop():
                    self.drop()
                    return
                data = payload if isinstance(payload, bytes) else payload.encode()
                await self.ws.send_frame(data, WSMsgType.TEXT)
                self.last_active = loop.time()
        except (ConnectionError, RuntimeError):
            self.drop()

    async def stop_writer(self, flush_s: float = 0.0) -> None:
        """Let the writer send what is queued for up to `flush_s` seconds, then stop it."""
        writer = self.writer
        if writer is None or writer.done():
            return
        if flush_s > 0:
            self.wake.set()
            try:
                await asyncio.wait_for(asyncio.shield(writer), flush_s)
                return
            except (TimeoutError, asyncio.CancelledError):
                pass
        writer.cancel()
        try:
            await writer
        except asyncio.CancelledError:
            pass

    # ----------------------------------------------------------------- ending

    def finish(self) -> None:
        """Send what is queued, then close normally (an answer that ends the session)."""
        self.closing = True
        self.wake.set()

    def drop(self) -> None:
        """End the connection the way a network failure does: abort TCP, no close frame."""
        self.closed = True
        self.closing = True
        self.queue.clear()
        self.wake.set()
        if self.transport is not None:
            self.transport.abort()

    async def close(self, code: int = NORMAL_CLOSE, reason: str = "") -> None:
        """Close with a close frame of `code` and `reason`; a socket already gone is dropped."""
        self.closed = True
        self.wake.set()
        if self.ws.closed:
            return
        try:
            await self.ws.close(code=code, message=reason.encode())
        except (ConnectionError, RuntimeError):
            self.drop()

    async def watch_idle(self, limit_s: Callable[[], float], code: int, reason: str = "") -> None:
        """Close the connection with `code` once nothing was sent (nor `touch`ed) for
        `limit_s()` seconds; the limit is read on every look, so the face may change it."""
        loop = asyncio.get_running_loop()
        while not self.closed:
            limit = float(limit_s())
            left = self.last_active + limit - loop.time()
            if left > 0:
                await asyncio.sleep(min(left, 1.0))
                continue
            if self.queue:  # the writer is about to send, which counts as activity
                await asyncio.sleep(min(1.0, limit / 4))
                continue
            await self.close(code, reason)
            return

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        _BACKGROUND.add(task)
        task.add_done_callback(_finished)


_BACKGROUND: set[asyncio.Task] = set()


def _finished(task: asyncio.Task) -> None:
    _BACKGROUND.discard(task)
    if not task.cancelled() and task.exception() is not None:
        logger.error("closing a simulator WebSocket failed", exc_info=task.exception())
