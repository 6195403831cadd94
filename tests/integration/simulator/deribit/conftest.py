"""Fixtures of the Deribit face tests: a simulator with only the Deribit face, three accounts
(demo, a second one, the documentation's signing-vector key) and no timed generator, so every
book change in a test comes from the test itself or from an explicit `advance`."""

from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.support.deribit import VENUE, Http, start_simulator


@pytest.fixture
async def deribit() -> AsyncIterator:
    simulator = await start_simulator()
    try:
        yield simulator
    finally:
        await simulator.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as client:
        yield client


@pytest.fixture
def urls(deribit) -> dict[str, str]:
    return deribit.urls[VENUE]


@pytest.fixture
def http(session, urls) -> Http:
    return Http(session, urls["rest"])


@pytest.fixture
def face(deribit):
    return deribit.faces[VENUE]


@pytest.fixture
def faults(deribit):
    return deribit.faults[VENUE]
