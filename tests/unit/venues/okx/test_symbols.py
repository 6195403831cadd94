"""OKX instId <-> unified symbol table."""

from decimal import Decimal

import pytest

from exchanges.venues.base import InstrumentKind
from exchanges.venues.okx.parse import parse_instrument
from exchanges.venues.okx.symbols import (
    SymbolTable,
    derive_unified,
    expiry_ns,
    inst_type_of,
    kind_of,
    venue_symbol_of,
)
from tests.plugins.venues import load_payload

CASES = [
    ("BTC-USDT", "BTC/USDT", InstrumentKind.SPOT, "SPOT"),
    ("BTC-USDT-SWAP", "BTC/USDT:USDT", InstrumentKind.PERPETUAL, "SWAP"),
    ("BTC-USD-SWAP", "BTC/USD:BTC", InstrumentKind.PERPETUAL, "SWAP"),
    ("BTC-USD-241227", "BTC/USD:BTC-241227", InstrumentKind.FUTURE, "FUTURES"),
    ("ETH-USDT-250328", "ETH/USDT:USDT-250328", InstrumentKind.FUTURE, "FUTURES"),
    ("BTC-USD-241217-92000-C", "BTC/USD:BTC-241217-92000-C", InstrumentKind.OPTION, "OPTION"),
    ("BTC-USD-241217-92000.5-P", "BTC/USD:BTC-241217-92000.5-P", InstrumentKind.OPTION, "OPTION"),
]


@pytest.mark.parametrize(("inst_id", "unified", "kind", "inst_type"), CASES)
def test_derive_and_back(inst_id, unified, kind, inst_type):
    assert kind_of(inst_id) is kind
    assert inst_type_of(inst_id) == inst_type
    assert derive_unified(inst_id) == unified
    assert venue_symbol_of(unified) == inst_id


def test_expiry_is_0800_utc_of_the_day():
    assert expiry_ns("241220") == 1734681600000 * 1_000_000


def test_bad_instrument_id_is_refused():
    with pytest.raises(ValueError):
        kind_of("BTC")


def test_table_prefers_the_listing_and_caches_derivations():
    raw = load_payload("okx", "rest_instruments_swap")["data"][0]
    table = SymbolTable([parse_instrument(raw)])
    assert table.unified("BTC-USD-SWAP") == "BTC/USD:BTC"
    assert table.venue("BTC/USD:BTC") == "BTC-USD-SWAP"
    assert table.info("BTC-USD-SWAP").contract_size == Decimal("100")
    assert table.unified("ETH-USDT") == "ETH/USDT"
    assert table.venue("ETH/USDT") == "ETH-USDT"
    assert table.venue("SOL/USDT:USDT") == "SOL-USDT-SWAP"
