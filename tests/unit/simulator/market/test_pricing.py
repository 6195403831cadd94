"""The option model: Black-76 prices and greeks against reference values (market/pricing.py)."""

from __future__ import annotations

from exchanges.simulator.market.pricing import black_scholes, option_greeks
from exchanges.venues.base import OptionType


def test_black_scholes_reference_values():
    assert round(black_scholes(100.0, 100.0, 1.0, 0.2, OptionType.CALL), 4) == 7.9656
    assert round(black_scholes(100.0, 100.0, 1.0, 0.2, OptionType.PUT), 4) == 7.9656
    assert black_scholes(120.0, 100.0, 0.0, 0.2, OptionType.CALL) == 20.0


def test_option_greeks_reference_values():
    # F = K = 100, one year, 20 %: d1 = 0.1, N(d1) = 0.539828, n(d1) = 0.396953
    call = option_greeks(100.0, 100.0, 1.0, 0.2, OptionType.CALL)
    put = option_greeks(100.0, 100.0, 1.0, 0.2, OptionType.PUT)
    assert (round(call.price, 6), round(call.delta, 6), round(put.delta, 6)) == (
        0.079656,
        0.539828,
        -0.460172,
    )
    assert (round(call.gamma, 7), round(call.vega, 6), round(call.theta, 7)) == (
        0.0198476,
        0.396953,
        -0.0108754,
    )
    assert (put.gamma, put.vega, put.theta) == (call.gamma, call.vega, call.theta)
