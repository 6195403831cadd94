"""Deribit public pushes besides books: `trades.*` and `ticker.*` channels, and the 100 ms tick
that publishes the batched channels.
"""

from __future__ import annotations

import asyncio
import logging

from exchanges.simulator.deribit.constants import VENUE
from exchanges.simulator.deribit.wire import TradeMeta, notification
from exchanges.simulator.engine.records import SimTicker, SimTrade

logger = logging.getLogger(__name__)


class DeribitPublic:
    """Pushes the Deribit trade and ticker channels."""

    def on_trade(self, trade: SimTrade) -> None:
        if trade.venue is not VENUE:
            return
        info = self.instruments.get(trade.symbol)
        if info is None:
            return
        seq = self._trade_seq.get(trade.symbol, 0) + 1
        self._trade_seq[trade.symbol] = seq
        last = self._last_trade.get(trade.symbol)
        if last is None or trade.price > last[0]:
            tick = 0
        elif trade.price < last[0]:
            tick = 2
        else:
            tick = 1 if last[1] in (0, 1) else 3
        self._last_trade[trade.symbol] = (trade.price, tick)
        meta = TradeMeta(
            trade_seq=seq,
            tick_direction=tick,
            index_price=self.engine.index_price(info.base),
            mark_price=self.engine.mark_price(VENUE, trade.symbol),
        )
        self._trade_meta[trade.trade_id] = meta
        if len(self._trade_meta) > 100_000:
            self._trade_meta.popitem(last=False)
        data = self._public_trade_data(trade, meta)
        self._pending_trades.setdefault(trade.symbol, []).append(data)
        self._batched_trades.setdefault(trade.symbol, []).append(data)
        self._schedule_flush()

    def on_ticker(self, ticker: SimTicker) -> None:
        if ticker.venue is not VENUE:
            return
        info = self.instruments.get(ticker.symbol)
        if info is None:
            return
        data = None
        for conn in self._conns.values():
            for name, channel in conn.channels.items():
                if channel.family != "ticker" or channel.instrument != ticker.symbol:
                    continue
                if data is None:
                    data = self._ticker_data(info, ticker)
                if channel.interval == "raw":
                    conn.send(notification(name, data))
        if data is not None:
            self._latest_ticker[ticker.symbol] = data

    def _flush_public_trades(self, interval: str) -> None:
        source = self._pending_trades if interval == "raw" else self._batched_trades
        if not source:
            return
        batches = dict(source)
        source.clear()
        for conn in self._conns.values():
            for name, channel in conn.channels.items():
                if channel.family != "trades" or channel.interval != interval:
                    continue
                if channel.instrument is not None:
                    trades = batches.get(channel.instrument)
                else:
                    trades = [
                        t
                        for symbol, items in batches.items()
                        if channel.matches(self.instruments[symbol])
                        for t in items
                    ]
                if trades:
                    conn.send(notification(name, trades))

    def _publish_tickers(self) -> None:
        if not self._latest_ticker:
            return
        latest = dict(self._latest_ticker)
        self._latest_ticker.clear()
        for conn in self._conns.values():
            for name, channel in conn.channels.items():
                if channel.family == "ticker" and channel.interval == "100ms":
                    data = latest.get(channel.instrument)
                    if data is not None:
                        conn.send(notification(name, data))

    async def _tick_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._closed:
            await asyncio.sleep(self.options["flush_interval_ms"] / 1000)
            try:
                self._tick(loop.time())
            except Exception:
                logger.exception("deribit face tick failed")

    def _tick(self, now: float) -> None:
        if self._private_dirty or self._pending_trades:
            self._flush_soon()
        self._publish_books()
        self._flush_public_trades("100ms")
        self._publish_tickers()
        idle = float(self.options["idle_timeout"])
        for conn in list(self._conns.values()):
            self._flush_private(conn, conn.private_batched, raw=False)
            if now - conn.last_seen > idle and not conn.closing:
                conn.finish()
