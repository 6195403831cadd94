"""bench/persist.py: the rows it writes are distinct trades with exact decimals, the same for
the same seed (so every path in one run writes the same rows)."""

from decimal import Decimal

from bench.persist import make_rows


def test_rows_are_distinct_deterministic_and_decimal():
    rows = make_rows([1, 2, 3], 1_000)

    assert len({(row.instrument_id, row.trade_id) for row in rows}) == 1_000
    assert make_rows([1, 2, 3], 1_000) == rows
    assert {row.instrument_id for row in rows} == {1, 2, 3}
    assert all(type(row.price) is Decimal and row.price > 0 for row in rows)
    assert all(row.quantity == row.quantity.quantize(Decimal("0.0001")) for row in rows)
    assert (rows[1].traded_at - rows[0].traded_at).total_seconds() == 0.01
