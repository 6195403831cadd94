"""Bybit JSON builders: order, execution, position and wallet rows in the key sets of the
recorded payloads, and the number formats Bybit uses.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from exchanges.simulator.bybit.constants import (
    CANCEL_TYPE,
    EXEC_NAMESPACE,
    MAINTENANCE_RATE,
    ONE,
    POST_ONLY_REJECT,
    SIDE,
    STATUS,
    STATUS_DEACTIVATED,
    STATUS_TRIGGERED,
    STOP_ORDER_TYPE,
    TRIGGER_BY,
    TRIGGER_DIRECTION,
    USD_COINS,
    VENUE,
    ZERO,
)
from exchanges.simulator.bybit.errors import BybitError
from exchanges.simulator.engine.records import (
    CancelReason,
    RejectReason,
    SimAccount,
    SimFill,
    SimOrder,
    SimPosition,
)
from exchanges.venues.base import InstrumentInfo, Liquidity, OrderStatus, OrderType


def dec(value: Decimal | None, quantum: Decimal | None = None) -> str:
    """Bybit's decimal string: fixed point, to `quantum` when given, "" for None."""
    if value is None:
        return ""
    if value == 0:
        return "0"
    value = value.quantize(quantum) if quantum is not None else value.normalize()
    return format(value, "f")


def quantum(step: Decimal) -> Decimal:
    exponent = step.normalize().as_tuple().exponent
    return Decimal(1).scaleb(min(int(exponent), 0))


def ms(ns: int) -> int:
    return ns // 1_000_000


def to_decimal(value: Any, name: str) -> Decimal:
    if isinstance(value, bool) or value is None or value == "":
        raise BybitError(10001, f"params error: {name} invalid")
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise BybitError(10001, f"params error: {name} invalid") from exc
    if not number.is_finite():
        raise BybitError(10001, f"params error: {name} invalid")
    return number


def truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("true", "1")
    return bool(value)


@dataclass(frozen=True, slots=True)
class BybitInstrument:
    """One Bybit instrument as the face sees it: wire name, category, engine symbol, precisions."""

    info: InstrumentInfo
    category: str
    symbol: str  # wire symbol
    engine_symbol: str
    price_q: Decimal
    qty_q: Decimal


