"""Helpers for OKX tests against the simulator's OKX face (real sockets on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
import requests

from exchanges.venues.base import Endpoints, Event, Venue
from exchanges.venues.okx.rest import OkxRestClient


def endpoints_of(sim) -> Endpoints:
    urls = sim.urls[Venue.OKX]
    return Endpoints(urls["rest"], urls["ws_public"], urls["ws_private"])


def control(sim, path: str, body: dict | None = None) -> dict:
    """POST to the simulator's `/_sim/...` control routes of the OKX port."""
    response = requests.post(
        f"{sim.urls[Venue.OKX]['rest']}/_sim/{path}", json=body or {}, timeout=5
    )
    response.raise_for_status()
    return response.json() if response.content else {}


@pytest.fixture
def okx_sim(sim):
    if Venue.OKX not in sim.venues:
        pytest.skip("the simulator has no OKX face")
    return sim


@pytest.fixture
def okx_rest(okx_sim):
    client = OkxRestClient(endpoints_of(okx_sim), okx_sim.credentials[Venue.OKX])
    yield client
    client.close()


async def collect(stream, until: Callable[[list[Event]], bool], timeout: float) -> list[Event]:
    """Events of `stream` until `until(events)` holds; fails after `timeout` seconds."""
    events: list[Event] = []

    async def run() -> None:
        async for event in stream.events():
            events.append(event)
            if until(events):
                return

    try:
        await asyncio.wait_for(run(), timeout)
    except TimeoutError:
        kinds = [type(e).__name__ + ":" + str(getattr(e, "state", "")) for e in events[-30:]]
        raise AssertionError(f"condition not met in {timeout}s; last events: {kinds}") from None
    return events


async def drain(stream, seconds: float) -> list[Event]:
    """Whatever `stream` emits during the next `seconds`."""
    events: list[Event] = []

    async def run() -> None:
        async for event in stream.events():
            events.append(event)

    try:
        await asyncio.wait_for(run(), seconds)
    except TimeoutError:
        pass
    return events


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)
