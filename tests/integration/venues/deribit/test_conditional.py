"""Deribit trigger orders, adapter against the simulator's Deribit face over real sockets: a stop
loss and a take profit on a long position, the price moved with the simulator, untriggered ->
new -> filled on the private stream (the order the trigger placed reported under the trigger
order's id and our label), fills with the label, the position closed; cancel of an untriggered
order, cancel_all and open_orders covering them; a trigger already reached refused."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal as D

import pytest

from exchanges.simulator.server import SimulatorThread
from exchanges.venues.base import (
    Endpoints,
    FillEvent,
    InvalidOrder,
    OrderRequest,
    OrderStatus,
    OrderType,
    OrderUpdate,
    PositionUpdate,
    Side,
    StreamState,
    StreamStatus,
    TimeInForce,
    TriggerPrice,
    Venue,
)
from exchanges.venues.deribit import ADAPTER
from exchanges.venues.ws import Backoff

V = Venue.DERIBIT
PERP = "BTC-PERPETUAL"
UNIFIED = "BTC/USD:BTC"
FAST = Backoff(initial=0.1, maximum=0.5)


@pytest.fixture
def sim():
    thread = SimulatorThread(venues=[V], seed=1, step_interval=0.02)
    thread.start()
    try:
        yield thread
    finally:
        thread.stop()


@pytest.fixture
def endpoints(sim) -> Endpoints:
    urls = sim.urls[V]
    return Endpoints(urls["rest"], urls["ws_public"], urls["ws_private"])


@pytest.fixture
def rest(sim, endpoints):
    client = ADAPTER.rest_client(endpoints, sim.credentials[V])
    client.sync_clock()
    yield client
    client.close()


async def collect_until(iterator, done, seconds=15.0):
    """Events until `done(events)` is true; fails after `seconds`."""
    events = []
    deadline = time.monotonic() + seconds
    while not done(events):
        left = max(0.01, deadline - time.monotonic())
        events.append(await asyncio.wait_for(iterator.__anext__(), left))
    return events


def updates_of(events, label):
    return [e for e in events if isinstance(e, OrderUpdate) and e.client_order_id == label]


def trigger(label, side, order_type, trigger_price, price=None) -> OrderRequest:
    return OrderRequest(
        UNIFIED,
        PERP,
        label,
        side,
        order_type,
        D(100),
        price,
        reduce_only=True,
        trigger_price=trigger_price,
        trigger_by=TriggerPrice.MARK,
    )


def at(mark: D, factor: str) -> D:
    return (mark * D(factor)).quantize(D("1"))


def move(sim, pct: str) -> None:
    sim.call(sim.engine.market.move, "BTC", V, D(pct))
    sim.call(sim.engine.step, 0)


async def subscribed_stream(sim, endpoints):
    stream = ADAPTER.private_stream(endpoints, sim.credentials[V], backoff=FAST)
    events = stream.events().__aiter__()
    await collect_until(
        events,
        lambda evs: any(
            isinstance(e, StreamStatus) and e.state is StreamState.SUBSCRIBED for e in evs
        ),
    )
    return stream, events


async def open_long(rest, events) -> None:
    await asyncio.to_thread(
        rest.place_order,
        OrderRequest(
            UNIFIED,
            PERP,
            "it-long",
            Side.BUY,
            OrderType.MARKET,
            D(100),
            time_in_force=TimeInForce.IOC,
        ),
    )
    await collect_until(
        events,
        lambda evs: any(isinstance(e, PositionUpdate) and e.quantity == D(100) for e in evs),
    )


async def test_stop_loss_fires_on_a_fall_and_closes_the_position(sim, endpoints, rest):
    stream, events = await subscribed_stream(sim, endpoints)
    try:
        await open_long(rest, events)
        mark = (await asyncio.to_thread(rest.ticker, PERP)).mark_price
        stop_at, take_at = at(mark, "0.98"), at(mark, "1.05")
        stop = await asyncio.to_thread(
            rest.place_order, trigger("it-sl", Side.SELL, OrderType.STOP_MARKET, stop_at)
        )
        assert (stop.status, stop.order_type, stop.trigger_price, stop.trigger_by) == (
            OrderStatus.UNTRIGGERED,
            OrderType.STOP_MARKET,
            stop_at,
            TriggerPrice.MARK,
        )
        assert stop.venue_order_id.startswith("SLMS-")
        take = await asyncio.to_thread(
            rest.place_order,
            trigger("it-tp", Side.SELL, OrderType.TAKE_PROFIT_LIMIT, take_at, take_at + 10),
        )
        assert (take.status, take.venue_order_id[:5]) == (OrderStatus.UNTRIGGERED, "TPLS-")
        listed = await asyncio.to_thread(rest.open_orders, PERP)
        assert {(o.client_order_id, o.venue_order_id, o.status) for o in listed} == {
            ("it-sl", stop.venue_order_id, OrderStatus.UNTRIGGERED),
            ("it-tp", take.venue_order_id, OrderStatus.UNTRIGGERED),
        }
        found = await asyncio.to_thread(rest.order_by_client_id, PERP, "it-tp")
        assert (found.venue_order_id, found.trigger_price) == (take.venue_order_id, take_at)

        await asyncio.to_thread(move, sim, "-3")

        def closed(evs):
            flat = any(isinstance(e, PositionUpdate) and e.quantity == 0 for e in evs)
            done = any(u.status is OrderStatus.FILLED for u in updates_of(evs, "it-sl"))
            filled = sum(
                e.quantity for e in evs if isinstance(e, FillEvent) and e.client_order_id == "it-sl"
            )
            return flat and done and filled == D(100)

        seen = await collect_until(events, closed)
        stop_updates = updates_of(seen, "it-sl")
        assert stop_updates[0].status is OrderStatus.UNTRIGGERED
        assert stop_updates[-1].status is OrderStatus.FILLED
        assert {(u.venue_order_id, u.order_type) for u in stop_updates} == {
            (stop.venue_order_id, OrderType.STOP_MARKET)
        }
        fills = [e for e in seen if isinstance(e, FillEvent) and e.client_order_id == "it-sl"]
        assert sum(f.quantity for f in fills) == D(100)
        assert {f.side for f in fills} == {Side.SELL}
        # the take profit, reduce-only, has nothing left to reduce: the venue cancels it
        if not any(u.status is OrderStatus.CANCELED for u in updates_of(seen, "it-tp")):
            await collect_until(
                events,
                lambda evs: any(u.status is OrderStatus.CANCELED for u in updates_of(evs, "it-tp")),
            )
        positions = await asyncio.to_thread(rest.positions)
        assert [p.quantity for p in positions if p.symbol == UNIFIED and p.quantity] == []
    finally:
        await stream.close()


async def test_cancel_cancel_all_and_a_trigger_already_reached(sim, endpoints, rest):
    stream, events = await subscribed_stream(sim, endpoints)
    try:
        await open_long(rest, events)
        mark = (await asyncio.to_thread(rest.ticker, PERP)).mark_price
        with pytest.raises(InvalidOrder) as refused:
            await asyncio.to_thread(
                rest.place_order,
                trigger("it-bad", Side.SELL, OrderType.STOP_MARKET, at(mark, "1.02")),
            )
        assert refused.value.code == "10034"
        assert refused.value.message.startswith("trigger_price_too_high")
        requests_ = [
            trigger("it-c1", Side.SELL, OrderType.STOP_MARKET, at(mark, "0.95")),
            trigger("it-c2", Side.SELL, OrderType.TAKE_PROFIT_MARKET, at(mark, "1.05")),
            trigger("it-c3", Side.SELL, OrderType.STOP_MARKET, at(mark, "0.90")),
        ]
        placed = [await asyncio.to_thread(rest.place_order, r) for r in requests_]
        canceled = await asyncio.to_thread(
            rest.cancel_order,
            PERP,
            client_order_id="it-c1",
            venue_order_id=placed[0].venue_order_id,
            conditional=True,
        )
        assert (canceled.venue_order_id, canceled.status) == (
            placed[0].venue_order_id,
            OrderStatus.CANCELED,
        )
        listed = await asyncio.to_thread(rest.open_orders)
        assert sorted(o.client_order_id for o in listed) == ["it-c2", "it-c3"]
        assert await asyncio.to_thread(rest.cancel_all) == 2
        assert await asyncio.to_thread(rest.open_orders) == []
        await collect_until(
            events,
            lambda evs: all(
                any(u.status is OrderStatus.CANCELED for u in updates_of(evs, label))
                for label in ("it-c1", "it-c2", "it-c3")
            ),
        )
    finally:
        await stream.close()
