"""The Deribit face over real HTTP: answers shaped like the venue's, authentication by every
documented scheme, errors with the venue's codes, rate limits."""

import asyncio
from decimal import Decimal

import aiohttp
import pytest

from exchanges.venues.base import Credentials
from tests.plugins.venues import load_payload
from tests.support.deribit import (
    SECOND,
    VENUE,
    Ws,
    assert_conforms,
    basic_header,
    hmac_header,
    now_ms,
    sign,
)

D = Decimal
ENVELOPE_OPTIONAL = {"id"}


async def test_public_answers_have_the_venues_shape(http):
    status, answer = await http.get("public/get_time")
    assert status == 200
    assert isinstance(answer["result"], int)
    assert_conforms(
        answer, load_payload("deribit", "rest_error_response_docs"), {"error", "result", "id"}
    )

    status, answer = await http.get("public/test")
    assert (status, answer["result"]) == (200, {"version": "1.2.26"})
    assert_conforms(answer["result"], load_payload("deribit", "rest_test")["result"])

    status, answer = await http.post("public/get_order_book", {"instrument_name": "BTC-PERPETUAL"})
    expected = load_payload("deribit", "rest_get_order_book")
    assert status == 200
    assert answer["id"] == 1
    assert_conforms(answer, expected)
    assert len(answer["result"]["bids"]) == 20 and len(answer["result"]["asks"]) == 20
    best_bid = answer["result"]["bids"][0][0]
    assert answer["result"]["best_bid_price"] == best_bid
    assert all(
        a[0] > b[0]
        for a, b in zip(answer["result"]["bids"], answer["result"]["bids"][1:], strict=False)
    )

    status, answer = await http.get("public/ticker", {"instrument_name": "BTC-PERPETUAL"})
    assert status == 200
    assert_conforms(answer["result"], load_payload("deribit", "ws_ticker")["params"]["data"])


async def test_instruments_are_listed_like_deribit_lists_them(http):
    status, answer = await http.get("public/get_instruments", {"currency": "BTC"})
    assert status == 200
    listed = {item["instrument_name"]: item for item in answer["result"]}
    expected = load_payload("deribit", "rest_get_instruments")["result"]
    assert_conforms(listed["BTC-PERPETUAL"], expected[0])
    assert_conforms(listed["BTC-25DEC26"], expected[1])
    assert_conforms(listed["BTC-25DEC26-100000-C"], expected[2])
    perpetual = listed["BTC-PERPETUAL"]
    assert (perpetual["tick_size"], perpetual["contract_size"], perpetual["min_trade_amount"]) == (
        D("0.5"),
        10,
        10,
    )
    assert perpetual["expiration_timestamp"] == 32503708800000
    assert listed["BTC-25DEC26-100000-C"]["tick_size"] == D("0.0005")
    assert "ETH-PERPETUAL" not in listed
    status, answer = await http.get("public/get_instruments", {"currency": "ETH", "kind": "future"})
    assert [i["instrument_name"] for i in answer["result"]] == ["ETH-PERPETUAL"]


async def test_instrument_filters_are_optional_like_deribits(http):
    status, answer = await http.get("public/get_instruments")
    assert status == 200
    every = {item["instrument_name"] for item in answer["result"]}
    assert {"BTC-PERPETUAL", "ETH-PERPETUAL", "BTC-25DEC26", "BTC-25DEC26-100000-C"} <= every
    _, answer = await http.get("public/get_instruments", {"currency": "any"})
    assert {item["instrument_name"] for item in answer["result"]} == every
    _, answer = await http.get("public/get_instruments", {"kind": "option"})
    assert {item["kind"] for item in answer["result"]} == {"option"}
    assert len(answer["result"]) == 10
    _, answer = await http.get("public/get_instruments", {"expired": "true"})
    assert answer["result"] == []
    status, answer = await http.get("public/get_instruments", {"kind": "swap"})
    assert (status, answer["error"]["code"], answer["error"]["data"]["param"]) == (
        400,
        -32602,
        "kind",
    )


