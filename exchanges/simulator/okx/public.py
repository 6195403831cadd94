"""OKX public pushes besides books: `trades` and `tickers` from the engine's trades and tickers."""

from __future__ import annotations

import orjson

from exchanges.simulator.engine.records import SimTicker, SimTrade
from exchanges.simulator.okx.constants import TICKER_INTERVAL_S, VENUE
from exchanges.simulator.okx.wire import ms, s


class OkxPublic:
    """Pushes the OKX `trades` and `tickers` channels."""

    def on_trade(self, trade: SimTrade) -> None:
        if trade.venue is not VENUE:
            return
        subs = self._topic_subs.get(("trades", trade.symbol))
        if not subs:
            return
        payload = orjson.dumps(
            {
                "arg": {"channel": "trades", "instId": trade.symbol},
                "data": [
                    {
                        "instId": trade.symbol,
                        "tradeId": trade.trade_id,
                        "px": s(trade.price),
                        "sz": s(trade.quantity),
                        "side": trade.taker_side.value,
                        "ts": ms(trade.ts_ns),
                        "count": "1",
                    }
                ],
            }
        )
        for conn in subs:
            conn.send(payload)

    def on_ticker(self, ticker: SimTicker) -> None:
        """Tickers go out at most once per 100 ms per instrument ("Tickers channel": fastest
        rate 1 update/100ms); a newer one inside the window waits for the flush loop."""
        if ticker.venue is not VENUE or not self._topic_subs.get(("tickers", ticker.symbol)):
            return
        now = self._loop.time() if self._loop is not None else 0.0
        if now - self._ticker_sent.get(ticker.symbol, -1.0) < TICKER_INTERVAL_S:
            self._ticker_pending[ticker.symbol] = ticker
            return
        self._push_ticker(ticker, now)

    def _push_ticker(self, ticker: SimTicker, now: float) -> None:
        self._ticker_sent[ticker.symbol] = now
        self._ticker_pending.pop(ticker.symbol, None)
        subs = self._topic_subs.get(("tickers", ticker.symbol))
        if not subs:
            return
        payload = orjson.dumps(
            {
                "arg": {"channel": "tickers", "instId": ticker.symbol},
                "data": [self._ticker_json(ticker)],
            }
        )
        for conn in subs:
            conn.send(payload)
