"""Every message type the Bybit face sends has the shape of the recorded Bybit payload
(bybit/wire.py).

Recorded payloads: tests/fixtures/venues/bybit (SOURCES.md) and tests/fixtures/venues/bybit
(docs examples: SOURCES.md for rest_*_docs.json, SOURCES_SIM.md for sim_*.json). Two
documented deviations from a strict comparison, applied only where named:

- `extras`: keys the face sends beyond a recorded payload because the newer official docs
  example has them (e.g. `cts` on books, `category` in order lists);
- a `null` in a recorded payload where Bybit's docs give the field as a string (nautilus wrote
  `avgPrice: null`, the docs say `""` when there is no average price) accepts a string."""

from __future__ import annotations

from decimal import Decimal

import aiohttp

from tests.support.bybit import ALICE, BOB, VENUE, Rest, Stream, best, bybit_sim, conform, topic_is


async def test_market_data_rest_has_the_recorded_shapes():
    async with bybit_sim() as sim, aiohttp.ClientSession() as session:
        rest = Rest(session, sim.urls[VENUE]["rest"], ALICE)
        _, body, _ = await rest.get("/v5/market/time", signed=False)
        conform(body, "rest_server_time_docs")

        _, linear, _ = await rest.get(
            "/v5/market/instruments-info", {"category": "linear"}, signed=False
        )
        assert [row["symbol"] for row in linear["result"]["list"]] == ["BTCUSDT", "ETHUSDT"]
        conform(linear, "rest_instruments_info_linear_docs")
        docs_only = {
            "category",
            "copyTrading",
            "upperFundingRate",
            "lowerFundingRate",
            "isPreListing",
            "preListingInfo",
            "riskParameters",
            "symbolType",
        }
        conform(linear, "rest_instruments_info_linear", docs_only)

        _, inverse, _ = await rest.get(
            "/v5/market/instruments-info", {"category": "inverse"}, signed=False
        )
        assert [r["contractType"] for r in inverse["result"]["list"]] == ["InversePerpetual"]
        conform(inverse, "rest_instruments_info_linear_docs")

        _, spot, _ = await rest.get(
            "/v5/market/instruments-info", {"category": "spot"}, signed=False
        )
        # the docs' spot example has no nextPageCursor, the recorded live-style one has ""
        conform(spot, "rest_instruments_info_spot_docs", {"nextPageCursor"})
        conform(
            spot,
            "rest_instruments_info_spot",
            {
                "category",
                "stTag",
                "maxLimitOrderQty",
                "maxMarketOrderQty",
                "postOnlyMaxLimitOrderSize",
                "riskParameters",
                "symbolType",
            },
        )

        for category, name in (
            ("inverse", "rest_tickers_inverse_docs"),
            ("linear", "rest_tickers_inverse_docs"),
            ("spot", "rest_tickers_spot_docs"),
        ):
            _, body, _ = await rest.get("/v5/market/tickers", {"category": category}, signed=False)
            assert body["retCode"] == 0
            conform(body, name)

        _, book, _ = await rest.get(
            "/v5/market/orderbook", {"category": "linear", "symbol": "BTCUSDT"}, signed=False
        )
        assert len(book["result"]["b"]) == 20 and len(book["result"]["a"]) == 20
        conform(book, "rest_orderbook", {"retExtInfo"})


async def test_trading_rest_has_the_recorded_shapes():
    async with bybit_sim() as sim, aiohttp.ClientSession() as session:
        alice = Rest(session, sim.urls[VENUE]["rest"], ALICE)
        bob = Rest(session, sim.urls[VENUE]["rest"], BOB)
        bid, ask = await best(alice, "linear", "BTCUSDT")
        price = str(bid + Decimal("0.5"))
        _, created, _ = await alice.post(
            "/v5/order/create",
            {
                "category": "linear",
                "symbol": "BTCUSDT",
                "side": "Buy",
                "orderType": "Limit",
                "qty": "0.010",
                "price": price,
                "orderLinkId": "conf-1",
            },
        )
        assert created["retCode"] == 0
        conform(created, "rest_order_create_docs")
        _, filled, _ = await bob.post(
            "/v5/order/create",
            {
                "category": "linear",
                "symbol": "BTCUSDT",
                "side": "Sell",
                "orderType": "Limit",
                "qty": "0.004",
                "price": price,
                "timeInForce": "IOC",
            },
        )
        assert filled["retCode"] == 0

        _, amended, _ = await alice.post(
            "/v5/order/amend",
            {"category": "linear", "symbol": "BTCUSDT", "orderLinkId": "conf-1", "qty": "0.008"},
        )
        assert amended["retCode"] == 0
        conform(amended, "rest_order_amend_docs")

        _, realtime, _ = await alice.get(
            "/v5/order/realtime", {"category": "linear", "symbol": "BTCUSDT"}
        )
        assert [o["orderLinkId"] for o in realtime["result"]["list"]] == ["conf-1"]
        conform(realtime, "rest_order_realtime", {"category", "createType"})

        _, executions, _ = await alice.get("/v5/execution/list", {"category": "linear"})
        assert executions["result"]["list"][0]["execQty"] == "0.004"
        conform(executions, "rest_execution_list_docs")

        _, positions, _ = await alice.get(
            "/v5/position/list", {"category": "linear", "symbol": "BTCUSDT"}
        )
        assert positions["result"]["list"][0]["size"] == "0.004"
        conform(positions, "rest_position_list")

        _, wallet, _ = await alice.get("/v5/account/wallet-balance", {"accountType": "UNIFIED"})
        conform(wallet, "rest_wallet_balance")

        _, canceled, _ = await alice.post(
            "/v5/order/cancel", {"category": "linear", "symbol": "BTCUSDT", "orderLinkId": "conf-1"}
        )
        conform(canceled, "rest_order_cancel_docs")

        _, history, _ = await alice.get("/v5/order/history", {"category": "linear"})
        assert history["result"]["list"][0]["orderStatus"] == "Cancelled"
        conform(history, "rest_order_realtime", {"category", "createType"})

        await alice.post(
            "/v5/order/create",
            {
                "category": "linear",
                "symbol": "BTCUSDT",
                "side": "Sell",
                "orderType": "Limit",
                "qty": "0.001",
                "price": str(ask + 500),
            },
        )
        _, cancel_all, _ = await alice.post(
            "/v5/order/cancel-all", {"category": "linear", "settleCoin": "USDT"}
        )
        assert len(cancel_all["result"]["list"]) == 1
        conform(cancel_all, "rest_order_cancel_all_docs")

        _, dcp, _ = await alice.post("/v5/order/disconnected-cancel-all", {"timeWindow": 10})
        conform(dcp, "rest_dcp_docs")