async def test_currencies_are_listed_like_deribit_lists_them(http):
    status, answer = await http.get("public/get_currencies")
    assert status == 200
    listed = {item["currency"]: item for item in answer["result"]}
    assert set(listed) == {"BTC", "ETH", "USDC", "USDT", "EURR"}
    assert (listed["BTC"]["currency_long"], listed["BTC"]["coin_type"]) == ("Bitcoin", "BITCOIN")
    assert (listed["BTC"]["decimals"], listed["ETH"]["decimals"]) == (8, 6)


async def test_client_credentials_and_bearer_token(http, deribit):
    demo = deribit.credentials[VENUE]
    status, answer = await http.get(
        "public/auth",
        {
            "grant_type": "client_credentials",
            "client_id": demo.api_key,
            "client_secret": demo.secret,
        },
    )
    assert status == 200
    assert_conforms(
        answer,
        load_payload("deribit", "sim_public_auth_response_docs"),
        {"usIn", "usOut", "usDiff", "testnet", "id"},
    )
    token = answer["result"]["access_token"]
    assert answer["result"]["token_type"] == "bearer"
    status, answer = await http.get(
        "private/get_account_summary", {"currency": "BTC"}, {"Authorization": f"Bearer {token}"}
    )
    assert status == 200 and answer["result"]["balance"] == 10

    status, answer = await http.get(
        "private/get_account_summary", {"currency": "BTC"}, {"Authorization": f"Bearer {token}x"}
    )
    assert (status, answer["error"]["code"], answer["error"]["message"]) == (
        401,
        13009,
        "unauthorized",
    )

    status, answer = await http.get("private/get_account_summary", {"currency": "BTC"})
    assert (status, answer["error"]["code"]) == (401, 13009)

    status, answer = await http.get(
        "public/auth",
        {"grant_type": "client_credentials", "client_id": demo.api_key, "client_secret": "nope"},
    )
    assert (status, answer["error"]["code"], answer["error"]["message"]) == (
        401,
        13004,
        "invalid_credentials",
    )


async def test_refresh_token_replaces_the_pair(http, deribit):
    demo = deribit.credentials[VENUE]
    _, first = await http.get(
        "public/auth",
        {
            "grant_type": "client_credentials",
            "client_id": demo.api_key,
            "client_secret": demo.secret,
        },
    )
    _, second = await http.get(
        "public/auth",
        {"grant_type": "refresh_token", "refresh_token": first["result"]["refresh_token"]},
    )
    assert "result" in second
    old = {"Authorization": f"Bearer {first['result']['access_token']}"}
    new = {"Authorization": f"Bearer {second['result']['access_token']}"}
    assert (await http.get("private/get_positions", {}, old))[1]["error"]["code"] == 13009
    assert (await http.get("private/get_positions", {}, new))[0] == 200
    status, again = await http.get(
        "public/auth",
        {"grant_type": "refresh_token", "refresh_token": first["result"]["refresh_token"]},
    )
    assert (status, again["error"]["code"]) == (401, 13004)


async def test_documentation_signature_vector_is_accepted_and_one_altered_byte_is_not(
    session, urls, face
):
    request = load_payload("deribit", "ws_public_auth_client_signature_request_docs")
    face.configure({"signature_window_ms": 10**13})  # the vector's timestamp is from 2019
    ws = await Ws.connect(session, urls["ws_private"])
    try:
        answer = await ws.call(request["method"], request["params"])
        assert answer["result"]["token_type"] == "bearer"
        altered = dict(request["params"])
        altered["signature"] = "f" + altered["signature"][1:]
        answer = await ws.call(request["method"], altered)
        assert answer["error"]["code"] == 13004
        assert answer["error"]["message"] == "invalid_credentials"
        face.configure({"signature_window_ms": 60_000})
        replay = dict(request["params"])
        answer = await ws.call(request["method"], replay)
        assert answer["error"]["code"] == 13004  # 2019 is far outside the 60 s window
    finally:
        await ws.close()


