"""The `freeze_books` fault on every face, seen through the venues' own adapters over real
sockets: while it is set no book message arrives (not even the snapshot of a new
subscription), while tickers go on; cleared, the book feed resumes."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from exchanges.venues.base import BookDelta, BookSnapshot, Endpoints, Ticker, Venue
from exchanges.venues.registry import get_adapter
from exchanges.venues.ws import Backoff

FAST = Backoff(initial=0.05, maximum=0.5)
PAIRS = {  # a book watched from the start, and one subscribed while frozen
    Venue.DERIBIT: ("BTC/USD:BTC", "ETH/USD:ETH"),
    Venue.OKX: ("BTC/USDT:USDT", "ETH/USDT:USDT"),
    Venue.BYBIT: ("BTC/USDT:USDT", "ETH/USDT:USDT"),
}


async def read_until(events, done, timeout: float = 15.0) -> list:
    seen: list = []

    async def run() -> None:
        async for event in events:
            seen.append(event)
            if done(seen):
                return

    try:
        await asyncio.wait_for(run(), timeout)
    except TimeoutError:
        pytest.fail(f"condition not met; last events {[type(e).__name__ for e in seen][-20:]}")
    return seen


def is_book(event) -> bool:
    return isinstance(event, BookSnapshot | BookDelta)


@pytest.mark.parametrize("venue", list(PAIRS))
async def test_frozen_books_send_nothing_while_tickers_go_on(sim_module, venue):
    urls = sim_module.urls[venue]
    endpoints = Endpoints(urls["rest"], urls["ws_public"], urls["ws_private"])
    adapter = get_adapter(venue)
    rest = adapter.rest_client(endpoints)
    await asyncio.to_thread(rest.instruments)
    options = {"rest": rest} if venue is Venue.OKX else {"symbols": rest.symbols}
    stream = adapter.public_stream(endpoints, backoff=FAST, **options)
    watched, late = PAIRS[venue]
    events = stream.events()
    try:
        await stream.subscribe([rest.symbols.venue(watched)])
        await read_until(
            events, lambda seen: any(isinstance(e, BookDelta) for e in seen if e.symbol == watched)
        )
        async with aiohttp.ClientSession() as http:  # the control endpoint, as operators set it
            async with http.post(urls["rest"] + "/_sim/faults", json={"freeze_books": True}) as r:
                assert r.status == 200 and (await r.json())["freeze_books"] is True
        await stream.subscribe([rest.symbols.venue(late)])

        # every event after the late instrument's first ticker was sent after the freeze
        def tickers_after_marker(seen) -> bool:
            marks = [i for i, e in enumerate(seen) if isinstance(e, Ticker) and e.symbol == late]
            if not marks:
                return False
            return sum(isinstance(e, Ticker) for e in seen[marks[0] + 1 :]) >= 3

        frozen = await read_until(events, tickers_after_marker)
        marker = next(i for i, e in enumerate(frozen) if isinstance(e, Ticker) and e.symbol == late)
        assert [e for e in frozen[marker:] if is_book(e)] == []
        assert [e for e in frozen if is_book(e) and e.symbol == late] == []

        sim_module.call(sim_module.faults[venue].update, freeze_books=False)
        resumed = await read_until(
            events, lambda seen: any(is_book(e) and e.symbol == watched for e in seen)
        )
        assert any(is_book(e) for e in resumed)
    finally:
        sim_module.call(sim_module.faults[venue].update, freeze_books=False)
        await stream.close()
        rest.close()
