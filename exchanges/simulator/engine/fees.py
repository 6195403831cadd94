"""Fee rates and fee arithmetic of each venue's base tier (fee pages of Deribit, OKX and Bybit,
VIP 0), and the unit one order quantity stands for.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from exchanges.simulator.engine.records import ONE, ZERO
from exchanges.venues.base import InstrumentInfo, InstrumentKind, Liquidity, Side, Venue

FEE_QUANTUM = Decimal("0.00000001")


# Deribit option fee: 0.0003 BTC per contract, capped at 12.5% of the option price
# (Deribit "Fees" page).
OPTION_FEE_PER_CONTRACT = Decimal("0.0003")


OPTION_FEE_CAP = Decimal("0.125")


# Venues whose spot fills pay the fee in the coin received (a buy in the base coin, a sell in
# the quote coin; the other way round at a negative maker rate): OKX "Get transaction details"
# (feeCcy BTC on a BTC-USDT buy), Bybit "Enums Definitions: Spot Fee Currency Instruction".
# Other venues pay spot fees in the quote coin (Deribit lists no spot instrument here).
SPOT_FEE_IN_RECEIVED_COIN = frozenset({Venue.OKX, Venue.BYBIT})


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    maker: Decimal
    taker: Decimal


def default_fee(info: InstrumentInfo) -> FeeSchedule:
    """Base-tier fee rates of each venue (fee pages of Deribit, OKX and Bybit, VIP 0)."""
    if info.venue is Venue.DERIBIT:
        return FeeSchedule(ZERO, Decimal("0.0005"))  # options use OPTION_FEE_* instead
    if info.venue is Venue.OKX:
        if info.kind is InstrumentKind.SPOT:
            return FeeSchedule(Decimal("0.0008"), Decimal("0.001"))
        return FeeSchedule(Decimal("0.0002"), Decimal("0.0005"))
    if info.kind is InstrumentKind.SPOT:
        return FeeSchedule(Decimal("0.001"), Decimal("0.001"))
    return FeeSchedule(Decimal("0.0002"), Decimal("0.00055"))


def quantity_unit(info: InstrumentInfo) -> Decimal:
    """How much of the contract currency one unit of order quantity is.

    Deribit's `amount` is already in USD (perpetuals, futures) or BTC (options); OKX swaps count
    contracts of `ctVal`; Bybit's contract size is 1.
    """
    return ONE if info.venue is Venue.DERIBIT else info.contract_size


class EngineFees:
    """The `Engine`'s fee calculation: which coin a fill pays its fee in, and how much."""

    def fee_currency(
        self, venue: Venue, symbol: str, side: Side, liquidity: Liquidity = Liquidity.TAKER
    ) -> str:
        """The coin a fill of `side` in `symbol` pays its fee in (`SPOT_FEE_IN_RECEIVED_COIN`
        for spot, the settlement coin otherwise), also for an order that has no fill yet."""
        info = self.instrument(venue, symbol)
        if info.kind is not InstrumentKind.SPOT:
            return info.settle
        schedule = self.fees[(venue, symbol)]
        rate = schedule.maker if liquidity is Liquidity.MAKER else schedule.taker
        return self._spot_fee_currency(info, Side(side), rate)

    @staticmethod
    def _spot_fee_currency(info: InstrumentInfo, side: Side, rate: Decimal) -> str:
        if info.venue not in SPOT_FEE_IN_RECEIVED_COIN:
            return info.quote
        receives_base = (side is Side.BUY) == (rate >= 0)
        return info.base if receives_base else info.quote

    def _fee(
        self,
        info: InstrumentInfo,
        key: tuple[Venue, str],
        side: Side,
        price: Decimal,
        quantity: Decimal,
        liquidity: Liquidity,
    ) -> tuple[Decimal, str]:
        unit = quantity_unit(info)
        if info.kind is InstrumentKind.SPOT:
            rate = self.fees[key].maker if liquidity is Liquidity.MAKER else self.fees[key].taker
            currency = self._spot_fee_currency(info, side, rate)
            amount = quantity if currency == info.base else quantity * price
            return (amount * rate).quantize(FEE_QUANTUM), currency
        if info.kind is InstrumentKind.OPTION and info.venue is Venue.DERIBIT:
            fee = min(
                OPTION_FEE_PER_CONTRACT * quantity * unit, OPTION_FEE_CAP * price * quantity * unit
            )
            return fee.quantize(FEE_QUANTUM), info.settle
        rate = self.fees[key].maker if liquidity is Liquidity.MAKER else self.fees[key].taker
        if info.kind is InstrumentKind.OPTION or info.linear:
            notional = quantity * unit * price
        else:
            notional = quantity * unit / price
        return (notional * rate).quantize(FEE_QUANTUM), info.settle