async def test_client_signature_nonce_is_single_use(session, urls):
    ws = await Ws.connect(session, urls["ws_private"])
    try:
        ts = now_ms()
        params = {
            "grant_type": "client_signature",
            "client_id": SECOND.api_key,
            "timestamp": ts,
            "nonce": "n0nce",
            "data": "payload",
            "signature": sign(SECOND.secret, ts, "n0nce", "payload"),
        }
        assert "result" in await ws.call("public/auth", params)
        assert (await ws.call("public/auth", params))["error"]["code"] == 13004
    finally:
        await ws.close()


async def test_deri_hmac_sha256_header_get_and_post(http, deribit):
    demo = deribit.credentials[VENUE]
    uri = "/api/v2/private/get_account_summary?currency=BTC"
    header = hmac_header(demo, "GET", uri)
    status, answer = await http.get(
        "private/get_account_summary", {"currency": "BTC"}, {"Authorization": header}
    )
    assert status == 200 and answer["result"]["currency"] == "BTC"

    sig_at = header.index("sig=") + 4
    flipped = "0" if header[sig_at] != "0" else "1"
    altered = header[:sig_at] + flipped + header[sig_at + 1 :]
    status, answer = await http.get(
        "private/get_account_summary", {"currency": "BTC"}, {"Authorization": altered}
    )
    assert (status, answer["error"]["code"], answer["error"]["message"]) == (
        401,
        13009,
        "unauthorized",
    )

    stale = hmac_header(demo, "GET", uri, ts=now_ms() - 61_000)
    status, answer = await http.get(
        "private/get_account_summary", {"currency": "BTC"}, {"Authorization": stale}
    )
    assert (status, answer["error"]["code"]) == (401, 13009)

    body = '{"jsonrpc": "2.0", "id": 1, "method": "private/get_positions", "params": {"currency": "BTC"}}'
    header = hmac_header(demo, "POST", "/api/v2/private/get_positions", body)
    async with http.session.post(
        f"{http.base}/api/v2/private/get_positions",
        data=body,
        headers={"Authorization": header, "Content-Type": "application/json"},
    ) as response:
        assert response.status == 200
        assert (await response.json())["result"] == []
    tampered = body.replace('"BTC"', '"ETH"')
    async with http.session.post(
        f"{http.base}/api/v2/private/get_positions",
        data=tampered,
        headers={"Authorization": header, "Content-Type": "application/json"},
    ) as response:
        assert response.status == 401
        assert (await response.json())["error"]["code"] == 13009


async def test_basic_credentials(http):
    status, answer = await http.get(
        "private/get_account_summary", {"currency": "ETH"}, {"Authorization": basic_header(SECOND)}
    )
    assert status == 200 and answer["result"]["balance"] == 100
    status, answer = await http.get(
        "private/get_account_summary",
        {"currency": "ETH"},
        {"Authorization": basic_header(Credentials(SECOND.api_key, "wrong"))},
    )
    assert (status, answer["error"]["code"]) == (401, 13004)


