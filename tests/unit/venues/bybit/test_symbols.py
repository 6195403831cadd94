"""Bybit names <-> unified symbols: the table from instruments-info and the naming rules."""

from datetime import UTC, datetime

import pytest

from exchanges.venues.bybit import parse
from exchanges.venues.bybit.symbols import (
    AmbiguousSymbol,
    SymbolTable,
    UnknownSymbol,
    category_of,
    derive_unified,
    derive_venue,
    parse_expiry,
)
from tests.plugins.venues import load_payload


def ns(*args) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp()) * 1_000_000_000


@pytest.fixture
def table():
    linear = parse.parse_instruments(
        load_payload("bybit", "rest_instruments_info_linear")["result"]
    )
    spot = parse.parse_instruments(load_payload("bybit", "rest_instruments_info_spot")["result"])
    option = parse.parse_instruments(
        load_payload("bybit", "rest_instruments_info_option_docs")["result"]
    )
    return SymbolTable(linear + spot + option)


@pytest.mark.parametrize(
    ("category", "name", "unified"),
    [
        ("spot", "BTCUSDT", "BTC/USDT"),
        ("spot", "ETHBTC", "ETH/BTC"),
        ("spot", "SOLUSDC", "SOL/USDC"),
        ("linear", "BTCUSDT", "BTC/USDT:USDT"),
        ("linear", "ETHPERP", "ETH/USDC:USDC"),
        ("linear", "SOLUSDC", "SOL/USDC:USDC"),
        ("linear", "BTCUSDT-26DEC25", "BTC/USDT:USDT-251226"),
        ("linear", "BTC-26DEC25", "BTC/USDC:USDC-251226"),
        ("inverse", "BTCUSD", "BTC/USD:BTC"),
        ("option", "BTC-29JUL22-25000-C", "BTC/USDC:USDC-220729-25000-C"),
        ("option", "BTC-27MAR26-70000-P-USDT", "BTC/USDT:USDT-260327-70000-P"),
    ],
)
def test_naming_rules(category, name, unified):
    assert derive_unified(category, name) == unified


@pytest.mark.parametrize(
    ("category", "name"),
    [
        ("inverse", "BTCUSDZ25"),
        ("spot", "ABCXYZ"),
        ("option", "BTC-29JUL22-25000"),
        ("linear", "BTC-32XYZ25"),
        ("linear", "BTC-32DEC25"),
    ],
)
def test_names_the_rules_cannot_place(category, name):
    with pytest.raises(UnknownSymbol):
        derive_unified(category, name)


def test_expiry_is_eight_utc():
    assert parse_expiry("29JUL22") == ns(2022, 7, 29, 8)
    assert parse_expiry("5JAN26") == ns(2026, 1, 5, 8)


def test_resolution(table):
    assert table.resolve("BTC/USDT") == ("spot", "BTCUSDT")
    assert table.resolve("BTC/USDT:USDT") == ("linear", "BTCUSDT")
    assert table.resolve("spot:ETHUSDT") == ("spot", "ETHUSDT")
    assert table.resolve("BTC-27MAR26-70000-P-USDT") == ("option", "BTC-27MAR26-70000-P-USDT")
    assert table.resolve("BTC/USD:BTC") == ("inverse", "BTCUSD")  # by the naming rules
    with pytest.raises(AmbiguousSymbol, match="linear:BTCUSDT"):
        table.resolve("BTCUSDT")
    with pytest.raises(UnknownSymbol):
        table.resolve("DOGEUSDT")
    with pytest.raises(UnknownSymbol):
        table.resolve("BTC/USD:BTC-261225")


def test_unified_prefers_the_table(table):
    assert table.unified_in("option", "BTC-27MAR26-70000-P-USDT") == "BTC/USDT:USDT-260327-70000-P"
    assert table.unified_in("linear", "ETHUSDT") == "ETH/USDT:USDT"
    assert table.unified_in("linear", "XRPUSDT") == "XRP/USDT:USDT"  # not listed: derived
    assert table.settle_coins("linear") == ["USDT"]
    assert [category_of(i) for i in table.instruments()][:3] == ["linear", "linear", "spot"]


def test_derive_venue():
    assert derive_venue("ETH/USDT:USDT") == ("linear", "ETHUSDT")
    assert derive_venue("ETH/USDT") == ("spot", "ETHUSDT")
    with pytest.raises(UnknownSymbol):
        derive_venue("ETH/USDC:USDC")
