"""One account's private stream: orders, fills, positions and balances into the database.

`AccountConnector.run()` is one life of the stream, like `ExchangeConnector.run()`: it opens
`get_adapter(venue).private_stream(...)` with the account's keys (the adapter reconnects, logs
in and subscribes by itself), applies each event in order on the database thread
(`dispatch.apply_private_event`, which publishes what changed) and raises when something
breaks; the service's supervisor then starts another life after a jittered backoff, while the
other streams go on.

Catch-up. Each time the stream is subscribed (the first time and after every reconnect) the
account's recent fills (`RestClient.fills`, page by page from the cursor of the previous
catch-up where the venue's cursor resumes, `_catch_up_fills`), open orders, positions and balances are read over REST and applied the same way: what the venue
pushed while the socket was down is recovered, and applying it twice changes nothing
(`orders.ingest`, `portfolio.services`).

Dead-man switch (`PRIVATE_DEAD_MAN_SWITCH_SECONDS`, 0 = off), armed on every session:
Deribit cancel-on-disconnect and Bybit DCP ride on the private socket itself (the session asks
for them after login; the socket's heartbeats keep them fed; Bybit's window is set over REST
once per session), OKX `cancel-all-after` is a
timer: armed over REST when the stream is subscribed and refreshed every third of its
timeout while it stays up. A graceful stop leaves it armed: nobody watches the orders then.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from exchanges.venues.base import StreamState, StreamStatus, Venue
from exchanges.venues.protocols import PrivateStream, RestClient
from exchanges.venues.registry import get_adapter
from marketdata import metrics
from marketdata.connectors.config import WantedAccount
from marketdata.connectors.dispatch import apply_private_event
from marketdata.connectors.health import StreamHealth
from marketdata.connectors.lifecycle import StreamLife
from marketdata.connectors.persist import in_thread

log = logging.getLogger(__name__)

PRIVATE = "private"
CATCH_UP_PAGES = 20  # fills pages read per catch-up at most
OKX_TIMER_RANGE = (10, 120)  # cancel-all-after takes 0 or 10..120 s (OKX docs, "Cancel All After")


def make_account_rest(wanted: WantedAccount) -> RestClient:
    """The account's REST client (its shared rate budget) with the exchange's instruments in
    its symbol table, which the stream shares."""
    from exchanges.clients import rest_client

    client = rest_client(exchange=wanted.exchange, account=wanted.account)
    client.symbols.add_all(wanted.instruments)
    return client


def open_private_stream(
    wanted: WantedAccount, rest: RestClient, *, dead_man_switch: bool = False
) -> PrivateStream:
    """The venue's private stream for the account, naming symbols with the REST client's table.
    OKX's takes the REST client itself (its signer and clock); Bybit's DCP and Deribit's
    cancel-on-disconnect are session options."""
    adapter = get_adapter(wanted.venue)
    if wanted.venue is Venue.OKX:
        return adapter.private_stream(wanted.endpoints, wanted.credentials, rest=rest)
    if wanted.venue is Venue.BYBIT:
        return adapter.private_stream(
            wanted.endpoints,
            wanted.credentials,
            symbols=rest.symbols,
            clock=rest.clock,
            dead_man_switch=dead_man_switch,
        )
    return adapter.private_stream(
        wanted.endpoints,
        wanted.credentials,
        symbols=rest.symbols,
        cancel_on_disconnect=dead_man_switch,
    )


class AccountConnector(StreamLife):
    """Runs the private stream of one account (module docstring)."""

    kind = PRIVATE

    def __init__(
        self,
        wanted: WantedAccount,
        *,
        stream_factory: Callable[..., PrivateStream] = open_private_stream,
        rest_factory: Callable[[WantedAccount], RestClient] = make_account_rest,
        apply: Callable[[Any, Any], str] = apply_private_event,
        dead_man_seconds: int = 0,
    ) -> None:
        self.wanted = wanted
        self.stream_factory = stream_factory
        self.rest_factory = rest_factory
        self.apply = apply
        self.dead_man_seconds = dead_man_seconds
        self.health = StreamHealth()
        self.outcomes: collections.Counter[str] = collections.Counter()
        self.catch_ups = 0  # REST catch-ups completed
        self.stream: PrivateStream | None = None
        self.rest: RestClient | None = None
        self.connected = False
        self.fill_cursor: str | None = None
        self._subscribed = False  # this connection's catch-up has been started
        self._connections = 0
        self._stopping = False
        self.stopped = asyncio.Event()
        self._closed = False
        self._tasks: set[asyncio.Task] = set()
        self._loop = asyncio.get_running_loop()

    @property
    def slug(self) -> str:
        return self.wanted.slug

    @property
    def venue(self) -> Venue:
        return self.wanted.venue

    def now(self) -> float:
        return self._loop.time()

    # ------------------------------------------------------------------ lifecycle

    async def run(self) -> None:
        """One life of the stream, until `stop()` (returns) or a failure (raises). Every
        event received before `stop()` is applied before it returns."""
        self.health.started_at = datetime.now(UTC)
        self.rest = await asyncio.to_thread(self.rest_factory, self.wanted)
        self._closed = False
        self._connections = 0
        try:
            if self._stopping:
                return
            self.stream = self.stream_factory(
                self.wanted, self.rest, dead_man_switch=self.dead_man_seconds > 0
            )
            async for event in self.stream.events():
                if type(event) is StreamStatus:
                    self.on_status(event)
                    continue
                self.health.messages += 1
                self.health.last_message_at = datetime.now(UTC)
                await self.apply_event(event)
            if not self._stopping:
                raise ConnectionError(f"{self.slug} private stream ended by itself")
        finally:
            for task in list(self._tasks):
                task.cancel()
            await self._close_stream()
            self.stream = None
            self.connected = False
            self.health.state = StreamState.STOPPED if self._stopping else StreamState.DISCONNECTED
            metrics.STREAM_UP.labels(self.slug, PRIVATE).set(0)
            rest, self.rest = self.rest, None
            await asyncio.to_thread(rest.close)

    async def apply_event(self, event: Any) -> str:
        """Apply one account event on the database thread; count what it did."""
        outcome = await in_thread(self.apply, self.wanted.account, event)
        self.outcomes[outcome] += 1
        return outcome

    def _spawn(self, coroutine) -> asyncio.Task:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ------------------------------------------------------------------ statuses

    def on_status(self, status: StreamStatus) -> None:
        health = self.health
        state = status.state
        if state in (StreamState.CONNECTED, StreamState.AUTHENTICATED, StreamState.SUBSCRIBED):
            if not self.connected:
                self._connections += 1
                if self._connections > 1:
                    health.reconnects += 1
                self.connected = True
                self._subscribed = False
            health.state, health.detail = state, status.detail
            metrics.STREAM_UP.labels(self.slug, PRIVATE).set(1)
            if state is StreamState.SUBSCRIBED and not self._subscribed:
                self._subscribed = True
                self._spawn(self.catch_up())
                if self.dead_man_seconds > 0 and self.venue is Venue.OKX:
                    self._spawn(self._keep_okx_timer())
                elif self.dead_man_seconds > 0 and self.venue is Venue.BYBIT:
                    self._spawn(self._set_bybit_window())
        elif state in (StreamState.DISCONNECTED, StreamState.STOPPED):
            self.connected = False
            self._subscribed = False
            health.state, health.detail = state, status.detail
            metrics.STREAM_UP.labels(self.slug, PRIVATE).set(0)
        elif state is StreamState.CONNECTING and not self.connected:
            health.state, health.detail = state, status.detail

    # ------------------------------------------------------------------ REST side

    async def catch_up(self) -> None:
        """Apply the account's fills since the last catch-up, open orders, positions and
        balances as the venue's REST API gives them (module docstring)."""
        rest = self.rest
        if rest is None:
            return
        try:
            await self._catch_up_fills(rest)
            for read in (rest.open_orders, rest.positions, rest.balances):
                for event in await asyncio.to_thread(read):
                    await self.apply_event(event)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a REST error: the next (re)connect catches up again
            log.warning("%s: private catch-up failed: %s", self.slug, exc, exc_info=True)
            self.health.detail = f"catch-up failed: {type(exc).__name__}: {exc}"[:500]
            return
        self.catch_ups += 1

    async def _catch_up_fills(self, rest: RestClient) -> None:
        """The fills (and account executions) of `rest.fills`, page by page, at most
        `CATCH_UP_PAGES`: from the previous catch-up's cursor where the venue's cursor resumes
        after what it returned (OKX, Deribit), else from the newest page each time (Bybit
        pages through its history; its first pages hold what is new)."""
        resumes = get_adapter(self.venue).fills_cursor_resumes
        cursor = self.fill_cursor if resumes else None
        for _ in range(CATCH_UP_PAGES):
            page = await asyncio.to_thread(rest.fills, cursor=cursor)
            for event in (*page.fills, *page.executions):
                await self.apply_event(event)
            if page.cursor is None or page.cursor == cursor:
                break
            cursor = page.cursor
            if resumes:
                self.fill_cursor = cursor
                if not (page.fills or page.executions):
                    break

    async def _set_bybit_window(self) -> None:
        """Bybit DCP: the socket subscribed to `dcp` is what keeps it fed; the window after
        which the orders go is set over REST once per session (3..300 s)."""
        try:
            await asyncio.to_thread(self.rest.set_dead_man_switch, self.dead_man_seconds)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # DCP keeps the window set before (10 s by default)
            log.warning("%s: DCP window not set: %s", self.slug, exc)

    async def _keep_okx_timer(self) -> None:
        """OKX `cancel-all-after`: arm it now and call it again every third of the timeout
        while this connection lives (module docstring)."""
        low, high = OKX_TIMER_RANGE
        seconds = min(max(self.dead_man_seconds, low), high)
        connection = self._connections  # a reconnect starts a refresher of its own
        while self.connected and self._connections == connection and self.rest is not None:
            try:
                await asyncio.to_thread(self.rest.set_dead_man_switch, seconds)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the next round tries again, well inside the timeout
                log.warning("%s: cancel-all-after refresh failed: %s", self.slug, exc)
            await asyncio.sleep(seconds / 3)
