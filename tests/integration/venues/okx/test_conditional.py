"""OKX conditional orders (stop loss, take profit as algo orders) through the adapter against
the simulator's OKX face over real sockets: placed UNTRIGGERED, listed, refused when the
trigger is already reached, fired by a price move (UNTRIGGERED -> NEW -> FILLED with fills on
the private stream, under the algo's ids), canceled one by one and by cancel_all.

The price is moved with the simulator's generator paused, so nothing fires by chance."""

from __future__ import annotations

import asyncio
from decimal import ROUND_DOWN, ROUND_UP, Decimal

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
    StreamStatus,
    TriggerPrice,
    Venue,
)
from exchanges.venues.okx.private import OkxPrivateStream
from exchanges.venues.ws import Backoff

from .conftest import collect, control, endpoints_of

INST = "BTC-USDT-SWAP"
SYMBOL = "BTC/USDT:USDT"
FAST = Backoff(initial=0.05, maximum=0.5)
OKX = Venue.OKX


@pytest.fixture
def paused(okx_sim):
    control(okx_sim, "generator", {"running": False})
    yield okx_sim
    control(okx_sim, "generator", {"running": True})


def mark(sim) -> Decimal:
    return sim.call(sim.engine.mark_price, OKX, INST)


def tick(sim) -> Decimal:
    return sim.call(sim.engine.instrument, OKX, INST).tick_size


def off_mark(sim, pct: str) -> Decimal:
    """A trigger `pct` percent from the mark price, on the tick."""
    step = tick(sim)
    value = mark(sim) * (1 + Decimal(pct) / 100)
    rounding = ROUND_UP if Decimal(pct) > 0 else ROUND_DOWN
    return (value / step).quantize(Decimal(1), rounding=rounding) * step


def move(sim, pct: str) -> None:
    sim.call(sim.engine.market.move, "BTC", OKX, Decimal(pct))
    sim.call(sim.engine.step, 0)


def conditional(
    cid: str,
    order_type: OrderType,
    trigger: Decimal,
    *,
    side: Side = Side.SELL,
    price: Decimal | None = None,
    reduce_only: bool = True,
    quantity: str = "1",
) -> OrderRequest:
    return OrderRequest(
        symbol=SYMBOL,
        venue_symbol=INST,
        client_order_id=cid,
        side=side,
        order_type=order_type,
        quantity=Decimal(quantity),
        price=price,
        reduce_only=reduce_only,
        trigger_price=trigger,
        trigger_by=TriggerPrice.MARK,
    )


def buy_market(rest, cid: str, quantity: str = "1") -> None:
    rest.place_order(OrderRequest(SYMBOL, INST, cid, Side.BUY, OrderType.MARKET, Decimal(quantity)))


def updates_of(events, cid: str) -> list[OrderUpdate]:
    return [e for e in events if isinstance(e, OrderUpdate) and e.client_order_id == cid]


async def subscribed(stream) -> None:
    await collect(
        stream,
        lambda ev: (
            sum(isinstance(e, StreamStatus) and e.state is StreamState.SUBSCRIBED for e in ev) == 4
        ),
        10,
    )


