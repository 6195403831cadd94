"""Editing an untriggered trigger order on the Deribit face over real sockets
(deribit/rpc_trading.py `_edit_trigger`): private/edit and edit_by_label move `trigger_price`,
`amount` and a limit kind's `price`, answer `{"order", "trades": []}` and push the order
still `untriggered` with its new trigger; a reached trigger is refused with 10035/10034 as at
placement, an off-tick one with 10044, a `trigger_price` on a plain order with 11036."""

from __future__ import annotations

from decimal import Decimal

import aiohttp
import pytest

from exchanges.venues.base import TriggerPrice
from tests.support.deribit import VENUE, Ws, start_simulator

D = Decimal
INSTRUMENT = "BTC-PERPETUAL"
ORDERS = f"user.orders.{INSTRUMENT}.raw"
SHOWN = ("order_id", "order_state", "order_type", "amount", "price", "trigger_price", "label")


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
    return deribit.engine.trigger_source_price(VENUE, INSTRUMENT, TriggerPrice.MARK).quantize(
        D("1")
    )


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


def shown(order: dict) -> dict:
    return {key: order.get(key) for key in SHOWN}


async def test_edit_moves_trigger_amount_and_price_and_the_push_shows_them(deribit, ws):
    await ws.result("private/subscribe", {"channels": [ORDERS]})
    trigger = mark(deribit) + 500
    placed = await ws.result(
        "private/buy", stop("e-1", trigger, type="stop_limit", price=trigger + 10)
    )
    trigger_id = placed["order"]["order_id"]
    await ws.round_trip()
    start = len(ws.notifications)
    edited = await ws.result(
        "private/edit",
        {
            "order_id": trigger_id,
            "amount": 200,
            "price": trigger + 30,
            "trigger_price": trigger + 20,
        },
    )
    expected = {
        "order_id": trigger_id,
        "order_state": "untriggered",
        "order_type": "stop_limit",
        "amount": 200,
        "price": trigger + 30,
        "trigger_price": trigger + 20,
        "label": "e-1",
    }
    assert shown(edited["order"]) == expected
    assert (edited["order"]["replaced"], edited["trades"]) == (True, [])
    pushed = await ws.channel(ORDERS, start=start)
    assert shown(pushed["params"]["data"]) == expected
    state = await ws.result("private/get_order_state", {"order_id": trigger_id})
    assert shown(state) == expected


async def test_edit_by_label_moves_a_stop_market_trigger(deribit, ws):
    trigger = mark(deribit) - 500
    placed = await ws.result("private/sell", stop("e-2", trigger))
    edited = await ws.result(
        "private/edit_by_label",
        {
            "label": "e-2",
            "instrument_name": INSTRUMENT,
            "amount": 100,
            "trigger_price": trigger - 40,
        },
    )
    assert shown(edited["order"]) == {
        **shown(placed["order"]),
        "trigger_price": trigger - 40,
    }
    order = deribit.engine.conditional_orders(VENUE, deribit.credentials[VENUE].api_key)[0]
    assert (order.trigger_price, order.quantity) == (trigger - 40, D("100"))


async def test_a_reached_or_bad_trigger_is_refused_as_at_placement(deribit, ws):
    now = mark(deribit)
    buy = (await ws.result("private/buy", stop("r-1", now + 500)))["order"]["order_id"]
    sell = (await ws.result("private/sell", stop("r-2", now - 500)))["order"]["order_id"]
    cases = [
        (buy, now - 100, 10035, "trigger_price_too_low"),
        (sell, now + 100, 10034, "trigger_price_too_high"),
        (buy, now + D("600.1"), 10044, "trigger_price_wrong_tick"),
        (buy, D("-1"), 11036, "invalid_trigger_price"),
    ]
    for order_id, trigger, code, message in cases:
        answer = await ws.call(
            "private/edit", {"order_id": order_id, "amount": 100, "trigger_price": trigger}
        )
        assert (answer["error"]["code"], answer["error"]["message"]) == (code, message)
    answer = await ws.call("private/edit", {"order_id": buy, "trigger_price": now + 600})
    assert (answer["error"]["code"], answer["error"]["data"]["param"]) == (-32602, "amount")
    answer = await ws.call("private/edit", {"order_id": buy, "amount": 100, "price": now + 600})
    assert (answer["error"]["code"], answer["error"]["message"]) == (10023, "invalid_price")
    state = await ws.result("private/get_order_state", {"order_id": buy})
    assert (state["trigger_price"], state["amount"]) == (now + 500, 100)


async def test_a_trigger_price_on_a_plain_order_is_refused(deribit, ws):
    price = mark(deribit) - 2000
    placed = await ws.result(
        "private/buy",
        {"instrument_name": INSTRUMENT, "amount": 100, "type": "limit", "price": price},
    )
    order_id = placed["order"]["order_id"]
    answer = await ws.call(
        "private/edit",
        {"order_id": order_id, "amount": 100, "price": price - 10, "trigger_price": price},
    )
    assert (answer["error"]["code"], answer["error"]["message"]) == (11036, "invalid_trigger_price")
    state = await ws.result("private/get_order_state", {"order_id": order_id})
    assert (state["price"], state["order_state"]) == (price, "open")
