"""The Bybit face's WebSockets: book sequencing per depth, depth-1 snapshots, restart with u = 1,
subscription rules, heartbeats and idle cut-off, private-push faults, dropped sockets and DCP;
and order entry over `/v5/trade`: the answers' shape, the private pushes it causes, errors,
and the lost-acknowledgement fault closing the socket after the order was accepted
(bybit/ws.py, bybit/books.py, bybit/public.py, bybit/private.py)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import aiohttp
import pytest

from tests.support.bybit import (
    ALICE,
    BOB,
    VENUE,
    BookChecker,
    Rest,
    Stream,
    best,
    bybit_sim,
    conform,
    drain_book,
    drain_books,
    now_ms,
    private,
    public,
    topic_is,
)
from tests.support.harness import DROPPED, eventually, expect_close


@pytest.mark.parametrize("intervals", [False, True])
async def test_book_deltas_chain_and_rebuild_the_engine_book(intervals):
    async with (
        bybit_sim(options={"book_intervals": intervals}) as sim,
        aiohttp.ClientSession() as s,
    ):
        stream = await public(s, sim)
        await stream.subscribe(
            "orderbook.50.BTCUSDT", "orderbook.200.BTCUSDT", "orderbook.1.BTCUSDT"
        )
        books = {depth: BookChecker() for depth in (1, 50, 200)}
        for _ in range(10):
            sim.advance(0.3)
            await asyncio.sleep(0.02)  # pacing: book_intervals push on real time
        await drain_books(stream, {f"orderbook.{d}.BTCUSDT": c for d, c in books.items()})
        for depth, checker in books.items():
            bids, asks = sim.engine.book(VENUE, "BTCUSDT", depth)
            assert checker.top(depth) == (bids, asks), depth
            assert checker.messages > 2
        kinds = {m["type"] for m in stream.seen if m.get("topic") == "orderbook.1.BTCUSDT"}
        assert kinds == {"snapshot"}
        assert {m["type"] for m in stream.seen if m.get("topic") == "orderbook.50.BTCUSDT"} == {
            "snapshot",
            "delta",
        }


async def test_depth_one_repeats_its_snapshot_with_the_same_u():
    async with bybit_sim(options={"depth1_resend": 0.3}) as sim, aiohttp.ClientSession() as s:
        stream = await public(s, sim)
        await stream.subscribe("orderbook.1.ETHUSDT")
        first = await stream.expect(topic_is("orderbook.1.ETHUSDT"))
        again = await stream.expect(topic_is("orderbook.1.ETHUSDT"), timeout=2.0)
        assert again["type"] == "snapshot"
        assert again["data"]["u"] == first["data"]["u"]
        assert again["data"]["b"] == first["data"]["b"] and again["data"]["a"] == first["data"]["a"]


async def test_skip_book_sequence_makes_u_jump():
    async with bybit_sim() as sim, aiohttp.ClientSession() as s:
        stream = await public(s, sim)
        await stream.subscribe("orderbook.50.BTCUSDT")
        snapshot = await stream.expect(topic_is("orderbook.50.BTCUSDT"))
        sim.faults[VENUE].update(skip_book_sequence=1)
        sim.advance(0.5)
        delta = await stream.expect(topic_is("orderbook.50.BTCUSDT"))
        assert delta["data"]["u"] == snapshot["data"]["u"] + 2
        checker = BookChecker()
        checker.apply(snapshot)
        with pytest.raises(AssertionError, match="u gap"):
            checker.apply(delta)


async def test_simulated_restart_sends_a_u_one_snapshot():
    async with bybit_sim() as sim, aiohttp.ClientSession() as s:
        stream = await public(s, sim)
        await stream.subscribe("orderbook.50.BTCUSDT")
        checker = BookChecker()
        checker.apply(await stream.expect(topic_is("orderbook.50.BTCUSDT")))
        sim.advance(0.5)
        await drain_book(stream, "orderbook.50.BTCUSDT", checker)
        assert checker.u > 1
        sim.faces[VENUE].configure({"restart_books": True})
        restart = await stream.expect(topic_is("orderbook.50.BTCUSDT"))
        assert (restart["type"], restart["data"]["u"]) == ("snapshot", 1)
        checker.apply(restart)
        sim.advance(0.5)
        await drain_book(stream, "orderbook.50.BTCUSDT", checker)
        assert checker.top(50) == sim.engine.book(VENUE, "BTCUSDT", 50)


async def test_subscription_rules():
    async with bybit_sim(warm=0) as sim, aiohttp.ClientSession() as s:
        spot = await public(s, sim, "spot")
        topics = [f"publicTrade.{sym}" for sym in ("BTCUSDT", "ETHUSDT")] * 6
        await spot.send({"op": "subscribe", "args": topics[:11]})
        reply = await spot.expect(lambda m: m.get("op") == "subscribe")
        assert (reply["success"], reply["ret_msg"]) == (False, "args size >10")
        assert (await spot.subscribe("orderbook.500.BTCUSDT"))["success"] is False
        assert (await spot.subscribe("orderbook.200.BTCUSDT"))["success"] is True
        again = await spot.subscribe("orderbook.200.BTCUSDT")
        assert (again["success"], again["ret_msg"]) == (
            False,
            "error:already subscribed,topic:orderbook.200.BTCUSDT",
        )
        inverse = await public(s, sim, "inverse")
        assert (await inverse.subscribe("orderbook.500.BTCUSD"))["success"] is True
        assert (await inverse.subscribe("orderbook.50.BTCUSDT"))["success"] is False
        await inverse.send({"op": "unsubscribe", "args": ["orderbook.500.BTCUSD"], "req_id": "u1"})
        reply = await inverse.expect(lambda m: m.get("op") == "unsubscribe")
        assert (reply["success"], reply["req_id"]) == (True, "u1")


async def test_idle_connections_are_cut_and_pings_keep_them():
    async with (
        # 0.8 s idle limit against a ping every 0.1 s: room for a loaded machine's stalls
        bybit_sim(options={"idle_timeout": 0.8}, warm=0) as sim,
        aiohttp.ClientSession() as s,
    ):
        idle = await public(s, sim)
        kept = await public(s, sim)
        loop = asyncio.get_running_loop()
        end = loop.time() + 1.6
        while loop.time() < end:
            await kept.send({"op": "ping"})
            await kept.expect(lambda m: m.get("op") == "ping")
            await asyncio.sleep(0.1)  # pacing the pings, not waiting for one
        await expect_close(idle.ws, 1000, timeout=2.0)  # the idle limit: a normal close
        assert not kept.ws.closed
        assert (await kept.subscribe("tickers.BTCUSDT"))["success"] is True


async def test_private_max_active_time_is_parsed():
    async with (
        bybit_sim(options={"idle_timeout": 0.3}, warm=0) as sim,
        aiohttp.ClientSession() as s,
    ):
        stream = await private(s, sim, url_suffix="?max_active_time=1m")
        face = sim.faces[VENUE]
        [conn] = [c for c in face._conns if c.private]
        assert conn.idle_timeout == 0.3
        face.configure({"idle_timeout": 600})
        other = await private(s, sim, url_suffix="?max_active_time=45s")
        assert sorted(c.idle_timeout for c in face._conns if c.private) == [0.3, 45.0]
        await stream.ws.close()
        await other.ws.close()


async def test_private_pushes_go_only_to_their_account():
    async with bybit_sim() as sim, aiohttp.ClientSession() as s:
        alice = await private(s, sim, "order")
        bob = Stream(await s.ws_connect(sim.urls[VENUE]["ws_private"]))
        await bob.auth(BOB)
        await bob.subscribe("order")
        rest = Rest(s, sim.urls[VENUE]["rest"], ALICE)
        bid, _ = await best(rest, "linear", "BTCUSDT")
        await rest.post(
            "/v5/order/create",
            {
                "category": "linear",
                "symbol": "BTCUSDT",
                "side": "Buy",
                "orderType": "Limit",
                "qty": "0.001",
                "price": str(bid - 100),
            },
        )
        pushed = await alice.expect(topic_is("order"))
        assert pushed["data"][0]["orderStatus"] == "New"
        await bob.send({"req_id": "after", "op": "ping"})
        pong = await bob.expect(lambda m: m.get("op") == "pong" or m.get("req_id") == "after")
        assert pong["req_id"] == "after"  # a round trip: a push queued for bob came before it
        assert [m for m in bob.seen if m.get("topic") == "order"] == []


async def test_duplicate_and_reorder_private_faults():
    async with bybit_sim() as sim, aiohttp.ClientSession() as s:
        stream = await private(s, sim, "order")
        rest = Rest(s, sim.urls[VENUE]["rest"], ALICE)
        bid, _ = await best(rest, "linear", "BTCUSDT")

        async def place(link: str) -> None:
            await rest.post(
                "/v5/order/create",
                {
                    "category": "linear",
                    "symbol": "BTCUSDT",
                    "side": "Buy",
                    "orderType": "Limit",
                    "qty": "0.001",
                    "price": str(bid - 100),
                    "orderLinkId": link,
                },
            )

        sim.faults[VENUE].update(duplicate_private=1)
        await place("dup-a")
        first = await stream.expect(topic_is("order"))
        second = await stream.expect(topic_is("order"))
        assert first == second and first["data"][0]["orderLinkId"] == "dup-a"

        sim.faults[VENUE].update(reorder_private=1)
        await place("re-1")
        await place("re-2")
        links = [
            (await stream.expect(topic_is("order")))["data"][0]["orderLinkId"] for _ in range(2)
        ]
        assert links == ["re-2", "re-1"]


async def test_drop_ws_closes_every_socket():
    async with bybit_sim(warm=0) as sim, aiohttp.ClientSession() as s:
        streams = [await public(s, sim), await public(s, sim, "spot"), await private(s, sim)]
        sim.faults[VENUE].drop_ws()
        for stream in streams:
            await expect_close(stream.ws, DROPPED, timeout=1.0)
        assert sim.faces[VENUE]._conns == set()


async def test_dcp_cancels_after_the_private_dcp_stream_is_gone_for_the_window():
    # a 1 s window (4 s scaled): time to reconnect on a loaded machine before it runs out
    async with bybit_sim(options={"dcp_time_scale": 0.25}) as sim, aiohttp.ClientSession() as s:
        rest = Rest(s, sim.urls[VENUE]["rest"], ALICE)
        bid, _ = await best(rest, "linear", "BTCUSDT")
        _, reply, _ = await rest.post(
            "/v5/order/disconnected-cancel-all", {"timeWindow": 4, "product": "DERIVATIVES"}
        )
        assert (reply["retCode"], reply["retMsg"]) == (0, "success")
        _, reply, _ = await rest.post("/v5/order/disconnected-cancel-all", {"timeWindow": 2})
        assert reply["retCode"] == 10001
        for link in ("dcp-1", "dcp-2"):
            await rest.post(
                "/v5/order/create",
                {
                    "category": "linear",
                    "symbol": "BTCUSDT",
                    "side": "Buy",
                    "orderType": "Limit",
                    "qty": "0.001",
                    "price": str(bid - 100),
                    "orderLinkId": link,
                },
            )
        face = sim.faces[VENUE]
        stream = await private(s, sim, "dcp", "order")
        await stream.ws.close()
        await eventually(lambda: face._dcp[ALICE.api_key].timer is not None)  # armed
        reconnected = await private(s, sim, "dcp")
        assert face._dcp[ALICE.api_key].timer is None  # the new dcp stream disarmed it
        _, open_orders, _ = await rest.get(
            "/v5/order/realtime", {"category": "linear", "symbol": "BTCUSDT"}
        )
        assert len(open_orders["result"]["list"]) == 2
        await reconnected.ws.close()
        await eventually(lambda: not sim.engine.open_orders(VENUE, ALICE.api_key))
        _, open_orders, _ = await rest.get(
            "/v5/order/realtime", {"category": "linear", "symbol": "BTCUSDT"}
        )
        assert open_orders["result"]["list"] == []
        _, history, _ = await rest.get("/v5/order/history", {"category": "linear"})
        assert {o["cancelType"] for o in history["result"]["list"]} == {"CancelByDCP"}


async def test_tickers_linear_delta_carries_only_changes_and_spot_sends_snapshots():
    async with bybit_sim() as sim, aiohttp.ClientSession() as s:
        linear = await public(s, sim)
        await linear.subscribe("tickers.BTCUSDT")
        snapshot = await linear.expect(topic_is("tickers.BTCUSDT"))
        spot = await public(s, sim, "spot")
        await spot.subscribe("tickers.BTCUSDT")
        await spot.expect(topic_is("tickers.BTCUSDT"))
        sim.advance(0.5)
        delta = await linear.expect(topic_is("tickers.BTCUSDT"))
        assert delta["type"] == "delta"
        assert delta["data"]["symbol"] == "BTCUSDT"
        assert set(delta["data"]) < set(snapshot["data"])
        assert all(snapshot["data"][k] != v for k, v in delta["data"].items() if k != "symbol")
        later = await spot.expect(topic_is("tickers.BTCUSDT"))
        assert later["type"] == "snapshot"
        assert Decimal(later["data"]["lastPrice"]) > 0


async def test_books_chain_while_the_timed_generator_runs():
    async with bybit_sim(options={"book_intervals": True}) as sim, aiohttp.ClientSession() as s:
        sim.generator_running = True
        stream = await public(s, sim)
        topics = {f"orderbook.{d}.BTCUSDT": BookChecker() for d in (1, 50, 200)}
        topics["orderbook.50.ETHUSDT"] = BookChecker()
        await stream.subscribe(*topics)
        loop = asyncio.get_running_loop()
        end = loop.time() + 1.5
        while loop.time() < end:
            message = await stream.expect(lambda m: m.get("topic") in topics)
            topics[message["topic"]].apply(message)
        sim.generator_running = False
        await drain_books(stream, topics)
        for topic, checker in topics.items():
            _, depth, symbol = topic.split(".")
            assert checker.top(int(depth)) == sim.engine.book(VENUE, symbol, int(depth)), topic
            assert checker.messages > 5, topic


async def test_dcp_needs_the_dcp_topic_and_spares_other_products():
    async with bybit_sim(options={"dcp_time_scale": 0.05}) as sim, aiohttp.ClientSession() as s:
        rest = Rest(s, sim.urls[VENUE]["rest"], ALICE)
        bid, _ = await best(rest, "linear", "BTCUSDT")
        spot_bid, _ = await best(rest, "spot", "BTCUSDT")
        await rest.post("/v5/order/disconnected-cancel-all", {"timeWindow": 3, "product": "SPOT"})
        await rest.post(
            "/v5/order/create",
            {
                "category": "linear",
                "symbol": "BTCUSDT",
                "side": "Buy",
                "orderType": "Limit",
                "qty": "0.001",
                "price": str(bid - 100),
            },
        )
        await rest.post(
            "/v5/order/create",
            {
                "category": "spot",
                "symbol": "BTCUSDT",
                "side": "Buy",
                "orderType": "Limit",
                "qty": "0.001",
                "price": str(spot_bid - 100),
            },
        )
        face = sim.faces[VENUE]
        plain = await private(s, sim, "order")
        await plain.ws.close()
        await eventually(lambda: not face._conns)
        assert all(dcp.timer is None for dcp in face._dcp.values())  # no dcp topic, no countdown
        assert len(sim.engine.open_orders(VENUE, ALICE.api_key)) == 2
        watched = await private(s, sim, "dcp.spot")
        await watched.ws.close()
        await eventually(lambda: len(sim.engine.open_orders(VENUE, ALICE.api_key)) < 2)
        left = sim.engine.open_orders(VENUE, ALICE.api_key)
        assert [o.symbol for o in left] == ["BTCUSDT"]


async def test_drop_probability_cuts_a_socket_instead_of_sending():
    async with (
        bybit_sim(faults={"drop_ws_probability": 1.0}, warm=0) as sim,
        aiohttp.ClientSession() as s,
    ):
        stream = await public(s, sim)
        await stream.send({"op": "ping"})
        await expect_close(stream.ws, DROPPED, timeout=1.0)
        assert sim.faults[VENUE].fired["drop_ws_probability"] == 1


async def test_a_late_ticker_subscriber_gets_the_current_snapshot():
    async with bybit_sim() as sim, aiohttp.ClientSession() as s:
        first = await public(s, sim)
        await first.subscribe("tickers.ETHUSDT")
        early = await first.expect(topic_is("tickers.ETHUSDT"))
        await first.ws.close()
        await eventually(lambda: not sim.faces[VENUE]._conns)
        sim.advance(3.0)
        late = await public(s, sim)
        await late.subscribe("tickers.ETHUSDT")
        snapshot = await late.expect(topic_is("tickers.ETHUSDT"))
        ticker = sim.engine.ticker(VENUE, "ETHUSDT")
        assert snapshot["data"]["markPrice"] == str(ticker.mark_price.quantize(Decimal("0.01")))
        assert snapshot["data"]["markPrice"] != early["data"]["markPrice"]


async def test_refused_connections_then_served_again():
    async with bybit_sim(warm=0) as sim, aiohttp.ClientSession() as s:
        sim.faults[VENUE].update(refuse_connections=True)
        with pytest.raises(aiohttp.ClientError):
            await s.ws_connect(sim.urls[VENUE]["ws_public"] + "/linear")
        with pytest.raises(aiohttp.ClientError):
            await s.get(sim.urls[VENUE]["rest"] + "/v5/market/time")
        sim.faults[VENUE].update(refuse_connections=False)
        stream = await public(s, sim)
        await stream.send({"op": "ping", "req_id": "back"})
        assert (await stream.expect(lambda m: m.get("op") == "ping"))["req_id"] == "back"


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
            assert await expect_close(trade.ws, DROPPED, timeout=2) == []  # no answer at all
            _, found, _ = await rest.get(
                "/v5/order/realtime", {"category": "linear", "orderLinkId": "ws-lost"}
            )
            assert [o["orderStatus"] for o in found["result"]["list"]] == ["New"]
