"""Bybit symbols: which category a name belongs to, and its unified (CCXT) form.

A Bybit symbol alone is ambiguous: `BTCUSDT` is both the spot pair and the USDT perpetual, told
apart only by the request's `category` (spot, linear, inverse, option). The adapter therefore keeps
a `SymbolTable` filled from `GET /v5/market/instruments-info`, keyed by (category, symbol), and
accepts three spellings wherever a "venue symbol" is expected:

- the unified symbol (`BTC/USDT` or `BTC/USDT:USDT`): never ambiguous, the recommended key;
- a category-qualified name (`spot:BTCUSDT`, `linear:BTCUSDT`);
- the bare Bybit name (`BTCUSDT`): accepted when it is listed in one category only, otherwise
  `AmbiguousSymbol` is raised rather than guessing.

When a symbol is not in the table (no instruments loaded, e.g. a benchmark over a file), its
unified form is derived from Bybit's naming rules below, table-driven: known quote coins for spot
pairs, suffixes for perpetuals, `DDMONYY` expiries for futures and options.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal

from exchanges.venues.base import InstrumentInfo, InstrumentKind, OptionType
from exchanges.venues.bybit.constants import CATEGORIES, INVERSE, LINEAR, OPTION, SPOT
from exchanges.venues.symbols import parse_unified, unified_symbol


class SymbolError(ValueError):
    """A symbol that cannot be resolved to one Bybit (category, symbol) pair."""


class AmbiguousSymbol(SymbolError):
    pass


class UnknownSymbol(SymbolError):
    pass


# Quote coins of Bybit spot pairs, longest first so `USDT` wins over `USD` style prefixes.
SPOT_QUOTES = (
    "USDT",
    "USDC",
    "USDE",
    "USD1",
    "FDUSD",
    "PYUSD",
    "RLUSD",
    "DAI",
    "EUR",
    "BRL",
    "PLN",
    "TRY",
    "BTC",
    "ETH",
    "MNT",
)
MONTHS = {
    name: number
    for number, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1
    )
}
EXPIRY_HOUR_UTC = 8  # Bybit futures and options deliver at 08:00 UTC


def category_of(info: InstrumentInfo) -> str:
    """Bybit `category` of a normalized instrument."""
    if info.kind is InstrumentKind.SPOT:
        return SPOT
    if info.kind is InstrumentKind.OPTION:
        return OPTION
    return LINEAR if info.linear else INVERSE


def parse_expiry(code: str) -> int:
    """`26DEC25` -> ns since epoch of 2025-12-26 08:00 UTC."""
    if len(code) not in (6, 7):
        raise UnknownSymbol(f"not a Bybit expiry: {code!r}")
    day, month, year = code[:-5], code[-5:-2], code[-2:]
    if month not in MONTHS or not day.isdigit() or not year.isdigit():
        raise UnknownSymbol(f"not a Bybit expiry: {code!r}")
    try:
        moment = datetime(2000 + int(year), MONTHS[month], int(day), EXPIRY_HOUR_UTC, tzinfo=UTC)
    except ValueError as exc:
        raise UnknownSymbol(f"not a Bybit expiry: {code!r}") from exc
    return int(moment.timestamp()) * 1_000_000_000


def _split_spot(symbol: str) -> tuple[str, str]:
    for quote in SPOT_QUOTES:
        if symbol.endswith(quote) and len(symbol) > len(quote):
            return symbol[: -len(quote)], quote
    raise UnknownSymbol(f"no known quote coin in Bybit spot symbol {symbol!r}")


def derive_unified(category: str, symbol: str) -> str:
    """The unified symbol of a Bybit name by Bybit's naming rules (no instrument table).

    Spot `BTCUSDT`; linear `BTCUSDT`, `BTCPERP` (USDC perpetual), `BTCUSDC`, `BTCUSDT-26DEC25`,
    `BTC-26DEC25` (USDC future); inverse `BTCUSD`; options `BTC-26DEC25-100000-C` (USDC) and
    `BTC-27MAR26-70000-P-USDT`. Inverse futures (`BTCUSDZ25`) need the table: their delivery day
    is not in the name.
    """
    if category == SPOT:
        base, quote = _split_spot(symbol)
        return unified_symbol(kind=InstrumentKind.SPOT, base=base, quote=quote)
    if category == OPTION:
        parts = symbol.split("-")
        if len(parts) not in (4, 5) or parts[3] not in ("C", "P"):
            raise UnknownSymbol(f"not a Bybit option symbol: {symbol!r}")
        settle = parts[4] if len(parts) == 5 else "USDC"
        return unified_symbol(
            kind=InstrumentKind.OPTION,
            base=parts[0],
            quote=settle,
            settle=settle,
            expiry_ts=parse_expiry(parts[1]),
            strike=Decimal(parts[2]),
            option_type=OptionType.CALL if parts[3] == "C" else OptionType.PUT,
        )
    if category == LINEAR:
        name, dash, expiry = symbol.partition("-")
        if dash:
            if name.endswith("USDT"):
                base, settle = name[:-4], "USDT"
            else:
                base, settle = name, "USDC"
            return unified_symbol(
                kind=InstrumentKind.FUTURE,
                base=base,
                quote=settle,
                settle=settle,
                expiry_ts=parse_expiry(expiry),
            )
        for suffix, settle in (("USDT", "USDT"), ("USDC", "USDC"), ("PERP", "USDC")):
            if symbol.endswith(suffix) and len(symbol) > len(suffix):
                base = symbol[: -len(suffix)]
                return unified_symbol(
                    kind=InstrumentKind.PERPETUAL, base=base, quote=settle, settle=settle
                )
        raise UnknownSymbol(f"not a Bybit linear symbol: {symbol!r}")
    if category == INVERSE:
        if symbol.endswith("USD") and len(symbol) > 3:
            base = symbol[:-3]
            return unified_symbol(
                kind=InstrumentKind.PERPETUAL, base=base, quote="USD", settle=base
            )
        raise UnknownSymbol(f"inverse future {symbol!r} needs the instrument table")
    raise UnknownSymbol(f"unknown Bybit category {category!r}")


def derive_venue(symbol: str) -> tuple[str, str]:
    """(category, Bybit name) of a unified spot or perpetual symbol by the naming rules."""
    parts = parse_unified(symbol)
    if parts.kind is InstrumentKind.SPOT:
        return SPOT, parts.base + parts.quote
    if parts.kind is InstrumentKind.PERPETUAL:
        if parts.settle == parts.quote == "USDT":
            return LINEAR, parts.base + "USDT"
        if parts.quote == "USD" and parts.settle == parts.base:
            return INVERSE, parts.base + "USD"
    raise UnknownSymbol(f"{symbol!r} needs the instrument table")


class SymbolTable:
    """Instruments of the venue by (category, Bybit name) and by unified symbol
    (`protocols.SymbolTable`). Its `venue_symbol` is `category:NAME` (or a bare name listed in one
    category only); `unified_in` / `info_in` take the category and name apart, as the
    stream's messages and the REST answers give them."""

    def __init__(self, instruments: Iterable[InstrumentInfo] = ()) -> None:
        self._info: dict[tuple[str, str], InstrumentInfo] = {}
        self._by_unified: dict[str, tuple[str, str]] = {}
        self._categories: dict[str, list[str]] = {}
        self._derived: dict[tuple[str, str], str] = {}
        self.add_all(instruments)

    def __len__(self) -> int:
        return len(self._info)

    def add_all(self, instruments: Iterable[InstrumentInfo]) -> None:
        for info in instruments:
            self.add(info)

    def add(self, info: InstrumentInfo) -> None:
        category = category_of(info)
        key = (category, info.venue_symbol)
        if key not in self._info:
            self._categories.setdefault(info.venue_symbol, []).append(category)
        self._info[key] = info
        self._by_unified[info.symbol] = key

    def info(self, venue_symbol: str) -> InstrumentInfo | None:
        return self.info_in(*self.resolve(venue_symbol))

    def info_in(self, category: str, symbol: str) -> InstrumentInfo | None:
        return self._info.get((category, symbol))

    def instruments(self) -> list[InstrumentInfo]:
        return list(self._info.values())

    def unified(self, venue_symbol: str) -> str:
        """Unified symbol of `category:NAME` (or a bare name listed in one category)."""
        return self.unified_in(*self.resolve(venue_symbol))

    def venue(self, symbol: str) -> str:
        """`category:NAME` of a unified symbol (what every Bybit entry point accepts)."""
        category, name = self.resolve(symbol)
        return f"{category}:{name}"

    def unified_in(self, category: str, symbol: str) -> str:
        """Unified symbol of a Bybit (category, name); raises `UnknownSymbol`."""
        info = self._info.get((category, symbol))
        if info is not None:
            return info.symbol
        key = (category, symbol)
        derived = self._derived.get(key)
        if derived is None:
            derived = self._derived[key] = derive_unified(category, symbol)
        return derived

    def settle_coins(self, category: str) -> list[str]:
        return sorted({info.settle for (cat, _), info in self._info.items() if cat == category})

    def resolve(self, name: str) -> tuple[str, str]:
        """(category, Bybit name) of a unified, category-qualified or bare symbol."""
        category, colon, rest = name.partition(":")
        if colon and category in CATEGORIES:
            return category, rest
        if "/" in name:
            key = self._by_unified.get(name)
            if key is not None:
                return key
            return derive_venue(name)
        categories = self._categories.get(name)
        if not categories:
            raise UnknownSymbol(f"Bybit symbol {name!r} is not in the instrument table")
        if len(categories) > 1:
            raise AmbiguousSymbol(
                f"Bybit symbol {name!r} is listed in {sorted(categories)}: pass the unified "
                f"symbol or a category-qualified name such as '{categories[0]}:{name}'"
            )
        return categories[0], name
