"""Bybit conditional orders, adapter against the simulator's Bybit face over real sockets: a stop
loss and a take profit on a position, the price moved with the simulator, UNTRIGGERED -> NEW ->
FILLED on the private stream with fills and the position closed; cancel of an untriggered
order, cancel_all and open_orders covering them; a trigger already reached refused."""

from __future__ import annotations

import asyncio
from decimal import Decimal as D

import pytest

from exchanges.venues.base import (
    FillEvent,
    InvalidOrder,
    OrderRequest,
    OrderStatus,
    OrderType,
    OrderUpdate,
    PositionUpdate,
    Side,
    StreamState,
    TimeInForce,
    TriggerPrice,
    Venue,
)
from tests.integration.venues.bybit.test_stream import (  # noqa: F401
    collect,
    endpoints,
    private_stream,
    rest,
    sim,
    statuses,
)

PERP = "BTC/USDT:USDT"


def conditional(client_id, side, order_type, trigger, price=None, **extra) -> OrderRequest:
    return OrderRequest(
        PERP,
        "BTCUSDT",
        client_id,
        side,
        order_type,
        D("0.010"),
        price,
        reduce_only=True,
        trigger_price=trigger,
        trigger_by=TriggerPrice.MARK,
        **extra,
    )


def mark(client) -> D:
    return client.ticker(PERP).mark_price


def updates_of(events, client_id):
    return [e for e in events if isinstance(e, OrderUpdate) and e.client_order_id == client_id]


def move(simulator, pct: str) -> None:
    simulator.call(simulator.engine.market.move, "BTC", Venue.BYBIT, D(pct))
    simulator.call(simulator.engine.step, 0)


async def open_long(client, events_iter) -> None:
    await asyncio.to_thread(
        client.place_order,
        OrderRequest(
            PERP,
            "BTCUSDT",
            "it-long",
            Side.BUY,
            OrderType.MARKET,
            D("0.010"),
            time_in_force=TimeInForce.IOC,
        ),
    )
    await collect(
        events_iter,
        lambda ev: any(isinstance(e, PositionUpdate) and e.quantity == D("0.010") for e in ev),
    )


async def test_stop_loss_fires_on_a_fall_and_closes_the_position(sim, endpoints, rest):  # noqa: F811
    stream = private_stream(sim, endpoints, rest)
    events_iter = stream.events()
    await collect(events_iter, lambda ev: bool(statuses(ev, StreamState.SUBSCRIBED)))
    await open_long(rest, events_iter)
    now = await asyncio.to_thread(mark, rest)
    stop_at = (now * D("0.98")).quantize(D("1"))
    take_at = (now * D("1.05")).quantize(D("1"))
    stop = await asyncio.to_thread(
        rest.place_order, conditional("it-sl", Side.SELL, OrderType.STOP_MARKET, stop_at)
    )
    assert (stop.status, stop.order_type, stop.trigger_price, stop.trigger_by) == (
        OrderStatus.UNTRIGGERED,
        OrderType.STOP_MARKET,
        stop_at,
        TriggerPrice.MARK,
    )
    take = await asyncio.to_thread(
        rest.place_order,
        conditional("it-tp", Side.SELL, OrderType.TAKE_PROFIT_LIMIT, take_at, take_at + 10),
    )
    assert take.status is OrderStatus.UNTRIGGERED
    events = await collect(events_iter, lambda ev: len(updates_of(ev, "it-tp")) >= 1)
    (pushed,) = updates_of(events, "it-sl")
    assert (pushed.venue_order_id, pushed.order_type, pushed.status, pushed.trigger_price) == (
        stop.venue_order_id,
        OrderType.STOP_MARKET,
        OrderStatus.UNTRIGGERED,
        stop_at,
    )
    listed = await asyncio.to_thread(rest.open_orders, PERP)
    assert {(o.client_order_id, o.order_type, o.status) for o in listed} == {
        ("it-sl", OrderType.STOP_MARKET, OrderStatus.UNTRIGGERED),
        ("it-tp", OrderType.TAKE_PROFIT_LIMIT, OrderStatus.UNTRIGGERED),
    }
    found = await asyncio.to_thread(rest.order_by_client_id, PERP, "it-tp")
    assert (found.venue_order_id, found.trigger_price) == (take.venue_order_id, take_at)

    await asyncio.to_thread(move, sim, "-3")

    def closed(events):
        flat = any(isinstance(e, PositionUpdate) and e.quantity == 0 for e in events)
        done = any(u.status is OrderStatus.FILLED for u in updates_of(events, "it-sl"))
        return flat and done

    events = await collect(events_iter, closed)
    stop_updates = updates_of(events, "it-sl")
    assert [u.status for u in stop_updates] == [
        OrderStatus.NEW,  # Triggered
        OrderStatus.NEW,
        OrderStatus.FILLED,
    ]
    assert {(u.venue_order_id, u.order_type) for u in stop_updates} == {
        (stop.venue_order_id, OrderType.STOP_MARKET)
    }
    fills = [e for e in events if isinstance(e, FillEvent) and e.client_order_id == "it-sl"]
    assert sum(f.quantity for f in fills) == D("0.010")
    assert {(f.venue_order_id, f.side) for f in fills} == {(stop.venue_order_id, Side.SELL)}
    # the take profit, reduce-only, has nothing left to reduce: the venue cancels it
    if not any(u.status is OrderStatus.CANCELED for u in updates_of(events, "it-tp")):
        await collect(
            events_iter,
            lambda ev: any(u.status is OrderStatus.CANCELED for u in updates_of(ev, "it-tp")),
        )
    positions = await asyncio.to_thread(rest.positions)
    assert [p.quantity for p in positions if p.symbol == PERP and p.quantity] == []
    await stream.close()


