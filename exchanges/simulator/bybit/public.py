"""Bybit public pushes besides books: `publicTrade` and `tickers` ("Trade", "Ticker")."""

from __future__ import annotations

import orjson

from exchanges.simulator.bybit.constants import SIDE, VENUE
from exchanges.simulator.bybit.wire import BybitInstrument, dec, ms
from exchanges.simulator.engine.records import SimTicker, SimTrade


class BybitPublic:
    """Pushes the Bybit trade and ticker topics."""

    def on_trade(self, trade: SimTrade) -> None:
        if trade.venue is not VENUE:
            return
        symbol = trade.symbol
        self._seq[symbol] = self._seq.get(symbol, 0) + 1
        previous = self._last_trade.get(symbol)
        if previous is not None:
            if trade.price > previous:
                self._tick_direction[symbol] = "PlusTick"
            elif trade.price < previous:
                self._tick_direction[symbol] = "MinusTick"
            else:
                self._tick_direction[symbol] = (
                    "ZeroPlusTick"
                    if self._tick_direction.get(symbol, "PlusTick").endswith("PlusTick")
                    else "ZeroMinusTick"
                )
        self._last_trade[symbol] = trade.price
        inst = self._by_engine_symbol.get(symbol)
        if inst is None:
            return
        topic = f"publicTrade.{inst.symbol}"
        subs = self._topic_subs.get((inst.category, topic))
        if not subs:
            return
        ts = ms(trade.ts_ns)
        data = orjson.dumps(
            {
                "topic": topic,
                "type": "snapshot",
                "ts": ts,
                "data": [
                    {
                        "T": ts,
                        "s": inst.symbol,
                        "S": SIDE[trade.taker_side],
                        "v": dec(trade.quantity, inst.qty_q),
                        "p": dec(trade.price, inst.price_q),
                        "i": trade.trade_id,
                        "BT": False,
                    }
                ],
            }
        )
        for conn in list(subs):
            conn.send(data)

    def on_ticker(self, ticker: SimTicker) -> None:
        if ticker.venue is not VENUE:
            return
        inst = self._by_engine_symbol.get(ticker.symbol)
        if inst is None:
            return
        topic = f"tickers.{inst.symbol}"
        subs = self._topic_subs.get((inst.category, topic))
        if not subs:
            return
        fields = self._ticker_fields(inst, ticker, rest=False)
        if inst.category == "spot":
            data = self._ticker_message(inst, topic, "snapshot", fields)
        else:
            base = self._ticker_sent.get(inst.engine_symbol, {})
            changed = {k: v for k, v in fields.items() if base.get(k) != v}
            if not changed:
                return
            self._ticker_sent[inst.engine_symbol] = fields
            data = self._ticker_message(inst, topic, "delta", {"symbol": inst.symbol, **changed})
        for conn in list(subs):
            conn.send(data)

    def _ticker_message(self, inst: BybitInstrument, topic: str, kind: str, data: dict) -> bytes:
        return orjson.dumps(
            {
                "topic": topic,
                "type": kind,
                "data": data,
                "cs": self._seq.get(inst.engine_symbol, 0),
                "ts": self._now_ms(),
            }
        )
