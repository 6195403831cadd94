"""Bybit signing as the face checks it: the documentation's vectors pass, one altered byte fails
with Bybit's own code; the recv window; keys; rate limits and their headers (bybit/auth.py)."""

from __future__ import annotations

import aiohttp

from exchanges.simulator.market.generator import build_engine
from exchanges.venues.base import Credentials
from tests.plugins.venues import load_payload
from tests.support.bybit import ALICE, VENUE, Rest, Stream, bybit_sim, fixed_clock, now_ms

VECTORS = load_payload("bybit", "signing_example_rest")


WS_VECTOR = load_payload("bybit", "signing_example_ws_auth")


DOCS = load_payload("bybit", "signing_example_docs_prehash")


VECTOR_KEY = Credentials(api_key=VECTORS[0]["api_key"], secret=VECTORS[0]["secret"])


def vector_headers(vector: dict, signature: str | None = None) -> dict:
    return {
        "X-BAPI-API-KEY": vector["api_key"],
        "X-BAPI-TIMESTAMP": vector["timestamp"],
        "X-BAPI-SIGN": signature or vector["expected_signature"],
        "X-BAPI-RECV-WINDOW": vector["recv_window"],
    }


def altered(signature: str) -> str:
    return ("0" if signature[0] != "0" else "1") + signature[1:]


async def test_rest_signing_vectors_are_accepted_and_one_altered_byte_is_not():
    engine = build_engine(seed=7, clock_ns=fixed_clock(int(VECTORS[0]["timestamp"]) + 200))
    async with bybit_sim(engine=engine, accounts=[VECTOR_KEY]) as sim, aiohttp.ClientSession() as s:
        rest = Rest(s, sim.urls[VENUE]["rest"], None)
        get, post = VECTORS
        _, body, _ = await rest.get(
            "/v5/order/realtime?" + get["payload"], headers=vector_headers(get)
        )
        assert (body["retCode"], body["retMsg"], body["result"]["list"]) == (0, "OK", [])
        _, body, _ = await rest.get(
            "/v5/order/realtime?" + get["payload"],
            headers=vector_headers(get, altered(get["expected_signature"])),
        )
        assert body["retCode"] == 10004
        assert body["retMsg"] == f"error sign! origin_string[{get['prehash']}]"

        _, body, _ = await rest.post(
            "/v5/order/cancel", post["payload"], headers=vector_headers(post)
        )
        assert (body["retCode"], body["retMsg"]) == (
            110001,
            "order not exists or too late to cancel",
        )
        tampered = post["payload"].replace("test-order-1", "test-order-2")
        _, body, _ = await rest.post("/v5/order/cancel", tampered, headers=vector_headers(post))
        assert body["retCode"] == 10004


async def test_the_face_builds_the_documented_prehash():
    """The docs publish the prehash but not the secret: the 10004 answer names the string signed."""
    docs_key = Credentials(api_key=DOCS[0]["api_key"], secret="not-published")
    for case in DOCS:
        engine = build_engine(seed=7, clock_ns=fixed_clock(int(case["timestamp"]) + 100))
        async with bybit_sim(engine=engine, accounts=[docs_key], warm=0) as sim:
            async with aiohttp.ClientSession() as s:
                rest = Rest(s, sim.urls[VENUE]["rest"], None)
                headers = vector_headers(case)
                if case["case"] == "GET":
                    _, body, _ = await rest.get(
                        "/v5/order/realtime?" + case["queryString"], headers=headers
                    )
                else:
                    _, body, _ = await rest.post(
                        "/v5/order/create", case["jsonBodyString"], headers=headers
                    )
        assert body["retCode"] == 10004
        assert body["retMsg"] == f"error sign! origin_string[{case['prehash']}]"


async def test_recv_window_bounds_follow_the_documented_rule():
    server = 1_790_000_000_000
    engine = build_engine(seed=7, clock_ns=fixed_clock(server))
    async with bybit_sim(engine=engine, warm=0) as sim, aiohttp.ClientSession() as s:
        rest = Rest(s, sim.urls[VENUE]["rest"], ALICE)
        params = "accountType=UNIFIED"

        async def code(ts: int, recv_window: str = "5000") -> int:
            headers = rest.headers(params, ts=ts, recv_window=recv_window)
            _, body, _ = await rest.get("/v5/account/wallet-balance?" + params, headers=headers)
            return body["retCode"]

        assert await code(server - 5000) == 0
        assert await code(server - 5001) == 10002
        assert await code(server + 999) == 0
        assert await code(server + 1000) == 10002
        assert await code(server - 20_000, recv_window="20000") == 0
        headers = rest.headers(params, ts=server - 6000)
        _, body, _ = await rest.get("/v5/account/wallet-balance?" + params, headers=headers)
        assert body["retMsg"] == (
            "invalid request, please check your server timestamp or recv_window param. "
            f"req_timestamp[{server - 6000}],server_timestamp[{server}],recv_window[5000]"
        )