async def test_cancel_cancel_all_and_a_trigger_already_reached(sim, endpoints, rest):  # noqa: F811
    stream = private_stream(sim, endpoints, rest)
    events_iter = stream.events()
    await collect(events_iter, lambda ev: bool(statuses(ev, StreamState.SUBSCRIBED)))
    await open_long(rest, events_iter)
    now = await asyncio.to_thread(mark, rest)
    with pytest.raises(InvalidOrder) as refused:
        await asyncio.to_thread(
            rest.place_order,
            conditional(
                "it-bad", Side.SELL, OrderType.STOP_MARKET, (now * D("1.02")).quantize(D("1"))
            ),
        )
    assert refused.value.code == "110093"
    assert refused.value.message.startswith("expect Falling, but trigger_price[")

    orders = [
        conditional("it-c1", Side.SELL, OrderType.STOP_MARKET, (now * D("0.95")).quantize(D("1"))),
        conditional(
            "it-c2", Side.SELL, OrderType.TAKE_PROFIT_MARKET, (now * D("1.05")).quantize(D("1"))
        ),
        conditional("it-c3", Side.SELL, OrderType.STOP_MARKET, (now * D("0.90")).quantize(D("1"))),
    ]
    for request in orders:
        await asyncio.to_thread(rest.place_order, request)
    canceled = await asyncio.to_thread(
        rest.cancel_order, PERP, client_order_id="it-c1", conditional=True
    )
    assert canceled.status is OrderStatus.PENDING_CANCEL
    await collect(
        events_iter,
        lambda ev: any(u.status is OrderStatus.CANCELED for u in updates_of(ev, "it-c1")),
    )
    listed = await asyncio.to_thread(rest.open_orders)
    assert sorted(o.client_order_id for o in listed) == ["it-c2", "it-c3"]
    assert await asyncio.to_thread(rest.cancel_all) == 2
    await collect(
        events_iter,
        lambda ev: all(
            any(u.status is OrderStatus.CANCELED for u in updates_of(ev, c))
            for c in ("it-c2", "it-c3")
        ),
    )
    assert await asyncio.to_thread(rest.open_orders) == []
    await stream.close()
