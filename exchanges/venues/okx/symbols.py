"""OKX instrument ids <-> unified (CCXT) symbols, table-driven.

OKX instId shapes (docs-v5 "Public Data > Get instruments"): spot `BTC-USDT`, perpetual
`BTC-USDT-SWAP` / `BTC-USD-SWAP`, expiry future `BTC-USD-241227`, option
`BTC-USD-241217-92000-C`. Linear contracts settle in the quote (`USDT`, `USDC`), inverse ones in
the base. A `SymbolTable` filled from the instrument listing is authoritative; an instId not in it
is derived from its shape with the settlement rule above, so a stream can name a symbol before
the listing is loaded.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from exchanges.venues.base import InstrumentKind, OptionType
from exchanges.venues.symbols import NamedSymbolTable, parse_unified, unified_symbol

INSTRUMENT_KINDS: dict[str, InstrumentKind] = {
    "SPOT": InstrumentKind.SPOT,
    "MARGIN": InstrumentKind.SPOT,
    "SWAP": InstrumentKind.PERPETUAL,
    "FUTURES": InstrumentKind.FUTURE,
    "OPTION": InstrumentKind.OPTION,
}
KIND_INST_TYPE: dict[InstrumentKind, str] = {
    InstrumentKind.SPOT: "SPOT",
    InstrumentKind.PERPETUAL: "SWAP",
    InstrumentKind.FUTURE: "FUTURES",
    InstrumentKind.OPTION: "OPTION",
}
OPTION_LETTERS: dict[str, OptionType] = {"C": OptionType.CALL, "P": OptionType.PUT}
LINEAR_QUOTES = frozenset({"USDT", "USDC", "USDG"})
# OKX dated contracts (futures and options) deliver at 08:00 UTC on the expiry day.
EXPIRY_HOUR_UTC = 8


def settle_of(base: str, quote: str) -> str:
    return quote if quote in LINEAR_QUOTES else base


def expiry_ns(yymmdd: str) -> int:
    moment = datetime.strptime(yymmdd, "%y%m%d").replace(hour=EXPIRY_HOUR_UTC, tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000_000


def kind_of(inst_id: str) -> InstrumentKind:
    """The instrument kind an instId's shape says (no listing needed)."""
    parts = inst_id.split("-")
    if len(parts) == 2:
        return InstrumentKind.SPOT
    if len(parts) == 3:
        return InstrumentKind.PERPETUAL if parts[2] == "SWAP" else InstrumentKind.FUTURE
    if len(parts) == 5:
        return InstrumentKind.OPTION
    raise ValueError(f"not an OKX instrument id: {inst_id!r}")


def inst_type_of(inst_id: str) -> str:
    return KIND_INST_TYPE[kind_of(inst_id)]


def derive_unified(inst_id: str) -> str:
    """The unified symbol of an instId from its shape alone."""
    kind = kind_of(inst_id)
    parts = inst_id.split("-")
    base, quote = parts[0], parts[1]
    if kind is InstrumentKind.SPOT:
        return unified_symbol(kind=kind, base=base, quote=quote)
    settle = settle_of(base, quote)
    if kind is InstrumentKind.PERPETUAL:
        return unified_symbol(kind=kind, base=base, quote=quote, settle=settle)
    expiry = expiry_ns(parts[2])
    if kind is InstrumentKind.FUTURE:
        return unified_symbol(kind=kind, base=base, quote=quote, settle=settle, expiry_ts=expiry)
    return unified_symbol(
        kind=kind,
        base=base,
        quote=quote,
        settle=settle,
        expiry_ts=expiry,
        strike=Decimal(parts[3]),
        option_type=OPTION_LETTERS[parts[4]],
    )


def venue_symbol_of(symbol: str) -> str:
    """The OKX instId of a unified symbol (inverse of `derive_unified`)."""
    parts = parse_unified(symbol)
    if parts.kind is InstrumentKind.SPOT:
        return f"{parts.base}-{parts.quote}"
    if parts.kind is InstrumentKind.PERPETUAL:
        return f"{parts.base}-{parts.quote}-SWAP"
    if parts.kind is InstrumentKind.FUTURE:
        return f"{parts.base}-{parts.quote}-{parts.expiry}"
    letter = "C" if parts.option_type is OptionType.CALL else "P"
    strike = format(parts.strike.normalize(), "f") if parts.strike is not None else ""
    return f"{parts.base}-{parts.quote}-{parts.expiry}-{strike}-{letter}"


class SymbolTable(NamedSymbolTable):
    """instId <-> unified symbol (`protocols.SymbolTable`), learned from the listing and derived
    by the shapes above otherwise (cached)."""

    __slots__ = ()
    derive_unified = staticmethod(derive_unified)
    derive_venue = staticmethod(venue_symbol_of)
