"""Conditional orders on the Bybit face: created with `triggerPrice`/`triggerDirection`/
`triggerBy`, listed by `/v5/order/realtime`, pushed `Untriggered` -> `Triggered` -> `New` ->
`Filled` on the `order` topic with the same `orderId`, `Deactivated` when cancelled, covered by
cancel-all, refused with 110092/110093 when the trigger is already reached (bybit/rest_orders.py,
bybit/wire.py, bybit/errors.py)."""

from __future__ import annotations

from decimal import Decimal

import aiohttp

from exchanges.venues.base import TriggerPrice
from tests.support.bybit import ALICE, VENUE, Rest, best, bybit_sim, private, topic_is


def stop(side: str, trigger: Decimal, direction: int, qty: str = "0.010", **extra) -> dict:
    return {
        "category": "linear",
        "symbol": "BTCUSDT",
        "side": side,
        "orderType": "Market",
        "qty": qty,
        "triggerPrice": str(trigger),
        "triggerDirection": direction,
        "triggerBy": "MarkPrice",
        **extra,
    }


def mark(sim) -> Decimal:
    return sim.engine.trigger_source_price(VENUE, "BTCUSDT", TriggerPrice.MARK)


async def test_a_trigger_already_reached_is_refused_with_bybit_codes():
    async with bybit_sim() as sim, aiohttp.ClientSession() as s:
        rest = Rest(s, sim.urls[VENUE]["rest"], ALICE)
        now = mark(sim)
        _, reply, _ = await rest.post("/v5/order/create", stop("Buy", now - 100, 1))
        assert (reply["retCode"], reply["retMsg"]) == (
            110092,
            f"expect Rising, but trigger_price[{now - 100}] <= current[{now}]??MarkPrice",
        )
        _, reply, _ = await rest.post("/v5/order/create", stop("Sell", now + 100, 2))
        assert (reply["retCode"], reply["retMsg"]) == (
            110093,
            f"expect Falling, but trigger_price[{now + 100}] >= current[{now}]??MarkPrice",
        )
        _, reply, _ = await rest.post("/v5/order/create", stop("Buy", now + 100, 3))
        assert (reply["retCode"], reply["retMsg"]) == (
            10001,
            "params error: triggerDirection invalid",
        )
        _, reply, _ = await rest.post("/v5/order/create", stop("Buy", now + Decimal("100.05"), 1))
        assert (reply["retCode"], reply["retMsg"]) == (10001, "params error: triggerPrice invalid")


async def test_untriggered_order_is_listed_and_cancelled_as_deactivated():
    async with bybit_sim() as sim, aiohttp.ClientSession() as s:
        rest = Rest(s, sim.urls[VENUE]["rest"], ALICE)
        stream = await private(s, sim, "order")
        trigger = mark(sim) + 500
        body = stop("Buy", trigger, 1, orderLinkId="stop-1", orderType="Limit", price="99000")
        _, reply, _ = await rest.post("/v5/order/create", body)
        assert reply["retCode"] == 0
        order_id = reply["result"]["orderId"]
        pushed = await stream.expect(topic_is("order"))
        item = pushed["data"][0]
        assert {k: item[k] for k in ("orderId", "orderLinkId", "orderStatus")} == {
            "orderId": order_id,
            "orderLinkId": "stop-1",
            "orderStatus": "Untriggered",
        }
        assert (item["triggerPrice"], item["triggerDirection"], item["triggerBy"]) == (
            str(trigger),
            1,
            "MarkPrice",
        )
        assert (item["stopOrderType"], item["orderType"], item["price"]) == (
            "Stop",
            "Limit",
            "99000.0",
        )
        _, listed, _ = await rest.get(
            "/v5/order/realtime", {"category": "linear", "symbol": "BTCUSDT"}
        )
        rows = listed["result"]["list"]
        assert [(r["orderId"], r["orderStatus"], r["triggerPrice"]) for r in rows] == [
            (order_id, "Untriggered", str(trigger))
        ]
        _, plain_only, _ = await rest.get(
            "/v5/order/realtime",
            {"category": "linear", "symbol": "BTCUSDT", "orderFilter": "Order"},
        )
        assert plain_only["result"]["list"] == []
        _, reply, _ = await rest.post(
            "/v5/order/cancel", {"category": "linear", "symbol": "BTCUSDT", "orderLinkId": "stop-1"}
        )
        assert reply["result"] == {"orderId": order_id, "orderLinkId": "stop-1"}
        pushed = await stream.expect(topic_is("order"))
        assert pushed["data"][0]["orderStatus"] == "Deactivated"


async def test_cancel_all_covers_conditional_orders_but_spot_only_with_stop_order_filter():
    async with bybit_sim() as sim, aiohttp.ClientSession() as s:
        rest = Rest(s, sim.urls[VENUE]["rest"], ALICE)
        _, reply, _ = await rest.post("/v5/order/create", stop("Buy", mark(sim) + 500, 1))
        linear_id = reply["result"]["orderId"]
        bid, _ = await best(rest, "spot", "BTCUSDT")
        spot_stop = {
            "category": "spot",
            "symbol": "BTCUSDT",
            "side": "Buy",
            "orderType": "Limit",
            "qty": "0.001",
            "price": str(bid),
            "triggerPrice": str(bid + 1000),
            "orderFilter": "StopOrder",
        }
        _, reply, _ = await rest.post("/v5/order/create", spot_stop)
        assert reply["retCode"] == 0
        spot_id = reply["result"]["orderId"]
        _, reply, _ = await rest.post(
            "/v5/order/cancel-all", {"category": "linear", "settleCoin": "USDT"}
        )
        assert [o["orderId"] for o in reply["result"]["list"]] == [linear_id]
        _, reply, _ = await rest.post("/v5/order/cancel-all", {"category": "spot"})
        assert reply["result"]["list"] == []
        _, reply, _ = await rest.post(
            "/v5/order/cancel", {"category": "spot", "symbol": "BTCUSDT", "orderId": spot_id}
        )
        assert reply["retCode"] == 170213
        _, reply, _ = await rest.post(
            "/v5/order/cancel-all", {"category": "spot", "orderFilter": "StopOrder"}
        )
        assert [o["orderId"] for o in reply["result"]["list"]] == [spot_id]


async def test_firing_pushes_triggered_then_new_then_filled_with_the_same_order_id():
    async with bybit_sim() as sim, aiohttp.ClientSession() as s:
        rest = Rest(s, sim.urls[VENUE]["rest"], ALICE)
        stream = await private(s, sim, "order", "execution")
        trigger = mark(sim) + 500
        _, reply, _ = await rest.post(
            "/v5/order/create", stop("Buy", trigger, 1, orderLinkId="stop-2")
        )
        order_id = reply["result"]["orderId"]
        await stream.expect(topic_is("order"))
        sim.engine.market.move("BTC", VENUE, Decimal("3"))
        sim.engine.step(0)
        messages = [await stream.recv() for _ in range(4)]
        seen = [
            (
                m["topic"],
                i["orderId"],
                i["orderLinkId"],
                i.get("orderStatus", i.get("stopOrderType")),
            )
            for m in messages
            for i in m["data"]
        ]
        assert seen == [
            ("order", order_id, "stop-2", "Triggered"),
            ("order", order_id, "stop-2", "New"),
            ("execution", order_id, "stop-2", "Stop"),
            ("order", order_id, "stop-2", "Filled"),
        ]
