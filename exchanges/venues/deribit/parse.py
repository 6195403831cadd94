"""Pure functions from Deribit wire objects to the normalized types of `base.py`.

Deribit sends prices and amounts as JSON numbers, so every payload is decoded with
`loads` (Decimal for every non-integer number: the exact decimal text, never a float).
Integers stay `int` and are exact as they are. Timestamps on the wire are ms since the epoch.
Amount units (docs, private/buy `amount`): USD for perpetuals and inverse futures, the base coin
for options and linear (`_USDC`) instruments; they are passed through unchanged as quantities.
"""

from __future__ import annotations

from collections.abc import Iterable
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
    OptionType,
    OrderStatus,
    OrderUpdate,
    PositionUpdate,
    PriceLevel,
    ProtocolError,
    Ticker,
    TimeInForce,
    Trade,
    Venue,
    VenueError,
)
from exchanges.venues.deribit import constants as C
from exchanges.venues.numbers import DecimalJsonDecoder, dec, levels, ms_ns, opt_dec
from exchanges.venues.symbols import parse_unified, unified_symbol

VENUE = Venue.DERIBIT

_decode = DecimalJsonDecoder().decode


def loads(raw: str | bytes) -> object:
    """Decode one Deribit message, JSON numbers with a fraction or exponent as Decimal (one
    shared object per distinct number text: book prices and sizes repeat, `numbers.py`)."""
    try:
        return _decode(raw)
    except ValueError as exc:
        raise ProtocolError(f"not JSON: {exc}", venue=VENUE) from exc


def decode_message(raw: str | bytes) -> dict:
    """Decode one message (`loads`) that must be a JSON-RPC object."""
    message = loads(raw)
    if type(message) is not dict:
        raise ProtocolError("not a JSON-RPC object", venue=VENUE)
    return message


# --------------------------------------------------------------------------- reference data


def parse_instrument(raw: dict) -> InstrumentInfo | None:
    """One `public/get_instruments` entry; combos (future_combo, option_combo) give None
    because the normalized model has no combo kind. A `future` whose `settlement_period` is
    `perpetual` is a perpetual. Deribit publishes no separate quantity step: orders are sized in
    multiples of `min_trade_amount`, so it is both the lot and the minimum size."""
    name = raw["instrument_name"]
    wire_kind = raw["kind"]
    if wire_kind == "future":
        perpetual = raw.get("settlement_period") == C.PERPETUAL_PERIOD
        kind = InstrumentKind.PERPETUAL if perpetual else InstrumentKind.FUTURE
    elif wire_kind in C.INSTRUMENT_KINDS:
        kind = C.INSTRUMENT_KINDS[wire_kind]
    else:
        return None
    base = raw["base_currency"]
    quote = raw.get("counter_currency") or raw["quote_currency"]
    settle = raw.get("settlement_currency") or quote
    expiry_ts = None
    if kind in (InstrumentKind.FUTURE, InstrumentKind.OPTION):
        expiry_ts = ms_ns(raw["expiration_timestamp"])
    strike = option_type = None
    if kind is InstrumentKind.OPTION:
        strike = dec(raw["strike"])
        option_type = OptionType(raw["option_type"])
    min_size = dec(raw["min_trade_amount"])
    symbol = unified_symbol(
        kind=kind,
        base=base,
        quote=quote,
        settle=settle,
        expiry_ts=expiry_ts,
        strike=strike,
        option_type=option_type,
    )
    return InstrumentInfo(
        venue=VENUE,
        venue_symbol=name,
        symbol=symbol,
        kind=kind,
        base=base,
        quote=quote,
        settle=settle,
        linear=raw.get("instrument_type") == "linear" or kind is InstrumentKind.SPOT,
        contract_size=dec(raw["contract_size"]),
        tick_size=dec(raw["tick_size"]),
        lot_size=min_size,
        min_size=min_size,
        expiry_ts=expiry_ts,
        strike=strike,
        option_type=option_type,
        active=bool(raw.get("is_active", True)),
    )


