"""Amending an untriggered conditional order on the Bybit face (`/v5/order/amend`,
bybit/rest_orders.py `_order_amend`): `triggerPrice`, `qty` and `price` move, the `order`
push shows them with the order still `Untriggered`; a reached trigger is refused with
110092/110093, unchanged parameters with 10001, a different `triggerBy` and a `triggerPrice`
on a plain order with the params errors."""

from __future__ import annotations

from decimal import Decimal

import aiohttp

from exchanges.venues.base import TriggerPrice
from tests.support.bybit import ALICE, VENUE, Rest, best, bybit_sim, private, topic_is

LINEAR = {"category": "linear", "symbol": "BTCUSDT"}


def mark(sim) -> Decimal:
    return sim.engine.trigger_source_price(VENUE, "BTCUSDT", TriggerPrice.MARK)


def stop_limit(trigger: Decimal, **extra) -> dict:
    """A linear buy stop limit watching the mark, with orderLinkId amend-1."""
    return {
        **LINEAR,
        "side": "Buy",
        "orderType": "Limit",
        "qty": "0.010",
        "price": "99000",
        "triggerPrice": str(trigger),
        "triggerDirection": 1,
        "triggerBy": "MarkPrice",
        "orderLinkId": "amend-1",
        **extra,
    }


def amend(**changes) -> dict:
    return {**LINEAR, "orderLinkId": "amend-1", **changes}


def fields(item: dict) -> tuple:
    return (
        item["orderStatus"],
        item["triggerPrice"],
        Decimal(item["qty"]),
        Decimal(item["price"]),
        item["triggerBy"],
    )


async def test_trigger_quantity_and_price_move_and_the_push_shows_them():
    async with bybit_sim() as sim, aiohttp.ClientSession() as s:
        rest = Rest(s, sim.urls[VENUE]["rest"], ALICE)
        stream = await private(s, sim, "order")
        trigger = mark(sim) + 500
        _, placed, _ = await rest.post("/v5/order/create", stop_limit(trigger))
        order_id = placed["result"]["orderId"]
        await stream.expect(topic_is("order"))
        body = amend(triggerPrice=str(trigger + 100), qty="0.020", price="99100")
        _, reply, _ = await rest.post("/v5/order/amend", body)
        assert (reply["retCode"], reply["result"]) == (
            0,
            {"orderId": order_id, "orderLinkId": "amend-1"},
        )
        pushed = (await stream.expect(topic_is("order")))["data"][0]
        assert pushed["orderId"] == order_id
        assert fields(pushed) == (
            "Untriggered",
            str(trigger + 100),
            Decimal("0.020"),
            Decimal("99100"),
            "MarkPrice",
        )
        _, listed, _ = await rest.get("/v5/order/realtime", {**LINEAR, "orderId": order_id})
        assert fields(listed["result"]["list"][0]) == fields(pushed)
        # the trigger alone, with the same triggerBy resent
        _, reply, _ = await rest.post(
            "/v5/order/amend", amend(triggerPrice=str(trigger + 50), triggerBy="MarkPrice")
        )
        assert reply["retCode"] == 0
        pushed = (await stream.expect(topic_is("order")))["data"][0]
        assert (pushed["orderStatus"], pushed["triggerPrice"]) == ("Untriggered", str(trigger + 50))
        order = sim.engine.get_order(VENUE, ALICE.api_key, order_id=order_id)
        assert (order.trigger_price, order.quantity, order.price) == (
            trigger + 50,
            Decimal("0.020"),
            Decimal("99100"),
        )


async def test_a_reached_trigger_is_refused_as_at_creation():
    async with bybit_sim() as sim, aiohttp.ClientSession() as s:
        rest = Rest(s, sim.urls[VENUE]["rest"], ALICE)
        now = mark(sim)
        await rest.post("/v5/order/create", stop_limit(now + 500))
        _, reply, _ = await rest.post("/v5/order/amend", amend(triggerPrice=str(now - 100)))
        assert (reply["retCode"], reply["retMsg"]) == (
            110092,
            f"expect Rising, but trigger_price[{now - 100}] <= current[{now}]??MarkPrice",
        )
        sell = stop_limit(
            now - 500, side="Sell", triggerDirection=2, price="90000", orderLinkId="amend-2"
        )
        await rest.post("/v5/order/create", sell)
        _, reply, _ = await rest.post(
            "/v5/order/amend", amend(orderLinkId="amend-2", triggerPrice=str(now + 100))
        )
        assert (reply["retCode"], reply["retMsg"]) == (
            110093,
            f"expect Falling, but trigger_price[{now + 100}] >= current[{now}]??MarkPrice",
        )
        _, reply, _ = await rest.post(
            "/v5/order/amend", amend(triggerPrice=str(now + Decimal("600.05")))
        )
        assert (reply["retCode"], reply["retMsg"]) == (10001, "params error: triggerPrice invalid")
        order = sim.engine.get_order(VENUE, ALICE.api_key, client_order_id="amend-1")
        assert order.trigger_price == now + 500


