"""Bybit public REST under `/v5/market`: time, instruments-info, tickers, orderbook,
recent-trade.
"""

from __future__ import annotations

from decimal import Decimal

from aiohttp import web

from exchanges.simulator.bybit.constants import REST_BOOK_LIMITS, SIDE, VENUE, ZERO
from exchanges.simulator.bybit.errors import BybitError
from exchanges.simulator.bybit.wire import BybitInstrument, dec, ms
from exchanges.simulator.engine.records import SimTicker


class BybitMarketRest:
    """Bybit public REST handlers."""

    async def _market_time(self, params: dict, account: None, request: web.Request) -> dict:
        now = self.engine.clock_ns()
        return {"timeSecond": str(now // 1_000_000_000), "timeNano": str(now)}

    async def _instruments_info(self, params: dict, account: None, request: web.Request) -> dict:
        category = self._category(params)
        insts = [i for i in self._instruments.values() if i.category == category]
        if params.get("symbol"):
            insts = [i for i in insts if i.symbol == params["symbol"]]
        if params.get("baseCoin"):
            insts = [i for i in insts if i.info.base == params["baseCoin"]]
        rows = [self._instrument_row(i) for i in insts]
        page, cursor = self._page(rows, params, 500, 1000)
        return {"category": category, "list": page, "nextPageCursor": cursor}

    def _instrument_row(self, inst: BybitInstrument) -> dict:
        """One instruments-info row in the current docs' shape (docs "Get Instruments Info")."""
        info = inst.info
        status = "Trading" if info.active else "Closed"
        if inst.category == "spot":
            return {
                "symbol": inst.symbol,
                "baseCoin": info.base,
                "quoteCoin": info.quote,
                "innovation": "0",
                "status": status,
                "marginTrading": "utaOnly",
                "stTag": "0",
                "lotSizeFilter": {
                    "basePrecision": dec(info.lot_size),
                    "quotePrecision": "0.0000001",
                    "minOrderQty": dec(info.min_size),
                    "maxOrderQty": "83",
                    "minOrderAmt": dec(info.min_notional) if info.min_notional else "0",
                    "maxOrderAmt": "8000000",
                    "maxLimitOrderQty": "83",
                    "maxMarketOrderQty": "41.5",
                    "postOnlyMaxLimitOrderSize": "60000",
                },
                "priceFilter": {"tickSize": dec(info.tick_size)},
                "riskParameters": {"priceLimitRatioX": "0.005", "priceLimitRatioY": "0.01"},
                "symbolType": "",
            }
        scale = -int(info.tick_size.normalize().as_tuple().exponent)
        max_qty = "1190.000" if info.linear else "10000000"
        return {
            "symbol": inst.symbol,
            "contractType": "LinearPerpetual" if info.linear else "InversePerpetual",
            "status": status,
            "baseCoin": info.base,
            "quoteCoin": info.quote,
            "launchTime": "1585526400000",
            "deliveryTime": "0",
            "deliveryFeeRate": "",
            "priceScale": str(max(scale, 0)),
            "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
            "priceFilter": {
                "minPrice": dec(info.tick_size),
                "maxPrice": "1999999.80" if info.linear else "999999.00",
                "tickSize": dec(info.tick_size),
            },
            "lotSizeFilter": {
                "maxOrderQty": max_qty,
                "minOrderQty": dec(info.min_size),
                "qtyStep": dec(info.lot_size),
                "postOnlyMaxOrderQty": max_qty,
                "maxMktOrderQty": "500.000" if info.linear else "2000000",
                "minNotionalValue": dec(info.min_notional) if info.min_notional else "0",
            },
            "unifiedMarginTrade": True,
            "fundingInterval": 480,
            "settleCoin": info.settle,
            "copyTrading": "both",
            "upperFundingRate": "0.00375",
            "lowerFundingRate": "-0.00375",
            "isPreListing": False,
            "preListingInfo": None,
            "riskParameters": {"priceLimitRatioX": "0.01", "priceLimitRatioY": "0.02"},
            "symbolType": "",
        }

    async def _tickers(self, params: dict, account: None, request: web.Request) -> dict:
        category = self._category(params)
        if params.get("symbol"):
            insts = [self._instrument(category, params["symbol"])]
        else:
            insts = [i for i in self._instruments.values() if i.category == category]
        rows = [
            self._ticker_fields(i, self.engine.ticker(VENUE, i.engine_symbol), rest=True)
            for i in insts
        ]
        return {"category": category, "list": rows}

    def _ticker_fields(
        self, inst: BybitInstrument, ticker: SimTicker, *, rest: bool
    ) -> dict[str, str]:
        """A tickers row: the REST shape (docs "Get Tickers") or the WS data (fixture ws_tickers)."""
        pq, qq = inst.price_q, inst.qty_q
        last = ticker.last_price if ticker.last_price is not None else ticker.mark_price
        opened = ticker.open_24h if ticker.open_24h is not None else last
        change = (last - opened) / opened if opened else ZERO
        volume = ticker.volume_24h
        turnover = volume * last if inst.info.linear else (volume / last if last else ZERO)
        common = {
            "symbol": inst.symbol,
            "lastPrice": dec(last, pq),
            "prevPrice24h": dec(opened, pq),
            "price24hPcnt": dec(change.quantize(Decimal("0.000001"))),
            "highPrice24h": dec(ticker.high_24h if ticker.high_24h is not None else last, pq),
            "lowPrice24h": dec(ticker.low_24h if ticker.low_24h is not None else last, pq),
            "turnover24h": dec(turnover.quantize(Decimal("0.0001"))),
            "volume24h": dec(volume, qq),
        }
        bid_ask = {
            "bid1Price": dec(ticker.best_bid, pq),
            "bid1Size": dec(ticker.best_bid_size, qq),
            "ask1Price": dec(ticker.best_ask, pq),
            "ask1Size": dec(ticker.best_ask_size, qq),
        }
        index = dec(ticker.index_price, pq)
        if inst.category == "spot":
            row = {**common, "usdIndexPrice": index}
            return {**bid_ask, **row} if rest else row
        oi = ticker.open_interest
        oi_value = (
            oi * ticker.mark_price
            if inst.info.linear
            else (oi / ticker.mark_price if ticker.mark_price else ZERO)
        )
        derivative = {
            "indexPrice": index,
            "markPrice": dec(ticker.mark_price, pq),
            "prevPrice1h": dec(opened, pq),
            "openInterest": dec(oi, qq),
            "openInterestValue": dec(oi_value.quantize(Decimal("0.01"))),
            "fundingRate": dec(ticker.funding_rate if ticker.funding_rate is not None else ZERO),
            "nextFundingTime": str(self._next_funding_ms()),
            "fundingIntervalHour": "8",
        }
        if rest:
            return {
                **common,
                **derivative,
                **bid_ask,
                "predictedDeliveryPrice": "",
                "basisRate": "",
                "deliveryFeeRate": "",
                "deliveryTime": "0",
                "basis": "",
                "preOpenPrice": "",
                "preQty": "",
                "curPreListingPhase": "",
                "basisRateYear": "",
                "fundingCap": "0.005",
            }
        return {
            "symbol": inst.symbol,
            "tickDirection": self._tick_direction.get(inst.engine_symbol, "ZeroPlusTick"),
            **{k: v for k, v in common.items() if k != "symbol"},
            **derivative,
            **bid_ask,
        }

    def _next_funding_ms(self) -> int:
        period = 8 * 3600 * 1000
        return (self._now_ms() // period + 1) * period

    async def _orderbook(self, params: dict, account: None, request: web.Request) -> dict:
        category = self._category(params)
        inst = self._instrument(category, params.get("symbol"))
        low, high, default = REST_BOOK_LIMITS[category]
        try:
            limit = int(params.get("limit") or default)
        except ValueError as exc:
            raise BybitError(10001, "params error: limit invalid") from exc
        if not low <= limit <= high:
            raise BybitError(10001, "params error: limit invalid")
        bids, asks = self.engine.book(VENUE, inst.engine_symbol, limit)
        now = self._now_ms()
        seq = self._seq.get(inst.engine_symbol, 0)
        return {
            "s": inst.symbol,
            "b": [[dec(p, inst.price_q), dec(q, inst.qty_q)] for p, q in bids],
            "a": [[dec(p, inst.price_q), dec(q, inst.qty_q)] for p, q in asks],
            "ts": now,
            "u": seq,
            "seq": seq,
            "cts": now,
        }

    async def _recent_trade(self, params: dict, account: None, request: web.Request) -> dict:
        category = self._category(params)
        inst = self._instrument(category, params.get("symbol"))
        limit = int(params.get("limit") or 60)
        trades = self.engine.recent_trades(VENUE, inst.engine_symbol, max(1, min(limit, 1000)))
        rows = [
            {
                "execId": t.trade_id,
                "symbol": inst.symbol,
                "price": dec(t.price, inst.price_q),
                "size": dec(t.quantity, inst.qty_q),
                "side": SIDE[t.taker_side],
                "time": str(ms(t.ts_ns)),
                "isBlockTrade": False,
            }
            for t in trades
        ]
        return {"category": category, "list": rows}
