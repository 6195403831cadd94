"""OKX number formats (okx/wire.py)."""

from __future__ import annotations

from decimal import Decimal

from exchanges.simulator.okx.wire import s


def test_amounts_are_plain_decimal_strings():
    assert s(Decimal("100000.0")) == "100000"
    assert s(Decimal("1E+5")) == "100000"
    assert s(Decimal("0.00010")) == "0.0001"
    assert s(Decimal("0")) == "0"
    assert s(None) == ""