async def test_unknown_and_missing_keys():
    async with bybit_sim(warm=0) as sim, aiohttp.ClientSession() as s:
        stranger = Rest(s, sim.urls[VENUE]["rest"], Credentials(api_key="nobody", secret="x"))
        status, body, _ = await stranger.get(
            "/v5/account/wallet-balance", {"accountType": "UNIFIED"}
        )
        assert (status, body["retCode"], body["retMsg"]) == (200, 10003, "API key is invalid.")
        status, body, _ = await stranger.get(
            "/v5/account/wallet-balance", {"accountType": "UNIFIED"}, headers={}
        )
        assert (status, body["retCode"]) == (401, 10003)


async def test_ws_auth_vector_is_accepted_and_bad_or_stale_signatures_are_not():
    engine = build_engine(seed=7, clock_ns=fixed_clock(WS_VECTOR["expires"] - 1000))
    async with bybit_sim(engine=engine, accounts=[VECTOR_KEY], warm=0) as sim:
        async with aiohttp.ClientSession() as s:
            url = sim.urls[VENUE]["ws_private"]
            good = Stream(await s.ws_connect(url))
            await good.send(
                {
                    "op": "auth",
                    "args": [
                        VECTOR_KEY.api_key,
                        WS_VECTOR["expires"],
                        WS_VECTOR["expected_signature"],
                    ],
                }
            )
            reply = await good.expect(lambda m: m.get("op") == "auth")
            assert (reply["success"], reply["retCode"]) == (True, 0)

            bad = Stream(await s.ws_connect(url))
            await bad.send(
                {
                    "op": "auth",
                    "args": [
                        VECTOR_KEY.api_key,
                        WS_VECTOR["expires"],
                        altered(WS_VECTOR["expected_signature"]),
                    ],
                }
            )
            reply = await bad.expect(lambda m: m.get("op") == "auth")
            assert (reply["success"], reply["retCode"], reply["retMsg"]) == (
                False,
                10004,
                "Invalid sign",
            )
            await bad.subscribe("order")
            assert bad.seen[-1]["success"] is False
            assert bad.seen[-1]["ret_msg"] == "Request not authorized"

    async with bybit_sim(warm=0) as sim, aiohttp.ClientSession() as s:
        stale = Stream(await s.ws_connect(sim.urls[VENUE]["ws_private"]))
        reply = await stale.auth(ALICE, expires=now_ms() - 1)
        assert (reply["success"], reply["retCode"]) == (False, 10002)


async def test_rate_limit_per_uid_and_endpoint_with_headers_and_the_burst_fault():
    async with (
        bybit_sim(options={"rate_limits": True}, warm=0) as sim,
        aiohttp.ClientSession() as s,
    ):
        rest = Rest(s, sim.urls[VENUE]["rest"], ALICE)
        body = {"category": "linear", "symbol": "BTCUSDT", "orderLinkId": "nope"}
        answers = []
        for _ in range(11):
            _, reply, headers = await rest.post("/v5/order/cancel", body)
            answers.append(
                (reply["retCode"], headers.get("X-Bapi-Limit"), headers.get("X-Bapi-Limit-Status"))
            )
        assert answers[0] == (110001, "10", "9")
        assert answers[9] == (110001, "10", "0")
        assert answers[10] == (10006, "10", "0")
        _, reply, headers = await rest.get(
            "/v5/order/realtime", {"category": "linear", "symbol": "BTCUSDT"}
        )
        assert (reply["retCode"], headers["X-Bapi-Limit"], headers["X-Bapi-Limit-Status"]) == (
            0,
            "50",
            "49",
        )

        sim.faults[VENUE].update(rate_limit_burst=2)
        codes = []
        for _ in range(3):
            _, reply, _ = await rest.get(
                "/v5/order/realtime", {"category": "linear", "symbol": "BTCUSDT"}
            )
            codes.append((reply["retCode"], reply["retMsg"]))
        assert codes == [(10006, "Too many visits!"), (10006, "Too many visits!"), (0, "OK")]


async def test_ip_limit_answers_403_access_too_frequent():
    async with bybit_sim(warm=0) as sim, aiohttp.ClientSession() as s:
        url = sim.urls[VENUE]["rest"] + "/v5/market/time"
        statuses = []
        for _ in range(601):
            async with s.get(url) as response:
                statuses.append((response.status, await response.text()))
        assert {status for status, _ in statuses[:600]} == {200}
        assert statuses[600] == (403, "access too frequent")
