"""Pure functions from Bybit v5 wire payloads (already JSON-decoded) to the normalized types.

Bybit sends every amount as a JSON string, so `Decimal(text)` is exact. Timestamps are ms and
become ns. Symbols are turned into unified ones by the caller's `SymbolTable` (category + name),
because a bare Bybit name is ambiguous across categories. Field meanings: Bybit v5 docs "Get
Instruments Info", "Get Tickers", "Get Orderbook", "Get Open & Closed Orders", "Get Trade
History", "Get Position Info", "Get Wallet Balance", and the WebSocket topics `orderbook`,
`publicTrade`, `tickers`, `order`, `execution`, `position`, `wallet`.
"""

from __future__ import annotations

from decimal import Decimal

from exchanges.venues.base import (
    ZERO,
    BalanceUpdate,
    BookSnapshot,
    FillEvent,
    InstrumentInfo,
    InstrumentKind,
    Liquidity,
    OptionType,
    OrderStatus,
    OrderUpdate,
    PositionUpdate,
    ProtocolError,
    Side,
    Ticker,
    Trade,
    Venue,
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


def side(value: str) -> Side:
    try:
        return C.SIDES[value]
    except KeyError:
        raise ProtocolError(f"unknown Bybit side {value!r}", venue=BYBIT) from None


# --------------------------------------------------------------------------- instruments


def parse_instrument(category: str, item: dict) -> InstrumentInfo:
    """One entry of `GET /v5/market/instruments-info` (any category)."""
    symbol = item["symbol"]
    base, quote = item["baseCoin"], item["quoteCoin"]
    lot_filter = item["lotSizeFilter"]
    tick = Decimal(item["priceFilter"]["tickSize"])
    active = item.get("status", "Trading") == "Trading"
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
            active=active,
        )
    settle = item.get("settleCoin") or (quote if category != C.INVERSE else base)
    lot = Decimal(lot_filter["qtyStep"])
    min_size = Decimal(lot_filter["minOrderQty"])
    delivery = int(item.get("deliveryTime") or 0)
    if category == C.OPTION:
        option_type = OptionType.CALL if item["optionsType"] == "Call" else OptionType.PUT
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
    contract_type = item.get("contractType", "")
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
        expiry_ts=expiry,
        active=active,
    )


def parse_instruments(result: dict, category: str | None = None) -> list[InstrumentInfo]:
    category = category or result["category"]
    return [parse_instrument(category, item) for item in result["list"]]


# --------------------------------------------------------------------------- market data


def parse_rest_orderbook(result: dict, symbol: str, receive_ts: int) -> BookSnapshot:
    """`GET /v5/market/orderbook` result (`u` is the book's update id, `ts` its time)."""
    return BookSnapshot(
        venue=BYBIT,
        symbol=symbol,
        bids=levels(result["b"]),
        asks=levels(result["a"]),
        sequence=int(result["u"]),
        exchange_ts=ms_ns(result["ts"]),
        receive_ts=receive_ts,
    )


def parse_ticker(data: dict, symbol: str, exchange_ts: int, receive_ts: int) -> Ticker:
    """A `GET /v5/market/tickers` list item or a (merged) `tickers.{symbol}` push (option
    pushes spell the top of book `bidPrice`/`bidSize`/`askPrice`/`askSize`)."""
    get = data.get
    return Ticker(
        venue=BYBIT,
        symbol=symbol,
        best_bid=nonzero_or_none(get("bid1Price", get("bidPrice"))),
        best_bid_size=opt_dec(get("bid1Size", get("bidSize"))),
        best_ask=nonzero_or_none(get("ask1Price", get("askPrice"))),
        best_ask_size=opt_dec(get("ask1Size", get("askSize"))),
        last_price=nonzero_or_none(data.get("lastPrice")),
        exchange_ts=exchange_ts,
        receive_ts=receive_ts,
        mark_price=nonzero_or_none(data.get("markPrice")),
        index_price=nonzero_or_none(data.get("indexPrice") or data.get("usdIndexPrice")),
        funding_rate=opt_dec(data.get("fundingRate")),
        open_interest=opt_dec(data.get("openInterest")),
        volume_24h=opt_dec(data.get("volume24h")),
    )


def parse_trade(item: dict, symbol: str, receive_ts: int) -> Trade:
    """One `publicTrade.{symbol}` entry: `i` id, `p` price, `v` size, `S` taker side, `T` ms."""
    return Trade(
        venue=BYBIT,
        symbol=symbol,
        trade_id=item["i"],
        price=Decimal(item["p"]),
        quantity=Decimal(item["v"]),
        side=side(item["S"]),
        exchange_ts=int(item["T"]) * NS_PER_MS,
        receive_ts=receive_ts,
    )


# --------------------------------------------------------------------------- orders and fills


