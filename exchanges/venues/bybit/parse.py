"""Pure functions from Bybit v5 wire payloads (JSON-decoded; `loads` decodes a WebSocket message)
to the normalized types.

Bybit sends every amount as a JSON string, so `Decimal(text)` is exact. Timestamps are ms and
become ns. Symbols are turned into unified ones by the caller's `SymbolTable` (category + name),
because a bare Bybit name is ambiguous across categories. Field meanings: Bybit v5 docs "Get
Instruments Info", "Get Tickers", "Get Orderbook", "Get Open & Closed Orders", "Get Trade
History", "Get Position Info", "Get Wallet Balance", and the WebSocket topics `orderbook`,
`publicTrade`, `tickers`, `order`, `execution`, `position`, `wallet`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson

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
    OptionType,
    OrderStatus,
    OrderType,
    OrderUpdate,
    PositionUpdate,
    ProtocolError,
    Side,
    Ticker,
    Trade,
    TriggerDirection,
    TriggerPrice,
    Venue,
    trigger_direction,
)
from exchanges.venues.bybit import constants as C
from exchanges.venues.numbers import (
    NS_PER_MS,
    dec_or_zero,
    levels,
    ms_ns,
    nonzero_or_none,
    opt_dec,
)
from exchanges.venues.symbols import parse_unified, unified_symbol

BYBIT = Venue.BYBIT
_loads = orjson.loads


def loads(raw: str | bytes) -> Any:
    """Decode one WebSocket message; text that is not JSON is a ProtocolError."""
    try:
        return _loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"not JSON: {exc}", venue=BYBIT) from exc


def _side(value: str) -> Side:
    try:
        return C.SIDES[value]
    except KeyError:
        raise ProtocolError(f"unknown Bybit side {value!r}", venue=BYBIT) from None


# --------------------------------------------------------------------------- instruments


def instrument_category(raw: dict) -> str:
    """The category of a `GET /v5/market/instruments-info` entry by its own fields ("Get
    Instruments Info"): options carry `optionsType`, derivatives a `contractType`
    (`LinearPerpetual`, `LinearFutures`, `InversePerpetual`, `InverseFutures`), spot neither."""
    if raw.get("optionsType"):
        return C.OPTION
    contract_type = raw.get("contractType")
    if not contract_type:
        return C.SPOT
    return C.INVERSE if contract_type.startswith("Inverse") else C.LINEAR


def parse_instrument(raw: dict) -> InstrumentInfo:
    """One entry of `GET /v5/market/instruments-info` (any category, `instrument_category`)."""
    category = instrument_category(raw)
    symbol = raw["symbol"]
    base, quote = raw["baseCoin"], raw["quoteCoin"]
    lot_filter = raw["lotSizeFilter"]
    tick = Decimal(raw["priceFilter"]["tickSize"])
    active = raw.get("status", "Trading") == "Trading"
    if category == C.SPOT:
        return InstrumentInfo(
            venue=BYBIT,
            venue_symbol=symbol,
            symbol=unified_symbol(kind=InstrumentKind.SPOT, base=base, quote=quote),
            kind=InstrumentKind.SPOT,
            base=base,
            quote=quote,
            settle=quote,
            linear=True,
            contract_size=Decimal(1),
            tick_size=tick,
            lot_size=Decimal(lot_filter["basePrecision"]),
            min_size=Decimal(lot_filter["minOrderQty"]),
            min_notional=_min_notional(lot_filter, "minOrderAmt"),
            active=active,
        )
    settle = raw.get("settleCoin") or (quote if category != C.INVERSE else base)
    lot = Decimal(lot_filter["qtyStep"])
    min_size = Decimal(lot_filter["minOrderQty"])
    delivery = int(raw.get("deliveryTime") or 0)
    if category == C.OPTION:
        option_type = OptionType.CALL if raw["optionsType"] == "Call" else OptionType.PUT
        strike = Decimal(symbol.split("-")[2])
        expiry = delivery * NS_PER_MS
        return InstrumentInfo(
            venue=BYBIT,
            venue_symbol=symbol,
            symbol=unified_symbol(
                kind=InstrumentKind.OPTION,
                base=base,
                quote=quote,
                settle=settle,
                expiry_ts=expiry,
                strike=strike,
                option_type=option_type,
            ),
            kind=InstrumentKind.OPTION,
            base=base,
            quote=quote,
            settle=settle,
            linear=True,
            contract_size=Decimal(1),
            tick_size=tick,
            lot_size=lot,
            min_size=min_size,
            expiry_ts=expiry,
            strike=strike,
            option_type=option_type,
            active=active,
        )
    contract_type = raw.get("contractType", "")
    perpetual = contract_type.endswith("Perpetual")
    kind = InstrumentKind.PERPETUAL if perpetual else InstrumentKind.FUTURE
    expiry = None if perpetual else delivery * NS_PER_MS
    return InstrumentInfo(
        venue=BYBIT,
        venue_symbol=symbol,
        symbol=unified_symbol(kind=kind, base=base, quote=quote, settle=settle, expiry_ts=expiry),
        kind=kind,
        base=base,
        quote=quote,
        settle=settle,
        linear=category == C.LINEAR,
        contract_size=Decimal(1),
        tick_size=tick,
        lot_size=lot,
        min_size=min_size,
        min_notional=_min_notional(lot_filter, "minNotionalValue"),
        expiry_ts=expiry,
        active=active,
    )


def _min_notional(lot_filter: dict, name: str) -> Decimal | None:
    """The minimum order value of a listing: spot `minOrderAmt` (quote coin; the venue checks
    it, `minOrderQty` is deprecated), linear `minNotionalValue` (USDT/USDC); absent or "0" is
    none ("Get Instruments Info")."""
    raw = lot_filter.get(name)
    if raw in (None, ""):
        return None
    value = Decimal(raw)
    return value if value > 0 else None


def parse_instruments(result: dict) -> list[InstrumentInfo]:
    """The `result` of one `GET /v5/market/instruments-info` page."""
    return [parse_instrument(raw) for raw in result["list"]]


# --------------------------------------------------------------------------- market data


def parse_book(raw: dict, symbol: str, received_ns: int) -> BookSnapshot:
    """`GET /v5/market/orderbook` result (`u` is the book's update id, `ts` its time)."""
    return BookSnapshot(
        venue=BYBIT,
        symbol=symbol,
        bids=levels(raw["b"]),
        asks=levels(raw["a"]),
        sequence=int(raw["u"]),
        exchange_ts=ms_ns(raw["ts"]),
        receive_ts=received_ns,
    )


def parse_ticker(raw: dict, symbol: str, received_ns: int) -> Ticker:
    """A `GET /v5/market/tickers` list raw or a (merged) `tickers.{symbol}` push (option
    pushes spell the top of book `bidPrice`/`bidSize`/`askPrice`/`askSize`).

    The raw carries no time of its own: `exchange_ts` is 0 here and the caller stamps the
    time of the message it came in (the push's `ts`, the REST envelope's `time`)."""
    get = raw.get
    return Ticker(
        venue=BYBIT,
        symbol=symbol,
        best_bid=nonzero_or_none(get("bid1Price", get("bidPrice"))),
        best_bid_size=opt_dec(get("bid1Size", get("bidSize"))),
        best_ask=nonzero_or_none(get("ask1Price", get("askPrice"))),
        best_ask_size=opt_dec(get("ask1Size", get("askSize"))),
        last_price=nonzero_or_none(raw.get("lastPrice")),
        exchange_ts=0,
        receive_ts=received_ns,
        mark_price=nonzero_or_none(raw.get("markPrice")),
        index_price=nonzero_or_none(raw.get("indexPrice") or raw.get("usdIndexPrice")),
        funding_rate=opt_dec(raw.get("fundingRate")),
        open_interest=opt_dec(raw.get("openInterest")),
        volume_24h=opt_dec(raw.get("volume24h")),
    )


def parse_trade(raw: dict, symbol: str, received_ns: int) -> Trade:
    """One `publicTrade.{symbol}` entry: `i` id, `p` price, `v` size, `S` taker side, `T` ms."""
    return Trade(
        venue=BYBIT,
        symbol=symbol,
        trade_id=raw["i"],
        price=Decimal(raw["p"]),
        quantity=Decimal(raw["v"]),
        side=_side(raw["S"]),
        exchange_ts=int(raw["T"]) * NS_PER_MS,
        receive_ts=received_ns,
    )


def parse_rest_trade(raw: dict, symbol: str, received_ns: int) -> Trade:
    """One `GET /v5/market/recent-trade` list entry: `execId` (the `i` of the push), `price`,
    `size`, `side` (taker), `time` ms."""
    return Trade(
        venue=BYBIT,
        symbol=symbol,
        trade_id=raw["execId"],
        price=Decimal(raw["price"]),
        quantity=Decimal(raw["size"]),
        side=_side(raw["side"]),
        exchange_ts=int(raw["time"]) * NS_PER_MS,
        receive_ts=received_ns,
    )


# --------------------------------------------------------------------------- orders and fills


def parse_order(raw: dict, symbol: str, received_ns: int) -> OrderUpdate:
    """An order of `GET /v5/order/realtime` or of the `order` topic."""
    wire_status = raw["orderStatus"]
    try:
        status = C.ORDER_STATUS[wire_status]
    except KeyError:
        raise ProtocolError(f"unknown Bybit order status {wire_status!r}", venue=BYBIT) from None
    tif = raw.get("timeInForce") or "GTC"
    reject = raw.get("rejectReason") or ""
    if reject == "EC_NoError":
        reject = ""
    order_type = C.ORDER_TYPES.get(raw["orderType"])
    if order_type is None:
        raise ProtocolError(f"unknown Bybit order type {raw['orderType']!r}", venue=BYBIT)
    filled = dec_or_zero(raw.get("cumExecQty"))
    if status is OrderStatus.NEW and filled:
        status = OrderStatus.PARTIALLY_FILLED
    trigger_price = trigger_by = None
    if is_conditional(raw):
        side = _side(raw["side"])
        trigger_price = Decimal(raw["triggerPrice"])
        trigger_by = C.TRIGGER_BY.get(raw.get("triggerBy") or "", TriggerPrice.LAST)
        order_type = conditional_type(order_type, side, _direction(raw, trigger_price))
    return OrderUpdate(
        venue=BYBIT,
        symbol=symbol,
        client_order_id=raw.get("orderLinkId") or None,
        venue_order_id=raw.get("orderId") or None,
        side=_side(raw["side"]),
        order_type=order_type,
        time_in_force=C.TIME_IN_FORCE.get(tif, C.TIME_IN_FORCE["GTC"]),
        price=nonzero_or_none(raw.get("price")),
        quantity=Decimal(raw["qty"]),
        filled_quantity=filled,
        average_price=nonzero_or_none(raw.get("avgPrice")),
        status=status,
        exchange_ts=ms_ns(raw.get("updatedTime") or raw.get("createdTime")),
        receive_ts=received_ns,
        post_only=tif in C.POST_ONLY_TIFS,
        reduce_only=bool(raw.get("reduceOnly")),
        reject_reason=reject,
        trigger_price=trigger_price,
        trigger_by=trigger_by,
    )


def is_conditional(raw: dict) -> bool:
    """Whether an order row or push is a conditional order: a trigger price and the
    `stopOrderType` "Stop" (position TP/SL and trailing stops have other stopOrderTypes)."""
    return (
        raw.get("stopOrderType") == C.STOP_ORDER_TYPE_CONDITIONAL
        and nonzero_or_none(raw.get("triggerPrice")) is not None
    )


def _direction(raw: dict, trigger_price: Decimal) -> TriggerDirection:
    """`triggerDirection` (1 rise, 2 fall); spot orders carry none (0), and fire on the side
    of the price at creation the trigger is on (`basePrice`, else `lastPriceOnCreated`)."""
    try:
        return C.TRIGGER_DIRECTION[int(raw.get("triggerDirection") or 0)]
    except (KeyError, ValueError):
        pass
    reference = nonzero_or_none(raw.get("basePrice")) or nonzero_or_none(
        raw.get("lastPriceOnCreated")
    )
    if reference is None:
        raise ProtocolError(f"Bybit conditional order without a direction: {raw}", venue=BYBIT)
    return TriggerDirection.RISE if trigger_price > reference else TriggerDirection.FALL


def conditional_type(executes_as: OrderType, side: Side, direction: TriggerDirection) -> OrderType:
    """The conditional type of a `side` order executing as `executes_as` (Bybit's `orderType`)
    that fires on `direction`: a stop if it fires on the move against the side's position
    (`base.trigger_direction`), a take profit otherwise."""
    if executes_as is OrderType.LIMIT:
        stop, take = OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT_LIMIT
    else:
        stop, take = OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET
    return stop if trigger_direction(stop, side) is direction else take


def parse_order_ack(result: dict) -> tuple[str | None, str | None]:
    """(venue order id, client order id) of a create/amend/cancel acknowledgement: the REST
    `result` or the WebSocket trade API's `data` (`orderId`, `orderLinkId`)."""
    return result.get("orderId") or None, result.get("orderLinkId") or None


def fee_currency(raw: dict, symbol: str) -> str:
    """The coin an execution's fee is in: `feeCurrency` when Bybit sends it (REST), else the
    settle coin of a derivative, and for spot Bybit's "Spot Fee Currency Instruction" (Enums):
    a buy pays in the base coin and a sell in the quote coin, except a maker fill at a negative
    (rebate) rate, where it is the other way round."""
    explicit = raw.get("feeCurrency")
    if explicit:
        return explicit
    parts = parse_unified(symbol)
    if parts.kind is not InstrumentKind.SPOT:
        return parts.settle
    buy = raw.get("side") == "Buy"
    if raw.get("isMaker") and dec_or_zero(raw.get("feeRate")) < 0:
        buy = not buy
    return parts.base if buy else parts.quote


def parse_fill(raw: dict, symbol: str, received_ns: int) -> FillEvent:
    """One execution of `GET /v5/execution/list` or of the `execution` topic."""
    return FillEvent(
        venue=BYBIT,
        symbol=symbol,
        trade_id=raw["execId"],
        venue_order_id=raw.get("orderId") or None,
        client_order_id=raw.get("orderLinkId") or None,
        side=_side(raw["side"]),
        price=Decimal(raw["execPrice"]),
        quantity=Decimal(raw["execQty"]),
        fee=dec_or_zero(raw.get("execFee")),
        fee_currency=fee_currency(raw, symbol),
        liquidity=Liquidity.MAKER if raw.get("isMaker") else Liquidity.TAKER,
        exchange_ts=ms_ns(raw["execTime"]),
        receive_ts=received_ns,
    )


def is_trade_execution(raw: dict) -> bool:
    """Trades of the account's orders; funding, settlement, delivery, ADL and liquidation rows
    are executions but not fills of an order (`execution_kind`)."""
    return raw.get("execType", "Trade") in C.TRADE_EXEC_TYPES


def execution_kind(raw: dict) -> ExecutionKind | None:
    """The kind of an execution the venue made on the account (`execType` Funding, Settle,
    Delivery, AdlTrade, BustTrade), None for a trade of an order or a type not known here."""
    kind = C.EXECUTION_KINDS.get(raw.get("execType", "Trade"))
    return ExecutionKind(kind) if kind else None


def parse_account_execution(raw: dict, symbol: str, received_ns: int) -> AccountExecution:
    """One execution of `execution_kind` (an `execution` push or a `/v5/execution/list` row).

    `execFee` is what the execution cost (a funding row's funding fee: positive paid, negative
    received, as a trading fee), so the cash moved is its negation, in the fee coin. Funding
    leaves the position alone (quantity 0, no price); the others close part of it at
    `execPrice`: `execQty` signed by the account's `side` (Buy adds, Sell takes away)."""
    kind = execution_kind(raw)
    if kind is None:
        raise ProtocolError(
            f"not an account execution: execType {raw.get('execType')!r}", venue=BYBIT
        )
    moves_position = kind is not ExecutionKind.FUNDING
    quantity = dec_or_zero(raw.get("execQty")) * _side(raw["side"]).sign if moves_position else ZERO
    return AccountExecution(
        venue=BYBIT,
        symbol=symbol,
        kind=kind,
        execution_id=raw["execId"],
        amount=-dec_or_zero(raw.get("execFee")),
        currency=fee_currency(raw, symbol),
        exchange_ts=ms_ns(raw["execTime"]),
        receive_ts=received_ns,
        quantity=quantity,
        price=nonzero_or_none(raw.get("execPrice")) if moves_position else None,
    )


# --------------------------------------------------------------------------- account


def parse_position(raw: dict, symbol: str, received_ns: int) -> PositionUpdate:
    """A `GET /v5/position/list` raw (`avgPrice`) or a `position` push (`entryPrice`).

    Quantity is signed by `side` (Buy long, Sell short, "" flat)."""
    size = dec_or_zero(raw.get("size"))
    if raw.get("side") == "Sell":
        size = -size
    entry = raw.get("avgPrice") if "avgPrice" in raw else raw.get("entryPrice")
    return PositionUpdate(
        venue=BYBIT,
        symbol=symbol,
        quantity=size,
        entry_price=nonzero_or_none(entry) if size else None,
        exchange_ts=ms_ns(raw.get("updatedTime")),
        receive_ts=received_ns,
        mark_price=nonzero_or_none(raw.get("markPrice")),
        unrealized_pnl=opt_dec(raw.get("unrealisedPnl")),
        realized_pnl=opt_dec(raw.get("cumRealisedPnl")),
        liquidation_price=nonzero_or_none(raw.get("liqPrice")),
        leverage=opt_dec(raw.get("leverage")),
    )


def parse_balances(raw: list[dict], received_ns: int) -> list[BalanceUpdate]:
    """Coins of the accounts of `GET /v5/account/wallet-balance` (`result.list`) or of a
    `wallet` push (`data`). Accounts carry no time: `exchange_ts` is 0 here and the caller
    stamps the message's (the push's `creationTime`, the REST envelope's `time`).

    `total` is the coin's `walletBalance`; `available` its `availableToWithdraw` where Bybit
    still fills it, otherwise the wallet balance less what open orders and positions hold
    (`locked` spot orders, `totalOrderIM`, `totalPositionIM`); `locked` the difference."""
    balances = []
    for account in raw:
        for coin in account.get("coin", ()):
            total = dec_or_zero(coin.get("walletBalance"))
            withdrawable = coin.get("availableToWithdraw")
            if withdrawable not in (None, ""):
                available = Decimal(withdrawable)
            else:
                held = (
                    dec_or_zero(coin.get("locked"))
                    + dec_or_zero(coin.get("totalOrderIM"))
                    + dec_or_zero(coin.get("totalPositionIM"))
                )
                available = max(total - held, ZERO)
            balances.append(
                BalanceUpdate(
                    venue=BYBIT,
                    currency=coin["coin"],
                    total=total,
                    available=available,
                    exchange_ts=0,
                    receive_ts=received_ns,
                    locked=max(total - available, ZERO),
                )
            )
    return balances
