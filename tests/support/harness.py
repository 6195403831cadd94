"""The one harness of the simulator's face tests: start a single face, read its WebSockets, wait
on conditions.

- `start_face` / `running_face`: a `Simulator` with one face on a free port, the timed
  generator paused (a test steps the market with `advance`), after `warm_up` simulated seconds.
- `receive`: the next text frame, decoded; a frame of another kind (the socket ended) raises
  `ConnectionError` naming it.
- `first`: the first message that matches, within a timeout; `collect`: every message until
  the stream goes quiet; `eventually`: poll a condition until it holds.
- `expect_close`: read until the socket ends and check how (close code, or a dropped TCP
  connection, which a client reports as 1006).

Nothing here waits a fixed time for an answer: every wait ends on its condition or fails with
what was seen.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import orjson

from exchanges.simulator.engine.core import Engine
from exchanges.simulator.server import Simulator
from exchanges.venues.base import Credentials, Venue

TIMEOUT = 5.0
GRACE_S = 0.05  # `collect`'s second look after a quiet timeout
DROPPED = 1006  # what a client reports for a connection that ended without a close frame

Decode = Callable[[str], Any]
Receive = Callable[[float], Awaitable[Any]]


async def start_face(
    venue: Venue,
    *,
    seed: int = 1,
    options: dict | None = None,
    faults: dict | None = None,
    accounts: list[tuple[Venue, Credentials]] | None = None,
    engine: Engine | None = None,
    warm_up: float = 0.0,
) -> Simulator:
    """A simulator serving only `venue`, generator paused, after `warm_up` simulated seconds."""
    simulator = Simulator(
        engine=engine,
        venues=[venue],
        seed=seed,
        step_interval=0.02,
        accounts=accounts,
        face_options={venue: options or {}},
        faults={venue: faults or {}},
        run_generator=False,
    )
    await simulator.start()
    if warm_up:
        simulator.advance(warm_up)
    return simulator


@asynccontextmanager
async def running_face(venue: Venue, **kwargs: Any) -> AsyncIterator[Simulator]:
    """`start_face` for the length of a `with` block."""
    simulator = await start_face(venue, **kwargs)
    try:
        yield simulator
    finally:
        await simulator.stop()


def decode_json(text: str) -> Any:
    return orjson.loads(text)


async def receive(
    ws: aiohttp.ClientWebSocketResponse, timeout: float = 3.0, decode: Decode = decode_json
) -> Any:
    """The next text frame of `ws`, decoded."""
    message = await asyncio.wait_for(ws.receive(), timeout)
    if message.type is not aiohttp.WSMsgType.TEXT:
        raise ConnectionError(f"WebSocket ended: {message.type} {message.data!r}")
    return decode(message.data)


async def first(
    next_message: Receive,
    predicate: Callable[[Any], bool],
    timeout: float = TIMEOUT,
    seen: list | None = None,
) -> Any:
    """The first message from `next_message(timeout_left)` that satisfies `predicate`; every
    message read goes to `seen`. Raises TimeoutError when none comes in `timeout`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        left = deadline - loop.time()
        if left <= 0:
            raise TimeoutError("no matching message before the timeout")
        message = await next_message(left)
        if seen is not None:
            seen.append(message)
        if predicate(message):
            return message


async def collect(
    next_message: Receive,
    *,
    quiet: float = 0.35,
    limit: float = TIMEOUT,
    wanted: Callable[[Any], bool] | None = None,
) -> list:
    """Every message (that is `wanted`) until none has arrived for `quiet` seconds, bounded by
    `limit`.

    When the whole process stalls (a loaded machine), the quiet timeout and the face's flush
    come due in the same loop turn and the timeout wins; one short second look (`GRACE_S`)
    collects what that flush sent instead of ending before it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    messages: list = []
    accept = wanted or (lambda _message: True)
    while loop.time() < deadline:
        try:
            messages.append(await first(next_message, accept, quiet))
        except TimeoutError:
            try:
                messages.append(await first(next_message, accept, GRACE_S))
            except TimeoutError:
                return messages
    raise AssertionError("the stream did not go quiet")


async def eventually(
    check: Callable[[], Any], timeout: float = TIMEOUT, interval: float = 0.01
) -> Any:
    """Poll `check` (sync or async) until it returns something truthy; that value."""
    async with asyncio.timeout(timeout):
        while True:
            value = check()
            if asyncio.iscoroutine(value):
                value = await value
            if value:
                return value
            await asyncio.sleep(interval)


async def expect_close(
    ws: aiohttp.ClientWebSocketResponse, code: int, timeout: float = 3.0
) -> list[aiohttp.WSMessage]:
    """Read `ws` until it ends; assert it ended with `code` (the close frame's code, or
    `DROPPED` for an aborted TCP connection) and return the text frames that came before."""
    before: list[aiohttp.WSMessage] = []
    async with asyncio.timeout(timeout):
        while True:
            message = await ws.receive()
            if message.type is aiohttp.WSMsgType.TEXT:
                before.append(message)
                continue
            break
    assert message.type in (
        aiohttp.WSMsgType.CLOSE,
        aiohttp.WSMsgType.CLOSING,
        aiohttp.WSMsgType.CLOSED,
        aiohttp.WSMsgType.ERROR,
    ), message
    # a close frame carries its code; a socket that ended without one reports it on `ws`
    ended = message.data if message.type is aiohttp.WSMsgType.CLOSE else ws.close_code
    assert ended == code, (ended, message)
    return before
