"""Option pricing of the generated market: undiscounted Black-76 price and greeks on a forward."""

from __future__ import annotations

import math
from dataclasses import dataclass

from exchanges.venues.base import OptionType


def _norm_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def black_scholes(
    forward: float, strike: float, years: float, vol: float, option_type: OptionType
) -> float:
    """Undiscounted Black-76 price of an option on `forward`, in quote currency."""
    if years <= 0 or vol <= 0:
        intrinsic = forward - strike if option_type is OptionType.CALL else strike - forward
        return max(intrinsic, 0.0)
    sd = vol * math.sqrt(years)
    d1 = (math.log(forward / strike) + 0.5 * sd * sd) / sd
    d2 = d1 - sd
    if option_type is OptionType.CALL:
        return forward * _norm_cdf(d1) - strike * _norm_cdf(d2)
    return strike * _norm_cdf(-d2) - forward * _norm_cdf(-d1)


def _norm_pdf(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


@dataclass(frozen=True, slots=True)
class OptionGreeks:
    """An option's figures under the generator's model (Black-76 on the venue forward,
    undiscounted), floats like the model: `forward` in USD, `mark_iv` annualized (0.6 is 60 %),
    `price` in the base coin, `delta` per unit of the underlying, `gamma` per USD, `vega` in USD
    per volatility point, `theta` in USD per day (the units Deribit's ticker `greeks` use)."""

    forward: float
    years: float
    mark_iv: float
    price: float
    delta: float
    gamma: float
    vega: float
    theta: float


def option_greeks(
    forward: float, strike: float, years: float, vol: float, option_type: OptionType
) -> OptionGreeks:
    """Black-76 price and greeks of an option on `forward` (years and vol above zero)."""
    root = math.sqrt(years)
    d1 = (math.log(forward / strike) + 0.5 * vol * vol * years) / (vol * root)
    pdf = _norm_pdf(d1)
    call = option_type is OptionType.CALL
    return OptionGreeks(
        forward=forward,
        years=years,
        mark_iv=vol,
        price=black_scholes(forward, strike, years, vol, option_type) / forward,
        delta=_norm_cdf(d1) if call else _norm_cdf(d1) - 1.0,
        gamma=pdf / (forward * vol * root),
        vega=forward * pdf * root / 100,
        theta=-forward * pdf * vol / (2 * root) / 365,
    )
