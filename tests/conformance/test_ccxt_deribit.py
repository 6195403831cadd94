"""ccxt 4.5 / ccxt.pro against the simulated Deribit, unmodified: markets, books, orders, fills,
positions and the WebSocket watchers. ccxt's Deribit has no `watch_positions`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from exchanges.simulator.server import Simulator
from exchanges.venues.base import Venue
from tests.conformance import scenarios as s
from tests.support.ccxt import ccxt_client

VENUE = Venue.DERIBIT

PERPETUAL = s.Market(
    symbol="BTC/USD:BTC",
    id="BTC-PERPETUAL",
    type="swap",
    tick=0.5,
    lot=10.0,
    min_amount=10.0,
    contract_size=10.0,
    extra={"linear": False, "inverse": True, "settle": "BTC"},
)
ETH_PERPETUAL = s.Market(
    symbol="ETH/USD:ETH",
    id="ETH-PERPETUAL",
    type="swap",
    tick=0.05,
    lot=1.0,
    min_amount=1.0,
    contract_size=1.0,
)
FUTURE = s.Market(
    symbol="BTC/USD:BTC-261225",
    id="BTC-25DEC26",
    type="future",
    tick=2.5,
    lot=10.0,
    min_amount=10.0,
    contract_size=10.0,
)
OPTION = s.Market(
    symbol="BTC/USD:BTC-261225-100000-C",
    id="BTC-25DEC26-100000-C",
    type="option",
    tick=0.0005,
    lot=0.1,
    min_amount=0.1,
    contract_size=1.0,
    extra={"strike": 100000.0, "optionType": "call"},
)


@pytest.fixture
async def deribit(conformance_sim: Simulator) -> AsyncIterator[Any]:
    async with ccxt_client(conformance_sim, VENUE) as exchange:
        yield exchange


async def test_load_markets_and_currencies(deribit: Any) -> None:
    await s.check_markets(deribit, [PERPETUAL, ETH_PERPETUAL, FUTURE, OPTION])
    await s.check_currencies(deribit, {"BTC", "ETH", "USDC"})


async def test_public_rest(deribit: Any) -> None:
    await s.check_public_rest(deribit, PERPETUAL)


async def test_balance(deribit: Any) -> None:
    await s.check_balance(deribit, {"BTC": 10.0, "ETH": 100.0, "USDC": 100000.0})


async def test_order_lifecycle(deribit: Any) -> None:
    await s.check_order_lifecycle(deribit, PERPETUAL, amount=20.0)


async def test_market_order_trades_and_position(deribit: Any) -> None:
    await s.check_market_order_and_trades(deribit, PERPETUAL, amount=30.0)
    await s.check_position(deribit, PERPETUAL, contracts=30.0)


async def test_cancel_all(deribit: Any) -> None:
    await s.check_cancel_all(deribit, PERPETUAL, amount=10.0)


async def test_watch_public(deribit: Any) -> None:
    await s.check_watch_public(deribit, PERPETUAL)


async def test_watch_private(deribit: Any) -> None:
    await s.check_watch_private(
        deribit, PERPETUAL, amount=10.0, balance_total=_portfolio_equity, positions=False
    )


def _portfolio_equity(balance: dict) -> float:
    """ccxt.pro's Deribit files the parsed `user.portfolio.btc` push under the currency code
    whole (`balance["BTC"]["BTC"]`), as it does against the live venue; read the push itself."""
    assert balance["info"]["currency"] == "BTC"
    return balance["info"]["equity"]


async def test_stop_order(deribit: Any) -> None:
    await s.check_stop_order(
        deribit, PERPETUAL, amount=10, edit=("market", lambda trigger: {"trigger_price": trigger})
    )
