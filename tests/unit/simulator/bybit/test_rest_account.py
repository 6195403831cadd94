"""The account reads ccxt makes before balances and orders: API key information, account info,
coin info; and position lists without a symbol (bybit/rest_account.py)."""

from __future__ import annotations

import aiohttp

from tests.support.bybit import ALICE, VENUE, Rest, bybit_sim


async def test_api_key_and_account_info_describe_a_unified_trade_account():
    async with bybit_sim() as sim, aiohttp.ClientSession() as s:
        rest = Rest(s, sim.urls[VENUE]["rest"], ALICE)
        _, key, _ = await rest.get("/v5/user/query-api")
        assert key["retCode"] == 0
        info = key["result"]
        assert (info["apiKey"], info["readOnly"], info["unified"], info["uta"]) == (
            ALICE.api_key,
            0,
            0,
            1,
        )
        assert info["permissions"]["Spot"] == ["SpotTrade"]
        assert isinstance(info["userID"], int) and info["isMaster"] is True

        _, account, _ = await rest.get("/v5/account/info")
        assert {k: account["result"][k] for k in ("unifiedMarginStatus", "marginMode")} == {
            "unifiedMarginStatus": 5,
            "marginMode": "REGULAR_MARGIN",
        }
        assert account["result"]["dcpStatus"] == "OFF"
        await rest.post("/v5/order/disconnected-cancel-all", {"timeWindow": 30})
        _, account, _ = await rest.get("/v5/account/info")
        assert (account["result"]["dcpStatus"], account["result"]["timeWindow"]) == ("ON", 30)

        status, unsigned, _ = await rest.get("/v5/account/info", signed=False)
        assert unsigned["retCode"] != 0, (status, unsigned)


async def test_coin_info_lists_every_coin_with_its_chains():
    async with bybit_sim() as sim, aiohttp.ClientSession() as s:
        rest = Rest(s, sim.urls[VENUE]["rest"], ALICE)
        _, every, _ = await rest.get("/v5/asset/coin/query-info")
        rows = every["result"]["rows"]
        assert [r["coin"] for r in rows] == ["BTC", "ETH", "USDT", "USDC"]
        assert [c["chainType"] for c in rows[2]["chains"]] == ["ERC20", "TRC20"]
        _, one, _ = await rest.get("/v5/asset/coin/query-info", {"coin": "BTC"})
        (btc,) = one["result"]["rows"]
        assert (btc["chains"][0]["chain"], btc["chains"][0]["minAccuracy"]) == ("BTC", "8")


async def test_position_list_needs_a_symbol_or_settle_coin_only_for_linear():
    async with bybit_sim() as sim, aiohttp.ClientSession() as s:
        rest = Rest(s, sim.urls[VENUE]["rest"], ALICE)
        _, linear, _ = await rest.get("/v5/position/list", {"category": "linear"})
        assert (linear["retCode"], linear["retMsg"]) == (
            10001,
            "Missing some parameters that must be filled in, symbol or settleCoin",
        )
        _, inverse, _ = await rest.get("/v5/position/list", {"category": "inverse"})
        assert (inverse["retCode"], inverse["result"]["list"]) == (0, [])
