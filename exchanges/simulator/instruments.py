"""The instruments the simulator lists, with the venues' real tick, lot and contract sizes.

Values come from the venues' instrument endpoints as recorded in
`tests/fixtures/venues` (Deribit `public/get_instruments`, OKX `GET /api/v5/public/instruments`,
Bybit `GET /v5/market/instruments-info`) where a fixture has the instrument, and from the venues'
instrument pages otherwise:

- Deribit quotes perpetuals and futures in USD and takes `amount` in USD (BTC: contract 10 USD,
  tick 0.5, dated futures tick 2.5, min 10; ETH: contract 1 USD, tick 0.05, min 1); options
  are priced in BTC with `amount` in BTC (tick 0.0005, min 0.1).
- OKX spot takes base-currency size (`lotSz`, `minSz`); swaps take contracts (`ctVal` 0.01 BTC,
  0.1 ETH, inverse 100 USD).
- Bybit linear and spot take base-currency `qty`; inverse BTCUSD takes `qty` in USD. Ticks:
  BTCUSDT linear 0.10, ETHUSDT linear 0.01, BTCUSD inverse 0.10. Spot has a minimum order
  value (`minOrderAmt` 5 USDT; `minOrderQty` is deprecated and not checked), linear both a
  minimum quantity and a minimum value (`minNotionalValue` 5 USDT).

Unified symbols follow CCXT (DESIGN.md "Normalized model").
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from exchanges.venues.base import InstrumentInfo, InstrumentKind, OptionType, Venue
from exchanges.venues.symbols import unified_symbol

D = Decimal

# Deribit dated instruments expire at 08:00 UTC on the expiry day.
EXPIRY = datetime(2026, 12, 25, 8, 0, tzinfo=UTC)
EXPIRY_TS_NS = int(EXPIRY.timestamp()) * 1_000_000_000
EXPIRY_CODE = "25DEC26"  # Deribit's spelling
OPTION_STRIKES = tuple(D(s) for s in range(90_000, 110_001, 5_000))


def _spot(
    venue: Venue,
    venue_symbol: str,
    base: str,
    quote: str,
    tick: str,
    lot: str,
    min_size: str,
    min_notional: str | None = None,
) -> InstrumentInfo:
    return InstrumentInfo(
        venue=venue,
        venue_symbol=venue_symbol,
        symbol=unified_symbol(kind=InstrumentKind.SPOT, base=base, quote=quote),
        kind=InstrumentKind.SPOT,
        base=base,
        quote=quote,
        settle=quote,
        linear=True,
        contract_size=D(1),
        tick_size=D(tick),
        lot_size=D(lot),
        min_size=D(min_size),
        min_notional=None if min_notional is None else D(min_notional),
    )


def _perp(
    venue: Venue,
    venue_symbol: str,
    base: str,
    quote: str,
    settle: str,
    *,
    contract: str,
    tick: str,
    lot: str,
    min_size: str,
    min_notional: str | None = None,
) -> InstrumentInfo:
    return InstrumentInfo(
        venue=venue,
        venue_symbol=venue_symbol,
        symbol=unified_symbol(kind=InstrumentKind.PERPETUAL, base=base, quote=quote, settle=settle),
        kind=InstrumentKind.PERPETUAL,
        base=base,
        quote=quote,
        settle=settle,
        linear=settle == quote,
        contract_size=D(contract),
        tick_size=D(tick),
        lot_size=D(lot),
        min_size=D(min_size),
        min_notional=None if min_notional is None else D(min_notional),
    )


def _deribit_btc_future() -> InstrumentInfo:
    return InstrumentInfo(
        venue=Venue.DERIBIT,
        venue_symbol=f"BTC-{EXPIRY_CODE}",
        symbol=unified_symbol(
            kind=InstrumentKind.FUTURE,
            base="BTC",
            quote="USD",
            settle="BTC",
            expiry_ts=EXPIRY_TS_NS,
        ),
        kind=InstrumentKind.FUTURE,
        base="BTC",
        quote="USD",
        settle="BTC",
        linear=False,
        contract_size=D(10),
        tick_size=D("2.5"),
        lot_size=D(10),
        min_size=D(10),
        expiry_ts=EXPIRY_TS_NS,
    )


def _deribit_btc_option(strike: Decimal, option_type: OptionType) -> InstrumentInfo:
    letter = "C" if option_type is OptionType.CALL else "P"
    return InstrumentInfo(
        venue=Venue.DERIBIT,
        venue_symbol=f"BTC-{EXPIRY_CODE}-{strike:f}-{letter}",
        symbol=unified_symbol(
            kind=InstrumentKind.OPTION,
            base="BTC",
            quote="USD",
            settle="BTC",
            expiry_ts=EXPIRY_TS_NS,
            strike=strike,
            option_type=option_type,
        ),
        kind=InstrumentKind.OPTION,
        base="BTC",
        quote="USD",
        settle="BTC",
        linear=False,
        contract_size=D(1),
        tick_size=D("0.0005"),
        lot_size=D("0.1"),
        min_size=D("0.1"),
        expiry_ts=EXPIRY_TS_NS,
        strike=strike,
        option_type=option_type,
    )


def default_instruments() -> list[InstrumentInfo]:
    """A fresh list of every instrument the simulator lists by default."""
    deribit = [
        _perp(
            Venue.DERIBIT,
            "BTC-PERPETUAL",
            "BTC",
            "USD",
            "BTC",
            contract="10",
            tick="0.5",
            lot="10",
            min_size="10",
        ),
        _perp(
            Venue.DERIBIT,
            "ETH-PERPETUAL",
            "ETH",
            "USD",
            "ETH",
            contract="1",
            tick="0.05",
            lot="1",
            min_size="1",
        ),
        _deribit_btc_future(),
    ]
    deribit += [
        _deribit_btc_option(strike, option_type)
        for strike in OPTION_STRIKES
        for option_type in (OptionType.CALL, OptionType.PUT)
    ]
    okx = [
        _spot(Venue.OKX, "BTC-USDT", "BTC", "USDT", "0.1", "0.00000001", "0.00001"),
        _spot(Venue.OKX, "ETH-USDT", "ETH", "USDT", "0.01", "0.000001", "0.0001"),
        _perp(
            Venue.OKX,
            "BTC-USDT-SWAP",
            "BTC",
            "USDT",
            "USDT",
            contract="0.01",
            tick="0.1",
            lot="0.01",
            min_size="0.01",
        ),
        _perp(
            Venue.OKX,
            "ETH-USDT-SWAP",
            "ETH",
            "USDT",
            "USDT",
            contract="0.1",
            tick="0.01",
            lot="0.01",
            min_size="0.01",
        ),
        _perp(
            Venue.OKX,
            "BTC-USD-SWAP",
            "BTC",
            "USD",
            "BTC",
            contract="100",
            tick="0.1",
            lot="1",
            min_size="1",
        ),
    ]
    bybit = [
        _spot(Venue.BYBIT, "BTCUSDT", "BTC", "USDT", "0.1", "0.000001", "0.000011", "5"),
        _spot(Venue.BYBIT, "ETHUSDT", "ETH", "USDT", "0.01", "0.00001", "0.00029", "5"),
        _perp(
            Venue.BYBIT,
            "BTCUSDT",
            "BTC",
            "USDT",
            "USDT",
            contract="1",
            tick="0.1",
            lot="0.001",
            min_size="0.001",
            min_notional="5",
        ),
        _perp(
            Venue.BYBIT,
            "ETHUSDT",
            "ETH",
            "USDT",
            "USDT",
            contract="1",
            tick="0.01",
            lot="0.01",
            min_size="0.01",
            min_notional="5",
        ),
        _perp(
            Venue.BYBIT,
            "BTCUSD",
            "BTC",
            "USD",
            "BTC",
            contract="1",
            tick="0.1",
            lot="1",
            min_size="1",
        ),
    ]
    return deribit + okx + bybit


DEFAULT_INSTRUMENTS: list[InstrumentInfo] = default_instruments()

# Bybit lists spot and linear instruments under the same name (`BTCUSDT`), told apart by the
# request's `category`. The engine keys instruments by (venue, symbol), so Bybit spot
# instruments live under this prefix in the engine; `InstrumentInfo.venue_symbol` stays the wire
# name. Every other instrument's engine symbol is its venue symbol.
BYBIT_SPOT_PREFIX = "spot:"


def sim_symbol(info: InstrumentInfo) -> str:
    """The symbol the engine files `info` under (see `BYBIT_SPOT_PREFIX`)."""
    if info.venue is Venue.BYBIT and info.kind is InstrumentKind.SPOT:
        return BYBIT_SPOT_PREFIX + info.venue_symbol
    return info.venue_symbol


def bybit_sim_symbol(category: str, symbol: str) -> str:
    """Engine symbol of a Bybit (`category`, `symbol`) pair: `("spot", "BTCUSDT")` -> `spot:BTCUSDT`."""
    return BYBIT_SPOT_PREFIX + symbol if category == "spot" else symbol


def bybit_category(info: InstrumentInfo) -> str:
    """Bybit v5 `category` of an instrument: spot, linear, inverse or option."""
    if info.kind is InstrumentKind.SPOT:
        return "spot"
    if info.kind is InstrumentKind.OPTION:
        return "option"
    return "linear" if info.linear else "inverse"