def parse_instruments(result: Iterable[dict]) -> list[InstrumentInfo]:
    return [info for info in map(parse_instrument, result) if info is not None]


def parse_error(payload: dict) -> VenueError:
    """A JSON-RPC `error` object (`code`, `message`, optional `data`) as the typed error its
    code stands for (`constants.error_for`); `data` is appended to the message."""
    message = str(payload.get("message", ""))
    data = payload.get("data")
    if data:
        message = f"{message} {data}"
    return C.error_for(payload.get("code", ""), message)


def parse_server_time(result: int) -> int:
    """`public/get_time` result (ms) -> ns."""
    return ms_ns(result)


# --------------------------------------------------------------------------- market data


def parse_ticker(raw: dict, symbol: str, received_ns: int) -> Ticker:
    """`public/ticker` result or a `ticker.{instrument}.{interval}` notification's data.
    The funding rate is `funding_8h` (the 8-hour rate; `current_funding` is the instantaneous
    one); the 24 h volume is `stats.volume`, in the base coin."""
    stats = raw.get("stats") or {}
    funding = raw.get("funding_8h")
    return Ticker(
        venue=VENUE,
        symbol=symbol,
        best_bid=opt_dec(raw.get("best_bid_price")),
        best_bid_size=opt_dec(raw.get("best_bid_amount")),
        best_ask=opt_dec(raw.get("best_ask_price")),
        best_ask_size=opt_dec(raw.get("best_ask_amount")),
        last_price=opt_dec(raw.get("last_price")),
        exchange_ts=ms_ns(raw["timestamp"]),
        receive_ts=received_ns,
        mark_price=opt_dec(raw.get("mark_price")),
        index_price=opt_dec(raw.get("index_price")),
        funding_rate=opt_dec(funding),
        open_interest=opt_dec(raw.get("open_interest")),
        volume_24h=opt_dec(stats.get("volume")),
    )


def ws_levels(raw_levels: Iterable[list]) -> tuple[PriceLevel, ...]:
    """`book.*` notification levels `[action, price, amount]` -> `(price, amount)`; `delete`
    carries amount 0. The decoder already made Decimals of every number with a fraction (whole
    numbers arrive as exact ints), so only those are converted: this is the book's hot path."""
    out = []
    for level in raw_levels:
        price = level[1]
        amount = level[2]
        if type(price) is not Decimal:
            price = dec(price)
        if type(amount) is not Decimal:
            amount = dec(amount)
        out.append((price, amount))
    return tuple(out)


def parse_book(raw: dict, symbol: str, received_ns: int) -> BookSnapshot:
    """`public/get_order_book` result (its `change_id` is the book's sequence)."""
    return BookSnapshot(
        venue=VENUE,
        symbol=symbol,
        bids=levels(raw["bids"]),
        asks=levels(raw["asks"]),
        sequence=int(raw.get("change_id") or 0),
        exchange_ts=ms_ns(raw["timestamp"]),
        receive_ts=received_ns,
    )


def parse_trade(raw: dict, symbol: str, received_ns: int) -> Trade:
    """One entry of a `trades.{instrument}.{interval}` notification; `direction` is the
    taker's side."""
    return Trade(
        venue=VENUE,
        symbol=symbol,
        trade_id=str(raw["trade_id"]),
        price=dec(raw["price"]),
        quantity=dec(raw["amount"]),
        side=C.SIDES[raw["direction"]],
        exchange_ts=ms_ns(raw["timestamp"]),
        receive_ts=received_ns,
    )


# --------------------------------------------------------------------------- account data


def order_status(state: str, filled: Decimal) -> OrderStatus:
    status = C.ORDER_STATUS.get(state)
    if status is None:
        if state == "archive":
            return OrderStatus.FILLED if filled else OrderStatus.CANCELED
        raise ProtocolError(f"unknown order_state {state!r}", venue=VENUE)
    if status is OrderStatus.NEW and filled:
        return OrderStatus.PARTIALLY_FILLED
    return status


