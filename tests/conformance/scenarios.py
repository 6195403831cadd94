"""The ordinary steps a new user takes with ccxt / ccxt.pro, written once for every venue.

Each scenario drives a `ccxt.pro` exchange (see `tests.support.ccxt`) against the simulator and
asserts what ccxt returned: the market's tick, lot, minimum and contract size as the venue lists
them, prices on the tick, amounts in the venue's order unit, statuses and ids. A venue's test
module (`test_ccxt_<venue>.py`) supplies a `Market` per instrument it checks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from tests.support.ccxt import bounded, levels_on_grid, on_step, sorted_book
from tests.support.harness import eventually


@dataclass(frozen=True)
class Market:
    """What ccxt should report for one instrument, as the venue lists it."""

    symbol: str
    id: str
    type: str  # ccxt's: spot, swap, future, option
    tick: float
    lot: float
    min_amount: float
    contract_size: float | None  # None for spot
    min_cost: float | None = None  # the venue's minimum notional, where it has one
    extra: dict[str, Any] = field(default_factory=dict)  # more fields of ccxt's market


def _market_facts(market: dict) -> dict[str, Any]:
    return {
        "id": market["id"],
        "type": market["type"],
        "tick": market["precision"]["price"],
        "lot": market["precision"]["amount"],
        "min_amount": market["limits"]["amount"]["min"],
        "contract_size": market["contractSize"],
        "min_cost": market["limits"]["cost"]["min"],
    }


async def check_markets(exchange: Any, expected: list[Market]) -> None:
    markets = await bounded(exchange.load_markets())
    for want in expected:
        market = markets[want.symbol]
        assert _market_facts(market) == {
            "id": want.id,
            "type": want.type,
            "tick": want.tick,
            "lot": want.lot,
            "min_amount": want.min_amount,
            "contract_size": want.contract_size,
            "min_cost": want.min_cost,
        }, want.symbol
        assert {k: market[k] for k in want.extra} == want.extra, want.symbol


async def check_currencies(exchange: Any, codes: set[str]) -> None:
    currencies = await bounded(exchange.fetch_currencies())
    assert codes <= set(currencies)
    for code in codes:
        assert currencies[code]["code"] == code
        assert currencies[code]["id"]


async def check_public_rest(exchange: Any, want: Market) -> None:
    await bounded(exchange.load_markets())
    book = await bounded(exchange.fetch_order_book(want.symbol))
    assert book["symbol"] == want.symbol
    assert sorted_book(book)
    assert levels_on_grid(book["bids"] + book["asks"], want.tick, want.lot)

    ticker = await bounded(exchange.fetch_ticker(want.symbol))
    assert ticker["symbol"] == want.symbol
    assert on_step(ticker["bid"], want.tick) and on_step(ticker["ask"], want.tick)
    assert ticker["bid"] < ticker["ask"]
    assert on_step(ticker["last"], want.tick)

    async def some_trades() -> list[dict]:
        return await bounded(exchange.fetch_trades(want.symbol))

    trades = await eventually(some_trades)
    for trade in trades:
        assert trade["symbol"] == want.symbol
        assert trade["side"] in ("buy", "sell")
        assert on_step(trade["price"], want.tick), trade["price"]
        assert on_step(trade["amount"], want.lot), trade["amount"]
        assert trade["id"]


async def check_balance(exchange: Any, totals: dict[str, float]) -> None:
    balance = await bounded(exchange.fetch_balance())
    assert {code: balance[code]["total"] for code in totals} == totals
    for code in totals:
        assert balance[code]["free"] + balance[code]["used"] == balance[code]["total"]


async def resting_price(exchange: Any, want: Market) -> float:
    """A buy price on the tick 1 % under the best bid: far enough that the generator's taker
    flow does not reach it during a test, inside Deribit's 1.5 % price band."""
    book = await bounded(exchange.fetch_order_book(want.symbol))
    return float(exchange.price_to_precision(want.symbol, book["bids"][0][0] * 0.99))


async def check_order_lifecycle(
    exchange: Any, want: Market, *, amount: float, edits: bool = True, params: dict | None = None
) -> None:
    """Create a resting limit order, see it open, fetch it, amend it, cancel it."""
    params = params or {}
    await bounded(exchange.load_markets())
    price = await resting_price(exchange, want)
    order = await bounded(exchange.create_order(want.symbol, "limit", "buy", amount, price, params))
    assert order["id"]
    order_id = order["id"]

    open_orders = await bounded(exchange.fetch_open_orders(want.symbol))
    mine = [o for o in open_orders if o["id"] == order_id]
    assert len(mine) == 1
    assert (mine[0]["status"], mine[0]["side"], mine[0]["type"]) == ("open", "buy", "limit")
    assert (mine[0]["price"], mine[0]["amount"], mine[0]["filled"]) == (price, amount, 0)

    fetched = await bounded(exchange.fetch_order(order_id, want.symbol))
    assert (fetched["id"], fetched["symbol"], fetched["status"]) == (order_id, want.symbol, "open")
    assert (fetched["price"], fetched["amount"], fetched["remaining"]) == (price, amount, amount)

    if edits:
        new_price = float(exchange.price_to_precision(want.symbol, price - 5 * want.tick))
        edited = await bounded(
            exchange.edit_order(order_id, want.symbol, "limit", "buy", amount, new_price, params)
        )
        order_id = edited["id"] or order_id
        fetched = await bounded(exchange.fetch_order(order_id, want.symbol))
        assert (fetched["status"], fetched["price"], fetched["amount"]) == (
            "open",
            new_price,
            amount,
        )

    await bounded(exchange.cancel_order(order_id, want.symbol))
    fetched = await bounded(exchange.fetch_order(order_id, want.symbol))
    assert (fetched["id"], fetched["status"], fetched["filled"]) == (order_id, "canceled", 0)
    open_orders = await bounded(exchange.fetch_open_orders(want.symbol))
    assert order_id not in {o["id"] for o in open_orders}