async def test_rejections_carry_deribit_codes(http):
    auth = {"Authorization": basic_header(SECOND)}
    _, book = await http.get(
        "public/get_order_book", {"instrument_name": "BTC-PERPETUAL", "depth": 1}
    )
    best_bid = book["result"]["bids"][0][0]
    best_ask = book["result"]["asks"][0][0]
    cases = [
        ({"instrument_name": "BTC-PERPETUAL", "amount": 100, "price": "90000.3"}, 10043),
        ({"instrument_name": "BTC-PERPETUAL", "amount": 5, "price": 90000}, 10002),
        ({"instrument_name": "BTC-PERPETUAL", "amount": 15, "price": 90000}, 10021),
        ({"instrument_name": "NOPE-PERPETUAL", "amount": 10, "price": 90000}, 10020),
        ({"instrument_name": "BTC-PERPETUAL", "amount": 10**9, "price": 90000}, 10009),
        ({"instrument_name": "BTC-PERPETUAL", "amount": 10, "price": best_ask * 2}, 10007),
        (
            {
                "instrument_name": "BTC-PERPETUAL",
                "amount": 10,
                "price": best_ask,
                "post_only": True,
                "reject_post_only": True,
            },
            11054,
        ),
    ]
    for params, code in cases:
        status, answer = await http.get("private/buy", params, auth)
        assert status == 400, (params, answer)
        assert answer["error"]["code"] == code, (params, answer)

    status, answer = await http.get(
        "private/buy",
        {"instrument_name": "BTC-PERPETUAL", "amount": 10, "price": best_ask, "post_only": "true"},
        auth,
    )
    assert status == 200
    assert answer["result"]["order"]["price"] == best_ask - D("0.5")  # re-priced inside the spread
    assert answer["result"]["order"]["order_state"] == "open"
    assert answer["result"]["order"]["reject_post_only"] is False
    assert best_bid < answer["result"]["order"]["price"]

    status, answer = await http.get("private/cancel", {"order_id": "123"}, auth)
    assert (status, answer["error"]["code"], answer["error"]["message"]) == (
        400,
        10004,
        "order_not_found",
    )
    order_id = (
        await http.get(
            "private/sell",
            {"instrument_name": "BTC-PERPETUAL", "amount": 10, "type": "market"},
            auth,
        )
    )[1]["result"]["order"]["order_id"]
    status, answer = await http.get("private/cancel", {"order_id": order_id}, auth)
    assert (status, answer["error"]["code"], answer["error"]["message"]) == (
        400,
        11044,
        "not_open_order",
    )

    status, answer = await http.get("public/nonsense")
    assert (status, answer["error"]["code"]) == (400, -32601)
    status, answer = await http.post("private/not_a_method", {}, auth)
    assert answer["error"] == {"code": -32601, "message": "Method not found"}
    async with http.session.post(f"{http.base}/api/v2", data="{nope") as response:
        answer = await response.json()
    assert answer["error"] == {"code": -32700, "message": "Parse error"}
    assert_conforms(
        (await http.get("private/cancel", {"order_id": "1"}, auth))[1],
        load_payload("deribit", "rest_error_response_docs"),
        {"data", "id"},
    )


async def test_rate_limit_over_http_and_websocket(http, session, urls, face, faults):
    face.configure({"limits": {"non_matching_engine": {"rate": 1, "burst": 3}}})
    statuses = [(await http.get("public/get_time"))[0] for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    _, answer = await http.get("public/get_time")
    assert answer["error"] == {"code": 10028, "message": "too_many_requests"}
    assert_conforms(answer, load_payload("deribit", "rest_error_response_docs"), {"id"})

    face.configure({"limits": {"non_matching_engine": {"rate": 1000, "burst": 1500}}})
    faults.update(rate_limit_burst=2)
    assert (await http.get("public/get_time"))[0] == 429
    ws = await Ws.connect(session, urls["ws_public"])
    try:
        answer = await ws.call("public/get_time")
        assert answer["error"]["code"] == 10028
        await asyncio.wait_for(ws.closed.wait(), 3)  # Deribit ends the session after 10028
        assert ws.close_code == 1000
    finally:
        await ws.close()
    assert faults.fired["rate_limit_burst"] == 2
    assert (await http.get("public/get_time"))[0] == 200


async def test_refused_connections(session, urls, http, faults):
    faults.update(refuse_connections=True)
    with pytest.raises(aiohttp.ClientError):
        await session.ws_connect(urls["ws_public"])
    with pytest.raises(aiohttp.ClientError):
        await http.get("public/get_time")
    faults.update(refuse_connections=False)
    assert (await http.get("public/get_time"))[0] == 200


async def test_token_scope_limits_the_methods(http):
    _, answer = await http.get(
        "public/auth",
        {
            "grant_type": "client_credentials",
            "client_id": SECOND.api_key,
            "client_secret": SECOND.secret,
            "scope": "trade:read session:reader",
        },
    )
    scope = answer["result"]["scope"].split()
    assert "trade:read" in scope and "session:reader" in scope and "connection" not in scope
    auth = {"Authorization": f"Bearer {answer['result']['access_token']}"}
    status, answer = await http.get("private/get_positions", {}, auth)
    assert (status, answer["result"]) == (200, [])
    status, answer = await http.get(
        "private/buy", {"instrument_name": "BTC-PERPETUAL", "amount": 10, "price": 90000}, auth
    )
    assert (status, answer["error"]["code"], answer["error"]["message"]) == (
        400,
        13021,
        "forbidden",
    )
