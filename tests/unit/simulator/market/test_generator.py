"""The market generator: two-sided books, venue prices, determinism, taker flow, tickers, the
option strip (market/generator.py)."""

from __future__ import annotations

import itertools
from decimal import Decimal as D

import pytest

from exchanges.simulator.engine.core import Engine
from exchanges.simulator.engine.records import Listener
from exchanges.simulator.market.generator import MarketConfig, build_engine
from exchanges.venues.base import InstrumentKind, Liquidity, OrderStatus, OrderType, Side, Venue

START_NS = 1_790_000_000_000_000_000  # 2026-09-21, three months before the Deribit expiry


def make_engine(seed: int = 1, **config) -> Engine:
    counter = itertools.count(START_NS, 50_000_000)
    return build_engine(seed=seed, clock_ns=lambda: next(counter), config=MarketConfig(**config))


class Tape(Listener):
    def __init__(self) -> None:
        self.events: list[tuple] = []

    def on_book(self, venue, symbol, bid_changes, ask_changes, ts_ns):
        self.events.append(("book", venue, symbol, tuple(bid_changes), tuple(ask_changes), ts_ns))

    def on_trade(self, trade):
        self.events.append(("trade", trade))

    def on_order(self, account, order):
        self.events.append(("order", account.api_key, order.order_id, order.status))

    def on_fill(self, account, fill):
        self.events.append(("fill", fill))

    def on_ticker(self, ticker):
        self.events.append(
            ("ticker", ticker.venue, ticker.symbol, ticker.best_bid, ticker.best_ask)
        )


def test_every_instrument_has_a_two_sided_book_on_its_grid():
    engine = make_engine()
    for (venue, symbol), info in engine.instruments.items():
        bids, asks = engine.book(venue, symbol)
        assert len(bids) == 20 and len(asks) == 20, symbol
        assert bids[0][0] < asks[0][0], symbol
        assert [p for p, _ in bids] == sorted((p for p, _ in bids), reverse=True)
        assert [p for p, _ in asks] == sorted(p for p, _ in asks)
        for price, size in bids + asks:
            assert price > 0 and price % info.tick_size == 0, (symbol, price)
            assert size >= info.min_size and size % info.lot_size == 0, (symbol, size)


def test_quotes_sit_around_each_venues_price_of_the_asset():
    engine = make_engine()
    index = engine.index_price("BTC")
    assert index == D("100000.00")
    for venue, symbol in (
        (Venue.OKX, "BTC-USDT"),
        (Venue.OKX, "BTC-USDT-SWAP"),
        (Venue.BYBIT, "BTCUSD"),
        (Venue.DERIBIT, "BTC-PERPETUAL"),
    ):
        bids, asks = engine.book(venue, symbol, 1)
        mid = (bids[0][0] + asks[0][0]) / 2
        assert abs(mid / index - 1) < D("0.0005"), (symbol, mid)
        assert abs(engine.mark_price(venue, symbol) / mid - 1) < D("0.0001")


def test_same_seed_same_events_other_seed_other_events():
    def run(seed: int) -> list[tuple]:
        engine = make_engine(seed, taker_rate=5.0)
        tape = Tape()
        engine.add_listener(tape)
        for _ in range(60):
            engine.step(0.05)
        return tape.events

    first, second, other = run(7), run(7), run(8)
    assert len(first) > 100
    assert first == second
    assert first != other


def test_an_instruments_flow_depends_on_neither_the_clock_nor_other_instruments():
    """A loaded machine steps late (the wall clock races ahead of the steps) and a user trades
    elsewhere: the swap's generated trades stay the same."""

    def swap_trades(clock_step_ns: int, trade_an_option: bool) -> list[tuple]:
        counter = itertools.count(START_NS, clock_step_ns)
        engine = build_engine(seed=3, clock_ns=lambda: next(counter), config=MarketConfig())
        tape = Tape()
        engine.add_listener(tape)
        if trade_an_option:
            engine.add_account(Venue.DERIBIT, "user", "secret")
        for step in range(40):
            if trade_an_option and step % 10 == 0:
                engine.place_order(
                    Venue.DERIBIT,
                    "user",
                    "BTC-25DEC26-100000-C",
                    side=Side.BUY,
                    order_type=OrderType.MARKET,
                    quantity=D("0.1"),
                )
            engine.step(0.1)
        return [
            (e[1].price, e[1].quantity, e[1].taker_side)
            for e in tape.events
            if e[0] == "trade" and e[1].symbol == "BTC-USDT-SWAP"
        ]

    calm = swap_trades(0, trade_an_option=False)
    assert len(calm) > 0
    assert swap_trades(3_600_000_000_000, trade_an_option=True) == calm  # an hour per call


def test_taker_flow_prints_trades_at_the_configured_rate():
    engine = make_engine(taker_rate=4.0)
    tape = Tape()
    engine.add_listener(tape)
    for _ in range(200):
        engine.step(0.05)  # 10 s
    trades = [e[1] for e in tape.events if e[0] == "trade" and e[1].symbol == "BTC-USDT-SWAP"]
    assert 20 <= len(trades) <= 70  # Poisson, mean 40
    assert {t.taker_side for t in trades} == {Side.BUY, Side.SELL}
    assert engine.recent_trades(Venue.OKX, "BTC-USDT-SWAP", 5) == trades[::-1][:5]
    assert not [e for e in tape.events if e[0] in ("order", "fill")]  # internal accounts stay quiet


