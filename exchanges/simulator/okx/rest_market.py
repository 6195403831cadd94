"""OKX public REST: `/api/v5/public/time`, `/public/instruments`, `/market/ticker(s)`,
`/market/books`, `/market/trades`.
"""

from __future__ import annotations

from aiohttp import web

from exchanges.simulator.okx.constants import VENUE
from exchanges.simulator.okx.errors import empty_param, param_error
from exchanges.simulator.okx.wire import ms, s
from exchanges.venues.base import Side


class OkxMarketRest:
    """OKX public REST handlers."""

    async def _rest_time(self, request: web.Request) -> web.Response:
        self._limit("time", request.remote or "")
        return self._ok([{"ts": ms(self._now_ns())}])

    async def _rest_instruments(self, request: web.Request) -> web.Response:
        self._limit("instruments", request.remote or "")
        inst_type = request.query.get("instType", "")
        if not inst_type:
            raise empty_param("instType")
        if inst_type not in ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION"):
            raise param_error("instType")
        inst_id = request.query.get("instId")
        data = [
            self._instrument_json(info)
            for info in self.instruments.values()
            if self._inst_type(info) == inst_type and (not inst_id or info.venue_symbol == inst_id)
        ]
        return self._ok(data)

    async def _rest_ticker(self, request: web.Request) -> web.Response:
        self._limit("ticker", request.remote or "")
        info = self._instrument(request.query.get("instId"))
        return self._ok([self._ticker_json(self.engine.ticker(VENUE, info.venue_symbol))])

    async def _rest_tickers(self, request: web.Request) -> web.Response:
        self._limit("tickers", request.remote or "")
        inst_type = request.query.get("instType", "")
        if not inst_type:
            raise empty_param("instType")
        family = request.query.get("instFamily")
        data = [
            self._ticker_json(self.engine.ticker(VENUE, info.venue_symbol))
            for info in self.instruments.values()
            if self._inst_type(info) == inst_type
            and (not family or self._inst_family(info) == family)
        ]
        return self._ok(data)

    async def _rest_books(self, request: web.Request) -> web.Response:
        """`GET /api/v5/market/books`: `sz` levels a side (default 1, at most 400) with the
        instrument's current `seqId`, the same sequence the book channels carry."""
        self._limit("books", request.remote or "")
        info = self._instrument(request.query.get("instId"))
        raw_sz = request.query.get("sz", "1")
        if not raw_sz.isdigit() or not 1 <= int(raw_sz) <= 400:
            raise param_error("sz")
        inst = info.venue_symbol
        bids, asks = self.engine.book(VENUE, inst, int(raw_sz))
        item = {
            "asks": self._levels(inst, Side.SELL, asks),
            "bids": self._levels(inst, Side.BUY, bids),
            "ts": ms(self._book_ts[inst]),
            "seqId": self._seq[inst],
        }
        return self._ok([item])

    async def _rest_trades(self, request: web.Request) -> web.Response:
        """`GET /api/v5/market/trades` ("Get trades"): the latest `limit` trades (default 100,
        at most 500), newest first."""
        self._limit("trades", request.remote or "")
        info = self._instrument(request.query.get("instId"))
        raw_limit = request.query.get("limit", "100")
        if not raw_limit.isdigit() or int(raw_limit) < 1:
            raise param_error("limit")
        trades = self.engine.recent_trades(VENUE, info.venue_symbol, min(int(raw_limit), 500))
        return self._ok(
            [
                {
                    "instId": info.venue_symbol,
                    "side": trade.taker_side.value,
                    "sz": s(trade.quantity),
                    "px": s(trade.price),
                    "source": "0",
                    "tradeId": trade.trade_id,
                    "ts": ms(trade.ts_ns),
                }
                for trade in trades
            ]
        )