async def test_stop_loss_fires_closes_the_position_and_the_take_profit_is_canceled(
    paused, okx_rest
):
    sim = paused
    okx_rest.cancel_all()
    stream = OkxPrivateStream(endpoints_of(sim), sim.credentials[OKX], rest=okx_rest, backoff=FAST)
    try:
        await subscribed(stream)
        await asyncio.to_thread(buy_market, okx_rest, "italgolong")
        stop_at, take_at = off_mark(sim, "-2"), off_mark(sim, "2")
        stop = await asyncio.to_thread(
            okx_rest.place_order, conditional("italgosl", OrderType.STOP_MARKET, stop_at)
        )
        take = await asyncio.to_thread(
            okx_rest.place_order, conditional("italgotp", OrderType.TAKE_PROFIT_MARKET, take_at)
        )
        assert (stop.status, stop.order_type, stop.trigger_price, stop.trigger_by) == (
            OrderStatus.UNTRIGGERED,
            OrderType.STOP_MARKET,
            stop_at,
            TriggerPrice.MARK,
        )
        assert take.status is OrderStatus.UNTRIGGERED and stop.venue_order_id
        listed = await asyncio.to_thread(okx_rest.open_orders, INST)
        by_id = {o.client_order_id: o for o in listed}
        assert (by_id["italgosl"].venue_order_id, by_id["italgosl"].status) == (
            stop.venue_order_id,
            OrderStatus.UNTRIGGERED,
        )
        assert (by_id["italgotp"].order_type, by_id["italgotp"].trigger_price) == (
            OrderType.TAKE_PROFIT_MARKET,
            take_at,
        )

        move(sim, "-3")

        def done(ev) -> bool:
            stop_updates = updates_of(ev, "italgosl")
            return (
                any(u.status is OrderStatus.FILLED for u in stop_updates)
                and any(isinstance(e, FillEvent) and e.client_order_id == "italgosl" for e in ev)
                and any(u.status is OrderStatus.CANCELED for u in updates_of(ev, "italgotp"))
                and any(
                    isinstance(e, PositionUpdate) and e.symbol == SYMBOL and e.quantity == 0
                    for e in ev
                )
            )

        events = await collect(stream, done, 15)
        stop_updates = updates_of(events, "italgosl")
        statuses = [u.status for u in stop_updates]
        assert statuses[0] is OrderStatus.UNTRIGGERED
        assert OrderStatus.NEW in statuses and statuses[-1] is OrderStatus.FILLED
        assert statuses.index(OrderStatus.NEW) < statuses.index(OrderStatus.FILLED)
        assert {u.venue_order_id for u in stop_updates} == {stop.venue_order_id}
        assert {u.order_type for u in stop_updates} == {OrderType.STOP_MARKET}
        fills = [e for e in events if isinstance(e, FillEvent) and e.client_order_id == "italgosl"]
        assert sum(f.quantity for f in fills) == Decimal("1")
        assert {(f.side, f.venue_order_id) for f in fills} == {(Side.SELL, stop.venue_order_id)}
        assert updates_of(events, "italgotp")[-1].status is OrderStatus.CANCELED
        found = await asyncio.to_thread(okx_rest.order_by_client_id, INST, "italgosl")
        assert (found.status, found.filled_quantity, found.venue_order_id) == (
            OrderStatus.FILLED,
            Decimal("1"),
            stop.venue_order_id,
        )
        assert found.order_type is OrderType.STOP_MARKET
        page = await asyncio.to_thread(okx_rest.fills)
        rest_fills = [f for f in page.fills if f.client_order_id == "italgosl"]
        assert {f.venue_order_id for f in rest_fills} == {stop.venue_order_id}
    finally:
        await stream.close()


def test_a_trigger_already_reached_is_refused(paused, okx_rest):
    sim = paused
    okx_rest.cancel_all()
    above = off_mark(sim, "1")
    with pytest.raises(InvalidOrder) as info:
        okx_rest.place_order(
            conditional("italgobad1", OrderType.STOP_MARKET, above, reduce_only=False)
        )
    assert (info.value.code, info.value.message) == (
        "51304",
        "SL trigger price cannot be higher than the mark price.",
    )
    below = off_mark(sim, "-1")
    with pytest.raises(InvalidOrder) as info:
        okx_rest.place_order(
            conditional("italgobad2", OrderType.TAKE_PROFIT_MARKET, below, reduce_only=False)
        )
    assert info.value.code == "51303"
    assert okx_rest.order_by_client_id(INST, "italgobad1") is None


