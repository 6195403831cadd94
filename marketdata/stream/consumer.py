"""`/ws/stream`: live market data and the user's accounts over one WebSocket (the README's
"/ws/stream protocol"; the private channels `orders`, `fills`, `positions`, `balances` are in
`private.py`, the `risk` channel in `risk.py`).

Each connection holds no channel-layer channel of its own (`channel_layer_alias` names no
configured layer, so Channels gives it none): the process's one `Hub` receives the feed and
fills this connection's `Mailbox`, and the connection's writer task sends from it. A hundred
clients connecting at once thus open no Redis connection each.

Login: the API token (`?token=`, `gateway_site.api.websocket.TokenAuthMiddleware`) or the
session cookie. An anonymous or inactive user's connection is accepted and closed at once with
code 4401 (the WebSocket analogue of HTTP 401, which a client can read, unlike a refused
handshake).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import socket
from collections.abc import Callable
from typing import Any

import orjson
from channels.generic.websocket import AsyncWebsocketConsumer

from marketdata import metrics
from marketdata.feed import TRADES, ChannelError, parse_channel, read_latest
from marketdata.stream.access import LISTINGS, permission_for, user_permissions
from marketdata.stream.hub import get_hub
from marketdata.stream.mailbox import CONTROL, SNAPSHOTS, Mailbox, update_text
from marketdata.stream.private import (
    SnapshotRows,
    is_account_channel,
    parse_account_channel,
    read_snapshots,
    visible_account_ids,
)
from marketdata.stream.risk import PERMISSIONS as RISK_PERMISSIONS
from marketdata.stream.risk import RISK, read_risk_snapshot
from orders.notify import account_channel

log = logging.getLogger(__name__)

NO_LAYER = "marketdata.stream.no-layer"  # not in CHANNEL_LAYERS: no per-connection channel
CLOSE_NOT_AUTHENTICATED = 4401
CLOSE_POLICY = 1008  # a client that floods requests and never reads the answers
CLOSE_SERVER_ERROR = 1011
CLOSE_TRY_AGAIN = 1013  # the feed is unavailable (the channel layer does not answer)
JOIN_TIMEOUT = 10.0  # seconds for the hub to join the feed group
MAX_CHANNELS = 200  # per connection
MAX_MESSAGE = 64 * 1024  # characters of one client message
MAX_UNREAD = 1_000  # queued entries beyond the bound of conflation before closing
HIGH_WATER = 128 * 1024  # bytes the server may hold unsent before the writer waits
LOW_WATER = 32 * 1024  # ... until it has drained to this
DRAIN_POLL = 0.002  # seconds between looks at a stalled socket
SEND_BUFFER = 64 * 1024  # the kernel's send buffer of a client socket (SO_SNDBUF)
YIELD_EVERY = 64  # messages a writer sends before letting others run


def innermost_send(send: Callable) -> tuple[Callable, Callable[[], int] | None]:
    """The server's own `send` under Channels' session wrapper, and a probe of how many
    bytes daphne's socket holds unsent (None when the server is not daphne over plain TCP).

    Daphne's `send` never waits on the network: it hands each frame to its Twisted transport,
    which buffers without bound. The probe lets the writer notice a client that does not read
    and stop, so that its mailbox conflates instead of the transport growing. The socket's
    kernel send buffer is capped at `SEND_BUFFER` too (Linux otherwise grows it to megabytes
    on its own, which a slow client would have to read through before it sees fresh data).
    Other servers (uvicorn) make `send` itself wait, which stalls the writer the same way."""
    current: Any = send
    for _ in range(8):
        if isinstance(current, functools.partial):
            protocol = current.args[0] if current.args else None
            transport = getattr(protocol, "transport", None)
            if transport is not None and hasattr(transport, "_tempDataLen"):

                def backlog(transport=transport) -> int:
                    return len(transport.dataBuffer) - transport.offset + transport._tempDataLen

                handle = transport.getHandle() if hasattr(transport, "getHandle") else None
                if handle is not None and hasattr(handle, "setsockopt"):
                    handle.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
                return current, backlog
            return current, None
        inner = getattr(getattr(current, "__self__", None), "real_send", None)
        if inner is None:
            return current, None
        current = inner
    return current, None


class StreamConsumer(AsyncWebsocketConsumer):
    """One `/ws/stream` connection (module docstring)."""

    channel_layer_alias = NO_LAYER

    mailbox: Mailbox | None = None
    writer: asyncio.Task | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.accept()
            await self.close(code=CLOSE_NOT_AUTHENTICATED)
            return
        self.permissions = await user_permissions(user)
        self.channels: set[str] = set()
        self.snapshot_trades: dict[str, set] = {}  # trades channel -> trade ids of its snapshot
        self.requested: dict[str, frozenset[str]] = {}  # private name -> the account channels
        self.snapshot_rows = SnapshotRows()
        self.hub = get_hub()
        self.mailbox = Mailbox()
        self.raw_send, self.backlog = innermost_send(self.base_send)
        self.mailbox.socket_backlog = self.backlog
        await self.accept()
        try:
            await asyncio.wait_for(self.hub.attach(self.mailbox), JOIN_TIMEOUT)
        except TimeoutError:  # the channel layer does not answer
            log.error("stream hub could not join the feed in %s s", JOIN_TIMEOUT)
            self.hub.detach(self.mailbox)
            self.mailbox = None
            await self.close(code=CLOSE_TRY_AGAIN)
            return
        self.writer = asyncio.create_task(self._write(), name="ws-stream-writer")
        metrics.WS_CLIENTS.inc()

    async def disconnect(self, code: int) -> None:
        if self.mailbox is None:
            return
        self.hub.detach(self.mailbox)
        if self.writer is not None:
            self.writer.cancel()
        metrics.WS_CLIENTS.dec()
        self.mailbox = None

    # -- requests --------------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None):
        if self.mailbox is None:
            return
        if len(self.mailbox.queue) > self.mailbox.conflate_after + MAX_CHANNELS + MAX_UNREAD:
            await self.close(code=CLOSE_POLICY)
            return
        if text_data is None:
            return self.error("bad_request", "send JSON text frames, not binary")
        if len(text_data) > MAX_MESSAGE:
            return self.error("message_too_large", f"a message is at most {MAX_MESSAGE} characters")
        try:
            message = orjson.loads(text_data)
        except orjson.JSONDecodeError:
            return self.error("bad_request", "a message is a JSON object")
        if not isinstance(message, dict):
            return self.error("bad_request", "a message is a JSON object")
        op = message.get("op")
        if op == "ping":
            return self.mailbox.control({"type": "pong"})
        if op not in ("subscribe", "unsubscribe"):
            return self.error(
                "unknown_op", f"unknown op {op!r}; one of subscribe, unsubscribe, ping"
            )
        names = message.get("channels")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            return self.error("bad_request", "'channels' is a list of channel names")
        if op == "subscribe":
            await self.subscribe(list(dict.fromkeys(names)))
        else:
            self.unsubscribe(list(dict.fromkeys(names)))

    async def subscribe(self, names: list[str]) -> None:
        new = [n for n in names if n not in self.channels]
        if len(self.channels) + len(new) > MAX_CHANNELS:
            return self.error(
                "too_many_channels", f"a connection reads at most {MAX_CHANNELS} channels"
            )
        private = [n for n in new if is_account_channel(n)]
        own = [n for n in new if n == RISK]
        listing = await LISTINGS.get() if len(private) + len(own) < len(new) else None
        visible = await visible_account_ids(self.scope["user"]) if private else frozenset()
        if self.mailbox is None:  # closed while the listing was read
            return
        accepted: list[str] = []
        expansions: dict[str, frozenset[str]] = {}
        for name in names:
            if name in self.channels:
                accepted.append(name)
                continue
            if is_account_channel(name):
                expanded = self._account_channels(name, visible)
                if expanded is not None:
                    expansions[name] = expanded
                    accepted.append(name)
                continue
            if name == RISK:
                if RISK_PERMISSIONS <= self.permissions:
                    accepted.append(name)
                else:
                    self.error("forbidden", f"you may not read {name!r}", channel=name)
                continue
            try:
                channel = parse_channel(name)
            except ChannelError as exc:
                self.error("unknown_channel", str(exc), channel=name)
                continue
            if permission_for(channel) not in self.permissions:
                self.error("forbidden", f"you may not read {name!r}", channel=name)
                continue
            if listing is not None and not listing.lists(channel):
                self.error(
                    "unknown_channel",
                    f"{name!r}: no enabled exchange lists this venue and symbol",
                    channel=name,
                )
                continue
            accepted.append(name)
        fresh = [n for n in accepted if n not in self.channels]
        self.mailbox.control({"type": "subscribed", "channels": accepted})
        if fresh:
            # synchronous from here: no update of `fresh` can be queued before its snapshot
            held = self._hub_channels()
            self.channels.update(fresh)
            self.requested.update(expansions)
            market = [n for n in fresh if n not in expansions and n != RISK]
            accounts = sorted({c for n in fresh for c in expansions.get(n, ())} - held)
            risk = [RISK] if RISK in fresh else []
            if market:
                self.mailbox.snapshots(asyncio.ensure_future(read_latest(market)))
            if accounts:
                self.mailbox.snapshots(asyncio.ensure_future(read_snapshots(accounts)))
            if risk:
                self.mailbox.snapshots(asyncio.ensure_future(read_risk_snapshot()))
            self.hub.subscribe(self.mailbox, market + accounts + risk)

    def _account_channels(self, name: str, visible: frozenset[int]) -> frozenset[str] | None:
        """The account channels a private subscription reads (`private.py`), or None after
        saying why it is refused."""
        try:
            channel = parse_account_channel(name)
        except ChannelError as exc:
            self.error("unknown_channel", str(exc), channel=name)
            return None
        if channel.permission not in self.permissions:
            self.error("forbidden", f"you may not read {name!r}", channel=name)
            return None
        if channel.account_id is None:
            return frozenset(account_channel(channel.kind, pk) for pk in visible)
        if channel.account_id not in visible:
            self.error(
                "unknown_channel", f"{name!r}: no account {channel.account_id}", channel=name
            )
            return None
        return frozenset({name})

    def _hub_channels(self) -> set[str]:
        """The channels this connection reads from the hub: the market ones it asked for and
        the account channels its private subscriptions stand for."""
        held = {n for n in self.channels if n not in self.requested}
        for expanded in self.requested.values():
            held.update(expanded)
        return held

    def unsubscribe(self, names: list[str]) -> None:
        gone = [n for n in names if n in self.channels]
        before = self._hub_channels()
        self.channels.difference_update(gone)
        for name in gone:
            self.snapshot_trades.pop(name, None)
            self.requested.pop(name, None)
        released = before - self._hub_channels()
        for name in released:
            self.snapshot_rows.forget(name)
        self.hub.unsubscribe(self.mailbox, released)
        self.mailbox.drop(released)
        self.mailbox.control({"type": "unsubscribed", "channels": gone})

    def error(self, code: str, message: str, *, channel: str | None = None) -> None:
        body: dict[str, Any] = {"type": "error", "code": code, "message": message}
        if channel is not None:
            body["channel"] = channel
        self.mailbox.control(body)

    # -- the writer ------------------------------------------------------------------------

    async def _write(self) -> None:
        """Send what the mailbox holds, in order, until the connection ends; a failure is
        logged and ends the connection (1011) rather than leaving it silent."""
        try:
            await self._write_loop()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("/ws/stream writer failed; closing the connection")
            await self.close(code=CLOSE_SERVER_ERROR)

    async def _write_loop(self) -> None:
        box = self.mailbox
        send = self.raw_send
        backlog = self.backlog
        while True:
            await box.wait()
            delivered = 0
            sent = 0
            while box.queue:
                entry = box.take()
                if entry.kind == CONTROL:
                    await send({"type": "websocket.send", "text": entry.text})
                elif entry.kind == SNAPSHOTS:
                    for text in await self._snapshots(entry.future):
                        await send({"type": "websocket.send", "text": text})
                else:
                    if self.snapshot_trades and entry.channel in self.snapshot_trades:
                        if not self._without_snapshot_trades(entry):
                            continue
                    elif self.snapshot_rows and entry.channel in self.snapshot_rows:
                        data = self.snapshot_rows.keep(entry.channel, entry.data)
                        if data is None:
                            continue
                        if data is not entry.data:
                            entry.data, entry.text = data, None
                    await send({"type": "websocket.send", "text": box.render(entry)})
                    delivered += 1
                sent += 1
                if backlog is not None and backlog() > HIGH_WATER:
                    metrics.WS_DELIVERED.inc(delivered)
                    delivered = 0
                    box.stalled = True
                    try:
                        while backlog() > LOW_WATER:
                            await asyncio.sleep(DRAIN_POLL)
                    finally:
                        box.stalled = False
                elif sent % YIELD_EVERY == 0:
                    await asyncio.sleep(0)
            if delivered:
                metrics.WS_DELIVERED.inc(delivered)

    async def _snapshots(self, future: asyncio.Future) -> list[str]:
        try:
            latest = await future
        except Exception:  # the cache is down: no snapshots, updates follow
            log.exception("could not read the latest state for snapshots")
            return []
        for channel, data in latest.items():
            if channel.startswith(TRADES + "."):
                self.snapshot_trades[channel] = {t.get("trade_id") for t in data.get("trades", ())}
            elif is_account_channel(channel):
                self.snapshot_rows.remember(channel, data)
        return [update_text(channel, data, "snapshot") for channel, data in latest.items()]

    def _without_snapshot_trades(self, entry) -> bool:
        """A trades update right after its snapshot may repeat trades the snapshot holds (the
        batch that reached the cache before it was read reaches the hub after): drop those.
        False when nothing is left to send."""
        seen = self.snapshot_trades[entry.channel]
        trades = entry.data.get("trades", ())
        fresh = [t for t in trades if t.get("trade_id") not in seen]
        if len(fresh) == len(trades):
            del self.snapshot_trades[entry.channel]  # past the snapshot
            return True
        if not fresh:
            return False
        entry.data = {**entry.data, "trades": fresh}
        entry.text = None
        return True