def parse_order(raw: dict, symbol: str, received_ns: int) -> OrderUpdate:
    """An order object (private/buy|sell|edit `order`, private/cancel result, get_open_orders*,
    get_order_state*, `user.orders.*` data). `label` is our client order id."""
    filled = dec(raw.get("filled_amount") or 0)
    average = raw.get("average_price")
    price = raw.get("price")
    label = raw.get("label") or None
    order_type = C.ORDER_TYPES.get(raw.get("order_type", "limit"), None)
    if order_type is None:
        raise ProtocolError(f"unknown order_type {raw.get('order_type')!r}", venue=VENUE)
    reason = raw.get("reject_reason") or raw.get("cancel_reason") or ""
    trigger_price = trigger_by = None
    if order_type.is_conditional:
        if raw.get("trigger_price") is not None:
            trigger_price = dec(raw["trigger_price"])
        trigger_by = C.TRIGGERS.get(raw.get("trigger") or "")
        if not order_type.has_price:
            price = None  # Deribit shows a market order's price band there
    return OrderUpdate(
        venue=VENUE,
        symbol=symbol,
        client_order_id=label,
        venue_order_id=venue_order_id(raw),
        side=C.SIDES[raw["direction"]],
        order_type=order_type,
        time_in_force=C.TIME_IN_FORCE.get(raw.get("time_in_force", ""), TimeInForce.GTC),
        price=dec(price) if isinstance(price, Decimal | int) else None,
        quantity=dec(raw["amount"]),
        filled_quantity=filled,
        average_price=dec(average) if filled and average is not None else None,
        status=order_status(raw["order_state"], filled),
        exchange_ts=ms_ns(raw.get("last_update_timestamp") or raw["creation_timestamp"]),
        receive_ts=received_ns,
        post_only=bool(raw.get("post_only", False)),
        reduce_only=bool(raw.get("reduce_only", False)),
        reject_reason=str(reason) if raw.get("order_state") != "open" else "",
        trigger_price=trigger_price,
        trigger_by=trigger_by,
    )


def venue_order_id(raw: dict) -> str | None:
    """The id the gateway knows an order by: a trigger order's own id, also after it fired
    (the order it placed has a new `order_id` and names it in `trigger_order_id`, "Only for
    orders that were created by triggered orders"), otherwise `order_id`."""
    found = raw.get("trigger_order_id") or raw.get("order_id")
    return str(found) if found is not None else None


def is_trigger_order_id(order_id: str) -> bool:
    """Whether `order_id` names a trigger order (`SLMB-12`), not an order (`12`, `ETH-12`)."""
    prefix = order_id.split("-", 1)[0]
    return len(prefix) == 4 and prefix.startswith(C.TRIGGER_ORDER_ID_PREFIXES)


def parse_fill(raw: dict, symbol: str, received_ns: int) -> FillEvent:
    """One of our fills (get_user_trades_*, `user.trades.*`, buy/sell `trades`). Deribit's
    `fee` is what was paid (negative = rebate), as FillEvent wants it."""
    return FillEvent(
        venue=VENUE,
        symbol=symbol,
        trade_id=str(raw["trade_id"]),
        venue_order_id=venue_order_id(raw),
        client_order_id=raw.get("label") or None,
        side=C.SIDES[raw["direction"]],
        price=dec(raw["price"]),
        quantity=dec(raw["amount"]),
        fee=dec(raw.get("fee") or 0),
        fee_currency=raw.get("fee_currency", ""),
        liquidity=C.LIQUIDITY[raw["liquidity"]],
        exchange_ts=ms_ns(raw["timestamp"]),
        receive_ts=received_ns,
    )


