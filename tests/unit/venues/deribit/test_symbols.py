"""Deribit instrument names <-> unified symbols."""

from decimal import Decimal

import pytest

from exchanges.venues.base import InstrumentKind, OptionType
from exchanges.venues.deribit import symbols

CASES = [
    ("BTC-PERPETUAL", "BTC/USD:BTC"),
    ("BTC_USDC-PERPETUAL", "BTC/USDC:USDC"),
    ("BTC-25DEC26", "BTC/USD:BTC-261225"),
    ("BTC-25DEC26-100000-C", "BTC/USD:BTC-261225-100000-C"),
    ("ETH-5JAN27-3500-P", "ETH/USD:ETH-270105-3500-P"),
    ("XRP_USDC-30JUN23-0d625-C", "XRP/USDC:USDC-230630-0.625-C"),
    ("BTC_USDC", "BTC/USDC"),
]


@pytest.mark.parametrize(("name", "unified"), CASES)
def test_both_directions(name, unified):
    assert symbols.unified_from_name(name) == unified
    assert symbols.name_from_unified(unified) == name


def test_name_parts_of_an_option():
    parts = symbols.parse_name("BTC-25DEC26-100000-C")
    assert parts.kind is InstrumentKind.OPTION
    assert (parts.base, parts.quote, parts.settle) == ("BTC", "USD", "BTC")
    assert parts.expiry_ts == 1798185600 * 1_000_000_000  # 2026-12-25 08:00 UTC
    assert parts.strike == Decimal("100000")
    assert parts.option_type is OptionType.CALL
    assert parts.linear is False
    assert symbols.parse_name("BTC_USDC-PERPETUAL").linear is True


def test_expiry_codes():
    assert symbols.expiry_code_from_ts(1798185600 * 1_000_000_000) == "25DEC26"
    assert symbols.expiry_ts_from_code("5JAN27") == 1799136000 * 1_000_000_000


@pytest.mark.parametrize("bad", ["BTC-PERP-X", "BTC-32XYZ26", "-PERPETUAL", "BTC"])
def test_malformed_names_raise(bad):
    with pytest.raises(ValueError):
        symbols.parse_name(bad)


def test_currency_of():
    assert symbols.currency_of("BTC-PERPETUAL") == "BTC"
    assert symbols.currency_of("ETH-25DEC26-3000-C") == "ETH"
    assert symbols.currency_of("BTC_USDC-PERPETUAL") == "USDC"
    assert symbols.currency_of("BTC_USDT") == "USDT"


def test_symbol_table_caches_both_ways():
    mapping = symbols.SymbolTable()
    assert mapping.unified("BTC-PERPETUAL") == "BTC/USD:BTC"
    assert mapping.venue("BTC/USD:BTC") == "BTC-PERPETUAL"
    assert mapping.venue("ETH/USDC:USDC") == "ETH_USDC-PERPETUAL"
    assert mapping.unified("ETH_USDC-PERPETUAL") == "ETH/USDC:USDC"
