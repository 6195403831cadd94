"""Seeded random order flow against the generated market; the book and the wallets must stay
consistent after every operation."""

from __future__ import annotations

import itertools
import random
from decimal import Decimal as D

from exchanges.simulator.engine.core import Engine
from exchanges.simulator.engine.records import SimReject
from exchanges.simulator.market.generator import MarketConfig, build_engine
from exchanges.venues.base import OrderStatus, OrderType, Side, TimeInForce, Venue

SYMBOLS = [
    (Venue.OKX, "BTC-USDT-SWAP"),
    (Venue.OKX, "BTC-USDT"),
    (Venue.OKX, "BTC-USD-SWAP"),
    (Venue.DERIBIT, "BTC-PERPETUAL"),
    (Venue.DERIBIT, "BTC-25DEC26-100000-P"),
    (Venue.BYBIT, "spot:ETHUSDT"),
    (Venue.BYBIT, "BTCUSD"),
]
USERS = ("u1", "u2")


def check(engine: Engine) -> None:
    for (_venue, symbol), book in engine._books.items():
        bid, ask = book.best(Side.BUY), book.best(Side.SELL)
        assert bid is None or ask is None or bid < ask, (symbol, bid, ask)
        for side, levels in ((Side.BUY, book.bids), (Side.SELL, book.asks)):
            sizes = {price: sum(o.remaining for o in queue) for price, queue in levels.items()}
            assert all(queue for queue in levels.values())
            assert sizes == book.sizes[side], symbol
            for queue in levels.values():
                assert all(o.is_open and o.remaining > 0 for o in queue)
    for venue, user in itertools.product((Venue.OKX, Venue.DERIBIT, Venue.BYBIT), USERS):
        account = engine.account(venue, user)
        for order in account.orders.values():
            fills = [f for f in account.fills if f.order_id == order.order_id]
            assert sum((f.quantity for f in fills), D(0)) == order.filled_quantity
            assert order.filled_quantity <= order.quantity
            assert order.is_open == (order.order_id in account.open_orders)
        for balance in account.balances.values():
            assert balance.available == balance.total - balance.locked
            assert balance.locked >= 0


def test_random_flow_keeps_books_orders_and_wallets_consistent():
    counter = itertools.count(1_790_000_000_000_000_000, 10_000_000)
    engine = build_engine(
        seed=11, clock_ns=lambda: next(counter), config=MarketConfig(taker_rate=20.0)
    )
    for venue, user in itertools.product((Venue.OKX, Venue.DERIBIT, Venue.BYBIT), USERS):
        engine.add_account(venue, user, "s", "p")
    rng = random.Random(3)
    outcomes = {"placed": 0, "rejected": 0, "amended": 0, "canceled": 0}
    for step in range(400):
        venue, symbol = SYMBOLS[rng.randrange(len(SYMBOLS))]
        info = engine.instrument(venue, symbol)
        user = rng.choice(USERS)
        action = rng.random()
        open_orders = engine.open_orders(venue, user, symbol)
        try:
            if action < 0.55 or not open_orders:
                mark = engine.mark_price(venue, symbol)
                offset = info.tick_size * rng.randint(-30, 30)
                engine.place_order(
                    venue,
                    user,
                    symbol,
                    side=rng.choice((Side.BUY, Side.SELL)),
                    order_type=OrderType.MARKET if rng.random() < 0.15 else OrderType.LIMIT,
                    quantity=info.min_size * rng.randint(1, 20),
                    price=max(mark + offset, info.tick_size),
                    time_in_force=rng.choice(
                        (TimeInForce.GTC, TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK)
                    ),
                    post_only=rng.random() < 0.2,
                    reduce_only=rng.random() < 0.1,
                )
                outcomes["placed"] += 1
            elif action < 0.8:
                order = rng.choice(open_orders)
                engine.amend_order(
                    venue,
                    user,
                    symbol,
                    order_id=order.order_id,
                    price=order.price + info.tick_size * rng.randint(-5, 5),
                    quantity=order.filled_quantity + info.min_size * rng.randint(1, 10),
                )
                outcomes["amended"] += 1
            else:
                engine.cancel_order(venue, user, symbol, order_id=rng.choice(open_orders).order_id)
                outcomes["canceled"] += 1
        except SimReject:
            outcomes["rejected"] += 1
        check(engine)
        if step % 4 == 0:
            engine.step(0.05)
            check(engine)
    assert min(outcomes.values()) > 10, outcomes
    filled = [
        o
        for venue, user in itertools.product((Venue.OKX, Venue.DERIBIT, Venue.BYBIT), USERS)
        for o in engine.orders(venue, user)
        if o.status is OrderStatus.FILLED
    ]
    assert len(filled) > 20