def test_generated_flow_fills_a_user_order_resting_at_the_top():
    engine = make_engine(taker_rate=10.0, volatility=0.0, venue_noise_bps=0.0, perp_premium_std=0.0)
    engine.add_account(Venue.OKX, "user", "s", "p")
    bids, _ = engine.book(Venue.OKX, "BTC-USDT-SWAP", 1)
    price = bids[0][0] + D("0.1")
    order = engine.place_order(
        Venue.OKX,
        "user",
        "BTC-USDT-SWAP",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        quantity=D("500"),
        price=price,
    )
    for _ in range(400):
        engine.step(0.05)
        if order.filled_quantity:
            break
    assert order.status is OrderStatus.PARTIALLY_FILLED
    fills = engine.fills(Venue.OKX, "user")
    assert fills and all(f.liquidity is Liquidity.MAKER and f.price == price for f in fills)
    assert engine.position(Venue.OKX, "user", "BTC-USDT-SWAP").quantity == order.filled_quantity


def test_tickers_come_when_the_top_changes_or_every_second():
    engine = make_engine(taker_rate=0.0, resize_rate=0.0)
    tape = Tape()
    engine.add_listener(tape)
    for _ in range(40):
        engine.step(0.05)  # 2 s
    per_symbol: dict[tuple, int] = {}
    for event in tape.events:
        if event[0] == "ticker":
            per_symbol[(event[1], event[2])] = per_symbol.get((event[1], event[2]), 0) + 1
    assert set(per_symbol) == set(engine.instruments)
    assert min(per_symbol.values()) >= 2
    ticker = engine.ticker(Venue.OKX, "BTC-USDT-SWAP")
    assert ticker.funding_rate is not None and abs(ticker.funding_rate) < D("0.001")
    assert engine.ticker(Venue.OKX, "BTC-USDT").funding_rate is None


def test_venues_drift_apart_so_crossed_markets_appear_now_and_then():
    engine = make_engine()
    perps = [
        (Venue.OKX, "BTC-USDT-SWAP"),
        (Venue.BYBIT, "BTCUSDT"),
        (Venue.DERIBIT, "BTC-PERPETUAL"),
    ]
    crossed = 0
    steps = 1200
    for _ in range(steps):
        engine.step(0.05)
        tops = [engine.book(v, s, 1) for v, s in perps]
        if max(t[0][0][0] for t in tops) > min(t[1][0][0] for t in tops):
            crossed += 1
    assert 0 < crossed < steps // 4


def test_option_strip_is_priced_sanely():
    engine = make_engine()
    strikes = [90_000, 95_000, 100_000, 105_000, 110_000]
    calls = [engine.mark_price(Venue.DERIBIT, f"BTC-25DEC26-{k}-C") for k in strikes]
    puts = [engine.mark_price(Venue.DERIBIT, f"BTC-25DEC26-{k}-P") for k in strikes]
    assert calls == sorted(calls, reverse=True)
    assert puts == sorted(puts)
    future = engine.mark_price(Venue.DERIBIT, "BTC-25DEC26")
    for strike, call, put in zip(strikes, calls, puts, strict=True):
        parity = (future - strike) / future  # C - P = (F - K) / F in BTC
        assert abs((call - put) - parity) < D("0.002"), strike
    options = [i for i in engine.instruments_of(Venue.DERIBIT) if i.kind is InstrumentKind.OPTION]
    assert len(options) == 10


def test_engine_option_greeks_use_the_model_that_prices_the_option():
    engine = build_engine(
        seed=1, clock_ns=lambda: START_NS, config=MarketConfig()
    )  # time stands still
    symbol = "BTC-25DEC26-100000-C"
    greeks = engine.option_greeks(Venue.DERIBIT, symbol)
    fair = engine.market.state(Venue.DERIBIT, symbol).fair
    assert greeks.mark_iv == 0.6
    assert abs(greeks.price - fair) < 1e-12
    future = float(engine.mark_price(Venue.DERIBIT, "BTC-25DEC26"))
    assert abs(greeks.forward - future) < 1.0  # the future is marked on the same forward
    assert 0.5 < greeks.delta < 0.6
    vol = engine.implied_volatility(Venue.DERIBIT, symbol, D(repr(fair)))
    assert abs(vol - 0.6) < 1e-9
    assert engine.implied_volatility(Venue.DERIBIT, symbol, D("0.0000001")) == 0.0
    with pytest.raises(ValueError):
        engine.option_greeks(Venue.DERIBIT, "BTC-PERPETUAL")


def test_level_spacing_in_ticks_overrides_basis_points():
    engine = make_engine(level_spacing_ticks=3)
    bids, asks = engine.book(Venue.OKX, "BTC-USDT-SWAP", 3)
    assert [bids[0][0] - p for p, _ in bids] == [D("0"), D("0.3"), D("0.6")]
    assert [p - asks[0][0] for p, _ in asks] == [D("0"), D("0.3"), D("0.6")]
    assert asks[0][0] - bids[0][0] >= D("0.3")