class BybitWire:
    """Turns engine records into Bybit JSON rows."""

    def _status(self, order: SimOrder, *, firing: bool = False) -> str:
        """The order's `orderStatus`; `firing`: the push announcing that its trigger fired."""
        conditional = order.order_type.is_conditional
        if conditional and order.status is OrderStatus.CANCELED and order.triggered_ns is None:
            return STATUS_DEACTIVATED
        if firing:
            return STATUS_TRIGGERED
        if (
            order.status is OrderStatus.CANCELED
            and order.filled_quantity > 0
            and self._by_engine_symbol[order.symbol].category == "spot"
        ):
            return "PartiallyFilledCanceled"
        return STATUS[order.status]

    @staticmethod
    def _cancel_type(order: SimOrder) -> str:
        if order.status is not OrderStatus.CANCELED:
            return "UNKNOWN"
        return CANCEL_TYPE.get(order.cancel_reason, "UNKNOWN")

    @staticmethod
    def _reject_reason(order: SimOrder) -> str:
        if (
            order.reject_reason is RejectReason.POST_ONLY_WOULD_CROSS
            or order.cancel_reason is CancelReason.POST_ONLY_WOULD_TAKE
        ):
            return POST_ONLY_REJECT
        if order.cancel_reason is CancelReason.FOK_NOT_FILLABLE:
            return "EC_CancelForNoFullFill"
        if (
            order.cancel_reason in (CancelReason.IOC_REMAINDER, CancelReason.MARKET_REMAINDER)
            and order.filled_quantity == 0
        ):
            return "EC_NoImmediateQtyToFill"
        return "EC_NoError"

    @staticmethod
    def _trigger_fields(order: SimOrder) -> dict[str, Any]:
        """triggerPrice, triggerDirection, triggerBy, stopOrderType: "0", 0, "", "" on a plain
        order (the recorded rows), the trigger on a conditional one."""
        if not order.order_type.is_conditional:
            return {
                "triggerPrice": "0",
                "triggerDirection": 0,
                "triggerBy": "",
                "stopOrderType": "",
            }
        return {
            "triggerPrice": dec(order.trigger_price),
            "triggerDirection": TRIGGER_DIRECTION[order.trigger_direction],
            "triggerBy": TRIGGER_BY[order.trigger_by],
            "stopOrderType": STOP_ORDER_TYPE,
        }

    def _order_fields(self, order: SimOrder, *, firing: bool = False) -> dict[str, Any]:
        """Fields shared by the REST order row and the `order` push (`firing`: the push sent as
        a conditional order fires, `Triggered`)."""
        inst = self._by_engine_symbol[order.symbol]
        pq, qq = inst.price_q, inst.qty_q
        leaves = order.remaining if order.is_open else ZERO
        inverse = inst.info.inverse
        price = order.price
        if price:
            leaves_value = leaves / price if inverse else leaves * price
        else:
            leaves_value = ZERO
        avg = order.average_price
        if avg:
            filled_value = order.filled_quantity / avg if inverse else order.filled_quantity * avg
        else:
            filled_value = ZERO
        market = order.order_type.executes_as is OrderType.MARKET
        if order.post_only:
            tif = "PostOnly"
        elif market:
            tif = "IOC"
        else:
            tif = order.time_in_force.value.upper()
        return {
            "orderId": order.order_id,
            "orderLinkId": order.client_order_id or "",
            "symbol": inst.symbol,
            "price": dec(price, pq) if price is not None else "0",
            "qty": dec(order.quantity, qq),
            "side": SIDE[order.side],
            "orderStatus": self._status(order, firing=firing),
            "cancelType": self._cancel_type(order),
            "rejectReason": self._reject_reason(order),
            "avgPrice": dec(avg.quantize(Decimal("0.00000001")).normalize()) if avg else "",
            "leavesQty": dec(leaves, qq),
            "leavesValue": dec(leaves_value.quantize(Decimal("0.00000001"))),
            "cumExecQty": dec(order.filled_quantity, qq),
            "cumExecValue": dec(filled_value.quantize(Decimal("0.00000001"))),
            "cumExecFee": dec(order.fee_paid),
            "timeInForce": tif,
            "orderType": "Market" if market else "Limit",
            **self._trigger_fields(order),
            "lastPriceOnCreated": self._last_price_on_created.get(order.order_id, ""),
            "reduceOnly": order.reduce_only,
            "createdTime": str(ms(order.created_ns)),
            "updatedTime": str(ms(order.updated_ns)),
            "category": inst.category,
            "feeCurrency": order.fee_currency,
        }

    def _order_row(self, order: SimOrder) -> dict[str, Any]:
        """A `/v5/order/realtime` / `history` row (fixture rest_order_realtime.json)."""
        f = self._order_fields(order)
        row = {
            "orderId": f["orderId"],
            "orderLinkId": f["orderLinkId"],
            "blockTradeId": "",
            "symbol": f["symbol"],
            "price": f["price"],
            "qty": f["qty"],
            "side": f["side"],
            "isLeverage": "0",
            "positionIdx": 0,
            "orderStatus": f["orderStatus"],
            "cancelType": f["cancelType"],
            "rejectReason": f["rejectReason"],
            "avgPrice": f["avgPrice"],
            "leavesQty": f["leavesQty"],
            "leavesValue": f["leavesValue"],
            "cumExecQty": f["cumExecQty"],
            "cumExecValue": f["cumExecValue"],
            "cumExecFee": f["cumExecFee"],
            "timeInForce": f["timeInForce"],
            "orderType": f["orderType"],
            "stopOrderType": f["stopOrderType"],
            "orderIv": "",
            "triggerPrice": f["triggerPrice"],
            "takeProfit": "0",
            "stopLoss": "0",
            "tpTriggerBy": "",
            "slTriggerBy": "",
            "triggerDirection": f["triggerDirection"],
            "triggerBy": f["triggerBy"],
            "lastPriceOnCreated": f["lastPriceOnCreated"],
            "reduceOnly": f["reduceOnly"],
            "closeOnTrigger": False,
            "smpType": "None",
            "smpGroup": 0,
            "smpOrderId": "",
            "tpslMode": "",
            "tpLimitPrice": "0",
            "slLimitPrice": "0",
            "placeType": "",
            "createdTime": f["createdTime"],
            "updatedTime": f["updatedTime"],
        }
        if f["category"] != "spot":
            row["createType"] = "CreateByUser"
        return row

    def _order_push_item(self, order: SimOrder, *, firing: bool = False) -> dict[str, Any]:
        """One `order` topic item (fixture ws_order.json)."""
        f = self._order_fields(order, firing=firing)
        inst = self._by_engine_symbol[order.symbol]
        return {
            "category": f["category"],
            "symbol": f["symbol"],
            "orderId": f["orderId"],
            "side": f["side"],
            "orderType": f["orderType"],
            "cancelType": f["cancelType"],
            "price": f["price"],
            "qty": f["qty"],
            "orderIv": "",
            "timeInForce": f["timeInForce"],
            "orderStatus": f["orderStatus"],
            "orderLinkId": f["orderLinkId"],
            "lastPriceOnCreated": f["lastPriceOnCreated"],
            "reduceOnly": f["reduceOnly"],
            "leavesQty": f["leavesQty"],
            "leavesValue": f["leavesValue"],
            "cumExecQty": f["cumExecQty"],
            "cumExecValue": f["cumExecValue"],
            "avgPrice": f["avgPrice"] or "0",
            "blockTradeId": "",
            "positionIdx": 0,
            "cumExecFee": f["cumExecFee"],
            "createdTime": f["createdTime"],
            "updatedTime": f["updatedTime"],
            "rejectReason": f["rejectReason"],
            "triggerPrice": f["triggerPrice"],
            "takeProfit": "0",
            "stopLoss": "0",
            "tpTriggerBy": "",
            "slTriggerBy": "",
            "tpLimitPrice": "0",
            "slLimitPrice": "0",
            "closeOnTrigger": False,
            "placeType": "",
            "smpType": "None",
            "smpGroup": 0,
            "smpOrderId": "",
            "feeCurrency": f["feeCurrency"]
            or (inst.info.settle if inst.category != "spot" else ""),
            "triggerBy": f["triggerBy"],
            "stopOrderType": f["stopOrderType"],
            "triggerDirection": f["triggerDirection"],
            "tpslMode": "",
            "createType": "CreateByUser",
        }

    @staticmethod
    def exec_id(fill: SimFill) -> str:
        """Bybit's execId: unique per side of a trade (a UUID derived from trade and order id)."""
        return str(uuid.uuid5(EXEC_NAMESPACE, f"{fill.trade_id}:{fill.order_id}"))

    def _execution_row(self, account: SimAccount, fill: SimFill, *, rest: bool) -> dict[str, Any]:
        """A `/v5/execution/list` row (docs example) or an `execution` push item (fixture)."""
        inst = self._by_engine_symbol[fill.symbol]
        pq, qq = inst.price_q, inst.qty_q
        context = self._fill_context.get(self.exec_id(fill), {})
        order = account.orders.get(fill.order_id)
        value = fill.quantity / fill.price if inst.info.inverse else fill.quantity * fill.price
        schedule = self.engine.fees[(VENUE, fill.symbol)]
        rate = schedule.maker if fill.liquidity is Liquidity.MAKER else schedule.taker
        order_type = (
            "Market"
            if order is not None and order.order_type.executes_as is OrderType.MARKET
            else "Limit"
        )
        conditional = order is not None and order.order_type.is_conditional
        order_price = order.price if order is not None and order.price is not None else None
        common = {
            "symbol": inst.symbol,
            "orderId": fill.order_id,
            "orderLinkId": fill.client_order_id or "",
            "side": SIDE[fill.side],
            "orderPrice": dec(order_price, pq) if order_price is not None else "0",
            "orderQty": dec(order.quantity, qq) if order is not None else "0",
            "leavesQty": context.get("leavesQty", "0"),
            "orderType": order_type,
            "stopOrderType": STOP_ORDER_TYPE if conditional else "UNKNOWN",
            "execFee": dec(fill.fee),
            "execId": self.exec_id(fill),
            "execPrice": dec(fill.price, pq),
            "execQty": dec(fill.quantity, qq),
            "execType": "Trade",
            "execValue": dec(value.quantize(Decimal("0.00000001"))),
            "execTime": str(ms(fill.ts_ns)),
            "isMaker": fill.liquidity is Liquidity.MAKER,
            "feeRate": dec(rate),
            "tradeIv": "",
            "markIv": "",
            "markPrice": context.get("markPrice", ""),
            "indexPrice": "",
            "underlyingPrice": "",
            "blockTradeId": "",
            "closedSize": context.get("closedSize", "0"),
            "seq": context.get("seq", 0),
        }
        if rest:
            return {**common, "feeCurrency": fill.fee_currency, "extraFees": ""}
        return {"category": inst.category, **common, "isLeverage": "0"}

    def _position_row(self, position: SimPosition, *, rest: bool) -> dict[str, Any]:
        """A `/v5/position/list` row or a `position` push item (fixtures)."""
        inst = self._by_engine_symbol[position.symbol]
        pq, qq = inst.price_q, inst.qty_q
        size = abs(position.quantity)
        entry = position.entry_price
        if entry and size:
            value = size / entry if inst.info.inverse else size * entry
        else:
            value = ZERO
        maintenance = (value * MAINTENANCE_RATE).quantize(Decimal("0.00000001"))
        margin = position.margin.quantize(Decimal("0.00000001"))
        side = "" if position.side is None else SIDE[position.side]
        created = self._position_created.setdefault(position.symbol, ms(position.updated_ns))
        common = {
            "positionIdx": 0,
            "tradeMode": 0,
            "riskId": 1,
            "riskLimitValue": "2000000" if inst.info.linear else "150",
            "symbol": inst.symbol,
            "side": side,
            "size": dec(size, qq),
            "leverage": dec(position.leverage),
            "positionValue": dec(value.quantize(Decimal("0.00000001"))),
            "positionBalance": dec(margin),
            "markPrice": dec(position.mark_price, pq),
            "positionIM": dec(margin),
            "positionMM": dec(maintenance),
            "takeProfit": "0",
            "stopLoss": "0",
            "trailingStop": "0",
            "unrealisedPnl": dec(position.unrealized_pnl.quantize(Decimal("0.00000001"))),
            "cumRealisedPnl": dec(position.realized_pnl.quantize(Decimal("0.00000001"))),
            "curRealisedPnl": dec(position.realized_pnl.quantize(Decimal("0.00000001"))),
            "createdTime": str(created),
            "updatedTime": str(ms(position.updated_ns)),
            "tpslMode": "Full",
            "liqPrice": dec(position.liquidation_price, pq) if position.liquidation_price else "",
            "bustPrice": "",
            "positionStatus": "Normal",
            "adlRankIndicator": 2 if size else 0,
            "autoAddMargin": 0,
            "leverageSysUpdatedTime": "",
            "mmrSysUpdatedTime": "",
            "seq": self._seq.get(position.symbol, 0),
            "isReduceOnly": False,
        }
        if rest:
            return {**common, "avgPrice": dec(entry, pq) if entry else "0"}
        return {
            **common,
            "entryPrice": dec(entry) if entry else "0",
            "sessionAvgPrice": "",
            "positionIMByMp": dec(margin),
            "positionMMByMp": dec(maintenance),
            "category": inst.category,
        }

    def _usd_price(self, coin: str) -> Decimal:
        if coin in USD_COINS:
            return ONE
        try:
            return self.engine.index_price(coin)
        except (KeyError, ValueError):
            return ZERO

    def _wallet_row(self, account: SimAccount, coins: list[str], *, rest: bool) -> dict[str, Any]:
        """The UNIFIED account: `/v5/account/wallet-balance` list item or `wallet` push item."""
        q8 = Decimal("0.00000001")
        position_im: dict[str, Decimal] = {}
        position_mm: dict[str, Decimal] = {}
        upl: dict[str, Decimal] = {}
        realised: dict[str, Decimal] = {}
        for position in account.positions.values():
            inst = self._by_engine_symbol[position.symbol]
            coin = inst.info.settle
            entry = position.entry_price
            size = abs(position.quantity)
            value = (
                (size / entry if inst.info.inverse else size * entry) if entry and size else ZERO
            )
            position_im[coin] = position_im.get(coin, ZERO) + position.margin
            position_mm[coin] = position_mm.get(coin, ZERO) + value * MAINTENANCE_RATE
            upl[coin] = upl.get(coin, ZERO) + position.unrealized_pnl
            realised[coin] = realised.get(coin, ZERO) + position.realized_pnl
        totals = dict.fromkeys(("wallet", "equity", "upl", "im", "mm", "available"), ZERO)
        rows = []
        for balance in sorted(account.balances.values(), key=lambda b: b.currency):
            coin = balance.currency
            price = self._usd_price(coin)
            im = position_im.get(coin, ZERO)
            order_im = max(balance.locked - im, ZERO)
            mm = position_mm.get(coin, ZERO)
            pnl = upl.get(coin, ZERO)
            equity = balance.total + pnl
            totals["wallet"] += balance.total * price
            totals["equity"] += equity * price
            totals["upl"] += pnl * price
            totals["im"] += (im + order_im) * price
            totals["mm"] += mm * price
            if coins and coin not in coins:
                continue
            item = {
                "coin": coin,
                "equity": dec(equity.quantize(q8)),
                "walletBalance": dec(balance.total.quantize(q8)),
                "availableToWithdraw": dec(balance.available.quantize(q8)),
                "availableToBorrow": "",
                "borrowAmount": "0",
                "accruedInterest": "0",
                "totalOrderIM": dec(order_im.quantize(q8)),
                "totalPositionIM": dec(im.quantize(q8)),
                "totalPositionMM": dec(mm.quantize(q8)),
                "spotBorrow": "0",
            }
            if rest:
                item.update(
                    {
                        "bonus": "0",
                        "usdValue": dec((equity * price).quantize(q8)),
                        "unrealisedPnl": dec(pnl.quantize(q8)),
                        "cumRealisedPnl": dec(realised.get(coin, ZERO).quantize(q8)),
                        "locked": "0",
                        "collateralSwitch": True,
                        "marginCollateral": True,
                    }
                )
            rows.append(item)
        margin_balance = totals["wallet"] + totals["upl"]
        im_rate = totals["im"] / margin_balance if margin_balance else ZERO
        mm_rate = totals["mm"] / margin_balance if margin_balance else ZERO
        row = {
            "accountIMRate": dec(im_rate.quantize(Decimal("0.0001"))),
            "accountMMRate": dec(mm_rate.quantize(Decimal("0.0001"))),
            "accountLTV": "0",
            "totalEquity": dec(totals["equity"].quantize(q8)),
            "totalWalletBalance": dec(totals["wallet"].quantize(q8)),
            "totalMarginBalance": dec(margin_balance.quantize(q8)),
            "totalAvailableBalance": dec((margin_balance - totals["im"]).quantize(q8)),
            "totalInitialMargin": dec(totals["im"].quantize(q8)),
            "totalMaintenanceMargin": dec(totals["mm"].quantize(q8)),
            "coin": rows,
        }
        row["accountType"] = "UNIFIED"  # REST and the `wallet` push alike (SOURCES_SIM.md)
        if rest:
            row["totalPerpUPL"] = dec(totals["upl"].quantize(q8))
        else:
            row["totalPerpUpl"] = dec(totals["upl"].quantize(q8))
        return row
