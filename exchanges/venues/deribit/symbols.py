"""Deribit instrument names <-> unified (CCXT-style) symbols.

Deribit names its instruments by a fixed grammar (docs: public/get_instruments,
"instrument_name"): `{BASE}[_{QUOTE}]-PERPETUAL`, `{BASE}[_{QUOTE}]-{DMMMYY}`,
`{BASE}[_{QUOTE}]-{DMMMYY}-{STRIKE}-{C|P}` and spot pairs `{BASE}_{QUOTE}`. A bare base
(`BTC-PERPETUAL`) is the inverse family: quoted in USD, margined and settled in the base coin;
`_USDC`/`_USDT` marks the linear family, settled in the quote. Strikes use `d` for the decimal
point (`XRP_USDC-30JUN23-0d625-C`). Dated instruments expire at 08:00 UTC.

The listing from `public/get_instruments` is authoritative (`parse.parse_instrument`); the
name grammar below is for names seen before the listing was loaded. `SymbolTable` caches both
directions so the stream's hot path is one dict lookup.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from exchanges.venues.base import InstrumentKind, OptionType
from exchanges.venues.symbols import NamedSymbolTable, parse_unified, unified_symbol

MONTHS = {
    "JAN": 1,
    "FEB": 2,
    "MAR": 3,
    "APR": 4,
    "MAY": 5,
    "JUN": 6,
    "JUL": 7,
    "AUG": 8,
    "SEP": 9,
    "OCT": 10,
    "NOV": 11,
    "DEC": 12,
}
MONTH_NAMES = {number: name for name, number in MONTHS.items()}
OPTION_LETTERS = {"C": OptionType.CALL, "P": OptionType.PUT}
INVERSE_QUOTE = "USD"
EXPIRY_HOUR_UTC = 8


@dataclass(frozen=True, slots=True)
class NameParts:
    """What an instrument name says about the instrument."""

    kind: InstrumentKind
    base: str
    quote: str
    settle: str
    expiry_ts: int | None = None
    strike: Decimal | None = None
    option_type: OptionType | None = None

    @property
    def linear(self) -> bool:
        return self.settle == self.quote


def expiry_ts_from_code(code: str) -> int:
    """`25DEC26` -> ns since epoch of 2026-12-25 08:00 UTC (Deribit's expiry time)."""
    day, month, year = code[:-5], code[-5:-2], code[-2:]
    if not day.isdigit() or month not in MONTHS or not year.isdigit():
        raise ValueError(f"not a Deribit expiry: {code!r}")
    moment = datetime(2000 + int(year), MONTHS[month], int(day), EXPIRY_HOUR_UTC, tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000_000


def expiry_code_from_ts(expiry_ts: int) -> str:
    """ns since epoch -> `25DEC26` (day without a leading zero, as Deribit writes it)."""
    moment = datetime.fromtimestamp(expiry_ts // 1_000_000_000, tz=UTC)
    return f"{moment.day}{MONTH_NAMES[moment.month]}{moment:%y}"


def _currencies(prefix: str) -> tuple[str, str, str]:
    base, _, quote = prefix.partition("_")
    if not base:
        raise ValueError(f"not a Deribit instrument prefix: {prefix!r}")
    if quote:
        return base, quote, quote
    return base, INVERSE_QUOTE, base


def parse_name(instrument_name: str) -> NameParts:
    """Read kind, currencies, expiry, strike and type from a Deribit instrument name."""
    parts = instrument_name.split("-")
    if len(parts) == 1:
        base, _, quote = instrument_name.partition("_")
        if not base or not quote:
            raise ValueError(f"not a Deribit instrument: {instrument_name!r}")
        return NameParts(InstrumentKind.SPOT, base, quote, quote)
    base, quote, settle = _currencies(parts[0])
    if len(parts) == 2:
        if parts[1] == "PERPETUAL":
            return NameParts(InstrumentKind.PERPETUAL, base, quote, settle)
        return NameParts(InstrumentKind.FUTURE, base, quote, settle, expiry_ts_from_code(parts[1]))
    if len(parts) == 4 and parts[3] in OPTION_LETTERS:
        return NameParts(
            InstrumentKind.OPTION,
            base,
            quote,
            settle,
            expiry_ts_from_code(parts[1]),
            Decimal(parts[2].replace("d", ".")),
            OPTION_LETTERS[parts[3]],
        )
    raise ValueError(f"not a Deribit instrument: {instrument_name!r}")


def unified_from_name(instrument_name: str) -> str:
    parts = parse_name(instrument_name)
    return unified_symbol(
        kind=parts.kind,
        base=parts.base,
        quote=parts.quote,
        settle=parts.settle,
        expiry_ts=parts.expiry_ts,
        strike=parts.strike,
        option_type=parts.option_type,
    )


def name_from_unified(symbol: str) -> str:
    """`BTC/USD:BTC-261225-100000-C` -> `BTC-25DEC26-100000-C` (inverse of `unified_from_name`)."""
    parts = parse_unified(symbol)
    if parts.kind is InstrumentKind.SPOT:
        return f"{parts.base}_{parts.quote}"
    if parts.quote == INVERSE_QUOTE and parts.settle == parts.base:
        prefix = parts.base
    elif parts.settle == parts.quote:
        prefix = f"{parts.base}_{parts.quote}"
    else:
        raise ValueError(f"no Deribit instrument family for {symbol!r}")
    if parts.kind is InstrumentKind.PERPETUAL:
        return f"{prefix}-PERPETUAL"
    moment = datetime.strptime(parts.expiry, "%y%m%d").replace(tzinfo=UTC)
    code = expiry_code_from_ts(int(moment.timestamp()) * 1_000_000_000)
    if parts.kind is InstrumentKind.FUTURE:
        return f"{prefix}-{code}"
    strike = format(parts.strike.normalize(), "f").replace(".", "d")
    letter = "C" if parts.option_type is OptionType.CALL else "P"
    return f"{prefix}-{code}-{strike}-{letter}"


def currency_of(instrument_name: str) -> str:
    """The currency Deribit files an instrument under in `*_by_currency` methods: the base
    coin for the inverse family (`BTC-PERPETUAL` -> BTC), the quote for linear ones
    (`BTC_USDC-PERPETUAL` -> USDC)."""
    prefix = instrument_name.split("-", 1)[0]
    base, _, quote = prefix.partition("_")
    return quote or base


class SymbolTable(NamedSymbolTable):
    """Instrument name <-> unified symbol (`protocols.SymbolTable`), filled from the instrument
    listing and extended on demand from the name grammar."""

    __slots__ = ()
    derive_unified = staticmethod(unified_from_name)
    derive_venue = staticmethod(name_from_unified)