async def test_cancel_one_and_cancel_all_cover_untriggered_orders(paused, okx_rest):
    sim = paused
    okx_rest.cancel_all()
    stream = OkxPrivateStream(endpoints_of(sim), sim.credentials[OKX], rest=okx_rest, backoff=FAST)
    try:
        await subscribed(stream)
        for i, pct in enumerate(("-2", "-3", "-4")):
            request = conditional(
                f"italgoc{i}",
                OrderType.STOP_LIMIT,
                off_mark(sim, pct),
                side=Side.SELL,
                price=off_mark(sim, "-6"),
                reduce_only=False,
            )
            await asyncio.to_thread(okx_rest.place_order, request)
        untriggered = await asyncio.to_thread(okx_rest.order_by_client_id, INST, "italgoc0")
        assert (untriggered.status, untriggered.order_type, untriggered.price) == (
            OrderStatus.UNTRIGGERED,
            OrderType.STOP_LIMIT,
            off_mark(sim, "-6"),
        )
        ack = await asyncio.to_thread(
            lambda: okx_rest.cancel_order(
                INST,
                client_order_id="italgoc0",
                venue_order_id=untriggered.venue_order_id,
                conditional=True,
            )
        )
        assert (ack.status, ack.venue_order_id) == (
            OrderStatus.PENDING_CANCEL,
            untriggered.venue_order_id,
        )
        events = await collect(
            stream,
            lambda ev: any(u.status is OrderStatus.CANCELED for u in updates_of(ev, "italgoc0")),
            10,
        )
        assert updates_of(events, "italgoc0")[-1].venue_order_id == untriggered.venue_order_id
        left = await asyncio.to_thread(okx_rest.open_orders, INST)
        assert sorted(o.client_order_id for o in left) == ["italgoc1", "italgoc2"]
        assert await asyncio.to_thread(okx_rest.cancel_all) == 2
        assert await asyncio.to_thread(okx_rest.open_orders) == []
    finally:
        await stream.close()


async def test_a_fired_stop_limit_resting_on_the_book_is_canceled_by_its_algo_ids(paused, okx_rest):
    sim = paused
    okx_rest.cancel_all()
    request = conditional(
        "italgorest",
        OrderType.STOP_LIMIT,
        off_mark(sim, "-2"),
        side=Side.SELL,
        price=off_mark(sim, "10"),  # far above the market: it rests once it fires
        reduce_only=False,
    )
    placed = await asyncio.to_thread(okx_rest.place_order, request)
    move(sim, "-3")
    resting = await asyncio.to_thread(okx_rest.order_by_client_id, INST, "italgorest")
    assert (resting.status, resting.venue_order_id, resting.order_type) == (
        OrderStatus.NEW,
        placed.venue_order_id,
        OrderType.STOP_LIMIT,
    )
    listed = await asyncio.to_thread(okx_rest.open_orders, INST)
    assert [(o.client_order_id, o.status) for o in listed] == [("italgorest", OrderStatus.NEW)]
    ack = await asyncio.to_thread(
        lambda: okx_rest.cancel_order(
            INST, client_order_id="italgorest", venue_order_id=placed.venue_order_id
        )
    )
    assert (ack.client_order_id, ack.venue_order_id) == ("italgorest", placed.venue_order_id)
    ended = await asyncio.to_thread(okx_rest.order_by_client_id, INST, "italgorest")
    assert ended.status is OrderStatus.CANCELED
    assert await asyncio.to_thread(okx_rest.open_orders) == []


async def test_take_profit_fires_on_a_rise_and_closes_the_position(paused, okx_rest):
    sim = paused
    okx_rest.cancel_all()
    stream = OkxPrivateStream(endpoints_of(sim), sim.credentials[OKX], rest=okx_rest, backoff=FAST)
    try:
        await subscribed(stream)
        await asyncio.to_thread(buy_market, okx_rest, "italgolong2")
        take_at = off_mark(sim, "2")
        take = await asyncio.to_thread(
            okx_rest.place_order,
            conditional("italgotp2", OrderType.TAKE_PROFIT_MARKET, take_at),
        )
        move(sim, "3")
        events = await collect(
            stream,
            lambda ev: (
                any(u.status is OrderStatus.FILLED for u in updates_of(ev, "italgotp2"))
                and any(
                    isinstance(e, PositionUpdate) and e.symbol == SYMBOL and e.quantity == 0
                    for e in ev
                )
            ),
            15,
        )
        updates = updates_of(events, "italgotp2")
        assert updates[0].status is OrderStatus.UNTRIGGERED
        assert {(u.venue_order_id, u.order_type) for u in updates} == {
            (take.venue_order_id, OrderType.TAKE_PROFIT_MARKET)
        }
        assert updates[0].trigger_price == take_at
    finally:
        await stream.close()
