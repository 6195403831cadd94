"""Trigger orders on the Deribit face over real sockets: private/buy and sell with a stop or take
type, `trigger` and `trigger_price`; `untriggered` under a trigger-order id, then `triggered`,
and the order it places under a new `order_id` with `trigger_order_id`; cancel by the trigger
id; open orders by type; cancel_all covering them; 10035/10034/10044 refusals
(deribit/rpc_trading.py, deribit/wire.py)."""

from __future__ import annotations

import re
from decimal import Decimal

import aiohttp
import pytest

from exchanges.venues.base import TriggerPrice
from tests.support.deribit import VENUE, Ws, start_simulator

D = Decimal
INSTRUMENT = "BTC-PERPETUAL"
ORDERS = f"user.orders.{INSTRUMENT}.raw"
TRADES = f"user.trades.{INSTRUMENT}.raw"


@pytest.fixture
async def deribit():
    simulator = await start_simulator()
    try:
        yield simulator
    finally:
        await simulator.stop()


@pytest.fixture
async def ws(deribit):
    async with aiohttp.ClientSession() as session:
        socket = await Ws.connect(session, deribit.urls[VENUE]["ws_private"])
        await socket.login(deribit.credentials[VENUE])
        yield socket


def mark(deribit) -> D:
    return deribit.engine.trigger_source_price(VENUE, INSTRUMENT, TriggerPrice.MARK)


def stop(label: str, trigger: D, **extra) -> dict:
    return {
        "instrument_name": INSTRUMENT,
        "amount": 100,
        "type": "stop_market",
        "trigger": "mark_price",
        "trigger_price": trigger,
        "label": label,
        **extra,
    }


async def test_trigger_already_reached_off_tick_or_without_trigger_is_refused(deribit, ws):
    now = mark(deribit)
    below = (now - 100).quantize(D("1"))
    answer = await ws.call("private/buy", stop("b", below))
    assert answer["error"]["code"] == 10035 and answer["error"]["message"] == (
        "trigger_price_too_low"
    )
    answer = await ws.call("private/sell", stop("s", (now + 100).quantize(D("1"))))
    assert (answer["error"]["code"], answer["error"]["message"]) == (
        10034,
        "trigger_price_too_high",
    )
    answer = await ws.call("private/buy", stop("t", (now + 100).quantize(D("1")) + D("0.1")))
    assert (answer["error"]["code"], answer["error"]["message"]) == (
        10044,
        "trigger_price_wrong_tick",
    )
    no_trigger = {k: v for k, v in stop("n", now + 100).items() if k != "trigger"}
    answer = await ws.call("private/buy", no_trigger)
    assert (answer["error"]["code"], answer["error"]["data"]["param"]) == (-32602, "trigger")


async def test_untriggered_order_is_listed_by_type_and_cancelled_by_its_trigger_id(deribit, ws):
    await ws.result("private/subscribe", {"channels": [ORDERS]})
    trigger = (mark(deribit) + 500).quantize(D("1"))
    placed = await ws.result(
        "private/buy", stop("tp-1", trigger, type="stop_limit", price=trigger + 10)
    )
    order = placed["order"]
    assert re.fullmatch(r"SLLB-\d+", order["order_id"])
    assert {
        k: order[k]
        for k in ("order_state", "order_type", "trigger", "trigger_price", "triggered", "label")
    } == {
        "order_state": "untriggered",
        "order_type": "stop_limit",
        "trigger": "mark_price",
        "trigger_price": trigger,
        "triggered": False,
        "label": "tp-1",
    }
    assert placed["trades"] == []
    listed = await ws.result(
        "private/get_open_orders_by_instrument", {"instrument_name": INSTRUMENT}
    )
    assert [o["order_id"] for o in listed] == [order["order_id"]]
    limits = await ws.result(
        "private/get_open_orders_by_instrument", {"instrument_name": INSTRUMENT, "type": "limit"}
    )
    assert limits == []
    triggers = await ws.result("private/get_open_orders", {"type": "trigger_all"})
    assert [o["order_id"] for o in triggers] == [order["order_id"]]
    cancelled = await ws.result("private/cancel", {"order_id": order["order_id"]})
    assert (cancelled["order_id"], cancelled["order_state"]) == (order["order_id"], "cancelled")
    pushed = await ws.wait_for(
        lambda m: m.get("params", {}).get("data", {}).get("order_state") == "cancelled"
    )
    assert pushed["params"]["data"]["order_id"] == order["order_id"]


async def test_cancel_all_covers_trigger_orders(deribit, ws):
    now = mark(deribit)
    await ws.result("private/buy", stop("c-1", (now + 500).quantize(D("1"))))
    await ws.result("private/sell", stop("c-2", (now - 500).quantize(D("1"))))
    assert await ws.result("private/cancel_all") == 2
    assert await ws.result("private/get_open_orders") == []


async def test_firing_pushes_triggered_then_a_new_order_id_pointing_back(deribit, ws):
    await ws.result("private/subscribe", {"channels": [ORDERS, TRADES]})
    trigger = (mark(deribit) + 500).quantize(D("1"))
    placed = await ws.result("private/buy", stop("fire-1", trigger))
    trigger_id = placed["order"]["order_id"]
    await ws.round_trip()
    start = len(ws.notifications)
    deribit.engine.market.move("BTC", VENUE, D("3"))
    deribit.engine.step(0)
    trade = await ws.wait_for(lambda m: m["params"]["channel"] == TRADES, start=start)
    await ws.round_trip()
    orders = [
        m["params"]["data"] for m in ws.notifications[start:] if m["params"]["channel"] == ORDERS
    ]
    states = [(o["order_id"], o["order_state"], o.get("trigger_order_id")) for o in orders]
    new_id = states[1][0]
    assert re.fullmatch(r"\d+", new_id)
    assert states == [
        (trigger_id, "triggered", None),
        (new_id, "open", trigger_id),
        (new_id, "filled", trigger_id),
    ]
    assert all(o["label"] == "fire-1" and o["triggered"] is True for o in orders)
    assert {(t["order_id"], t["label"]) for t in trade["params"]["data"]} == {(new_id, "fire-1")}
    state = await ws.result("private/get_order_state", {"order_id": new_id})
    assert (state["order_state"], state["trigger_order_id"]) == ("filled", trigger_id)
    answer = await ws.call("private/cancel", {"order_id": trigger_id})
    assert answer["error"]["code"] == 11044
