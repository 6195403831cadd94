"""Deribit numbers as JSON numbers with their exact digits (deribit/wire.py)."""

from __future__ import annotations

from decimal import Decimal

from exchanges.simulator.deribit.wire import dumps, loads

D = Decimal


def test_decimals_are_json_numbers_with_their_exact_digits():
    raw = dumps(
        {
            "price": D("92283.5"),
            "fee": D("1.6E-7"),
            "amount": D("10"),
            "long": D("0.1000000000000000055511151231257827"),
            "negative": D("-0.00000001"),
        }
    )
    assert raw == (
        b'{"price":92283.5,"fee":0.00000016,"amount":10,'
        b'"long":0.1000000000000000055511151231257827,"negative":-0.00000001}'
    )
    assert loads(raw) == {
        "price": D("92283.5"),
        "fee": D("0.00000016"),
        "amount": 10,
        "long": D("0.1000000000000000055511151231257827"),
        "negative": D("-0.00000001"),
    }
