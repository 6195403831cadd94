"""Authentication (REST headers, WebSocket login; the signature recipe against the recorded
vector) and OKX's error answers, rate limits and WebSocket requests, over real sockets
(okx/auth.py, okx/errors.py, okx/ws.py)."""

from __future__ import annotations

import time
from datetime import datetime

import aiohttp
import orjson
import pytest

from exchanges.simulator.engine.records import CancelReason
from exchanges.simulator.market.generator import build_engine
from exchanges.simulator.okx.auth import sign
from exchanges.venues.base import Credentials, Venue
from tests.plugins.venues import load_payload
from tests.support.harness import DROPPED, expect_close
from tests.support.okx import (
    OkxRest,
    iso_timestamp,
    login_request,
    receive_json,
    receive_until,
    rest_headers,
    start_okx,
)

OKX = Venue.OKX


TIMEOUT = aiohttp.ClientTimeout(total=5)


@pytest.fixture
async def okx():
    simulator = await start_okx()
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        rest = OkxRest(session, simulator.urls[OKX]["rest"], simulator.credentials[OKX])
        yield simulator, session, rest
    await simulator.stop()


async def _get(session, url, headers):
    async with session.get(url, headers=headers) as response:
        return response.status, orjson.loads(await response.read())


async def test_the_documented_signed_request_is_accepted_and_one_altered_byte_is_not():
    vector = load_payload("okx", "signing_example_rest")
    stamp = datetime.fromisoformat(vector["timestamp"].replace("Z", "+00:00")).timestamp()
    engine = build_engine(seed=1, clock_ns=lambda: int(stamp * 1e9) + 2_000_000_000)
    creds = Credentials(vector["api_key"], vector["secret"], vector["passphrase"])
    simulator = await start_okx(engine=engine, accounts=[(OKX, creds)], warm_up=0)
    url = simulator.urls[OKX]["rest"] + vector["request_path"]
    headers = {
        "OK-ACCESS-KEY": vector["api_key"],
        "OK-ACCESS-SIGN": vector["expected_signature"],
        "OK-ACCESS-TIMESTAMP": vector["timestamp"],
        "OK-ACCESS-PASSPHRASE": vector["passphrase"],
    }
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            status, body = await _get(session, url, headers)
            assert (status, body["code"]) == (200, "0")
            assert {d["ccy"] for d in body["data"][0]["details"]} == {"USDT", "BTC", "ETH", "USD"}
            altered = {**headers, "OK-ACCESS-SIGN": "Q" + vector["expected_signature"][1:]}
            assert await _get(session, url, altered) == (
                401,
                {"code": "50113", "msg": "Invalid signature.", "data": []},
            )
            status, body = await _get(session, url + "?ccy=BTC", headers)  # query not signed
            assert (status, body["code"]) == (401, "50113")
    finally:
        await simulator.stop()


async def test_rest_header_errors_use_okx_codes(okx):
    simulator, session, _ = okx
    creds = simulator.credentials[OKX]
    url = simulator.urls[OKX]["rest"] + "/api/v5/account/balance"
    good = rest_headers(creds, "GET", "/api/v5/account/balance")
    cases = [
        ({**good, "OK-ACCESS-KEY": ""}, "50103"),
        ({**good, "OK-ACCESS-PASSPHRASE": ""}, "50104"),
        ({**good, "OK-ACCESS-TIMESTAMP": "yesterday"}, "50112"),
        (
            rest_headers(
                creds, "GET", "/api/v5/account/balance", timestamp=iso_timestamp(time.time() - 31)
            ),
            "50102",
        ),
        ({**good, "OK-ACCESS-KEY": "no-such-key"}, "50111"),
        ({**good, "OK-ACCESS-PASSPHRASE": "wrong"}, "50105"),
        (
            rest_headers(
                Credentials(creds.api_key, "other-secret", creds.passphrase),
                "GET",
                "/api/v5/account/balance",
            ),
            "50113",
        ),
    ]
    for headers, code in cases:
        status, body = await _get(session, url, headers)
        assert (status, body["code"], body["data"]) == (401, code, []), code
    status, body = await _get(session, url, good)
    assert (status, body["code"]) == (200, "0")


