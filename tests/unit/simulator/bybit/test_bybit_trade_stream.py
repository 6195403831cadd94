"""Order entry over `/v5/trade`: the answers' shape, the private pushes it causes, errors, and
the lost-acknowledgement fault closing the socket after the order was accepted."""

from __future__ import annotations

import aiohttp

from tests.unit.simulator.bybit.bybit_wire import (
    ALICE,
    VENUE,
    Rest,
    Stream,
    best,
    bybit_sim,
    conform,
    now_ms,
    topic_is,
)


def request(op: str, req_id: str, **args) -> dict:
    return {
        "reqId": req_id,
        "header": {"X-BAPI-TIMESTAMP": str(now_ms()), "X-BAPI-RECV-WINDOW": "8000"},
        "op": op,
        "args": [args],
    }


async def answer(stream: Stream, req_id: str) -> dict:
    return await stream.expect(lambda m: m.get("reqId") == req_id)


async def test_order_entry_over_the_trade_stream():
    async with bybit_sim() as sim, aiohttp.ClientSession() as s:
        rest = Rest(s, sim.urls[VENUE]["rest"], ALICE)
        bid, _ = await best(rest, "linear", "BTCUSDT")
        trade = Stream(
            await s.ws_connect(sim.urls[VENUE]["rest"].replace("http", "ws") + "/v5/trade")
        )
        pushes = Stream(await s.ws_connect(sim.urls[VENUE]["ws_private"]))
        await pushes.auth(ALICE)
        await pushes.subscribe("order")

        await trade.send(request("order.create", "early", category="linear", symbol="BTCUSDT"))
        refused = await answer(trade, "early")
        assert (refused["retCode"], refused["data"]) == (10007, {})

        assert (await trade.auth(ALICE))["retCode"] == 0
        order = {"category": "linear", "symbol": "BTCUSDT"}
        await trade.send(
            request(
                "order.create",
                "create-1",
                **order,
                side="Buy",
                orderType="Limit",
                qty="0.002",
                price=str(bid - 100),
                orderLinkId="ws-1",
            )
        )
        created = await answer(trade, "create-1")
        conform(created, "ws_trade_order_create_response")
        assert (created["retCode"], created["data"]["orderLinkId"]) == (0, "ws-1")
        pushed = await pushes.expect(topic_is("order"))
        assert pushed["data"][0]["orderId"] == created["data"]["orderId"]

        await trade.send(
            request("order.amend", "amend-1", **order, orderLinkId="ws-1", qty="0.003")
        )
        assert (await answer(trade, "amend-1"))["retCode"] == 0
        assert (await pushes.expect(topic_is("order")))["data"][0]["qty"] == "0.003"
        await trade.send(request("order.cancel", "cancel-1", **order, orderLinkId="ws-1"))
        assert (await answer(trade, "cancel-1"))["data"] == {
            "orderId": created["data"]["orderId"],
            "orderLinkId": "ws-1",
        }
        assert (await pushes.expect(topic_is("order")))["data"][0]["orderStatus"] == "Cancelled"

        await trade.send(request("order.cancel", "cancel-2", **order, orderLinkId="ws-1"))
        again = await answer(trade, "cancel-2")
        assert (again["retCode"], again["retMsg"]) == (
            110001,
            "order not exists or too late to cancel",
        )
        stale = request(
            "order.create", "stale", **order, side="Buy", orderType="Market", qty="0.001"
        )
        stale["header"]["X-BAPI-TIMESTAMP"] = str(now_ms() - 60_000)
        await trade.send(stale)
        assert (await answer(trade, "stale"))["retCode"] == 10002
        await trade.send({"reqId": "x", "op": "order.explode", "args": []})
        assert (await answer(trade, "x"))["retCode"] == 10404
        await trade.send({"req_id": "p", "op": "ping"})
        assert (await trade.expect(lambda m: m.get("op") == "pong"))["req_id"] == "p"


async def test_lost_ack_on_the_trade_stream_closes_it_after_the_order_is_accepted():
    async with bybit_sim(faults={"lose_acks": 1, "lost_ack_wait_ms": 10}) as sim:
        async with aiohttp.ClientSession() as s:
            rest = Rest(s, sim.urls[VENUE]["rest"], ALICE)
            bid, _ = await best(rest, "linear", "BTCUSDT")
            trade = Stream(
                await s.ws_connect(sim.urls[VENUE]["rest"].replace("http", "ws") + "/v5/trade")
            )
            await trade.auth(ALICE)
            await trade.send(
                request(
                    "order.create",
                    "lost",
                    category="linear",
                    symbol="BTCUSDT",
                    side="Buy",
                    orderType="Limit",
                    qty="0.001",
                    price=str(bid - 100),
                    orderLinkId="ws-lost",
                )
            )
            message = await trade.ws.receive(timeout=2)
            assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
            _, found, _ = await rest.get(
                "/v5/order/realtime", {"category": "linear", "orderLinkId": "ws-lost"}
            )
            assert [o["orderStatus"] for o in found["result"]["list"]] == ["New"]