async def test_public_stream_messages_have_the_recorded_shapes():
    async with bybit_sim() as sim, aiohttp.ClientSession() as session:
        linear = Stream(await session.ws_connect(sim.urls[VENUE]["ws_public"] + "/linear"))
        ack = await linear.subscribe(
            "orderbook.50.BTCUSDT",
            "publicTrade.BTCUSDT",
            "tickers.BTCUSDT",
            req_id="sub-orderbook-1",
        )
        conform(ack, "ws_subscription_ack")
        snapshot = await linear.expect(topic_is("orderbook.50.BTCUSDT"))
        assert snapshot["type"] == "snapshot"
        conform(snapshot, "ws_orderbook_snapshot", {"cts"})
        ticker = await linear.expect(topic_is("tickers.BTCUSDT"))
        assert ticker["type"] == "snapshot"
        conform(ticker, "ws_tickers")
        printed = sim.engine.recent_trades(VENUE, "BTCUSDT", 1)
        sim.advance(2.0)
        sim.advance_until(
            lambda: sim.engine.recent_trades(VENUE, "BTCUSDT", 1) != printed, limit=30.0
        )
        delta = await linear.expect(
            lambda m: m.get("topic") == "orderbook.50.BTCUSDT" and m["type"] == "delta"
        )
        conform(delta, "ws_orderbook_delta", {"cts"})
        trades = [m for m in linear.seen if m.get("topic") == "publicTrade.BTCUSDT"]
        trade = trades[0] if trades else await linear.expect(topic_is("publicTrade.BTCUSDT"))
        conform(trade, "ws_publicTrade")

        await linear.send({"op": "subscribe", "args": ["invalid.topic.BTCUSDT"]})
        failure = await linear.expect(lambda m: m.get("success") is False)
        assert failure["ret_msg"] == "Invalid topic: invalid.topic.BTCUSDT"
        conform(failure, "ws_subscription_failure", {"req_id"})
        await linear.send({"op": "ping"})
        conform(await linear.expect(lambda m: m.get("op") == "ping"), "sim_ws_pong_public_linear")

        spot = Stream(await session.ws_connect(sim.urls[VENUE]["ws_public"] + "/spot"))
        conform(
            await spot.subscribe("tickers.BTCUSDT", req_id="10001"), "sim_ws_subscription_ack_spot"
        )
        conform(await spot.expect(topic_is("tickers.BTCUSDT")), "sim_ws_tickers_spot")
        await spot.send({"op": "ping"})
        conform(await spot.expect(lambda m: m.get("op") == "ping"), "sim_ws_pong_public_spot")

        option = Stream(await session.ws_connect(sim.urls[VENUE]["ws_public"] + "/option"))
        await option.send({"op": "ping"})
        conform(await option.expect(lambda m: m.get("op") == "pong"), "sim_ws_pong_public_option")


async def test_private_stream_messages_have_the_recorded_shapes():
    async with bybit_sim() as sim, aiohttp.ClientSession() as session:
        rest = Rest(session, sim.urls[VENUE]["rest"], ALICE)
        private = Stream(await session.ws_connect(sim.urls[VENUE]["ws_private"]))
        conform(await private.auth(ALICE), "ws_auth_success", {"req_id"})
        await private.send(
            {"op": "subscribe", "args": ["order", "execution", "position", "wallet"]}
        )
        conform(
            await private.expect(lambda m: m.get("op") == "subscribe"),
            "sim_ws_subscription_ack_private",
        )
        await private.send({"req_id": "test", "op": "ping"})
        conform(await private.expect(lambda m: m.get("op") == "pong"), "sim_ws_pong_private")

        await rest.post(
            "/v5/order/create",
            {
                "category": "linear",
                "symbol": "BTCUSDT",
                "side": "Buy",
                "orderType": "Market",
                "qty": "0.002",
            },
        )
        conform(await private.expect(topic_is("order")), "ws_order")
        conform(await private.expect(topic_is("execution")), "ws_execution")
        conform(await private.expect(topic_is("position")), "ws_position")
        # `accountType` is newer than the recorded push (fixtures SOURCES_SIM.md)
        conform(await private.expect(topic_is("wallet")), "ws_wallet", {"accountType"})

        stranger = Stream(await session.ws_connect(sim.urls[VENUE]["ws_private"]))
        await stranger.send({"op": "auth", "args": ["no-such-key", 4102444800000, "00"]})
        conform(await stranger.expect(lambda m: m.get("op") == "auth"), "ws_auth_failure")
