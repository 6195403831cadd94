"""Deribit book level changes (deribit/books.py)."""

from __future__ import annotations

from decimal import Decimal

from exchanges.simulator.deribit.books import _level_changes

D = Decimal


def test_level_changes_name_new_change_and_delete():
    levels = {D("100"): D("10"), D("99.5"): D("20")}
    entries = _level_changes(
        levels, [(D("100"), D("0")), (D("99.5"), D("30")), (D("99"), D("5")), (D("98"), D("0"))]
    )
    assert entries == [
        ["delete", D("100"), D("0")],
        ["change", D("99.5"), D("30")],
        ["new", D("99"), D("5")],
    ]
    assert levels == {D("99.5"): D("30"), D("99"): D("5")}
