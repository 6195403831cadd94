"""Stop loss and take profit live, on each venue: a long position opened through the order
path gets both through `portfolio.protection` (placed natively on the venue, untriggered); a
price fall on the simulator fires the stop (a rise, the take profit), whose fill closes the
position, and the venue cancels the other, which has nothing left to reduce. A new stop level
moves the stop in place (amended on the venue, the same order). A stand-alone
stop-limit order is canceled before it fires. The private stream brings every step."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

import pytest

from exchanges.venues.base import OrderType, TriggerPrice, Venue
from marketdata.connectors.persist import in_thread
from orders import services
from orders.models import Fill, Order
from portfolio.models import Position
from portfolio.protection import protect_position
from tests.integration.orders.test_order_path_live import accounts, price_known, submit  # noqa: F401
from tests.integration.private.conftest import MIN_SIZE
from tests.support.harness import eventually

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal


def on_tick(value: Decimal, tick: Decimal) -> Decimal:
    return (value / tick).to_integral_value(ROUND_DOWN) * tick


def mark_of(sim, venue, venue_symbol) -> Decimal:
    return sim.call(sim.engine.mark_price, venue, venue_symbol)


def shock(sim, venue, pct: str) -> None:
    def move() -> None:
        sim.engine.market.move("BTC", venue, D(pct))
        sim.engine.step(0)

    sim.call(move)


def row(model, **match):
    return model.objects.select_related("instrument").filter(**match).first()


@pytest.mark.parametrize(
    "move", ["-4", "+5"], ids=["fall_fires_stop_loss", "rise_fires_take_profit"]
)
@pytest.mark.parametrize("venue", [Venue.DERIBIT, Venue.OKX, Venue.BYBIT])
async def test_a_price_move_fires_one_protective_order_and_closes_the_position(
    accounts,  # noqa: F811 (the fixture)
    sim,
    start_service,
    venue,
    move,
):
    account = accounts[venue]
    service = await start_service(dead_man_seconds=0)
    await eventually(
        lambda: service.accounts and all(c.catch_ups >= 1 for c in service.accounts.values()),
        timeout=20,
        interval=0.05,
    )
    await in_thread(price_known, account, venue)
    size = 2 * MIN_SIZE[venue]
    await in_thread(submit, account, venue, quantity=size)

    async def long_position():
        position = await in_thread(row, Position, account=account)
        return position if position is not None and position.quantity == size else None

    position = await eventually(long_position, timeout=15, interval=0.05)
    tick = position.instrument.tick_size
    venue_symbol = position.instrument.venue_symbol
    mark = mark_of(sim, venue, venue_symbol)

    # a stand-alone stop-limit buy above the market, canceled before it fires
    spare = await in_thread(
        submit,
        account,
        venue,
        order_type=OrderType.STOP_LIMIT,
        quantity=MIN_SIZE[venue],
        trigger_price=on_tick(mark * D("1.01"), tick),
        price=on_tick(mark * D("1.012"), tick),  # Deribit: within 1.5% of the mark
        trigger_by=TriggerPrice.MARK,
    )
    assert spare.status == "untriggered", spare.reject_reason
    assert spare.venue_order_id
    await in_thread(services.cancel_order, spare, actor="alice")

    async def spare_canceled():
        return (await in_thread(Order.objects.get, pk=spare.pk)).status == "canceled"

    await eventually(spare_canceled, timeout=15, interval=0.05)

    protection = await in_thread(
        protect_position,
        position,
        stop_loss=on_tick(mark * D("0.98"), tick),
        take_profit=on_tick(mark * D("1.03"), tick),
        trigger_by=TriggerPrice.MARK,
        actor="alice",
    )
    stop, take = protection.stop_loss, protection.take_profit
    assert (stop.order_type, stop.side, stop.quantity, stop.reduce_only) == (
        "stop_market",
        "sell",
        size,
        True,
    )
    assert (stop.status, take.status) == ("untriggered", "untriggered")
    assert take.order_type == "take_profit_market"

    # a new stop level amends the stop in place on the venue: the same order, a new trigger
    level = on_tick(mark * D("0.97"), tick)
    moved = await in_thread(
        protect_position, position, stop_loss=level, trigger_by=TriggerPrice.MARK, actor="alice"
    )
    assert (moved.stop_loss.pk, moved.take_profit.pk) == (stop.pk, take.pk)
    assert (moved.stop_loss.trigger_price, moved.stop_loss.status) == (level, "untriggered")
    stop = moved.stop_loss

    shock(sim, venue, move)
    fired, other = (stop, take) if move.startswith("-") else (take, stop)

    async def closed():
        fired_now = await in_thread(Order.objects.get, pk=fired.pk)
        other_now = await in_thread(Order.objects.get, pk=other.pk)
        position_now = await in_thread(row, Position, pk=position.pk)
        fills = await in_thread(lambda: list(Fill.objects.filter(order_id=fired.pk)))
        done = (
            fired_now.status == "filled"
            and other_now.status == "canceled"
            and position_now.quantity == 0
            and sum(f.quantity for f in fills) == size  # each fill is an event of its own
        )
        return (fired_now, other_now, fills) if done else None

    fired_now, other_now, fills = await eventually(closed, timeout=20, interval=0.1)
    assert fired_now.filled_quantity == size
    assert fired_now.triggered_at is not None
    assert other_now.triggered_at is None
    assert all(f.side == "sell" for f in fills)
    kinds = await in_thread(lambda: list(fired_now.events.values_list("kind", flat=True)))
    assert "triggered" in kinds