def execution_kind(raw: dict) -> ExecutionKind | None:
    """LIQUIDATION for a trade (`user.trades`, get_user_trades_*) in which our own side was
    under liquidation: `liquidation` is "M" (the maker side was), "T" (the taker side) or "MT"
    (docs "private/get_user_trades_by_currency" response), and our side is the trade's
    `liquidity`; a settlement history entry (`type` settlement, delivery) is SETTLEMENT or
    DELIVERY. None for a trade of our own order (also when the other side was liquidated)."""
    if "trade_id" not in raw:
        return C.SETTLEMENT_KINDS.get(raw.get("type", ""))
    liquidated = raw.get("liquidation") or ""
    return ExecutionKind.LIQUIDATION if raw.get("liquidity", "") in liquidated else None


def parse_account_execution(raw: dict, symbol: str, received_ns: int) -> AccountExecution:
    """A trade of `execution_kind` LIQUIDATION: the position moved by `amount` at `price`
    (signed by `direction`), the cash it cost is the fee (`fee` paid). Or a settlement history
    entry (docs "private/get_settlement_history_by_currency"): a settlement books the session's
    `session_profit_loss`; a delivery closes the `position` at `mark_price` with `profit_loss`;
    in the instrument's settlement currency."""
    kind = execution_kind(raw)
    if kind is None:
        raise ProtocolError("not an account execution", venue=VENUE)
    if kind is ExecutionKind.LIQUIDATION:
        return AccountExecution(
            venue=VENUE,
            symbol=symbol,
            kind=kind,
            execution_id=str(raw["trade_id"]),
            amount=-dec(raw.get("fee") or 0),
            currency=raw.get("fee_currency", ""),
            exchange_ts=ms_ns(raw["timestamp"]),
            receive_ts=received_ns,
            quantity=dec(raw["amount"]) * C.SIDES[raw["direction"]].sign,
            price=dec(raw["price"]),
        )
    delivery = kind is ExecutionKind.DELIVERY
    return AccountExecution(
        venue=VENUE,
        symbol=symbol,
        kind=kind,
        execution_id=f"{raw['type']}:{raw['instrument_name']}:{raw['timestamp']}",
        amount=dec(raw.get("profit_loss" if delivery else "session_profit_loss") or 0),
        currency=parse_unified(symbol).settle,
        exchange_ts=ms_ns(raw["timestamp"]),
        receive_ts=received_ns,
        quantity=-dec(raw.get("position") or 0) if delivery else ZERO,
        price=opt_dec(raw.get("mark_price")) if delivery else None,
    )


def parse_position(raw: dict, symbol: str, received_ns: int) -> PositionUpdate:
    """`private/get_positions` entry or `user.changes.*` `positions` entry. `size` is signed
    (negative short), USD for futures, coin for options. Positions carry no timestamp."""
    average = raw.get("average_price")
    size = dec(raw["size"])
    return PositionUpdate(
        venue=VENUE,
        symbol=symbol,
        quantity=size,
        entry_price=dec(average) if size and average is not None else None,
        exchange_ts=received_ns,
        receive_ts=received_ns,
        mark_price=opt_dec(raw.get("mark_price")),
        unrealized_pnl=opt_dec(raw.get("floating_profit_loss")),
        realized_pnl=opt_dec(raw.get("realized_profit_loss")),
        liquidation_price=opt_dec(raw.get("estimated_liquidation_price")),
        leverage=opt_dec(raw.get("leverage")),
    )


def parse_balances(raw: dict, received_ns: int) -> list[BalanceUpdate]:
    """The balance of one `private/get_account_summaries` summary or `user.portfolio.*` data
    (one currency each): total = equity, available = available_funds, locked = the margin
    between them."""
    total = dec(raw["equity"])
    available = dec(raw["available_funds"])
    balance = BalanceUpdate(
        venue=VENUE,
        currency=raw["currency"].upper(),
        total=total,
        available=available,
        exchange_ts=received_ns,
        receive_ts=received_ns,
        locked=total - available,
    )
    return [balance]