def parse_order(item: dict, symbol: str, receive_ts: int) -> OrderUpdate:
    """An order of `GET /v5/order/realtime` or of the `order` topic."""
    wire_status = item["orderStatus"]
    try:
        status = C.ORDER_STATUS[wire_status]
    except KeyError:
        raise ProtocolError(f"unknown Bybit order status {wire_status!r}", venue=BYBIT) from None
    tif = item.get("timeInForce") or "GTC"
    reject = item.get("rejectReason") or ""
    if reject == "EC_NoError":
        reject = ""
    order_type = C.ORDER_TYPES.get(item["orderType"])
    if order_type is None:
        raise ProtocolError(f"unknown Bybit order type {item['orderType']!r}", venue=BYBIT)
    filled = dec_or_zero(item.get("cumExecQty"))
    if status is OrderStatus.NEW and filled:
        status = OrderStatus.PARTIALLY_FILLED
    return OrderUpdate(
        venue=BYBIT,
        symbol=symbol,
        client_order_id=item.get("orderLinkId") or None,
        venue_order_id=item.get("orderId") or None,
        side=side(item["side"]),
        order_type=order_type,
        time_in_force=C.TIME_IN_FORCE.get(tif, C.TIME_IN_FORCE["GTC"]),
        price=nonzero_or_none(item.get("price")),
        quantity=Decimal(item["qty"]),
        filled_quantity=filled,
        average_price=nonzero_or_none(item.get("avgPrice")),
        status=status,
        exchange_ts=ms_ns(item.get("updatedTime") or item.get("createdTime")),
        receive_ts=receive_ts,
        post_only=tif in C.POST_ONLY_TIFS,
        reduce_only=bool(item.get("reduceOnly")),
        reject_reason=reject,
    )


def parse_order_ack(result: dict) -> tuple[str | None, str | None]:
    """(venue order id, client order id) of a create/amend/cancel acknowledgement: the REST
    `result` or the WebSocket trade API's `data` (`orderId`, `orderLinkId`)."""
    return result.get("orderId") or None, result.get("orderLinkId") or None


def fee_currency(item: dict, category: str, symbol: str) -> str:
    """The coin an execution's fee is in: `feeCurrency` when Bybit sends it (REST), else the
    settle coin of a derivative, and for spot Bybit's "Spot Fee Currency Instruction" (Enums):
    a buy pays in the base coin and a sell in the quote coin, except a maker fill at a negative
    (rebate) rate, where it is the other way round."""
    explicit = item.get("feeCurrency")
    if explicit:
        return explicit
    parts = parse_unified(symbol)
    if category != C.SPOT:
        return parts.settle
    buy = item.get("side") == "Buy"
    if item.get("isMaker") and dec_or_zero(item.get("feeRate")) < 0:
        buy = not buy
    return parts.base if buy else parts.quote


def parse_execution(item: dict, category: str, symbol: str, receive_ts: int) -> FillEvent:
    """One execution of `GET /v5/execution/list` or of the `execution` topic."""
    return FillEvent(
        venue=BYBIT,
        symbol=symbol,
        trade_id=item["execId"],
        venue_order_id=item.get("orderId") or None,
        client_order_id=item.get("orderLinkId") or None,
        side=side(item["side"]),
        price=Decimal(item["execPrice"]),
        quantity=Decimal(item["execQty"]),
        fee=dec_or_zero(item.get("execFee")),
        fee_currency=fee_currency(item, category, symbol),
        liquidity=Liquidity.MAKER if item.get("isMaker") else Liquidity.TAKER,
        exchange_ts=ms_ns(item["execTime"]),
        receive_ts=receive_ts,
    )


def is_trade_execution(item: dict) -> bool:
    """Funding, settlement and delivery rows are executions but not fills of an order."""
    return item.get("execType", "Trade") in C.TRADE_EXEC_TYPES


# --------------------------------------------------------------------------- account


def parse_position(item: dict, symbol: str, receive_ts: int) -> PositionUpdate:
    """A `GET /v5/position/list` item (`avgPrice`) or a `position` push (`entryPrice`).

    Quantity is signed by `side` (Buy long, Sell short, "" flat)."""
    size = dec_or_zero(item.get("size"))
    if item.get("side") == "Sell":
        size = -size
    entry = item.get("avgPrice") if "avgPrice" in item else item.get("entryPrice")
    return PositionUpdate(
        venue=BYBIT,
        symbol=symbol,
        quantity=size,
        entry_price=nonzero_or_none(entry) if size else None,
        exchange_ts=ms_ns(item.get("updatedTime")),
        receive_ts=receive_ts,
        mark_price=nonzero_or_none(item.get("markPrice")),
        unrealized_pnl=opt_dec(item.get("unrealisedPnl")),
        realized_pnl=opt_dec(item.get("cumRealisedPnl")),
        liquidation_price=nonzero_or_none(item.get("liqPrice")),
        leverage=opt_dec(item.get("leverage")),
    )


def parse_wallet(accounts: list[dict], exchange_ts: int, receive_ts: int) -> list[BalanceUpdate]:
    """Coins of `GET /v5/account/wallet-balance` (`result.list`) or of a `wallet` push.

    `total` is the coin's `walletBalance`; `available` its `availableToWithdraw` where Bybit
    still fills it, otherwise the wallet balance less what open orders and positions hold
    (`locked` spot orders, `totalOrderIM`, `totalPositionIM`); `locked` the difference."""
    balances = []
    for account in accounts:
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
                    exchange_ts=exchange_ts,
                    receive_ts=receive_ts,
                    locked=max(total - available, ZERO),
                )
            )
    return balances