async def test_order_errors_come_per_order_or_as_parameter_errors(okx):
    _simulator, _, rest = okx
    order = {
        "instId": "BTC-USDT-SWAP",
        "tdMode": "cross",
        "side": "buy",
        "ordType": "limit",
        "px": "1000",
        "sz": "1",
    }
    status, body = await rest.post("/api/v5/trade/order", {**order, "sz": "100000000"})
    assert status == 200
    assert body["code"] == "1" and body["msg"] == "Operation failed."
    assert body["data"][0]["sCode"] == "51008"
    assert body["data"][0]["sMsg"] == "Order failed. Insufficient USDT margin in account"
    assert body["data"][0]["ordId"] == ""
    status, body = await rest.post("/api/v5/trade/order", {**order, "clOrdId": "not-alnum!"})
    assert (status, body) == (400, {"code": "51000", "msg": "Parameter clOrdId error", "data": []})
    status, body = await rest.post("/api/v5/trade/order", {**order, "clOrdId": "x" * 33})
    assert (status, body["code"]) == (400, "51000")
    status, body = await rest.post("/api/v5/trade/order", {**order, "instId": "DOGE-USDT-SWAP"})
    assert body["code"] == "51001"
    status, body = await rest.post("/api/v5/trade/order", {**order, "sz": "0.015"})
    assert body["data"][0]["sCode"] == "51121"
    status, body = await rest.post("/api/v5/trade/order", {**order, "sz": "0.001"})
    assert body["data"][0]["sCode"] == "51020"
    status, body = await rest.post("/api/v5/trade/order", {**order, "px": "1000.05"})
    assert body["data"][0]["sCode"] == "51000"
    tdless = {k: v for k, v in order.items() if k != "tdMode"}
    status, body = await rest.post("/api/v5/trade/order", tdless)
    assert (status, body["code"], body["msg"]) == (
        400,
        "50014",
        "Parameter tdMode can not be empty.",
    )
    status, body = await rest.post("/api/v5/trade/order", {**order, "clOrdId": "dup1"})
    assert body["code"] == "0"
    status, body = await rest.post("/api/v5/trade/order", {**order, "clOrdId": "dup1"})
    assert body["data"][0]["sCode"] == "51016"
    status, body = await rest.get("/api/v5/trade/order?instId=BTC-USDT-SWAP&ordId=123")
    assert body == {"code": "51603", "msg": "Order does not exist.", "data": []}
    status, body = await rest.post(
        "/api/v5/trade/cancel-order", {"instId": "BTC-USDT-SWAP", "ordId": "123"}
    )
    assert body["code"] == "1" and body["data"][0]["sCode"] == "51400"
    status, body = await rest.post(
        "/api/v5/trade/amend-order", {"instId": "BTC-USDT-SWAP", "ordId": "123", "newSz": "2"}
    )
    assert body["code"] == "1" and body["data"][0]["sCode"] == "51503"


async def test_post_only_that_would_take_is_accepted_then_canceled(okx):
    simulator, _, rest = okx
    ask = simulator.engine.book(OKX, "BTC-USDT-SWAP", 1)[1][0][0]
    status, body = await rest.post(
        "/api/v5/trade/order",
        {
            "instId": "BTC-USDT-SWAP",
            "tdMode": "cross",
            "side": "buy",
            "ordType": "post_only",
            "px": str(ask),
            "sz": "1",
            "clOrdId": "po1",
        },
    )
    assert (status, body["code"], body["data"][0]["sCode"]) == (200, "0", "0")
    status, order = await rest.get("/api/v5/trade/order?instId=BTC-USDT-SWAP&clOrdId=po1")
    assert status == 200
    got = order["data"][0]
    assert (got["state"], got["ordType"], got["cancelSource"], got["accFillSz"]) == (
        "canceled",
        "post_only",
        "31",
        "0",
    )
    key = simulator.credentials[OKX].api_key
    [recorded] = simulator.engine.orders(OKX, key, "BTC-USDT-SWAP")
    assert (recorded.order_id, recorded.client_order_id, recorded.cancel_reason) == (
        body["data"][0]["ordId"],
        "po1",
        CancelReason.POST_ONLY_WOULD_TAKE,
    )
    assert got["ordId"] == recorded.order_id


