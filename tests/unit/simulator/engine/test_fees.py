"""Fees of each venue's base tier and the coin they are paid in (engine/fees.py)."""

from __future__ import annotations

from decimal import Decimal as D

from exchanges.simulator.engine.fees import FeeSchedule
from exchanges.venues.base import Liquidity, Side, Venue
from tests.support.engine import limit, market

OKX = Venue.OKX


DERIBIT = Venue.DERIBIT


BYBIT = Venue.BYBIT


SWAP = "BTC-USDT-SWAP"


SPOT = "BTC-USDT"


def test_okx_inverse_swap_counts_contracts_of_100_usd(engine):
    limit(engine, "alice", Side.SELL, "10", "100000.0", symbol="BTC-USD-SWAP")
    market(engine, "bob", Side.BUY, "10", symbol="BTC-USD-SWAP")
    fill = engine.fills(OKX, "bob")[0]
    assert (fill.fee, fill.fee_currency) == (D("0.000005"), "BTC")  # 1000 USD -> 0.01 BTC
    position = engine.position(OKX, "bob", "BTC-USD-SWAP")
    assert position.quantity == D("10")
    assert position.margin == D("0.001")


def test_deribit_option_fee_is_per_contract_and_capped(engine):
    option = "BTC-25DEC26-100000-C"
    limit(engine, "alice", Side.SELL, "2", "0.05", symbol=option, venue=DERIBIT)
    market(engine, "bob", Side.BUY, "2", symbol=option, venue=DERIBIT)
    assert engine.fills(DERIBIT, "bob")[0].fee == D("0.0006")  # 0.0003 x 2
    btc = {b.currency: b for b in engine.balances(DERIBIT, "bob")}["BTC"]
    assert btc.total == D("9.8994")  # premium 0.1 + fee

    limit(engine, "alice", Side.SELL, "1", "0.0005", symbol=option, venue=DERIBIT)
    market(engine, "bob", Side.BUY, "1", symbol=option, venue=DERIBIT)
    assert engine.fills(DERIBIT, "bob")[1].fee == D("0.0000625")  # 12.5% of 0.0005


def test_spot_fee_is_paid_in_the_coin_received(engine):
    """OKX and Bybit: a buy pays its fee in the base coin, a sell in the quote coin."""
    limit(engine, "alice", Side.SELL, "0.5", "100000.0", symbol=SPOT)
    market(engine, "bob", Side.BUY, "0.5", symbol=SPOT)
    [fill] = engine.fills(OKX, "bob")
    assert (fill.fee, fill.fee_currency) == (D("0.0005"), "BTC")  # 0.1% of 0.5 BTC
    [order] = engine.orders(OKX, "bob")
    assert (order.fee_paid, order.fee_currency) == (D("0.0005"), "BTC")
    wallet = {b.currency: b for b in engine.balances(OKX, "bob")}
    assert wallet["BTC"].total == D("10.4995")
    assert wallet["USDT"].total == D("950000")
    assert engine.positions(OKX, "bob") == []
    [maker_fill] = engine.fills(OKX, "alice")
    assert (maker_fill.fee, maker_fill.fee_currency) == (D("40"), "USDT")  # maker 0.08%
    alice = {b.currency: b for b in engine.balances(OKX, "alice")}
    assert alice["BTC"].total == D("9.5")
    assert alice["USDT"].total == D("1049960")


def test_bybit_spot_sell_pays_quote_and_a_maker_rebate_flips_the_coin(engine):
    bybit_spot = "spot:BTCUSDT"
    limit(engine, "alice", Side.BUY, "0.2", "100000.0", symbol=bybit_spot, venue=BYBIT)
    market(engine, "bob", Side.SELL, "0.2", symbol=bybit_spot, venue=BYBIT)
    [taker] = engine.fills(BYBIT, "bob")
    [maker] = engine.fills(BYBIT, "alice")
    assert (taker.fee, taker.fee_currency) == (D("20"), "USDT")  # 0.1% of 20000
    assert (maker.fee, maker.fee_currency) == (D("0.0002"), "BTC")  # 0.1% of 0.2 BTC
    bob = {b.currency: b.total for b in engine.balances(BYBIT, "bob")}
    assert (bob["BTC"], bob["USDT"]) == (D("9.8"), D("1019980"))
    alice = {b.currency: b.total for b in engine.balances(BYBIT, "alice")}
    assert (alice["BTC"], alice["USDT"]) == (D("10.1998"), D("980000"))

    engine.fees[(BYBIT, bybit_spot)] = FeeSchedule(D("-0.0001"), D("0.001"))
    assert engine.fee_currency(BYBIT, bybit_spot, Side.BUY, Liquidity.MAKER) == "USDT"
    assert engine.fee_currency(BYBIT, bybit_spot, Side.SELL, Liquidity.MAKER) == "BTC"
    assert engine.fee_currency(BYBIT, bybit_spot, Side.BUY) == "BTC"
    limit(engine, "alice", Side.BUY, "0.1", "100000.0", symbol=bybit_spot, venue=BYBIT)
    market(engine, "bob", Side.SELL, "0.1", symbol=bybit_spot, venue=BYBIT)
    rebate = engine.fills(BYBIT, "alice")[1]
    assert (rebate.fee, rebate.fee_currency) == (D("-1"), "USDT")  # -0.01% of 10000
    alice = {b.currency: b.total for b in engine.balances(BYBIT, "alice")}
    assert (alice["BTC"], alice["USDT"]) == (D("10.2998"), D("970001"))


def test_fee_currency_of_derivatives_is_the_settlement_coin(engine):
    assert engine.fee_currency(OKX, SWAP, Side.BUY) == "USDT"
    assert engine.fee_currency(OKX, "BTC-USD-SWAP", Side.SELL) == "BTC"
    assert engine.fee_currency(OKX, SPOT, Side.SELL) == "USDT"
