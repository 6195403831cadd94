"""OKX JSON builders: instruments, tickers, orders, fills, positions and balances in the key sets
of the recorded payloads (`okx/*.json`), plus the number formats OKX uses.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from exchanges.simulator.engine.margin import MAINTENANCE_MARGIN
from exchanges.simulator.engine.records import (
    SimAccount,
    SimBalance,
    SimFill,
    SimOrder,
    SimPosition,
    SimTicker,
)
from exchanges.simulator.okx.constants import (
    CANCEL_SOURCE,
    INSTRUMENT_CODES,
    LIST_TIME,
    STABLE_COINS,
    STATE,
    VENUE,
    ZERO,
)
from exchanges.venues.base import InstrumentInfo, InstrumentKind, Liquidity, OrderStatus, Side


def s(value: Decimal | int | None) -> str:
    """An amount as OKX writes it: a plain decimal string, "" when absent."""
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    text = format(value.normalize(), "f") if value else "0"
    return text


def ms(ts_ns: int) -> str:
    return str(ts_ns // 1_000_000)


def micros() -> str:
    """`inTime`/`outTime`: wall-clock microseconds at the gateway ("Place order" response)."""
    return str(time.time_ns() // 1000)


def _project(data: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    return {key: data[key] for key in keys}


# Keys of the recorded payloads (okx/rest_orders_pending.json, ws_orders.json, ...).
ORDER_KEYS = (
    "accFillSz", "algoClOrdId", "algoId", "attachAlgoClOrdId", "attachAlgoOrds", "avgPx",
    "cTime", "cancelSource", "cancelSourceReason", "category", "ccy", "clOrdId", "fee",
    "feeCcy", "fillPx", "fillSz", "fillTime", "instId", "instType", "isTpLimit", "lever",
    "linkedAlgoOrd", "ordId", "ordType", "pnl", "posSide", "px", "pxType", "pxUsd", "pxVol",
    "quickMgnType", "rebate", "rebateCcy", "reduceOnly", "side", "slOrdPx", "slTriggerPx",
    "slTriggerPxType", "source", "state", "stpId", "stpMode", "sz", "tag", "tdMode", "tgtCcy",
    "tpOrdPx", "tpTriggerPx", "tpTriggerPxType", "tradeId", "uTime",
)  # fmt: skip


WS_ORDER_KEYS = (*ORDER_KEYS, "execType")


BALANCE_DETAIL_KEYS = (
    "accAvgPx", "availBal", "availEq", "borrowFroz", "cashBal", "ccy", "clSpotInUseAmt",
    "collateralEnabled", "crossLiab", "disEq", "eq", "eqUsd", "fixedBal", "frozenBal", "imr",
    "interest", "isoEq", "isoLiab", "isoUpl", "liab", "maxLoan", "maxSpotInUseAmt", "mgnRatio",
    "mmr", "notionalLever", "openAvgPx", "ordFrozen", "rewardBal", "smtSyncEq", "spotBal",
    "spotCopyTradingEq", "spotInUseAmt", "spotIsoBal", "spotUpl", "spotUplRatio", "stgyEq",
    "totalPnl", "totalPnlRatio", "twap", "uTime", "upl", "uplLiab",
)  # fmt: skip


WS_BALANCE_DETAIL_KEYS = (
    *BALANCE_DETAIL_KEYS, "coinUsdPrice", "colBorrAutoConversion", "collateralRestrict",
)  # fmt: skip


BALANCE_KEYS = (
    "adjEq", "borrowFroz", "details", "imr", "isoEq", "mgnRatio", "mmr", "notionalUsd",
    "notionalUsdForBorrow", "notionalUsdForFutures", "notionalUsdForOption",
    "notionalUsdForSwap", "ordFroz", "totalEq", "uTime", "upl",
)  # fmt: skip


WS_BALANCE_KEYS = (*BALANCE_KEYS, "availEq")


@dataclass
class OrderMeta:
    """What an OKX order carries that the engine does not: the wire order type and modes."""

    ord_type: str
    td_mode: str
    tag: str = ""
    tgt_ccy: str = ""
    wire_sz: str = ""  # a spot market order sized in quote currency keeps its own sz
    req_id: str = ""


class OkxWire:
    """Turns engine records into OKX JSON objects."""

    @staticmethod
    def _inst_type(info: InstrumentInfo) -> str:
        return {
            InstrumentKind.SPOT: "SPOT",
            InstrumentKind.PERPETUAL: "SWAP",
            InstrumentKind.FUTURE: "FUTURES",
            InstrumentKind.OPTION: "OPTION",
        }[info.kind]

    @staticmethod
    def _inst_family(info: InstrumentInfo) -> str:
        return "" if info.kind is InstrumentKind.SPOT else f"{info.base}-{info.quote}"

    def _instrument_json(self, info: InstrumentInfo) -> dict[str, Any]:
        """One `GET /api/v5/public/instruments` item, keyed as okx/rest_instruments_*.json."""
        common = {
            "alias": "",
            "auctionEndTime": "",
            "category": "1",
            "expTime": "",
            "instId": info.venue_symbol,
            "instType": self._inst_type(info),
            "listTime": LIST_TIME,
            "lotSz": s(info.lot_size),
            "maxIcebergSz": "9999999999.0000000000000000",
            "maxLmtAmt": "20000000",
            "maxLmtSz": "9999999999",
            "maxStopSz": "1000000",
            "maxTriggerSz": "9999999999.0000000000000000",
            "maxTwapSz": "9999999999.0000000000000000",
            "minSz": s(info.min_size),
            "optType": "",
            "ruleType": "normal",
            "state": "live" if info.active else "suspend",
            "stk": "",
            "tickSz": s(info.tick_size),
        }
        if info.kind is InstrumentKind.SPOT:
            return {
                **common,
                "baseCcy": info.base,
                "ctMult": "",
                "ctType": "",
                "ctVal": "",
                "ctValCcy": "",
                "instFamily": "",
                "lever": "",
                "maxMktAmt": "1000000",
                "maxMktSz": "1000000",
                "quoteCcy": info.quote,
                "settleCcy": "",
                "uly": "",
            }
        family = self._inst_family(info)
        return {
            **common,
            "baseCcy": "",
            "contTdSwTime": "",
            "ctMult": "1",
            "ctType": "linear" if info.linear else "inverse",
            "ctVal": s(info.contract_size),
            "ctValCcy": info.base if info.linear else info.quote,
            "futureSettlement": False,
            "instFamily": family,
            "instIdCode": INSTRUMENT_CODES.get(info.venue_symbol, 10_000 + len(info.venue_symbol)),
            "lever": "100",
            "maxMktAmt": "",
            "maxMktSz": "10000",
            "maxPlatOILmt": "",
            "openType": "",
            "posLmtAmt": "",
            "posLmtPct": "",
            "preMktSwTime": "",
            "quoteCcy": "",
            "settleCcy": info.settle,
            "tradeQuoteCcyList": [],
            "uly": family,
        }

    def _ticker_json(self, ticker: SimTicker) -> dict[str, str]:
        """A ticker as `GET /api/v5/market/ticker` and the `tickers` channel send it."""
        info = self.instruments[ticker.symbol]
        volume = ticker.volume_24h
        if info.kind is InstrumentKind.SPOT:
            vol_ccy = volume * (ticker.last_price or ZERO)
        elif info.linear:
            vol_ccy = volume * info.contract_size
        else:
            vol_ccy = volume * info.contract_size / ticker.last_price if ticker.last_price else ZERO
        open_24h = ticker.open_24h if ticker.open_24h is not None else ticker.last_price
        return {
            "instType": self._inst_type(info),
            "instId": ticker.symbol,
            "last": s(ticker.last_price),
            "lastSz": s(ticker.last_size if ticker.last_size is not None else ZERO),
            "askPx": s(ticker.best_ask),
            "askSz": s(ticker.best_ask_size),
            "bidPx": s(ticker.best_bid),
            "bidSz": s(ticker.best_bid_size),
            "open24h": s(open_24h),
            "high24h": s(ticker.high_24h),
            "low24h": s(ticker.low_24h),
            "volCcy24h": s(vol_ccy.quantize(Decimal("0.00000001")) if vol_ccy else ZERO),
            "vol24h": s(volume),
            "sodUtc0": s(open_24h),
            "sodUtc8": s(open_24h),
            "ts": ms(ticker.ts_ns),
        }

    def _levels(
        self, inst: str, side: Side, levels: Iterable[tuple[Decimal, Decimal]]
    ) -> list[list[str]]:
        """Book levels as `[price, size, "0", number of orders]` ("Order book"); a level the
        published view still shows counts at least one order."""
        count = self.engine.level_order_count
        return [
            [s(p), s(q), "0", str(count(VENUE, inst, side, p) or 1) if q else "0"]
            for p, q in levels
        ]

    def _order_json(
        self, order: SimOrder, *, ws: bool = False, fill: SimFill | None = None
    ) -> dict:
        """An order as REST order queries (okx/rest_orders_pending.json) or the `orders`
        channel (okx/ws_orders.json, with `fill` the fill this push reports) send it."""
        info = self.instruments[order.symbol]
        meta = self._meta_of(order)
        spot = info.kind is InstrumentKind.SPOT
        fee_ccy = order.fee_currency or self.engine.fee_currency(VENUE, order.symbol, order.side)
        cancel_source, cancel_text = ("", "")
        if order.status is OrderStatus.CANCELED:
            cancel_source, cancel_text = CANCEL_SOURCE.get(
                order.cancel_reason, ("0", "Order canceled by system")
            )
        if fill is not None:
            fill_px, fill_sz = s(fill.price), s(fill.quantity)
            trade_id, fill_time = fill.trade_id, ms(fill.ts_ns)
            exec_type = "M" if fill.liquidity is Liquidity.MAKER else "T"
        elif order.last_fill_price is not None and not ws:
            fill_px, fill_sz = s(order.last_fill_price), s(order.last_fill_quantity)
            last = self._last_fill.get(order.order_id)
            trade_id = last.trade_id if last else ""
            fill_time = ms(last.ts_ns) if last else ""
            exec_type = ""
        else:
            fill_px, fill_sz, trade_id, fill_time, exec_type = ("", "0", "", "", "")
        if order.average_price is not None:
            avg_px = s(order.average_price.quantize(info.tick_size / 1000).normalize())
        else:
            avg_px = "0" if ws else ""
        lever = "" if spot else s(self.engine.leverage_of(VENUE, order.api_key, order.symbol))
        ord_id, cl_ord_id = self._wire_ids(order)
        data = {
            "accFillSz": s(order.filled_quantity),
            "algoClOrdId": "",
            "algoId": "",
            "attachAlgoClOrdId": "",
            "attachAlgoOrds": [],
            "avgPx": avg_px,
            "cTime": ms(order.created_ns),
            "cancelSource": cancel_source,
            "cancelSourceReason": cancel_text,
            "category": "normal",
            "ccy": "" if spot else info.settle,
            "clOrdId": cl_ord_id,
            "fee": s(-order.fee_paid),
            "feeCcy": fee_ccy,
            "fillPx": fill_px,
            "fillSz": fill_sz,
            "fillTime": fill_time,
            "instId": order.symbol,
            "instType": self._inst_type(info),
            "isTpLimit": "false",
            "lever": lever,
            "linkedAlgoOrd": {"algoId": ""},
            "ordId": ord_id,
            "ordType": meta.ord_type,
            "pnl": "0",
            "posSide": "net",
            "px": s(order.price),
            "pxType": "",
            "pxUsd": "",
            "pxVol": "",
            "quickMgnType": "",
            "rebate": "0",
            "rebateCcy": fee_ccy,
            "reduceOnly": "true" if order.reduce_only else "false",
            "side": order.side.value,
            "slOrdPx": "",
            "slTriggerPx": "",
            "slTriggerPxType": "",
            "source": "",
            "state": STATE[order.status],
            "stpId": "",
            "stpMode": "cancel_maker",
            "sz": meta.wire_sz or s(order.quantity),
            "tag": meta.tag,
            "tdMode": meta.td_mode,
            "tgtCcy": meta.tgt_ccy,
            "tpOrdPx": "",
            "tpTriggerPx": "",
            "tpTriggerPxType": "",
            "tradeId": trade_id,
            "uTime": ms(order.updated_ns),
        }
        data.update(self._algo_fields(order))
        if ws:
            data["execType"] = exec_type
            return data
        return data

    def _fill_json(self, fill: SimFill, bill_id: int) -> dict[str, str]:
        """One `GET /api/v5/trade/fills` row ("Transaction details", response parameters)."""
        info = self.instruments[fill.symbol]
        spot = info.kind is InstrumentKind.SPOT
        rate = self.engine.fees[(VENUE, fill.symbol)]
        fee_rate = rate.maker if fill.liquidity is Liquidity.MAKER else rate.taker
        ord_id, cl_ord_id = self._fill_ids(fill)
        return {
            "instType": self._inst_type(info),
            "instId": fill.symbol,
            "tradeId": fill.trade_id,
            "ordId": ord_id,
            "clOrdId": cl_ord_id,
            "billId": str(bill_id),
            "subType": "1" if fill.side is Side.BUY else "2",
            "tag": self._meta.get(fill.order_id, OrderMeta("", "")).tag,
            "fillPx": s(fill.price),
            "fillSz": s(fill.quantity),
            "fillIdxPx": s(self._usd_price(info.base)),
            "fillPnl": s(fill.realized_pnl),
            "fillPxVol": "",
            "fillPxUsd": "",
            "fillMarkVol": "",
            "fillFwdPx": "",
            "fillMarkPx": "" if spot else s(self.engine.mark_price(VENUE, fill.symbol)),
            "side": fill.side.value,
            "posSide": "net",
            "execType": "M" if fill.liquidity is Liquidity.MAKER else "T",
            "feeCcy": fill.fee_currency,
            "fee": s(-fill.fee),
            "ts": ms(fill.ts_ns),
            "fillTime": ms(fill.ts_ns),
            "feeRate": s(-fee_rate) if spot else "",
            "tradeQuoteCcy": info.quote if spot else "",
        }

    def _usd_price(self, ccy: str) -> Decimal:
        if ccy in STABLE_COINS:
            return Decimal(1)
        try:
            return self.engine.index_price(ccy)
        except (KeyError, ValueError):
            return ZERO

    def _position_json(self, account: SimAccount, position: SimPosition) -> dict[str, str]:
        """A position as `GET /api/v5/account/positions` and the `positions` channel send it
        (keys of okx/rest_positions.json; net mode, cross margin)."""
        info = self.instruments[position.symbol]
        key = (account.api_key, position.symbol)
        if key not in self._pos_ids:
            self._pos_ids[key] = str(1_300_000_000_000_000_000 + len(self._pos_ids))
            self._pos_ctime[key] = position.updated_ns or self._now_ns()
        ticker_last = self.engine.ticker(VENUE, position.symbol).last_price
        mark = position.mark_price or self.engine.mark_price(VENUE, position.symbol)
        size = abs(position.quantity) * info.contract_size
        notional_usd = size * mark if info.linear else size
        value = size * mark if info.linear else (size / mark if mark else ZERO)
        margin = position.margin
        upl_ratio = position.unrealized_pnl / margin if margin else ZERO
        upl_last = ZERO
        if ticker_last is not None and position.entry_price is not None and position.quantity:
            signed = position.quantity * info.contract_size
            if info.linear:
                upl_last = signed * (ticker_last - position.entry_price)
            else:
                upl_last = signed * (1 / position.entry_price - 1 / ticker_last)
        q = Decimal("0.00000001")
        return {
            "instId": position.symbol,
            "instType": self._inst_type(info),
            "mgnMode": "cross",
            "posId": self._pos_ids[key],
            "posSide": "net",
            "pos": s(position.quantity),
            "baseBal": "",
            "ccy": info.settle,
            "fee": "0",
            "lever": s(position.leverage),
            "last": s(ticker_last),
            "markPx": s(mark),
            "liqPx": s(position.liquidation_price),
            "mmr": s((value * MAINTENANCE_MARGIN).quantize(q)),
            "interest": "0",
            "tradeId": self._last_trade.get(key, ""),
            "notionalUsd": s(notional_usd.quantize(q)),
            "avgPx": s(position.entry_price),
            "upl": s(position.unrealized_pnl),
            "uplRatio": s(upl_ratio.quantize(q)),
            "uTime": ms(position.updated_ns),
            "margin": s(margin.quantize(q)),
            "mgnRatio": "",
            "adl": "1",
            "cTime": ms(self._pos_ctime[key]),
            "realizedPnl": s(position.realized_pnl),
            "uplLastPx": s(upl_last.quantize(q)),
            "uplRatioLastPx": s((upl_last / margin).quantize(q) if margin else ZERO),
            "availPos": s(abs(position.quantity)),
            "bePx": s(position.entry_price),
            "fundingFee": "0",
            "idxPx": s(self._usd_price(info.base)),
            "liqPenalty": "0",
            "optVal": "",
            "pendingCloseOrdLiabVal": "0",
            "pnl": s(position.realized_pnl),
            "posCcy": "",
            "quoteBal": "0",
            "quoteBorrowed": "0",
            "quoteInterest": "0",
            "spotInUseAmt": "",
            "spotInUseCcy": "",
            "usdPx": s(self._usd_price(info.settle)),
        }

    def _balance_detail(self, account: SimAccount, balance: SimBalance, *, ws: bool) -> dict:
        usd = self._usd_price(balance.currency)
        upl = sum(
            (
                p.unrealized_pnl
                for p in account.positions.values()
                if p.settle_currency == balance.currency and p.quantity
            ),
            ZERO,
        )
        eq = balance.total + upl
        detail = {
            "accAvgPx": "",
            "availBal": s(balance.available),
            "availEq": s(balance.available),
            "borrowFroz": "",
            "cashBal": s(balance.total),
            "ccy": balance.currency,
            "clSpotInUseAmt": "",
            "collateralEnabled": False,
            "crossLiab": "",
            "disEq": s((eq * usd).quantize(Decimal("0.00000001"))),
            "eq": s(eq),
            "eqUsd": s((eq * usd).quantize(Decimal("0.00000001"))),
            "fixedBal": "0",
            "frozenBal": s(balance.locked),
            "imr": "0",
            "interest": "",
            "isoEq": "0",
            "isoLiab": "",
            "isoUpl": "0",
            "liab": "",
            "maxLoan": "",
            "maxSpotInUseAmt": "",
            "mgnRatio": "",
            "mmr": "0",
            "notionalLever": "0",
            "openAvgPx": "",
            "ordFrozen": s(balance.locked),
            "rewardBal": "0",
            "smtSyncEq": "0",
            "spotBal": "",
            "spotCopyTradingEq": "0",
            "spotInUseAmt": "",
            "spotIsoBal": "0",
            "spotUpl": "",
            "spotUplRatio": "",
            "stgyEq": "0",
            "totalPnl": "",
            "totalPnlRatio": "",
            "twap": "0",
            "uTime": ms(balance.updated_ns or self._now_ns()),
            "upl": s(upl),
            "uplLiab": "",
        }
        if ws:
            detail.update(coinUsdPrice=s(usd), colBorrAutoConversion="0", collateralRestrict=False)
            return _project(detail, WS_BALANCE_DETAIL_KEYS)
        return _project(detail, BALANCE_DETAIL_KEYS)

    def _account_json(
        self, account: SimAccount, balances: list[SimBalance], *, ws: bool
    ) -> dict[str, Any]:
        """The trading account (okx/rest_account_balance.json, okx/ws_account.json)."""
        details = [self._balance_detail(account, b, ws=ws) for b in balances]
        total_eq = sum(
            (self._usd_price(b.currency) * b.total for b in account.balances.values()), ZERO
        )
        data = {
            "adjEq": "",
            "availEq": "",
            "borrowFroz": "",
            "details": details,
            "imr": "",
            "isoEq": "0",
            "mgnRatio": "",
            "mmr": "",
            "notionalUsd": "",
            "notionalUsdForBorrow": "",
            "notionalUsdForFutures": "",
            "notionalUsdForOption": "",
            "notionalUsdForSwap": "",
            "ordFroz": "",
            "totalEq": s(total_eq.quantize(Decimal("0.00000001"))),
            "uTime": ms(self._now_ns()),
            "upl": "",
        }
        return _project(data, WS_BALANCE_KEYS if ws else BALANCE_KEYS)
