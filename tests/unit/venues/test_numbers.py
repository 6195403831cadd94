from decimal import Decimal as D

import pytest

from exchanges.venues.numbers import DecimalCache, DecimalJsonDecoder


def test_decimal_cache_is_exact_shared_and_bounded():
    cache = DecimalCache(limit=2)
    assert cache["0.30000000000000004"] == D("0.30000000000000004")
    assert str(cache["1.6e-7"]) == "1.6E-7"
    assert cache["0.30000000000000004"] is cache["0.30000000000000004"]
    assert cache.get("42.5") is None
    assert cache["42.5"] == D("42.5")
    assert list(cache) == ["42.5"]  # emptied at the bound, then the new text added


def test_decimal_cache_needs_room():
    with pytest.raises(ValueError):
        DecimalCache(limit=0)


def test_decoder_gives_decimals_for_fractions_and_ints_for_whole_numbers():
    decode = DecimalJsonDecoder().decode
    value = decode('{"price": 92283.5, "amount": 10, "tiny": 1.6e-7, "name": "x"}')
    assert value == {"price": D("92283.5"), "amount": 10, "tiny": D("1.6E-7"), "name": "x"}
    assert type(value["amount"]) is int
    assert decode(b"[0.1, 0.1]") == [D("0.1"), D("0.1")]
    first, second = decode(memoryview(b"[0.1, 0.1]"))
    assert first is second


def test_decoder_edges_go_through_the_full_decoder():
    decoder = DecimalJsonDecoder()
    assert decoder.decode('  {"a": 1.5}\n') == {"a": D("1.5")}
    for junk in ('{"a": 1} trailing', "", "{bad", b"\xff"):
        with pytest.raises(ValueError):
            decoder.decode(junk)
    assert decoder.cache["1.5"] == D("1.5")


def test_amount_helpers_read_text_and_decoded_numbers_alike():
    from exchanges.venues.base import ProtocolError
    from exchanges.venues.numbers import (
        dec,
        dec_or_zero,
        first_dec,
        levels,
        ms_ns,
        nonzero_or_none,
        opt_dec,
    )

    assert dec("42.5") == D("42.5") and dec(7) == D(7)
    exact = D("0.1")
    assert dec(exact) is exact
    with pytest.raises(ProtocolError):
        dec(True)
    with pytest.raises(ProtocolError):
        dec(0.1)
    assert (opt_dec(None), opt_dec(""), opt_dec("0")) == (None, None, D(0))
    assert (dec_or_zero(""), dec_or_zero(None), dec_or_zero("1.5")) == (D(0), D(0), D("1.5"))
    assert (nonzero_or_none("0"), nonzero_or_none(""), nonzero_or_none("3")) == (None, None, D(3))
    assert (first_dec("", None, "2", "3"), first_dec("", None)) == (D(2), None)
    assert (ms_ns("1700000000123"), ms_ns(5), ms_ns(""), ms_ns(None)) == (
        1_700_000_000_123_000_000,
        5_000_000,
        0,
        0,
    )
    assert levels([["1.5", "2", "0", "4"], [D("1.4"), 3]]) == ((D("1.5"), D(2)), (D("1.4"), D(3)))
