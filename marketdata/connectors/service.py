"""The connector service: every exchange's public stream and every account's private stream,
supervised, on one event loop.

`MarketDataService.start()` loads the desired state and starts one supervised task per
exchange (`ExchangeConnector.run`) and one per enabled account with keys
(`AccountConnector.run`, `private.py`: orders, fills, positions, balances into the database);
beside them run the reload (`CONNECTOR_RELOAD_SECONDS`:
exchanges and subscriptions added, changed or removed take effect without a restart), the
status writer (`CONNECTOR_STATUS_SECONDS`: one `ConnectorStatus` row per stream, and the
prometheus gauges), the persister (trades every second, top-of-book samples every
`MARKETDATA_TOP_OF_BOOK_SECONDS`), the consolidation and arbitrage runner
(`CONSOLIDATION_SECONDS`) and the feed publisher. A stream that raises is restarted with
jittered exponential backoff (up to `RESTART_BACKOFF.maximum`), counted as a reconnect, while
the others go on. `stop()` closes the streams (a private stream applies every event it already
received first), writes what is pending, sets every status disconnected and flushes the
publisher. While it runs, account updates (`orders.notify`) leave through its publisher.

It runs alone (`manage.py run_connectors`) or on another loop (`run_gateway` starts it on
daphne's asyncio loop).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connections

from exchanges.venues.ws import Backoff
from marketdata import feed
from marketdata.connectors import config
from marketdata.connectors.consolidation import Consolidator, Listing
from marketdata.connectors.exchange import ExchangeConnector, Timing, open_stream
from marketdata.connectors.persist import Persister, in_thread
from marketdata.connectors.private import AccountConnector, open_private_stream
from marketdata.connectors.status import account_status_rows, status_rows, write_statuses
from orders import notify
from portfolio.services import mark_to_market
from risk.breaker import MarkWindows
from risk.breaker_service import observe_marks

log = logging.getLogger(__name__)

RESTART_BACKOFF = Backoff(initial=0.5, maximum=30.0)
STEADY_SECONDS = 60.0  # a life that lasted this long resets the restart backoff


@dataclass(frozen=True, slots=True)
class Intervals:
    """The service's clocks in seconds; `from_settings()` reads the settings."""

    reload: float = 5.0
    status: float = 2.0
    consolidation: float = 0.5
    top_of_book: float = 5.0
    trades: float = 1.0
    stale: float = 10.0
    drift: float = 60.0

    @classmethod
    def from_settings(cls) -> Intervals:
        return cls(
            reload=settings.CONNECTOR_RELOAD_SECONDS,
            status=settings.CONNECTOR_STATUS_SECONDS,
            consolidation=settings.CONSOLIDATION_SECONDS,
            top_of_book=settings.MARKETDATA_TOP_OF_BOOK_SECONDS,
            trades=settings.MARKETDATA_TRADE_BATCH_SECONDS,
            stale=settings.BOOK_STALE_SECONDS,
            drift=settings.BOOK_DRIFT_CHECK_SECONDS,
        )


