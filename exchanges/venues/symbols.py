"""Unified (CCXT-style) symbols, built the same way for every venue.

`BTC/USDT` spot, `BTC/USDT:USDT` linear perpetual, `BTC/USD:BTC` inverse perpetual,
`BTC/USD:BTC-261225` future, `BTC/USD:BTC-261225-100000-C` option. Each venue's `symbols.py`
turns its own listing into these parts; this module only assembles and takes them apart, and
holds `NamedSymbolTable`, the table of a venue whose own names identify one instrument.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from exchanges.venues.base import InstrumentInfo, InstrumentKind, OptionType


def expiry_code(expiry_ts: int) -> str:
    """`YYMMDD` of an expiry given in ns since epoch (UTC)."""
    return datetime.fromtimestamp(expiry_ts / 1e9, tz=UTC).strftime("%y%m%d")


def format_strike(strike: Decimal) -> str:
    text = format(strike.normalize(), "f")
    return text


def unified_symbol(
    *,
    kind: InstrumentKind,
    base: str,
    quote: str,
    settle: str = "",
    expiry_ts: int | None = None,
    strike: Decimal | None = None,
    option_type: OptionType | None = None,
) -> str:
    if kind is InstrumentKind.SPOT:
        return f"{base}/{quote}"
    symbol = f"{base}/{quote}:{settle}"
    if kind is InstrumentKind.PERPETUAL:
        return symbol
    if expiry_ts is None:
        raise ValueError(f"{kind} {base}/{quote} needs an expiry")
    symbol = f"{symbol}-{expiry_code(expiry_ts)}"
    if kind is InstrumentKind.FUTURE:
        return symbol
    if strike is None or option_type is None:
        raise ValueError(f"option {symbol} needs a strike and a type")
    letter = "C" if option_type is OptionType.CALL else "P"
    return f"{symbol}-{format_strike(strike)}-{letter}"


@dataclass(frozen=True, slots=True)
class SymbolParts:
    kind: InstrumentKind
    base: str
    quote: str
    settle: str
    expiry: str = ""  # YYMMDD
    strike: Decimal | None = None
    option_type: OptionType | None = None


def parse_unified(symbol: str) -> SymbolParts:
    """Take a unified symbol apart; raises ValueError on anything malformed."""
    pair, _, rest = symbol.partition(":")
    base, slash, quote = pair.partition("/")
    if not slash or not base or not quote:
        raise ValueError(f"not a unified symbol: {symbol!r}")
    if not rest:
        return SymbolParts(InstrumentKind.SPOT, base, quote, "")
    parts = rest.split("-")
    settle = parts[0]
    if len(parts) == 1:
        return SymbolParts(InstrumentKind.PERPETUAL, base, quote, settle)
    expiry = parts[1]
    if len(expiry) != 6 or not expiry.isdigit():
        raise ValueError(f"bad expiry in {symbol!r}")
    if len(parts) == 2:
        return SymbolParts(InstrumentKind.FUTURE, base, quote, settle, expiry)
    if len(parts) != 4 or parts[3] not in ("C", "P"):
        raise ValueError(f"bad option symbol {symbol!r}")
    option_type = OptionType.CALL if parts[3] == "C" else OptionType.PUT
    return SymbolParts(
        InstrumentKind.OPTION, base, quote, settle, expiry, Decimal(parts[2]), option_type
    )


class NamedSymbolTable:
    """`protocols.SymbolTable` of a venue whose own name identifies one instrument (OKX, Deribit):
    the listing first; a name not in it is derived by the venue's naming rules and cached
    both ways. A venue's `SymbolTable` subclasses it and names its two rules,
    `derive_unified(venue_symbol)` and `derive_venue(symbol)` (static methods)."""

    __slots__ = ("_info", "_unified", "_venue")

    @staticmethod
    def derive_unified(venue_symbol: str) -> str:
        raise NotImplementedError

    @staticmethod
    def derive_venue(symbol: str) -> str:
        raise NotImplementedError

    def __init__(self, instruments: Iterable[InstrumentInfo] = ()) -> None:
        self._unified: dict[str, str] = {}
        self._venue: dict[str, str] = {}
        self._info: dict[str, InstrumentInfo] = {}
        self.add_all(instruments)

    def __len__(self) -> int:
        return len(self._info)

    def add(self, info: InstrumentInfo) -> None:
        self._info[info.venue_symbol] = info
        self._unified[info.venue_symbol] = info.symbol
        self._venue[info.symbol] = info.venue_symbol

    def add_all(self, instruments: Iterable[InstrumentInfo]) -> None:
        for info in instruments:
            self.add(info)

    def info(self, venue_symbol: str) -> InstrumentInfo | None:
        return self._info.get(venue_symbol)

    def instruments(self) -> list[InstrumentInfo]:
        return list(self._info.values())

    def unified(self, venue_symbol: str) -> str:
        symbol = self._unified.get(venue_symbol)
        if symbol is None:
            symbol = self._unified[venue_symbol] = self.derive_unified(venue_symbol)
            self._venue.setdefault(symbol, venue_symbol)
        return symbol

    def venue(self, symbol: str) -> str:
        venue_symbol = self._venue.get(symbol)
        if venue_symbol is None:
            venue_symbol = self._venue[symbol] = self.derive_venue(symbol)
            self._unified.setdefault(venue_symbol, symbol)
        return venue_symbol