async def test_rate_limits_answer_50011(okx):
    simulator, _, rest = okx
    simulator.faults[OKX].update(rate_limit_burst=2)
    for _ in range(2):
        status, body = await rest.get("/api/v5/public/time", signed=False)
        assert (status, body) == (429, {"code": "50011", "msg": "Too Many Requests", "data": []})
    status, body = await rest.get("/api/v5/public/time", signed=False)
    assert (status, body["code"]) == (200, "0")
    status, body = await rest.post("/api/v5/trade/cancel-all-after", {"timeOut": "0"})
    assert body["code"] == "0"
    status, body = await rest.post("/api/v5/trade/cancel-all-after", {"timeOut": "0"})
    assert (status, body["code"]) == (429, "50011")  # 1 request per second


async def test_websocket_login_checks_like_okx(okx):
    simulator, session, _ = okx
    creds = simulator.credentials[OKX]
    url = simulator.urls[OKX]["ws_private"]
    now = int(time.time())
    good = login_request(creds, str(now))
    sign = good["args"][0]["sign"]
    # one character changed (an "A" in place of an "A" would be no change: 1 run in 64 failed)
    wrong_sign = ("B" if sign[0] == "A" else "A") + sign[1:]
    cases = [
        (
            {"op": "login", "args": [{**good["args"][0], "sign": wrong_sign}]},
            "60007",
            "Invalid sign",
        ),
        (login_request(creds, str(now - 31)), "60006", "Timestamp request expired"),
        (
            {"op": "login", "args": [{**good["args"][0], "passphrase": "nope"}]},
            "60024",
            "Wrong passphrase",
        ),
        (
            {"op": "login", "args": [{**good["args"][0], "apiKey": "nope"}]},
            "60005",
            "Invalid apiKey",
        ),
        (
            {"op": "login", "args": [{**good["args"][0], "timestamp": "soon"}]},
            "60004",
            "Invalid timestamp",
        ),
    ]
    ws = await session.ws_connect(url)
    await ws.send_json({"op": "subscribe", "args": [{"channel": "orders", "instType": "ANY"}]})
    reply = await receive_json(ws)
    assert (reply["event"], reply["code"], reply["msg"]) == ("error", "60011", "Please log in")
    for request, code, msg in cases:
        await ws.send_json(request)
        reply = await receive_json(ws)
        assert reply == {"event": "error", "code": code, "msg": msg, "connId": reply["connId"]}
    await ws.send_json(good)
    assert (await receive_json(ws))["event"] == "login"
    await ws.send_json(good)
    assert (await receive_json(ws))["code"] == "60031"
    await ws.close()


async def test_websocket_requests_and_heartbeat(okx):
    simulator, session, _ = okx
    ws = await session.ws_connect(simulator.urls[OKX]["ws_public"])
    await ws.send_str("ping")
    assert await receive_json(ws) == "pong"
    await ws.send_json({"op": "subscribe", "args": [{"channel": "orders", "instType": "ANY"}]})
    reply = await receive_json(ws)
    assert (reply["event"], reply["code"]) == ("error", "60018")
    await ws.send_json({"op": "subscribe", "args": [{"channel": "tickers", "instId": "NOPE"}]})
    assert (await receive_json(ws))["code"] == "60018"
    await ws.send_json({"op": "dance", "args": []})
    assert (await receive_json(ws))["msg"] == "Invalid op: dance"
    await ws.send_str("{not json")
    assert (await receive_json(ws))["code"] == "60012"
    await ws.send_json(
        {"id": "r1", "op": "subscribe", "args": [{"channel": "tickers", "instId": "ETH-USDT"}]}
    )
    ack = await receive_json(ws)
    assert ack == {
        "id": "r1",
        "event": "subscribe",
        "arg": {"channel": "tickers", "instId": "ETH-USDT"},
        "connId": ack["connId"],
    }
    await ws.send_json(
        {"op": "unsubscribe", "args": [{"channel": "tickers", "instId": "ETH-USDT"}]}
    )
    reply = await receive_until(ws, lambda m: m.get("event") == "unsubscribe")
    assert reply["arg"] == {"channel": "tickers", "instId": "ETH-USDT"}
    await ws.close()


async def test_idle_connections_are_closed_with_4004():
    simulator = await start_okx({"ws_idle_timeout_s": 0.3}, warm_up=0)
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            ws = await session.ws_connect(simulator.urls[OKX]["ws_public"])
            message = await ws.receive(timeout=3)
            assert message.type is aiohttp.WSMsgType.CLOSE
            assert (ws.close_code, message.extra) == (4004, "No data received in 30s")
    finally:
        await simulator.stop()