class MarketDataService:
    def __init__(
        self,
        *,
        slugs: Sequence[str] | None = None,
        publisher: feed.FeedPublisher | None = None,
        intervals: Intervals | None = None,
        stream_factory: Callable[..., Any] = open_stream,
        restart_backoff: Backoff = RESTART_BACKOFF,
        persister: Persister | None = None,
        private: bool = True,
        account_stream_factory: Callable[..., Any] = open_private_stream,
        dead_man_seconds: int | None = None,
    ) -> None:
        self.slugs = list(slugs or [])
        self.publisher = publisher or feed.FeedPublisher()
        self.intervals = intervals or Intervals.from_settings()
        self.stream_factory = stream_factory
        self.restart_backoff = restart_backoff
        self.persister = persister or Persister(
            trade_seconds=self.intervals.trades, top_seconds=self.intervals.top_of_book
        )
        self.consolidator = Consolidator(
            self.publisher,
            min_edge_bps=Decimal(settings.ARBITRAGE_MIN_EDGE_BPS),
            fee_overrides=settings.ARBITRAGE_TAKER_FEES,
        )
        self.connectors: dict[int, ExchangeConnector] = {}  # by exchange id
        self._supervisors: dict[int, asyncio.Task] = {}
        self.private = private
        self.account_stream_factory = account_stream_factory
        self.dead_man_seconds = (
            settings.PRIVATE_DEAD_MAN_SWITCH_SECONDS
            if dead_man_seconds is None
            else dead_man_seconds
        )
        self.accounts: dict[int, AccountConnector] = {}  # by account id
        self.mark_windows = MarkWindows()  # recent marks per instrument, for the circuit breaker
        self._account_supervisors: dict[int, asyncio.Task] = {}
        self._tasks: list[asyncio.Task] = []
        self._publisher_task: asyncio.Task | None = None
        self._stopped = asyncio.Event()
        self.started = False

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self._publisher_task = asyncio.ensure_future(self.publisher.run())
        notify.use_publisher(self.publisher, asyncio.get_running_loop())
        await self.reload()
        i = self.intervals
        self._tasks = [
            asyncio.ensure_future(self._every(i.reload, self.reload, "reload")),
            asyncio.ensure_future(self._every(i.status, self.write_status, "status")),
            asyncio.ensure_future(self._every(i.consolidation, self.consolidate, "consolidation")),
            asyncio.ensure_future(self._every(i.status, self.watch_marks, "circuit breaker")),
            asyncio.ensure_future(self.persister.run(self.top_of_book)),
        ]
        if self.private:
            self._tasks.append(
                asyncio.ensure_future(self._every(i.status, self.mark_positions, "marks"))
            )
        self.started = True
        log.info(
            "market data service started: %s",
            ", ".join(c.slug for c in [*self.connectors.values(), *self.accounts.values()])
            or "no exchanges",
        )

    async def stop(self) -> None:
        """Close every stream, write what is pending, mark the streams disconnected."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await asyncio.gather(
            *(self._stop_one(pk) for pk in list(self.connectors)),
            *(self._stop_account(pk) for pk in list(self.accounts)),
        )
        notify.release_publisher(self.publisher)
        await self.persister.flush()
        await self.publisher.aclose()
        if self._publisher_task is not None:
            await self._publisher_task
        await in_thread(connections.close_all)  # the database thread's connection, last
        self._stopped.set()
        log.info("market data service stopped")

    async def run_until(self, stop: asyncio.Event) -> None:
        """`start`, wait for `stop` to be set, then `stop()`."""
        await self.start()
        try:
            await stop.wait()
        finally:
            await self.stop()

    async def _every(self, seconds: float, job: Callable[[], Awaitable[Any]], name: str) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await job()
            except Exception:  # a failed round (the database away) is logged; the next runs
                log.exception("market data %s failed", name)

    def latest_marks(self) -> dict[int, Decimal | None]:
        """Each streamed instrument's latest mark (else last price), by instrument id."""
        marks: dict[int, Decimal | None] = {}
        for connector in self.connectors.values():
            for symbol, wanted in connector.wanted.instruments.items():
                ticker = connector.tickers.get(symbol)
                if ticker is not None:
                    marks[wanted.instrument_id] = ticker.mark_price or ticker.last_price
        return marks

    async def mark_positions(self) -> int:
        """Mark the open positions to the streamed tickers' mark prices (unrealized PnL), one
        bulk write for every exchange's latest marks; returns the positions that changed."""
        marks = self.latest_marks()
        if not marks:
            return 0
        return await in_thread(mark_to_market, marks)

    async def watch_marks(self) -> int:
        """Hand the latest marks to the circuit breaker (`risk.breaker_service.observe_marks`,
        which keeps the recent ones in `mark_windows`); returns the trips it recorded."""
        marks = self.latest_marks()
        if not marks:
            return 0
        return len(await in_thread(observe_marks, self.mark_windows, marks))

    # ------------------------------------------------------------------ desired state

    async def reload(self) -> None:
        """Bring the running streams in line with the database."""
        wanted = await in_thread(config.load_desired, self.slugs)
        for pk in [pk for pk in self.connectors if pk not in wanted]:
            await self._stop_one(pk)
        for pk, exchange in wanted.items():
            connector = self.connectors.get(pk)
            if connector is not None and not connector.wanted.same_stream(exchange):
                await self._stop_one(pk)
                connector = None
            if connector is None:
                self._start_one(exchange)
            else:
                await connector.apply(exchange)
        if self.private:
            await self.reload_accounts()

    async def reload_accounts(self) -> None:
        """One private stream per enabled account with keys on an enabled exchange: accounts
        gone or disabled are stopped, new ones started, changed ones (keys, endpoints)
        restarted."""
        wanted = await in_thread(config.load_accounts, self.slugs)
        for pk in [pk for pk in self.accounts if wanted.get(pk) != self.accounts[pk].wanted]:
            await self._stop_account(pk)
        for pk, account in wanted.items():
            if pk not in self.accounts:
                self._start_account(account)

    def _start_account(self, wanted: config.WantedAccount) -> None:
        connector = AccountConnector(
            wanted,
            stream_factory=self.account_stream_factory,
            dead_man_seconds=self.dead_man_seconds,
        )
        self.accounts[wanted.account_id] = connector
        self._account_supervisors[wanted.account_id] = asyncio.ensure_future(
            self._supervise(connector)
        )
        log.info("%s: private stream started", wanted.slug)

    async def _stop_account(self, pk: int) -> None:
        connector = self.accounts.pop(pk)
        supervisor = self._account_supervisors.pop(pk)
        await self._end(connector, supervisor)
        await in_thread(write_statuses, account_status_rows([connector], final=True))
        log.info("%s: private stream stopped", connector.slug)

    def _start_one(self, wanted: config.WantedExchange) -> None:
        connector = ExchangeConnector(
            wanted,
            publisher=self.publisher,
            persister=self.persister,
            timing=Timing(stale=self.intervals.stale, drift=self.intervals.drift),
            stream_factory=self.stream_factory,
        )
        self.connectors[wanted.exchange_id] = connector
        self._supervisors[wanted.exchange_id] = asyncio.ensure_future(self._supervise(connector))
        log.info(
            "%s: public stream started, %d subscriptions", wanted.slug, len(wanted.instruments)
        )

    async def _stop_one(self, pk: int) -> None:
        connector = self.connectors.pop(pk)
        supervisor = self._supervisors.pop(pk)
        await self._end(connector, supervisor)
        await in_thread(write_statuses, status_rows([connector], self.intervals, final=True))
        log.info("%s: public stream stopped", connector.slug)

    async def _end(self, connector: Any, supervisor: asyncio.Task) -> None:
        """Stop a connector and wait (5 s at most) for its last life to finish."""
        await connector.stop()
        try:
            await asyncio.wait_for(asyncio.shield(supervisor), 5)
        except TimeoutError:
            supervisor.cancel()
        except Exception:
            log.exception("%s: supervisor failed while stopping", connector.slug)

    async def _supervise(self, connector: ExchangeConnector | AccountConnector) -> None:
        """Run the connector's stream (an exchange's public one or an account's private one);
        when it raises, start it again after a backoff."""
        kind = getattr(connector, "kind", "public")
        loop = asyncio.get_running_loop()
        attempt = 0
        while not connector.stopped.is_set():
            started = loop.time()
            try:
                await connector.run()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("%s: %s stream failed; restarting", connector.slug, kind)
                connector.health.reconnects += 1
                connector.health.detail = f"restarting after {type(exc).__name__}: {exc}"
            if connector.stopped.is_set():
                return
            if loop.time() - started >= STEADY_SECONDS:
                attempt = 0
            delay = self.restart_backoff.delay(attempt)
            attempt += 1
            try:
                await asyncio.wait_for(connector.stopped.wait(), delay)
            except TimeoutError:
                pass

    # ------------------------------------------------------------------ periodic jobs

    async def write_status(self) -> None:
        rows = status_rows(list(self.connectors.values()), self.intervals)
        rows += account_status_rows(list(self.accounts.values()))
        await in_thread(write_statuses, rows)

    def listings(self) -> list[Listing]:
        return [
            Listing(connector.wanted.exchange, connector.wanted.instruments[symbol], book)
            for connector in self.connectors.values()
            for symbol, book in connector.books.items()
            if symbol in connector.wanted.instruments
        ]

    async def consolidate(self) -> None:
        await self.consolidator.run_once(self.listings())

    def top_of_book(self) -> list:
        return [row for c in self.connectors.values() for row in c.top_of_book()]
