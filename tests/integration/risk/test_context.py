"""`risk.context`: what the pre-trade checks are given, read from the database and the cache:
limits in each scope's units, open orders counted in each limit's scope, the reference price,
the position, the free balance and the kill switch."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.cache import cache

from exchanges.venues.base import OrderType, Side
from marketdata.feed import latest_key, ticker_channel
from risk.checks import Proposed
from risk.context import check_order, exposure_for, limits_of, reference_price
from tests.factories import (
    BalanceFactory,
    ExchangeAccountFactory,
    InstrumentFactory,
    KillSwitchFactory,
    OrderFactory,
    PositionFactory,
    RiskLimitFactory,
)

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def setup():
    cache.clear()
    account = ExchangeAccountFactory(exchange__venue="okx")
    instrument = InstrumentFactory(
        exchange=account.exchange,
        symbol="BTC/USDT:USDT",
        venue_symbol="BTC-USDT-SWAP",
        quote="USDT",
        settle="USDT",
        linear=True,
        contract_size=D("0.01"),
        tick_size=D("0.1"),
        lot_size=D("0.01"),
        min_size=D("0.01"),
    )
    yield account, instrument
    cache.clear()


def proposed(instrument, quantity="1", price="60000", side=Side.BUY):
    return Proposed(
        info=instrument.info(),
        side=side,
        order_type=OrderType.LIMIT,
        quantity=D(quantity),
        price=D(price),
    )


def test_limits_take_the_units_of_their_scope(setup):
    _, instrument = setup
    per_instrument = RiskLimitFactory(
        instrument=instrument, max_position=D(5), max_order_quantity=D(2)
    )
    global_limit = RiskLimitFactory(max_position=D(100000), max_order_quantity=D(2))
    assert limits_of(per_instrument).max_position_quantity == D(5)
    assert limits_of(per_instrument).max_position_notional is None
    assert limits_of(per_instrument).max_order_quantity == D(2)
    assert limits_of(global_limit).max_position_notional == D(100000)
    assert limits_of(global_limit).max_position_quantity is None
    assert limits_of(global_limit).max_order_quantity is None  # not comparable across instruments


def test_the_reference_price_is_the_live_mark_then_last_then_mid_then_the_position(setup):
    account, instrument = setup
    key = latest_key(ticker_channel("okx", "BTC/USDT:USDT"))
    assert reference_price(instrument) is None
    position = PositionFactory(account=account, instrument=instrument, mark_price=D("59000"))
    assert reference_price(instrument, position) == D("59000")
    cache.set(
        key, {"best_bid": "60000", "best_ask": "60001", "last_price": None, "mark_price": None}
    )
    assert reference_price(instrument) == D("60000.5")
    cache.set(key, {"best_bid": "60000", "best_ask": "60001", "last_price": "60002.5"})
    assert reference_price(instrument) == D("60002.5")
    cache.set(key, {"mark_price": "60003.1", "last_price": "60002.5"})
    assert reference_price(instrument) == D("60003.1")


def test_exposure_reads_position_balance_open_orders_and_the_switch(setup):
    account, instrument = setup
    PositionFactory(account=account, instrument=instrument, quantity=D("-3"), leverage=D(10))
    BalanceFactory(account=account, currency="USDT", available=D("1234.5"))
    OrderFactory(account=account, instrument=instrument, quantity=D(1), price=D(60000))
    OrderFactory(
        account=account, instrument=instrument, quantity=D(1), price=D(60000), status="canceled"
    )
    exposure = exposure_for(account, instrument, Side.BUY)
    assert (exposure.position, exposure.available, exposure.open_orders) == (D(-3), D("1234.5"), 1)
    assert (exposure.leverage, exposure.kill_switch) == (D(10), False)
    KillSwitchFactory(account=None, engaged=True)
    assert exposure_for(account, instrument, Side.BUY).kill_switch is True


def test_open_orders_are_counted_in_each_limits_scope(setup):
    account, instrument = setup
    other = ExchangeAccountFactory(exchange=account.exchange)
    for owner in (account, other, other):
        OrderFactory(account=owner, instrument=instrument, quantity=D(1), price=D(60000))
    cache.set(latest_key(ticker_channel("okx", "BTC/USDT:USDT")), {"mark_price": "60000"})
    RiskLimitFactory(account=account, max_open_orders=2, price_band_pct=None)
    assert check_order(account, instrument, proposed(instrument)).rejection is None
    RiskLimitFactory(name="gateway-wide", max_open_orders=3, price_band_pct=None)
    checked = check_order(account, instrument, proposed(instrument))
    assert checked.rejection.code == "open_orders"
    assert checked.rejection.reason == "3 orders are open already, the limit is 3"
    assert checked.limit.name == "gateway-wide"


def test_the_collar_needs_a_mark_and_refuses_without_one(setup):
    account, instrument = setup
    RiskLimitFactory(price_band_pct=D(5), max_order_notional=None, max_open_orders=None)
    checked = check_order(account, instrument, proposed(instrument))
    assert checked.rejection.code == "no_price"
    cache.set(latest_key(ticker_channel("okx", "BTC/USDT:USDT")), {"mark_price": "50000"})
    checked = check_order(account, instrument, proposed(instrument))
    assert checked.rejection.code == "price_collar"
    assert (
        checked.rejection.reason == "price 60000 is 20.00% from the mark 50000, beyond the 5% band"
    )


def test_the_daily_loss_counts_unrealized_and_what_was_realized_today(setup):
    from datetime import timedelta

    from django.utils import timezone

    from portfolio.models import LedgerEntry

    account, instrument = setup
    PositionFactory(account=account, instrument=instrument, quantity=D(1), unrealized_pnl=D(-450))
    RiskLimitFactory(max_daily_loss=D(500), max_order_notional=None, price_band_pct=None)
    entry = {"account": account, "instrument": instrument, "currency": "USDT"}
    LedgerEntry.objects.create(
        kind="funding",
        execution_id="yesterday",
        amount=D(-300),
        realized=D(-300),
        executed_at=timezone.now() - timedelta(days=2),
        **entry,
    )
    assert check_order(account, instrument, proposed(instrument)).rejection is None
    LedgerEntry.objects.create(
        kind="funding",
        execution_id="today",
        amount=D(-60),
        realized=D(-60),
        executed_at=timezone.now(),
        **entry,
    )
    checked = check_order(account, instrument, proposed(instrument))
    assert checked.rejection.code == "daily_loss"
    assert checked.rejection.reason == "today's loss 510 USD has reached the limit of 500 USD"
    reducing = proposed(instrument, side=Side.SELL)
    assert check_order(account, instrument, reducing).rejection is None
