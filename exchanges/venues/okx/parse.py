"""Pure functions from OKX v5 wire objects to the gateway's normalized types.

OKX sends every amount as a JSON string (docs-v5 "Overview > General info"), so `Decimal(text)`
is exact; an empty string means "not applicable" and becomes None. Timestamps are Unix
milliseconds as strings and become ns. Field meanings: docs-v5 "Public Data > Get instruments",
"Order Book Trading > Market Data" (ticker, trades, order book), "Order Book Trading > Trade"
(order details, fills) and "Trading Account" (balance, positions, and the `orders`, `positions`
and `account` WebSocket channels).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

from exchanges.venues.base import (
    ZERO,
    AccountExecution,
    BalanceUpdate,
    BookSnapshot,
    ExecutionKind,
    FillEvent,
    InstrumentInfo,
    InstrumentKind,
    Liquidity,
    OrderStatus,
    OrderType,
    OrderUpdate,
    PositionUpdate,
    PriceLevel,
    ProtocolError,
    Side,
    Ticker,
    TimeInForce,
    Trade,
    TriggerPrice,
    Venue,
)
from exchanges.venues.numbers import dec, first_dec, levels, ms_ns, opt_dec
from exchanges.venues.okx.algos import AlgoOrder
from exchanges.venues.okx.constants import (
    ALGO_MARKET_PRICE,
    ALGO_ORD_TYPE,
    ALGO_STATUS,
    BILL_EXECUTION_TYPES,
    CANCEL_SOURCE_POST_ONLY,
    CHECKSUM_DEPTH,
    EXECUTION_CATEGORIES,
    LIQUIDITY,
    ORDER_STATUS,
    ORDER_TYPES,
    SIDES,
    TRIGGER_PRICE_TYPES,
)
from exchanges.venues.okx.symbols import INSTRUMENT_KINDS, OPTION_LETTERS, settle_of
from exchanges.venues.symbols import unified_symbol

OKX = Venue.OKX


def _side(text: str) -> Side:
    try:
        return SIDES[text]
    except KeyError:
        raise ProtocolError(f"unknown side {text!r}", venue=OKX) from None


# --------------------------------------------------------------------------- reference data


def parse_instrument(raw: dict) -> InstrumentInfo:
    """One item of GET /api/v5/public/instruments.

    Contract size is `ctVal * ctMult` (an OKX BTC option: 1 BTC x 0.01); spot trades in the base
    currency, so its contract size is 1.
    """
    inst_id = raw["instId"]
    kind = INSTRUMENT_KINDS[raw["instType"]]
    parts = inst_id.split("-")
    expiry = int(raw["expTime"]) * 1_000_000 if raw.get("expTime") else None
    if kind is InstrumentKind.SPOT:
        base = raw.get("baseCcy") or parts[0]
        quote = raw.get("quoteCcy") or parts[1]
        settle, linear, contract = quote, True, Decimal(1)
        expiry = None
        symbol = unified_symbol(kind=kind, base=base, quote=quote)
    else:
        base, quote = parts[0], parts[1]
        settle = raw.get("settleCcy") or settle_of(base, quote)
        contract = dec(raw["ctVal"]) * dec(raw.get("ctMult") or "1")
        linear = settle == quote
        if kind is InstrumentKind.PERPETUAL:
            expiry = None
    strike = option_type = None
    if kind is InstrumentKind.OPTION:
        strike = dec(raw["stk"])
        option_type = OPTION_LETTERS[raw["optType"]]
    if kind is not InstrumentKind.SPOT:
        symbol = unified_symbol(
            kind=kind,
            base=base,
            quote=quote,
            settle=settle,
            expiry_ts=expiry,
            strike=strike,
            option_type=option_type,
        )
    return InstrumentInfo(
        venue=OKX,
        venue_symbol=inst_id,
        symbol=symbol,
        kind=kind,
        base=base,
        quote=quote,
        settle=settle,
        linear=linear,
        contract_size=contract,
        tick_size=dec(raw["tickSz"]),
        lot_size=dec(raw["lotSz"]),
        min_size=dec(raw["minSz"]),
        expiry_ts=expiry,
        strike=strike,
        option_type=option_type,
        active=raw.get("state", "live") == "live",
    )


# --------------------------------------------------------------------------- market data


def parse_book(raw: dict, symbol: str, received_ns: int) -> BookSnapshot:
    """A full book (REST GET /api/v5/market/books item, or a WS snapshot's data item).

    `sequence` is the book's `seqId`, or -1 when the payload carries none.
    """
    seq = raw.get("seqId")
    return BookSnapshot(
        venue=OKX,
        symbol=symbol,
        bids=levels(raw["bids"]),
        asks=levels(raw["asks"]),
        sequence=int(seq) if seq is not None else -1,
        exchange_ts=ms_ns(raw.get("ts")),
        receive_ts=received_ns,
    )


def book_checksum(bids: Sequence[PriceLevel], asks: Sequence[PriceLevel]) -> int:
    """OKX's former book checksum: CRC32 (as a signed 32-bit int) of the best 25 levels of each
    side written `bidPx:bidSz:askPx:askSz:...`, alternating bid and ask; when one side is
    shorter, the other side's remaining levels follow alone. Prices and sizes are written as the
    venue sent them (`format(d, "f")` restores the wire text of a Decimal parsed from it).
    Source: docs-v5 "Order book channel > Checksum" (see SOURCES.md for the worked examples)."""
    parts: list[str] = []
    append = parts.append
    nb, na = min(len(bids), CHECKSUM_DEPTH), min(len(asks), CHECKSUM_DEPTH)
    for i in range(max(nb, na)):
        if i < nb:
            price, size = bids[i]
            append(format(price, "f"))
            append(format(size, "f"))
        if i < na:
            price, size = asks[i]
            append(format(price, "f"))
            append(format(size, "f"))
    value = zlib.crc32(":".join(parts).encode())
    return value - 0x1_0000_0000 if value & 0x8000_0000 else value


def parse_ticker(raw: dict, symbol: str, received_ns: int) -> Ticker:
    """A `tickers` channel item or GET /api/v5/market/ticker item."""
    return Ticker(
        venue=OKX,
        symbol=symbol,
        best_bid=opt_dec(raw.get("bidPx")),
        best_bid_size=opt_dec(raw.get("bidSz")),
        best_ask=opt_dec(raw.get("askPx")),
        best_ask_size=opt_dec(raw.get("askSz")),
        last_price=opt_dec(raw.get("last")),
        exchange_ts=ms_ns(raw.get("ts")),
        receive_ts=received_ns,
        volume_24h=opt_dec(raw.get("vol24h")),
    )


def parse_funding_rate(raw: dict, symbol: str, received_ns: int) -> Ticker:
    """A `funding-rate` channel item, as a Ticker carrying only the current funding rate."""
    return Ticker(
        venue=OKX,
        symbol=symbol,
        best_bid=None,
        best_bid_size=None,
        best_ask=None,
        best_ask_size=None,
        last_price=None,
        exchange_ts=ms_ns(raw.get("ts")),
        receive_ts=received_ns,
        funding_rate=opt_dec(raw.get("fundingRate")),
    )


def parse_trade(raw: dict, symbol: str, received_ns: int) -> Trade:
    """A `trades` channel item: `side` is the taker's side."""
    return Trade(
        venue=OKX,
        symbol=symbol,
        trade_id=raw["tradeId"],
        price=dec(raw["px"]),
        quantity=dec(raw["sz"]),
        side=_side(raw["side"]),
        exchange_ts=ms_ns(raw.get("ts")),
        receive_ts=received_ns,
    )


# --------------------------------------------------------------------------- orders and fills


def parse_order(raw: dict, symbol: str, received_ns: int) -> OrderUpdate:
    """An order as GET /api/v5/trade/order(s-pending) or the `orders` channel describes it.

    An order a stop loss / take profit placed when it fired carries `algoId`/`algoClOrdId`
    (its own `clOrdId` is ""): it is reported under the algo's ids, so it stays the one order
    the gateway placed. The order does not say whether a stop or a take profit placed it: it
    is taken for a stop of the type it executes as, and `with_algo` puts the algo's own type
    and trigger on it where the adapter knows them (`algos.AlgoOrders`)."""
    try:
        order_type, tif, post_only = ORDER_TYPES[raw["ordType"]]
        status = ORDER_STATUS[raw["state"]]
    except KeyError as exc:
        raise ProtocolError(f"unknown order field value {exc}", venue=OKX) from None
    client_order_id = raw.get("clOrdId") or None
    venue_order_id = raw.get("ordId") or None
    if raw.get("algoId"):
        client_order_id = raw.get("algoClOrdId") or client_order_id
        venue_order_id = raw["algoId"]
        order_type = (
            OrderType.STOP_MARKET if order_type is OrderType.MARKET else OrderType.STOP_LIMIT
        )
    filled = opt_dec(raw.get("accFillSz")) or ZERO
    average = opt_dec(raw.get("avgPx"))
    reason = ""
    if status is OrderStatus.CANCELED and raw.get("cancelSource") == CANCEL_SOURCE_POST_ONLY:
        reason = "post-only order would have taken liquidity"
    elif raw.get("cancelSourceReason"):
        reason = raw["cancelSourceReason"]
    return OrderUpdate(
        venue=OKX,
        symbol=symbol,
        client_order_id=client_order_id,
        venue_order_id=venue_order_id,
        side=_side(raw["side"]),
        order_type=order_type,
        time_in_force=tif,
        price=opt_dec(raw.get("px")),
        quantity=dec(raw["sz"]),
        filled_quantity=filled,
        average_price=average if average and filled else None,
        status=status,
        exchange_ts=ms_ns(raw.get("uTime") or raw.get("cTime")),
        receive_ts=received_ns,
        post_only=post_only,
        reduce_only=raw.get("reduceOnly") == "true",
        reject_reason=reason,
    )


def with_algo(update: OrderUpdate, algo: AlgoOrder | None) -> OrderUpdate:
    """`update` of the order an algo placed, with the algo's type and trigger (unchanged
    when the algo is not known)."""
    if algo is None:
        return update
    return replace(
        update,
        order_type=algo.order_type,
        trigger_price=algo.trigger_price,
        trigger_by=algo.trigger_by,
    )


def algo_of(raw: dict) -> AlgoOrder:
    """The type, trigger and ids of a conditional algo order (`ordType` conditional): a stop
    when `slTriggerPx` is set, else a take profit; `slOrdPx`/`tpOrdPx` "-1" = at market."""
    stop = bool(raw.get("slTriggerPx"))
    prefix = "sl" if stop else "tp"
    market = raw.get(f"{prefix}OrdPx") in (ALGO_MARKET_PRICE, "", None)
    if stop:
        order_type = OrderType.STOP_MARKET if market else OrderType.STOP_LIMIT
    else:
        order_type = OrderType.TAKE_PROFIT_MARKET if market else OrderType.TAKE_PROFIT_LIMIT
    by = raw.get(f"{prefix}TriggerPxType") or "last"
    return AlgoOrder(
        algo_id=raw["algoId"],
        client_order_id=raw.get("algoClOrdId") or None,
        order_type=order_type,
        trigger_price=opt_dec(raw.get(f"{prefix}TriggerPx")),
        trigger_by=TRIGGER_PRICE_TYPES.get(by, TriggerPrice.LAST),
    )


def parse_algo_order(raw: dict, symbol: str, received_ns: int) -> OrderUpdate:
    """A conditional algo order as "Algo order list"/"details" or the `orders-algo` channel
    describe it (docs-v5 "Algo Trading"): UNTRIGGERED while `live`, NEW once `effective` (its
    order's own pushes, on `orders`, tell the fills), CANCELED, or REJECTED when it fired but
    its order failed (`order_failed`, the reason in `failCode`). One that closes the whole
    position (`closeFraction` 1) has no `sz`: its quantity is 0."""
    if raw.get("ordType") != ALGO_ORD_TYPE:
        raise ProtocolError(f"not a conditional algo order: {raw.get('ordType')!r}", venue=OKX)
    try:
        status = ALGO_STATUS[raw["state"]]
    except KeyError:
        raise ProtocolError(f"unknown algo state {raw.get('state')!r}", venue=OKX) from None
    algo = algo_of(raw)
    prefix = "sl" if algo.order_type.is_stop else "tp"
    price = None if not algo.order_type.has_price else opt_dec(raw.get(f"{prefix}OrdPx"))
    reason = f"trigger fired, order failed: {raw['failCode']}" if raw.get("failCode") else ""
    return OrderUpdate(
        venue=OKX,
        symbol=symbol,
        client_order_id=algo.client_order_id,
        venue_order_id=algo.algo_id,
        side=_side(raw["side"]),
        order_type=algo.order_type,
        time_in_force=TimeInForce.GTC,
        price=price,
        quantity=opt_dec(raw.get("sz")) or ZERO,  # "" when it closes the whole position
        filled_quantity=ZERO,
        average_price=None,
        status=status,
        exchange_ts=ms_ns(raw.get("uTime") or raw.get("cTime")),
        receive_ts=received_ns,
        reduce_only=raw.get("reduceOnly") in ("true", True),
        reject_reason=reason,
        trigger_price=algo.trigger_price,
        trigger_by=algo.trigger_by,
    )


def order_fill(raw: dict, symbol: str, received_ns: int, fee: Decimal) -> FillEvent | None:
    """The execution an `orders` channel push reports, if it reports one (`fillSz` > 0 and a
    `tradeId`). `fee` is what this fill cost (positive = paid), see `fill_fee`."""
    fill_size = raw.get("fillSz")
    trade_id = raw.get("tradeId")
    if not fill_size or not trade_id or Decimal(fill_size) == 0:
        return None
    return FillEvent(
        venue=OKX,
        symbol=symbol,
        trade_id=trade_id,
        venue_order_id=raw.get("algoId") or raw.get("ordId") or None,
        client_order_id=raw.get("algoClOrdId") or raw.get("clOrdId") or None,
        side=_side(raw["side"]),
        price=dec(raw["fillPx"]),
        quantity=dec(fill_size),
        fee=fee,
        fee_currency=raw.get("fillFeeCcy") or raw.get("feeCcy") or "",
        liquidity=LIQUIDITY.get(raw.get("execType", ""), Liquidity.TAKER),
        exchange_ts=ms_ns(raw.get("fillTime") or raw.get("uTime")),
        receive_ts=received_ns,
    )


def execution_kind(raw: dict) -> ExecutionKind | None:
    """The kind of execution an `orders` push (its `category`) or a bill (its `type`) is when
    the venue made it on the account (ADL, liquidation, delivery; bills also funding and
    settlement); None for the account's own orders and trades."""
    if "billId" in raw:
        kind = BILL_EXECUTION_TYPES.get(str(raw.get("type", "")))
    else:
        kind = EXECUTION_CATEGORIES.get(raw.get("category", "normal"))
    return ExecutionKind(kind) if kind else None


def parse_account_execution(raw: dict, symbol: str, received_ns: int) -> AccountExecution | None:
    """The execution a venue-made `orders` push reports (`fillSz` > 0 and a `tradeId`; None
    otherwise), or one bill of `execution_kind`.

    Push: the position moved by `fillSz` at `fillPx` (signed by `side`), the cash moved is the
    fill's PnL and fee (`fillPnl` + `fillFee`, OKX signs a charged fee negative). Bill: the
    cash only, `balChg` in `ccy` (a bill's `sz` is unsigned, so the position change is left to
    the positions push: quantity 0)."""
    kind = execution_kind(raw)
    if kind is None:
        raise ProtocolError(
            f"not an account execution: {raw.get('category') or raw.get('type')}", venue=OKX
        )
    if "billId" in raw:
        return AccountExecution(
            venue=OKX,
            symbol=symbol,
            kind=kind,
            execution_id=raw["billId"],
            amount=dec(raw["balChg"]),
            currency=raw["ccy"],
            exchange_ts=ms_ns(raw.get("ts")),
            receive_ts=received_ns,
        )
    fill_size = raw.get("fillSz")
    if not fill_size or not raw.get("tradeId") or Decimal(fill_size) == 0:
        return None
    return AccountExecution(
        venue=OKX,
        symbol=symbol,
        kind=kind,
        execution_id=raw["tradeId"],
        amount=(opt_dec(raw.get("fillPnl")) or ZERO) + (opt_dec(raw.get("fillFee")) or ZERO),
        currency=raw.get("fillFeeCcy") or raw.get("feeCcy") or "",
        exchange_ts=ms_ns(raw.get("fillTime") or raw.get("uTime")),
        receive_ts=received_ns,
        quantity=dec(fill_size) * _side(raw["side"]).sign,
        price=dec(raw["fillPx"]),
    )


def fill_fee(raw: dict, previous_accumulated_fee: Decimal | None) -> Decimal:
    """The fee of the fill an `orders` push reports, positive when paid.

    OKX signs fees the other way (negative = charged, positive = rebate). `fillFee` is the fill's
    own fee; a push without it carries only `fee`, the order's accumulated fee, so the fill's fee
    is the change since the previous push of that order (or the whole of it on the first fill).
    """
    own = raw.get("fillFee")
    if own:
        return -Decimal(own)
    accumulated = opt_dec(raw.get("fee")) or ZERO
    return -(accumulated - (previous_accumulated_fee or ZERO))


def parse_fill(raw: dict, symbol: str, received_ns: int) -> FillEvent:
    """An item of GET /api/v5/trade/fills (fee negative = charged, flipped to positive = paid)."""
    return FillEvent(
        venue=OKX,
        symbol=symbol,
        trade_id=raw["tradeId"],
        venue_order_id=raw.get("ordId") or None,
        client_order_id=raw.get("clOrdId") or None,
        side=_side(raw["side"]),
        price=dec(raw["fillPx"]),
        quantity=dec(raw["fillSz"]),
        fee=-(opt_dec(raw.get("fee")) or ZERO),
        fee_currency=raw.get("feeCcy", ""),
        liquidity=LIQUIDITY.get(raw.get("execType", ""), Liquidity.TAKER),
        exchange_ts=ms_ns(raw.get("fillTime") or raw.get("ts")),
        receive_ts=received_ns,
    )


# --------------------------------------------------------------------------- account


def parse_position(raw: dict, symbol: str, received_ns: int) -> PositionUpdate:
    """GET /api/v5/account/positions item or `positions` channel item. `pos` is signed in net
    mode; in long/short mode `posSide` gives the sign."""
    quantity = opt_dec(raw.get("pos")) or ZERO
    pos_side = raw.get("posSide")
    if pos_side == "long":
        quantity = abs(quantity)
    elif pos_side == "short":
        quantity = -abs(quantity)
    return PositionUpdate(
        venue=OKX,
        symbol=symbol,
        quantity=quantity,
        entry_price=opt_dec(raw.get("avgPx")),
        exchange_ts=ms_ns(raw.get("uTime") or raw.get("pTime")),
        receive_ts=received_ns,
        mark_price=opt_dec(raw.get("markPx")),
        unrealized_pnl=opt_dec(raw.get("upl")),
        realized_pnl=opt_dec(raw.get("realizedPnl")),
        liquidation_price=opt_dec(raw.get("liqPx")),
        leverage=opt_dec(raw.get("lever")),
    )


def parse_balances(raw: dict, received_ns: int) -> list[BalanceUpdate]:
    """The `details` of GET /api/v5/account/balance or an `account` channel item: total is the
    currency's equity `eq` (cash balance when absent), available `availBal`, locked `frozenBal`."""
    out = []
    for detail in raw.get("details", ()):
        total = first_dec(detail.get("eq"), detail.get("cashBal")) or ZERO
        out.append(
            BalanceUpdate(
                venue=OKX,
                currency=detail["ccy"],
                total=total,
                available=first_dec(detail.get("availBal"), detail.get("availEq")) or ZERO,
                exchange_ts=ms_ns(detail.get("uTime") or raw.get("uTime")),
                receive_ts=received_ns,
                locked=opt_dec(detail.get("frozenBal")) or ZERO,
            )
        )
    return out
