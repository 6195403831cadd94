"""ccxt and ccxt.pro, unmodified, pointed at a running simulator: the conformance suite's client.

`ccxt_client(simulator, venue)` gives a `ccxt.pro` exchange (REST and WebSocket in one object)
whose `urls['api']` name the simulator's port on 127.0.0.1 instead of the venue's host; nothing
else is changed, so what works here works as ccxt ships. Every call goes through `bounded`, so a
step that hangs fails with its name instead of stalling the suite.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any, TypeVar

import ccxt.pro

from exchanges.simulator.server import Simulator
from exchanges.venues.base import Venue

STEP_TIMEOUT = 10.0
BYBIT_PUBLIC_CATEGORIES = ("spot", "linear", "inverse", "option")
BYBIT_REST_KEYS = ("spot", "futures", "v2", "public", "private")

T = TypeVar("T")


def api_urls(venue: Venue, port: int) -> dict[str, Any]:
    """ccxt's `urls['api']` for `venue` with only scheme, host and port swapped."""
    http = f"http://127.0.0.1:{port}"
    ws = f"ws://127.0.0.1:{port}"
    if venue is Venue.DERIBIT:
        return {"rest": http, "ws": f"{ws}/ws/api/v2"}
    if venue is Venue.OKX:
        return {"rest": http, "ws": f"{ws}/ws/v5"}
    private = f"{ws}/v5/private"
    return {
        **{key: http for key in BYBIT_REST_KEYS},
        "ws": {
            "public": {c: f"{ws}/v5/public/{c}" for c in BYBIT_PUBLIC_CATEGORIES},
            "private": {
                "spot": {"unified": private, "nonUnified": private},
                "contract": private,
                "usdc": private,
                "trade": f"{ws}/v5/trade",
            },
        },
    }


@asynccontextmanager
async def ccxt_client(simulator: Simulator, venue: Venue) -> AsyncIterator[Any]:
    """A `ccxt.pro` exchange for `venue` on `simulator`, with the demo account's keys."""
    credentials = simulator.credentials[venue]
    exchange = getattr(ccxt.pro, venue.value)(
        {
            "apiKey": credentials.api_key,
            "secret": credentials.secret,
            "password": credentials.passphrase,
            "timeout": int(STEP_TIMEOUT * 1000),
        }
    )
    exchange.urls["api"] = api_urls(venue, simulator.ports[venue])
    try:
        yield exchange
    finally:
        await exchange.close()


async def bounded(step: Awaitable[T], timeout: float = STEP_TIMEOUT) -> T:
    """`step`, failing after `timeout` seconds."""
    return await asyncio.wait_for(step, timeout)


def on_step(value: float | str | None, step: float | str | None) -> bool:
    """Whether `value` is a whole multiple of `step` (a price on the tick, an amount on the lot)."""
    if value is None or step is None:
        return False
    return Decimal(str(value)) % Decimal(str(step)) == 0


def levels_on_grid(levels: list[list[float]], tick: float, lot: float) -> bool:
    """Every order-book level's price is on the tick and its amount on the lot."""
    return all(on_step(level[0], tick) and on_step(level[1], lot) for level in levels)


def sorted_book(book: dict) -> bool:
    """Bids best (highest) first, asks best (lowest) first, the book not crossed."""
    bids = [level[0] for level in book["bids"]]
    asks = [level[0] for level in book["asks"]]
    return (
        bool(bids and asks)
        and bids == sorted(bids, reverse=True)
        and asks == sorted(asks)
        and bids[0] < asks[0]
    )
