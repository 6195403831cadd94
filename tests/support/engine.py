"""Helpers of the engine tests: a quiet engine (no generated liquidity), order shortcuts and
a listener that records every event."""

from __future__ import annotations

import itertools
from decimal import Decimal as D

from exchanges.simulator.engine.core import Engine
from exchanges.simulator.engine.records import Listener
from exchanges.simulator.market.generator import MarketConfig, build_engine
from exchanges.venues.base import OrderType, Venue

OKX = Venue.OKX


SWAP = "BTC-USDT-SWAP"


def fixed_clock(start: int = 1_790_000_000_000_000_000):
    counter = itertools.count(start, 1_000)
    return lambda: next(counter)


def quiet_engine() -> Engine:
    """An engine whose generator neither quotes nor trades: only the test's orders are in books."""
    return build_engine(
        seed=1,
        clock_ns=fixed_clock(),
        config=MarketConfig(levels=0, taker_rate=0.0, resize_rate=0.0),
    )


def limit(engine, key, side, qty, price, symbol=SWAP, venue=OKX, **kw):
    return engine.place_order(
        venue,
        key,
        symbol,
        side=side,
        order_type=OrderType.LIMIT,
        quantity=D(qty),
        price=D(price),
        **kw,
    )


def market(engine, key, side, qty, symbol=SWAP, venue=OKX, **kw):
    return engine.place_order(
        venue, key, symbol, side=side, order_type=OrderType.MARKET, quantity=D(qty), **kw
    )


class Recorder(Listener):
    def __init__(self) -> None:
        self.events: list[tuple] = []

    def on_book(self, venue, symbol, bid_changes, ask_changes, ts_ns):
        self.events.append(("book", symbol, tuple(bid_changes), tuple(ask_changes)))

    def on_trade(self, trade):
        self.events.append(("trade", trade.symbol, trade.price, trade.quantity, trade.taker_side))

    def on_order(self, account, order):
        self.events.append(
            ("order", account.api_key, order.order_id, order.status, order.filled_quantity)
        )

    def on_fill(self, account, fill):
        self.events.append(("fill", account.api_key, fill.order_id, fill.quantity, fill.liquidity))

    def on_position(self, account, position):
        self.events.append(("position", account.api_key, position.symbol, position.quantity))

    def on_balance(self, account, balance):
        self.events.append(
            ("balance", account.api_key, balance.currency, balance.total, balance.locked)
        )

    def on_ticker(self, ticker):
        self.events.append(
            ("ticker", ticker.venue, ticker.symbol, ticker.best_bid, ticker.best_ask)
        )
