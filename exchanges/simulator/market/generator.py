"""The market generator: prices that move, books that fill up, trades that print.

One seeded random walk per asset (geometric Brownian motion) is the "true" price. Each venue
follows it with its own latency (an exponential lag) and a small persistent deviation (an AR(1)
process in basis points), so the same asset differs slightly between venues and now and then
one venue's bid is above another's ask, as in reality. From a venue's mid:

- spot and perpetuals quote around the mid (perpetuals add a small premium that also drives the
  funding rate), dated futures add a carry basis, options are priced by Black-Scholes on the
  forward with a fixed volatility (price in the base coin, as Deribit quotes them);
- an internal market-maker account per venue keeps `levels` orders a side on a price grid
  around the fair price, in the same books users trade in (so book changes, priority and
  partial fills are real);
- an internal taker account sends market orders at `taker_rate` per instrument per second
  (Poisson), which is how resting user orders near the top get filled.

The model runs in floats (it is noise, not money); every price and size that enters the
engine is a Decimal on the instrument's tick and lot grid. Every draw comes from a seeded
generator: `random.Random(seed)` for the walks, and one `random.Random` per instrument, seeded
from the seed and the instrument, for its maker sizes and taker flow. So the same seed and the
same `step` calls produce the same events, and one instrument's draws never shift another's; the
wall clock enters only as the generator's start time, from which option and future expiries are
counted (`_years_to_expiry`).

The generator listens to the engine (`Listener.on_trade` moves open interest) and is the
engine's price source (`Engine.attach_market`); `build_engine` makes the pair.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

from exchanges.simulator.engine.core import Engine
from exchanges.simulator.engine.fees import quantity_unit
from exchanges.simulator.engine.records import (
    MAKER_ACCOUNT,
    TAKER_ACCOUNT,
    Listener,
    SimOrder,
    SimReject,
    SimTrade,
)
from exchanges.simulator.market.pricing import OptionGreeks, black_scholes, option_greeks
from exchanges.venues.base import (
    InstrumentInfo,
    InstrumentKind,
    OrderType,
    Side,
    Venue,
)

YEAR_SECONDS = 365.0 * 24 * 3600


MIN_OPTION_YEARS = 1.0 / 365


INDEX_QUANTUM = Decimal("0.01")


RATE_QUANTUM = Decimal("0.00000001")


def _default_start_prices() -> dict[str, float]:
    return {"BTC": 100_000.0, "ETH": 3_500.0}


def _default_quote_sizes() -> dict[str, tuple[float, float]]:
    return {"BTC": (0.05, 1.5), "ETH": (1.0, 30.0)}


def _default_taker_sizes() -> dict[str, tuple[float, float]]:
    return {"BTC": (0.001, 0.15), "ETH": (0.02, 4.0)}


def _default_latency() -> dict[str, float]:
    return {Venue.DERIBIT.value: 0.15, Venue.OKX.value: 0.05, Venue.BYBIT.value: 0.10}


@dataclass
class MarketConfig:
    """Knobs of the generated market. Sizes are in the base coin; rates per instrument."""

    taker_rate: float = (
        2.0  # taker trades per second per instrument (options: x option_taker_share)
    )
    levels: int = 20  # maker orders per side
    level_spacing_bps: float = 0.2  # distance between maker levels, at least one tick
    level_spacing_ticks: int | None = None  # when set, overrides level_spacing_bps (non-options)
    half_spread_bps: float = 0.3  # fair price to the best maker quote
    option_half_spread_ticks: int = 4
    option_level_spacing_ticks: int = 1
    option_quote_size: tuple[float, float] = (1.0, 10.0)  # option contracts per level
    option_taker_share: float = 0.2
    quote_sizes: dict[str, tuple[float, float]] = field(default_factory=_default_quote_sizes)
    taker_sizes: dict[str, tuple[float, float]] = field(default_factory=_default_taker_sizes)
    start_prices: dict[str, float] = field(default_factory=_default_start_prices)
    volatility: float = 0.6  # annualized, of the underlying random walk
    venue_noise_bps: float = 0.3  # stationary standard deviation of a venue's deviation
    venue_noise_half_life: float = 20.0  # seconds
    venue_latency: dict[str, float] = field(default_factory=_default_latency)  # seconds
    perp_premium_mean: float = 0.0001
    perp_premium_std: float = 0.00002
    future_basis_per_year: float = 0.05
    option_volatility: float = 0.6
    resize_rate: float = 4.0  # maker size changes per second per instrument
    ticker_interval: float = 1.0  # seconds between tickers of an unchanged instrument


@dataclass
class InstrumentState:
    """What the generator knows of one instrument besides its book."""

    info: InstrumentInfo
    fair: float = 0.0
    mark: Decimal = Decimal(0)
    funding_rate: Decimal = Decimal(0)
    open_interest: Decimal = Decimal(0)
    grid: tuple[Decimal, Decimal] | None = None
    bids: dict[Decimal, SimOrder] = field(default_factory=dict)
    asks: dict[Decimal, SimOrder] = field(default_factory=dict)
    last_top: tuple | None = None
    last_ticker: float = -1e18
    # The instrument's own draws (maker sizes, taker flow, resizes): seeded from the generator's
    # seed and the instrument, so one instrument's quoting never shifts another's draws.
    rng: random.Random = field(default_factory=random.Random)


def _to_decimal(value: float) -> Decimal:
    return Decimal(repr(value))


class MarketGenerator(Listener):
    """Drives the engine's books from the maker and taker accounts (module doc)."""

    def __init__(self, engine: Engine, config: MarketConfig, seed: int):
        self.engine = engine
        engine.attach_market(self)
        engine.add_listener(self)
        self.config = config
        self.rng = random.Random(seed)
        self.maker = MAKER_ACCOUNT
        self.taker = TAKER_ACCOUNT
        self.time = 0.0  # simulated seconds stepped so far
        self.start_ns = engine.clock_ns()  # the engine's time when the generator started
        assets = sorted({info.base for info in engine.instruments.values()})
        self.asset_mid: dict[str, float] = {
            asset: float(config.start_prices.get(asset, 100.0)) for asset in assets
        }
        venues = sorted({info.venue for info in engine.instruments.values()}, key=str)
        self.venue_base: dict[tuple[str, Venue], float] = {}
        self.venue_dev: dict[tuple[str, Venue], float] = {}
        self.perp_premium: dict[tuple[str, Venue], float] = {}
        for asset in assets:
            for venue in venues:
                self.venue_base[(asset, venue)] = self.asset_mid[asset]
                self.venue_dev[(asset, venue)] = self.rng.gauss(0.0, config.venue_noise_bps) / 1e4
                self.perp_premium[(asset, venue)] = config.perp_premium_mean
        self.states: dict[tuple[Venue, str], InstrumentState] = {}
        self._traded: set[tuple[Venue, str]] = set()  # instruments with trades since requote
        for key, info in engine.instruments.items():
            own = random.Random(f"{seed}:{key[0].value}:{key[1]}")
            self.states[key] = InstrumentState(info=info, rng=own)
        for key, state in self.states.items():
            self._reprice(state)
            self._seed_statistics(key, state)
        for key, state in self.states.items():
            with engine.batch_book_updates():
                self._requote(key, state)

    def _seed_statistics(self, key: tuple[Venue, str], state: InstrumentState) -> None:
        """Plausible open interest and 24 h volume/open at start, so tickers look like a market
        that was already trading; both then move with the generated trades."""
        info = state.info
        if info.kind is InstrumentKind.OPTION:
            scale = self.config.option_quote_size[1]
        else:
            scale = self.config.quote_sizes.get(info.base, (1.0, 10.0))[1]
        rng = state.rng
        state.open_interest = self._quantity(info, rng.uniform(200, 2000) * scale, state.fair)
        volume = self._quantity(info, rng.uniform(500, 5000) * scale, state.fair)
        drift = _to_decimal(1.0 + rng.gauss(0.0, 0.01))
        open_price = max((state.mark * drift).quantize(info.tick_size), info.tick_size)
        self.engine.seed_statistics(key[0], key[1], volume=volume, open_price=open_price)

    # ----------------------------------------------------------------- prices

    def index_price(self, asset: str) -> Decimal:
        mid = self.asset_mid.get(asset)
        if mid is None:
            raise KeyError(f"no index for {asset}")
        return _to_decimal(mid).quantize(INDEX_QUANTUM, ROUND_HALF_EVEN)

    def mark_price(self, venue: Venue, symbol: str) -> Decimal:
        return self.states[(venue, symbol)].mark

    def state(self, venue: Venue, symbol: str) -> InstrumentState:
        return self.states[(venue, symbol)]

    def _forward(self, info: InstrumentInfo) -> tuple[float, float]:
        """The forward an option or future is priced on and its years to expiry."""
        years = self._years_to_expiry(info)
        mid = self.venue_mid(info.base, info.venue)
        return mid * (1.0 + self.config.future_basis_per_year * years), years

    def option_greeks(self, venue: Venue, symbol: str) -> OptionGreeks:
        """The model figures of option `symbol` now, at the configured option volatility: the
        same model `_reprice` sets its fair price with."""
        info = self.states[(venue, symbol)].info
        if info.kind is not InstrumentKind.OPTION:
            raise ValueError(f"{symbol} is not an option")
        forward, years = self._forward(info)
        return option_greeks(
            forward, float(info.strike), years, self.config.option_volatility, info.option_type
        )

    def implied_volatility(self, venue: Venue, symbol: str, price: Decimal) -> float:
        """The volatility at which the model prices option `symbol` at `price` (base coin):
        bisection between 1 % and 500 %, 0 when the price lies outside that range."""
        info = self.states[(venue, symbol)].info
        if info.kind is not InstrumentKind.OPTION:
            raise ValueError(f"{symbol} is not an option")
        forward, years = self._forward(info)
        strike = float(info.strike)
        target = float(price) * forward

        def usd(vol: float) -> float:
            return black_scholes(forward, strike, years, vol, info.option_type)

        low, high = 0.01, 5.0
        if not usd(low) <= target <= usd(high):
            return 0.0
        for _ in range(60):
            mid = (low + high) / 2
            if usd(mid) < target:
                low = mid
            else:
                high = mid
        return (low + high) / 2

    def move(self, asset: str, venue: Venue, pct: Decimal) -> None:
        """Shift `asset`'s price on `venue` by `pct` percent at once (a price shock): the
        deviation decays back as usual, and the next step reprices, requotes and fires
        triggers from it."""
        mid = self.venue_mid(asset, venue) * (1.0 + float(pct) / 100.0)
        self.venue_dev[(asset, venue)] = mid / self.venue_base[(asset, venue)] - 1.0

    def venue_mid(self, asset: str, venue: Venue) -> float:
        return self.venue_base[(asset, venue)] * (1.0 + self.venue_dev[(asset, venue)])

    def _years_to_expiry(self, info: InstrumentInfo) -> float:
        """Years from the generator's own time (start plus the seconds stepped) to expiry: not
        the wall clock, so option and future prices, and with them every draw that follows,
        depend only on the seed and the steps (module doc), however slowly the steps come."""
        if info.expiry_ts is None:
            return 0.0
        now_ns = self.start_ns + self.time * 1e9
        return max((info.expiry_ts - now_ns) / 1e9 / YEAR_SECONDS, MIN_OPTION_YEARS)

    def _reprice(self, state: InstrumentState) -> None:
        info = state.info
        mid = self.venue_mid(info.base, info.venue)
        if info.kind is InstrumentKind.SPOT:
            fair = mid
        elif info.kind is InstrumentKind.PERPETUAL:
            fair = mid * (1.0 + self.perp_premium[(info.base, info.venue)])
        elif info.kind is InstrumentKind.FUTURE:
            fair = mid * (1.0 + self.config.future_basis_per_year * self._years_to_expiry(info))
        else:
            forward, years = self._forward(info)
            usd = black_scholes(
                forward,
                float(info.strike or 0),
                years,
                self.config.option_volatility,
                info.option_type,
            )
            fair = usd / forward
        state.fair = fair
        mark = _to_decimal(fair).quantize(info.tick_size, ROUND_HALF_EVEN)
        state.mark = max(mark, info.tick_size)
        if info.kind is InstrumentKind.PERPETUAL:
            premium = self.perp_premium[(info.base, info.venue)]
            state.funding_rate = _to_decimal(premium).quantize(RATE_QUANTUM, ROUND_HALF_EVEN)

    # ----------------------------------------------------------------- sizes

    def _quantity(self, info: InstrumentInfo, base_amount: float, price: float) -> Decimal:
        """Order quantity (venue units, on the lot grid, at least the minimum) for a base amount."""
        unit = float(quantity_unit(info))
        if info.kind is InstrumentKind.SPOT or info.kind is InstrumentKind.OPTION or info.linear:
            raw = base_amount / unit
        else:
            raw = base_amount * price / unit
        quantity = (_to_decimal(raw) / info.lot_size).to_integral_value(ROUND_DOWN) * info.lot_size
        return max(quantity, info.min_size)

    def _maker_size(self, state: InstrumentState, level: int) -> Decimal:
        info = state.info
        if info.kind is InstrumentKind.OPTION:
            low, high = self.config.option_quote_size
            return self._quantity(info, state.rng.uniform(low, high) * (1 + level * 0.1), 1.0)
        low, high = self.config.quote_sizes.get(info.base, (1.0, 10.0))
        amount = state.rng.uniform(low, high) * (1 + level * 0.1)
        return self._quantity(info, amount, state.fair)

    def _taker_size(self, state: InstrumentState) -> Decimal:
        info = state.info
        if info.kind is InstrumentKind.OPTION:
            low, high = self.config.option_quote_size
            return self._quantity(info, state.rng.uniform(low, high) / 4, 1.0)
        low, high = self.config.taker_sizes.get(info.base, (0.1, 1.0))
        return self._quantity(info, state.rng.uniform(low, high), state.fair)

    # ----------------------------------------------------------------- quoting

    def _grid(self, state: InstrumentState) -> tuple[Decimal, Decimal, Decimal]:
        """Best maker bid, best maker ask and level spacing for the current fair price."""
        info = state.info
        tick = info.tick_size
        fair = _to_decimal(state.fair)
        if info.kind is InstrumentKind.OPTION:
            spacing = tick * self.config.option_level_spacing_ticks
            half = tick * self.config.option_half_spread_ticks
        else:
            if self.config.level_spacing_ticks:
                ticks = Decimal(self.config.level_spacing_ticks)
            else:
                ticks = (
                    fair * _to_decimal(self.config.level_spacing_bps) / 10_000 / tick
                ).to_integral_value(ROUND_HALF_EVEN)
            spacing = tick * max(ticks, 1)
            half = fair * _to_decimal(self.config.half_spread_bps) / 10_000
        best_bid = ((fair - half) / spacing).to_integral_value(ROUND_FLOOR) * spacing
        best_ask = ((fair + half) / spacing).to_integral_value(ROUND_CEILING) * spacing
        if best_ask <= best_bid:
            best_ask = best_bid + spacing
        return best_bid, best_ask, spacing

    def _requote(self, key: tuple[Venue, str], state: InstrumentState) -> None:
        venue, symbol = key
        best_bid, best_ask, spacing = self._grid(state)
        if key in self._traded:
            self._traded.discard(key)
            for book_side in (state.bids, state.asks):
                for price in [p for p, o in book_side.items() if not o.is_open]:
                    del book_side[price]
        full = len(state.bids) == len(state.asks) == self.config.levels
        if full and state.grid == (best_bid, best_ask):
            return
        state.grid = (best_bid, best_ask)
        levels = self.config.levels
        want_bids = [best_bid - spacing * i for i in range(levels)]
        want_bids = [p for p in want_bids if p > 0]
        want_asks = [best_ask + spacing * i for i in range(levels)]
        for mine, wanted in ((state.bids, want_bids), (state.asks, want_asks)):
            keep = set(wanted)
            for price in [p for p in mine if p not in keep]:
                order = mine.pop(price)
                self.engine.cancel_order(venue, self.maker, symbol, order_id=order.order_id)
        for side, mine, wanted in (
            (Side.BUY, state.bids, want_bids),
            (Side.SELL, state.asks, want_asks),
        ):
            for level, price in enumerate(wanted):
                if price in mine:
                    continue
                order = self.engine.place_order(
                    venue,
                    self.maker,
                    symbol,
                    side=side,
                    order_type=OrderType.LIMIT,
                    quantity=self._maker_size(state, level),
                    price=price,
                )
                if order.is_open:
                    mine[price] = order

    def _resize(self, key: tuple[Venue, str], state: InstrumentState) -> None:
        rng = state.rng
        mine = state.bids if rng.random() < 0.5 else state.asks
        if not mine:
            return
        prices = sorted(mine)
        price = prices[rng.randrange(len(prices))]
        order = mine[price]
        if not order.is_open:
            return
        level = rng.randrange(self.config.levels)
        quantity = order.filled_quantity + self._maker_size(state, level)
        self.engine.amend_order(
            key[0], self.maker, key[1], order_id=order.order_id, quantity=quantity
        )

    def _take(self, key: tuple[Venue, str], state: InstrumentState) -> None:
        side = Side.BUY if state.rng.random() < 0.5 else Side.SELL
        quantity = self._taker_size(state)
        try:
            self.engine.place_order(
                key[0],
                self.taker,
                key[1],
                side=side,
                order_type=OrderType.MARKET,
                quantity=quantity,
            )
        except SimReject:
            return

    @staticmethod
    def _poisson(rng: random.Random, mean: float) -> int:
        if mean <= 0:
            return 0
        limit = math.exp(-mean)
        count, product = 0, rng.random()
        while product > limit:
            count += 1
            product *= rng.random()
        return count

    def on_trade(self, trade: SimTrade) -> None:
        """Every trade moves open interest a little (either way), so it is not constant. The
        generator is the engine's first listener, so this runs before any face hears of it."""
        key = (trade.venue, trade.symbol)
        state = self.states[key]
        self._traded.add(key)
        if state.rng.random() < 0.5:
            state.open_interest += trade.quantity
        elif state.open_interest > trade.quantity:
            state.open_interest -= trade.quantity

    # ----------------------------------------------------------------- time

    def step(self, dt: float) -> None:
        """Advance every price by `dt` seconds, requote, send taker flow, emit tickers."""
        if dt < 0:
            raise ValueError("dt must not be negative")
        config = self.config
        self.time += dt
        years = dt / YEAR_SECONDS
        for asset in sorted(self.asset_mid):
            shock = config.volatility * math.sqrt(years) * self.rng.gauss(0.0, 1.0)
            self.asset_mid[asset] *= math.exp(shock - 0.5 * config.volatility**2 * years)
        phi = math.exp(-dt * math.log(2) / config.venue_noise_half_life) if dt else 1.0
        noise = config.venue_noise_bps / 1e4 * math.sqrt(max(1.0 - phi * phi, 0.0))
        for key in sorted(self.venue_dev, key=lambda k: (k[0], str(k[1]))):
            asset, venue = key
            self.venue_dev[key] = phi * self.venue_dev[key] + noise * self.rng.gauss(0.0, 1.0)
            latency = config.venue_latency.get(str(venue), 0.1)
            follow = 1.0 - math.exp(-dt / latency) if latency > 0 else 1.0
            self.venue_base[key] += (self.asset_mid[asset] - self.venue_base[key]) * follow
        premium_phi = math.exp(-dt / 60.0)
        premium_noise = config.perp_premium_std * math.sqrt(max(1.0 - premium_phi**2, 0.0))
        engine = self.engine
        for key in sorted(self.perp_premium, key=lambda k: (k[0], str(k[1]))):
            self.perp_premium[key] = (
                config.perp_premium_mean
                + premium_phi * (self.perp_premium[key] - config.perp_premium_mean)
                + premium_noise * self.rng.gauss(0.0, 1.0)
            )
        for key, state in self.states.items():
            self._reprice(state)
            with engine.batch_book_updates():
                self._requote(key, state)
                for _ in range(self._poisson(state.rng, config.resize_rate * dt)):
                    self._resize(key, state)
            rate = config.taker_rate
            if state.info.kind is InstrumentKind.OPTION:
                rate *= config.option_taker_share
            for _ in range(self._poisson(state.rng, rate * dt)):
                self._take(key, state)
        engine.revalue_positions()
        engine.fire_triggers()
        self._emit_tickers()

    def _emit_tickers(self) -> None:
        engine = self.engine
        for (venue, symbol), state in self.states.items():
            ticker = engine.ticker(venue, symbol)
            top = (
                ticker.best_bid,
                ticker.best_bid_size,
                ticker.best_ask,
                ticker.best_ask_size,
                ticker.last_price,
            )
            if (
                top != state.last_top
                or self.time - state.last_ticker >= self.config.ticker_interval
            ):
                state.last_top = top
                state.last_ticker = self.time
                engine._emit("on_ticker", ticker)


def build_engine(
    seed: int = 1,
    instruments: list[InstrumentInfo] | None = None,
    clock_ns: Callable[[], int] = time.time_ns,
    config: MarketConfig | None = None,
) -> Engine:
    """An `Engine` over `instruments` (default `DEFAULT_INSTRUMENTS`) with its market generator
    attached: what the server, the command line and the tests run."""
    engine = Engine(seed=seed, instruments=instruments, clock_ns=clock_ns)
    MarketGenerator(engine, config or MarketConfig(), seed)
    return engine