async def test_unchanged_parameters_and_another_trigger_source_are_refused():
    async with bybit_sim() as sim, aiohttp.ClientSession() as s:
        rest = Rest(s, sim.urls[VENUE]["rest"], ALICE)
        trigger = mark(sim) + 500
        await rest.post("/v5/order/create", stop_limit(trigger))
        _, reply, _ = await rest.post(
            "/v5/order/amend", amend(triggerPrice=str(trigger), qty="0.010", price="99000")
        )
        assert (reply["retCode"], reply["retMsg"]) == (
            10001,
            "The order remains unchanged as the parameters entered match the existing ones.",
        )
        _, reply, _ = await rest.post(
            "/v5/order/amend", amend(triggerPrice=str(trigger + 1), triggerBy="LastPrice")
        )
        assert (reply["retCode"], reply["retMsg"]) == (
            10001,
            "params error: the simulator does not change triggerBy",
        )
        _, reply, _ = await rest.post(
            "/v5/order/amend", amend(triggerPrice=str(trigger + 1), triggerBy="Nowhere")
        )
        assert (reply["retCode"], reply["retMsg"]) == (10001, "params error: triggerBy invalid")


async def test_a_market_stop_takes_no_price_and_a_plain_order_no_trigger():
    async with bybit_sim() as sim, aiohttp.ClientSession() as s:
        rest = Rest(s, sim.urls[VENUE]["rest"], ALICE)
        body = stop_limit(mark(sim) + 500, orderType="Market", orderLinkId="amend-3")
        del body["price"]
        await rest.post("/v5/order/create", body)
        _, reply, _ = await rest.post(
            "/v5/order/amend", amend(orderLinkId="amend-3", price="99000")
        )
        assert (reply["retCode"], reply["retMsg"]) == (
            10001,
            "params error: a stop_market order has no price to amend",
        )
        bid, _ = await best(rest, "linear", "BTCUSDT")
        plain = {
            **LINEAR,
            "side": "Buy",
            "orderType": "Limit",
            "qty": "0.010",
            "price": str(bid - 100),
            "orderLinkId": "plain-1",
        }
        _, placed, _ = await rest.post("/v5/order/create", plain)
        assert placed["retCode"] == 0
        _, reply, _ = await rest.post(
            "/v5/order/amend", amend(orderLinkId="plain-1", triggerPrice=str(bid + 500))
        )
        assert (reply["retCode"], reply["retMsg"]) == (10001, "params error: triggerPrice invalid")


async def test_spot_conditional_order_amends_without_order_filter():
    async with bybit_sim() as sim, aiohttp.ClientSession() as s:
        rest = Rest(s, sim.urls[VENUE]["rest"], ALICE)
        stream = await private(s, sim, "order")
        bid, _ = await best(rest, "spot", "BTCUSDT")
        spot = {"category": "spot", "symbol": "BTCUSDT"}
        body = {
            **spot,
            "side": "Buy",
            "orderType": "Limit",
            "qty": "0.001",
            "price": str(bid),
            "triggerPrice": str(bid + 1000),
            "orderFilter": "StopOrder",
            "orderLinkId": "spot-stop-1",
        }
        _, placed, _ = await rest.post("/v5/order/create", body)
        assert placed["retCode"] == 0
        await stream.expect(topic_is("order"))
        change = {**spot, "orderLinkId": "spot-stop-1", "triggerPrice": str(bid + 1200)}
        _, reply, _ = await rest.post("/v5/order/amend", change)
        assert reply["retCode"] == 0
        pushed = (await stream.expect(topic_is("order")))["data"][0]
        assert (pushed["orderStatus"], Decimal(pushed["triggerPrice"])) == (
            "Untriggered",
            bid + 1200,
        )
        plain = {**body, "orderLinkId": "spot-plain-1", "price": str(bid - 100)}
        del plain["triggerPrice"], plain["orderFilter"]
        _, placed, _ = await rest.post("/v5/order/create", plain)
        assert placed["retCode"] == 0
        _, reply, _ = await rest.post(
            "/v5/order/amend",
            {**spot, "orderLinkId": "spot-plain-1", "triggerPrice": str(bid + 900)},
        )
        assert (reply["retCode"], reply["retMsg"]) == (
            170130,
            "Data sent for paramter 'triggerPrice' is not valid.",
        )