async def check_market_order_and_trades(
    exchange: Any, want: Market, *, amount: float, params: dict | None = None
) -> str:
    """A market buy fills in full; the account's trades show it. Returns the order id."""
    await bounded(exchange.load_markets())
    order = await bounded(
        exchange.create_order(want.symbol, "market", "buy", amount, None, params or {})
    )
    order_id = order["id"]

    async def filled() -> dict | None:
        fetched = await bounded(exchange.fetch_order(order_id, want.symbol))
        return fetched if fetched["status"] == "closed" else None

    fetched = await eventually(filled)
    assert (fetched["side"], fetched["type"], fetched["filled"]) == ("buy", "market", amount)
    assert on_step(fetched["average"], want.tick) or fetched["average"] > 0

    async def my_fills() -> list[dict]:
        trades = await bounded(exchange.fetch_my_trades(want.symbol))
        return [t for t in trades if t["order"] == order_id]

    fills = await eventually(my_fills)
    assert sum(t["amount"] for t in fills) == amount
    for trade in fills:
        assert (trade["symbol"], trade["side"], trade["takerOrMaker"]) == (
            want.symbol,
            "buy",
            "taker",
        )
        assert on_step(trade["price"], want.tick)
    return order_id


async def check_position(exchange: Any, want: Market, *, contracts: float) -> None:
    positions = await bounded(exchange.fetch_positions([want.symbol]))
    mine = [p for p in positions if p["symbol"] == want.symbol and p["contracts"]]
    assert len(mine) == 1
    assert (mine[0]["side"], mine[0]["contracts"]) == ("long", contracts)
    assert mine[0]["entryPrice"] > 0


async def cancel_all_orders(exchange: Any, symbol: str, ids: set[str]) -> None:
    await bounded(exchange.cancel_all_orders(symbol))


async def cancel_orders(exchange: Any, symbol: str, ids: set[str]) -> None:
    """Cancel-all for a client without `cancel_all_orders` (ccxt's OKX): one batch cancel."""
    await bounded(exchange.cancel_orders(sorted(ids), symbol))


async def check_cancel_all(
    exchange: Any,
    want: Market,
    *,
    amount: float,
    params: dict | None = None,
    cancel: Callable[[Any, str, set[str]], Awaitable[None]] = cancel_all_orders,
) -> None:
    await bounded(exchange.load_markets())
    price = await resting_price(exchange, want)
    ids = set()
    for ticks in (0, 1):
        p = float(exchange.price_to_precision(want.symbol, price - ticks * want.tick))
        order = await bounded(
            exchange.create_order(want.symbol, "limit", "buy", amount, p, params or {})
        )
        ids.add(order["id"])
    open_ids = {o["id"] for o in await bounded(exchange.fetch_open_orders(want.symbol))}
    assert ids <= open_ids
    await cancel(exchange, want.symbol, ids)
    assert await bounded(exchange.fetch_open_orders(want.symbol)) == []
    for order_id in ids:
        fetched = await bounded(exchange.fetch_order(order_id, want.symbol))
        assert fetched["status"] == "canceled"


async def check_watch_public(
    exchange: Any,
    want: Market,
    *,
    book_limit: int | None = None,
    book_params: dict | None = None,
    ticker_quotes: bool = True,
) -> None:
    """Order book (ccxt checks sequence and checksum itself), trades and ticker over WebSocket.
    `ticker_quotes` False: the venue's ticker push carries no best bid/ask (Bybit spot)."""
    await bounded(exchange.load_markets())
    book_params = book_params or {}
    first = await bounded(exchange.watch_order_book(want.symbol, book_limit, book_params))
    assert sorted_book(first)
    nonce = first["nonce"]
    for _ in range(5):  # ccxt raises on a gap or a checksum mismatch
        book = await bounded(exchange.watch_order_book(want.symbol, book_limit, book_params))
        assert sorted_book(book)
        assert levels_on_grid(book["bids"] + book["asks"], want.tick, want.lot)
    assert book["nonce"] != nonce or book["timestamp"] >= first["timestamp"]

    trades = await bounded(exchange.watch_trades(want.symbol))
    assert trades
    for trade in trades:
        assert trade["symbol"] == want.symbol
        assert on_step(trade["price"], want.tick) and on_step(trade["amount"], want.lot)

    ticker = await bounded(exchange.watch_ticker(want.symbol))
    assert ticker["symbol"] == want.symbol
    assert on_step(ticker["last"], want.tick)
    if ticker_quotes:
        assert on_step(ticker["bid"], want.tick) and on_step(ticker["ask"], want.tick)
    else:
        assert (ticker["bid"], ticker["ask"]) == (None, None)


