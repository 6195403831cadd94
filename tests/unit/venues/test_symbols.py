from datetime import UTC, datetime
from decimal import Decimal

import pytest

from exchanges.venues.base import InstrumentKind, OptionType
from exchanges.venues.symbols import SymbolParts, parse_unified, unified_symbol

EXPIRY = int(datetime(2026, 12, 25, 8, tzinfo=UTC).timestamp()) * 1_000_000_000


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"kind": InstrumentKind.SPOT, "base": "BTC", "quote": "USDT"}, "BTC/USDT"),
        (
            {"kind": InstrumentKind.PERPETUAL, "base": "BTC", "quote": "USDT", "settle": "USDT"},
            "BTC/USDT:USDT",
        ),
        (
            {"kind": InstrumentKind.PERPETUAL, "base": "BTC", "quote": "USD", "settle": "BTC"},
            "BTC/USD:BTC",
        ),
        (
            {
                "kind": InstrumentKind.FUTURE,
                "base": "BTC",
                "quote": "USD",
                "settle": "BTC",
                "expiry_ts": EXPIRY,
            },
            "BTC/USD:BTC-261225",
        ),
        (
            {
                "kind": InstrumentKind.OPTION,
                "base": "BTC",
                "quote": "USD",
                "settle": "BTC",
                "expiry_ts": EXPIRY,
                "strike": Decimal("100000"),
                "option_type": OptionType.CALL,
            },
            "BTC/USD:BTC-261225-100000-C",
        ),
        (
            {
                "kind": InstrumentKind.OPTION,
                "base": "ETH",
                "quote": "USD",
                "settle": "ETH",
                "expiry_ts": EXPIRY,
                "strike": Decimal("3250.50"),
                "option_type": OptionType.PUT,
            },
            "ETH/USD:ETH-261225-3250.5-P",
        ),
    ],
)
def test_unified_symbol(kwargs, expected):
    assert unified_symbol(**kwargs) == expected


def test_strike_of_1e5_is_written_without_exponent():
    symbol = unified_symbol(
        kind=InstrumentKind.OPTION,
        base="BTC",
        quote="USD",
        settle="BTC",
        expiry_ts=EXPIRY,
        strike=Decimal("1E+5"),
        option_type=OptionType.PUT,
    )
    assert symbol == "BTC/USD:BTC-261225-100000-P"


def test_future_without_expiry_is_refused():
    with pytest.raises(ValueError, match="needs an expiry"):
        unified_symbol(kind=InstrumentKind.FUTURE, base="BTC", quote="USD", settle="BTC")


@pytest.mark.parametrize(
    ("symbol", "parts"),
    [
        ("BTC/USDT", SymbolParts(InstrumentKind.SPOT, "BTC", "USDT", "")),
        ("BTC/USD:BTC", SymbolParts(InstrumentKind.PERPETUAL, "BTC", "USD", "BTC")),
        ("BTC/USD:BTC-261225", SymbolParts(InstrumentKind.FUTURE, "BTC", "USD", "BTC", "261225")),
        (
            "BTC/USD:BTC-261225-100000-C",
            SymbolParts(
                InstrumentKind.OPTION,
                "BTC",
                "USD",
                "BTC",
                "261225",
                Decimal("100000"),
                OptionType.CALL,
            ),
        ),
    ],
)
def test_parse_unified(symbol, parts):
    assert parse_unified(symbol) == parts


@pytest.mark.parametrize("bad", ["BTCUSDT", "/USDT", "BTC/USD:BTC-2612", "BTC/USD:BTC-261225-1-X"])
def test_parse_unified_refuses_malformed(bad):
    with pytest.raises(ValueError):
        parse_unified(bad)


def test_named_symbol_table_prefers_the_listing_and_caches_derivations_both_ways():
    from exchanges.venues.base import InstrumentInfo, Venue
    from exchanges.venues.symbols import NamedSymbolTable

    class Table(NamedSymbolTable):
        __slots__ = ()
        derive_unified = staticmethod(lambda name: f"{name[:3]}/{name[3:]}")
        derive_venue = staticmethod(lambda symbol: symbol.replace("/", ""))

    listed = InstrumentInfo(
        Venue.OKX, "BTCUSD-X", "BTC/USD", InstrumentKind.SPOT, "BTC", "USD", "USD", True,
        Decimal(1), Decimal(1), Decimal(1), Decimal(1),
    )  # fmt: skip
    table = Table([listed])
    assert (len(table), table.info("BTCUSD-X"), table.instruments()) == (1, listed, [listed])
    assert (table.unified("BTCUSD-X"), table.venue("BTC/USD")) == ("BTC/USD", "BTCUSD-X")
    assert table.unified("ETHUSD") == "ETH/USD" and table.venue("ETH/USD") == "ETHUSD"
    assert table.venue("SOL/USD") == "SOLUSD" and table.unified("SOLUSD") == "SOL/USD"
    assert table.info("ETHUSD") is None
