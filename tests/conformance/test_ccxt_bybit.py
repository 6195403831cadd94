"""ccxt 4.5 / ccxt.pro against the simulated Bybit (unified trade account), unmodified: markets
with the live venue's ticks and minimum order values, books, orders, fills, positions and the
WebSocket watchers. ccxt reads the account's mode (`/v5/user/query-api`, `/v5/account/info`)
before balances and orders.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from exchanges.simulator.server import Simulator
from exchanges.venues.base import Venue
from tests.conformance import scenarios as s
from tests.support.ccxt import bounded, ccxt_client

VENUE = Venue.BYBIT

LINEAR = s.Market(
    symbol="BTC/USDT:USDT",
    id="BTCUSDT",
    type="swap",
    tick=0.1,
    lot=0.001,
    min_amount=0.001,
    contract_size=1.0,
    min_cost=5.0,
    extra={"linear": True, "inverse": False, "settle": "USDT"},
)
ETH_LINEAR = s.Market(
    symbol="ETH/USDT:USDT",
    id="ETHUSDT",
    type="swap",
    tick=0.01,
    lot=0.01,
    min_amount=0.01,
    contract_size=1.0,
    min_cost=5.0,
)
INVERSE = s.Market(
    symbol="BTC/USD:BTC",
    id="BTCUSD",
    type="swap",
    tick=0.1,
    lot=1.0,
    min_amount=1.0,
    contract_size=1.0,
    extra={"linear": False, "inverse": True},
)
SPOT = s.Market(
    symbol="BTC/USDT",
    id="BTCUSDT",
    type="spot",
    tick=0.1,
    lot=0.000001,
    min_amount=0.000011,
    contract_size=None,
    min_cost=5.0,
)
ETH_SPOT = s.Market(
    symbol="ETH/USDT",
    id="ETHUSDT",
    type="spot",
    tick=0.01,
    lot=0.00001,
    min_amount=0.00029,
    contract_size=None,
    min_cost=5.0,
)


@pytest.fixture
async def bybit(conformance_sim: Simulator) -> AsyncIterator[Any]:
    async with ccxt_client(conformance_sim, VENUE) as exchange:
        # ccxt's Bybit refuses fetch_order (Bybit keeps the last 500 orders there) until the
        # user acknowledges it; a user's setting, not a change to ccxt
        exchange.options["fetchOrder"] = {"acknowledged": True}
        yield exchange


async def test_load_markets_and_currencies(bybit: Any) -> None:
    await s.check_markets(bybit, [LINEAR, ETH_LINEAR, INVERSE, SPOT, ETH_SPOT])
    await s.check_currencies(bybit, {"BTC", "ETH", "USDT", "USDC"})


async def test_account_mode(bybit: Any) -> None:
    assert await bounded(bybit.is_unified_enabled()) == [False, True]
    assert bybit.options["unifiedMarginStatus"] == 5


async def test_public_rest(bybit: Any) -> None:
    await s.check_public_rest(bybit, LINEAR)
    await s.check_public_rest(bybit, SPOT)


async def test_balance(bybit: Any) -> None:
    await s.check_balance(bybit, {"USDT": 1000000.0, "BTC": 10.0, "ETH": 100.0})


async def test_order_lifecycle(bybit: Any) -> None:
    await s.check_order_lifecycle(bybit, LINEAR, amount=0.002)
    await s.check_order_lifecycle(bybit, SPOT, amount=0.0001)


async def test_market_order_trades_and_position(bybit: Any) -> None:
    await s.check_market_order_and_trades(bybit, LINEAR, amount=0.005)
    await s.check_position(bybit, LINEAR, contracts=0.005)
    await s.check_market_order_and_trades(
        bybit, SPOT, amount=0.0001, params={"marketUnit": "baseCoin"}
    )


async def test_cancel_all(bybit: Any) -> None:
    await s.check_cancel_all(bybit, LINEAR, amount=0.001)


async def test_watch_public(bybit: Any) -> None:
    await s.check_watch_public(bybit, LINEAR)
    await s.check_watch_public(bybit, SPOT, ticker_quotes=False)  # Bybit spot tickers: no bid/ask


async def test_watch_private(bybit: Any) -> None:
    await s.check_watch_private(
        bybit, LINEAR, amount=0.001, balance_total=lambda balance: balance["USDT"]["total"]
    )


async def test_stop_order(bybit: Any) -> None:
    await s.check_stop_order(
        bybit, LINEAR, amount=0.001, edit=("market", lambda trigger: {"triggerPrice": trigger})
    )