async def _watch_during(watch: Any, act: Any) -> Any:
    """Start a watcher, then act once it is subscribed (the first call answers on an event)."""
    task = asyncio.ensure_future(watch())
    await asyncio.sleep(0)  # let the watcher send its subscription before the order goes in
    for _ in range(50):
        if task.done():
            break
        await act()
        try:
            return await asyncio.wait_for(asyncio.shield(task), 0.5)
        except TimeoutError:
            continue
    return await bounded(task)


async def check_watch_private(
    exchange: Any,
    want: Market,
    *,
    amount: float,
    balance_total: Callable[[dict], float],
    positions: bool = True,
    params: dict | None = None,
) -> None:
    """orders, my trades, balance and positions watchers each see a market order;
    `balance_total` reads the settlement currency's total from what `watch_balance` gave."""
    await bounded(exchange.load_markets())
    placed: list[str] = []

    async def buy() -> None:
        order = await bounded(
            exchange.create_order(want.symbol, "market", "buy", amount, None, params or {})
        )
        placed.append(order["id"])

    orders = await _watch_during(lambda: exchange.watch_orders(want.symbol), buy)
    assert orders and all(o["symbol"] == want.symbol for o in orders)
    assert {o["id"] for o in orders} & set(placed)

    trades = await _watch_during(lambda: exchange.watch_my_trades(want.symbol), buy)
    assert trades and all(t["symbol"] == want.symbol for t in trades)
    assert {t["order"] for t in trades} & set(placed)
    assert all(on_step(t["price"], want.tick) for t in trades)

    balance = await _watch_during(exchange.watch_balance, buy)
    assert balance_total(balance) > 0

    if positions:
        seen = await _watch_during(lambda: exchange.watch_positions([want.symbol]), buy)
        mine = [p for p in seen if p["symbol"] == want.symbol]
        assert mine and mine[-1]["side"] == "long" and mine[-1]["contracts"] > 0


async def check_stop_order(
    exchange: Any,
    want: Market,
    *,
    amount: float,
    edit: tuple[str, Callable[[float], dict]],
    list_params: dict | None = None,
    cancel_params: dict | None = None,
) -> None:
    """A stop-loss market sell 5 % under the last price, through ccxt's unified
    `stopLossPrice` (the venue's own conditional order: OKX algo, Bybit `triggerPrice`,
    Deribit `stop_market`): listed open (with `list_params`, which OKX needs for its algo
    list), its trigger moved to 10 % under with `edit_order` (`edit`: the order type ccxt
    takes and the params for a trigger, as each venue's ccxt wants them), listed at the new
    trigger, canceled (`cancel_params`), then listed no more."""
    await bounded(exchange.load_markets())
    last = (await bounded(exchange.fetch_ticker(want.symbol)))["last"]
    trigger = float(exchange.price_to_precision(want.symbol, last * 0.95))
    order = await bounded(
        exchange.create_order(
            want.symbol, "market", "sell", amount, None, {"stopLossPrice": trigger}
        )
    )
    assert order["id"]
    listed = await bounded(exchange.fetch_open_orders(want.symbol, None, None, list_params or {}))
    mine = [o for o in listed if o["id"] == order["id"]]
    assert [(o["status"], o["side"], o["amount"]) for o in mine] == [("open", "sell", amount)]

    edit_type, edit_params = edit
    moved = float(exchange.price_to_precision(want.symbol, last * 0.9))
    await bounded(
        exchange.edit_order(
            order["id"], want.symbol, edit_type, "sell", amount, None, edit_params(moved)
        )
    )
    listed = await bounded(exchange.fetch_open_orders(want.symbol, None, None, list_params or {}))
    mine = [o for o in listed if o["id"] == order["id"]]
    # ccxt 4.5 parses Deribit's trigger from the field's old name (`stop_price`), empty in the
    # venue's current answer, which names it `trigger_price`: read that one
    triggers = [o["triggerPrice"] or o["stopLossPrice"] or o["info"]["trigger_price"] for o in mine]
    assert [(float(t), o["amount"]) for t, o in zip(triggers, mine, strict=True)] == [
        (moved, amount)
    ]

    await bounded(exchange.cancel_order(order["id"], want.symbol, cancel_params or {}))
    listed = await bounded(exchange.fetch_open_orders(want.symbol, None, None, list_params or {}))
    assert order["id"] not in {o["id"] for o in listed}