async def test_websocket_order_operations(okx):
    simulator, session, rest = okx
    ws = await session.ws_connect(simulator.urls[OKX]["ws_private"])
    order = {
        "instId": "BTC-USDT-SWAP",
        "tdMode": "cross",
        "side": "buy",
        "ordType": "limit",
        "px": "90000",
        "sz": "1",
        "clOrdId": "wso1",
    }
    await ws.send_json({"id": "w1", "op": "order", "args": [order]})
    reply = await receive_json(ws)
    assert (reply["event"], reply["code"], reply["id"]) == ("error", "60011", "w1")
    await ws.send_json(login_request(simulator.credentials[OKX]))
    assert (await receive_json(ws))["event"] == "login"
    await ws.send_json({"id": "w2", "op": "order", "args": [order]})
    placed = await receive_json(ws)
    assert (
        placed["id"],
        placed["op"],
        placed["code"],
        placed["data"][0]["sCode"],
        placed["data"][0]["clOrdId"],
    ) == (
        "w2",
        "order",
        "0",
        "0",
        "wso1",
    )
    await ws.send_json(
        {
            "id": "w3",
            "op": "amend-order",
            "args": [{"instId": "BTC-USDT-SWAP", "clOrdId": "wso1", "newSz": "3"}],
        }
    )
    amended = await receive_json(ws)
    assert (amended["code"], amended["data"][0]["ordId"]) == ("0", placed["data"][0]["ordId"])
    status, one = await rest.get("/api/v5/trade/order?instId=BTC-USDT-SWAP&clOrdId=wso1")
    assert (status, one["data"][0]["sz"], one["data"][0]["state"]) == (200, "3", "live")
    await ws.send_json(
        {"id": "w4", "op": "cancel-order", "args": [{"instId": "BTC-USDT-SWAP", "clOrdId": "wso1"}]}
    )
    canceled = await receive_json(ws)
    assert (canceled["op"], canceled["code"], canceled["data"][0]["sCode"]) == (
        "cancel-order",
        "0",
        "0",
    )
    await ws.send_json(
        {"id": "w5", "op": "cancel-order", "args": [{"instId": "BTC-USDT-SWAP", "clOrdId": "wso1"}]}
    )
    again = await receive_json(ws)
    assert (again["code"], again["msg"], again["data"][0]["sCode"]) == (
        "1",
        "Operation failed.",
        "51400",
    )
    simulator.faults[OKX].update(lose_acks=1, lost_ack_wait_ms=10)
    await ws.send_json({"id": "w6", "op": "order", "args": [{**order, "clOrdId": "wso2"}]})
    await expect_close(ws, DROPPED)  # the lost answer: the connection is cut, no close frame
    status, found = await rest.get("/api/v5/trade/order?instId=BTC-USDT-SWAP&clOrdId=wso2")
    assert (status, found["data"][0]["state"]) == (200, "live")


async def test_private_channel_connection_counts_and_vip_only_fills(okx):
    simulator, session, _ = okx
    sockets = []
    for expected in ("1", "2"):
        ws = await session.ws_connect(simulator.urls[OKX]["ws_private"])
        sockets.append(ws)
        await ws.send_json(login_request(simulator.credentials[OKX]))
        assert (await receive_json(ws))["event"] == "login"
        await ws.send_json({"op": "subscribe", "args": [{"channel": "orders", "instType": "ANY"}]})
        assert (await receive_json(ws))["event"] == "subscribe"
        count = await receive_json(ws)
        assert count == {
            "event": "channel-conn-count",
            "channel": "orders",
            "connCount": expected,
            "connId": count["connId"],
        }
    await sockets[0].send_json({"op": "subscribe", "args": [{"channel": "fills"}]})
    refused = await receive_json(sockets[0])
    assert (refused["event"], refused["code"]) == ("error", "64003")
    for ws in sockets:
        await ws.close()


def test_signature_reproduces_the_recorded_vector():
    vector = load_payload("okx", "signing_example_rest")
    prehash = vector["timestamp"] + vector["method"] + vector["request_path"] + vector["body"]
    assert prehash == vector["prehash"]
    assert sign(vector["secret"], prehash) == "PJ61e1nb2F2Qd7D8SPiaIcx2gjdELc+o0ygzre9z33k="


def test_one_altered_byte_changes_the_signature():
    vector = load_payload("okx", "signing_example_rest")
    altered = vector["prehash"].replace("balance", "balancf")
    assert sign(vector["secret"], altered) != vector["expected_signature"]
