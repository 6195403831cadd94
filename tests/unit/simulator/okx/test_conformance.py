"""Every message the OKX face sends has the keys, nesting and JSON kinds of the recorded OKX
payloads (tests/fixtures/venues/okx), checked over real sockets (okx/wire.py)."""

from __future__ import annotations

import copy

import aiohttp
import pytest

from exchanges.venues.base import Venue
from tests.plugins.venues import load_payload
from tests.support.okx import OkxRest, login_request, receive_json, receive_until, start_okx
from tests.support.shape import assert_same_shape

OKX = Venue.OKX


@pytest.fixture
async def okx():
    simulator = await start_okx()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        rest = OkxRest(session, simulator.urls[OKX]["rest"], simulator.credentials[OKX])
        yield simulator, session, rest
    await simulator.stop()


def _arg_channel(channel):
    return lambda m: (
        isinstance(m, dict) and m.get("arg", {}).get("channel") == channel and "data" in m
    )


async def test_rest_instruments_match_the_recorded_listing(okx):
    _, _, rest = okx
    status, spot = await rest.get("/api/v5/public/instruments?instType=SPOT", signed=False)
    assert status == 200
    assert [i["instId"] for i in spot["data"]] == ["BTC-USDT", "ETH-USDT"]
    assert_same_shape(spot, load_payload("okx", "rest_instruments_spot"))
    status, swap = await rest.get("/api/v5/public/instruments?instType=SWAP", signed=False)
    assert [i["instId"] for i in swap["data"]] == ["BTC-USDT-SWAP", "ETH-USDT-SWAP", "BTC-USD-SWAP"]
    assert_same_shape(swap, load_payload("okx", "rest_instruments_swap"))
    btc = swap["data"][0]
    assert (btc["ctVal"], btc["ctValCcy"], btc["tickSz"], btc["lotSz"], btc["minSz"]) == (
        "0.01",
        "BTC",
        "0.1",
        "0.01",
        "0.01",
    )
    inverse = swap["data"][2]
    assert (inverse["ctType"], inverse["ctVal"], inverse["ctValCcy"], inverse["settleCcy"]) == (
        "inverse",
        "100",
        "USD",
        "BTC",
    )


async def test_rest_book_matches_the_recorded_book_plus_seq_id(okx):
    simulator, _, rest = okx
    status, book = await rest.get("/api/v5/market/books?instId=BTC-USDT-SWAP&sz=5", signed=False)
    assert status == 200
    expected = copy.deepcopy(load_payload("okx", "rest_order_book"))
    expected["data"][0]["seqId"] = 0  # carried since OKX's 2026 book change (issue 3)
    assert_same_shape(book, expected)
    item = book["data"][0]
    assert len(item["bids"]) == 5 and len(item["asks"]) == 5
    bids, asks = simulator.engine.book(OKX, "BTC-USDT-SWAP", 5)
    for wire, levels in ((item["bids"], bids), (item["asks"], asks)):
        assert [[p, q] for p, q, *_ in wire] == [
            [f"{p.normalize():f}", f"{q.normalize():f}"] for p, q in levels
        ]
    assert item["seqId"] == simulator.faces[OKX]._seq["BTC-USDT-SWAP"]


async def test_rest_ticker_matches_the_ticker_push_fields(okx):
    _, _, rest = okx
    status, ticker = await rest.get("/api/v5/market/ticker?instId=BTC-USDT", signed=False)
    assert status == 200
    assert_same_shape(ticker["data"][0], load_payload("okx", "ws_tickers")["data"][0])
    status, tickers = await rest.get("/api/v5/market/tickers?instType=SWAP", signed=False)
    assert [t["instId"] for t in tickers["data"]] == [
        "BTC-USDT-SWAP",
        "ETH-USDT-SWAP",
        "BTC-USD-SWAP",
    ]


async def test_rest_private_answers_match_the_recorded_ones(okx):
    simulator, _, rest = okx
    bid = simulator.engine.book(OKX, "BTC-USDT-SWAP", 1)[0][0][0]
    status, placed = await rest.post(
        "/api/v5/trade/order",
        {
            "instId": "BTC-USDT-SWAP",
            "tdMode": "cross",
            "side": "buy",
            "ordType": "limit",
            "px": str(bid - 100),
            "sz": "2",
            "clOrdId": "conf1",
        },
    )
    assert status == 200 and placed["code"] == "0"
    item = dict(placed["data"][0])
    assert item.pop("ts").isdigit()  # documented ("Place order" response), not in the recording
    assert_same_shape(item, load_payload("okx", "rest_place_order_response_item"))
    status, pending = await rest.get("/api/v5/trade/orders-pending?instId=BTC-USDT-SWAP")
    assert_same_shape(pending, load_payload("okx", "rest_orders_pending"))
    assert pending["data"][0]["clOrdId"] == "conf1" and pending["data"][0]["state"] == "live"
    status, one = await rest.get("/api/v5/trade/order?instId=BTC-USDT-SWAP&clOrdId=conf1")
    assert_same_shape(one, load_payload("okx", "rest_orders_pending"))
    status, market = await rest.post(
        "/api/v5/trade/order",
        {
            "instId": "BTC-USDT-SWAP",
            "tdMode": "cross",
            "side": "buy",
            "ordType": "market",
            "sz": "3",
        },
    )
    assert market["code"] == "0"
    status, positions = await rest.get("/api/v5/account/positions")
    assert_same_shape(positions, load_payload("okx", "rest_positions"))
    assert positions["data"][0]["pos"] == "3" and positions["data"][0]["posSide"] == "net"
    status, balance = await rest.get("/api/v5/account/balance")
    assert_same_shape(balance, load_payload("okx", "rest_account_balance"))
    status, fills = await rest.get("/api/v5/trade/fills?instId=BTC-USDT-SWAP")
    assert_same_shape(fills, load_payload("okx", "rest_fills_docs"))
    assert status == 200 and fills["data"]
    assert {f["ordId"] for f in fills["data"]} == {market["data"][0]["ordId"]}
    assert sum(float(f["fillSz"]) for f in fills["data"]) == 3.0


async def test_public_pushes_match_the_recorded_ones(okx):
    simulator, session, _ = okx
    ws = await session.ws_connect(simulator.urls[OKX]["ws_public"])
    await ws.send_json(
        {
            "op": "subscribe",
            "args": [
                {"channel": "books", "instId": "BTC-USDT"},
                {"channel": "bbo-tbt", "instId": "BTC-USDT"},
                {"channel": "tickers", "instId": "BTC-USDT"},
                {"channel": "trades", "instId": "BTC-USDT"},
            ],
        }
    )
    seen: list = []
    ack = await receive_json(ws)
    assert ack == {
        "event": "subscribe",
        "arg": {"channel": "books", "instId": "BTC-USDT"},
        "connId": ack["connId"],
    }
    snapshot = await receive_until(ws, lambda m: m.get("action") == "snapshot", seen=seen)
    assert_same_shape(snapshot, load_payload("okx", "ws_books_snapshot"))
    assert snapshot["data"][0]["prevSeqId"] == -1 and snapshot["data"][0]["checksum"] == 0
    bbo = await receive_until(ws, _arg_channel("bbo-tbt"), seen=seen)
    assert_same_shape(bbo, load_payload("okx", "ws_bbo_tbt"))
    ticker = await receive_until(ws, _arg_channel("tickers"), seen=seen)
    assert_same_shape(ticker, load_payload("okx", "ws_tickers"))
    printed = simulator.engine.recent_trades(OKX, "BTC-USDT", 1)
    simulator.advance(2.0)
    simulator.advance_until(
        lambda: simulator.engine.recent_trades(OKX, "BTC-USDT", 1) != printed, limit=30.0
    )
    later: list = []
    update = await receive_until(ws, lambda m: m.get("action") == "update", seen=later)
    assert_same_shape(update, load_payload("okx", "ws_books_update"))
    trades = [m for m in later if _arg_channel("trades")(m)]
    trade = trades[0] if trades else await receive_until(ws, _arg_channel("trades"))
    assert_same_shape(trade, load_payload("okx", "ws_trades"))
    await ws.close()


async def test_private_pushes_match_the_recorded_ones(okx):
    simulator, session, rest = okx
    ws = await session.ws_connect(simulator.urls[OKX]["ws_private"])
    await ws.send_json(login_request(simulator.credentials[OKX]))
    login = await receive_json(ws)
    assert login == {"event": "login", "code": "0", "msg": "", "connId": login["connId"]}
    await ws.send_json(
        {
            "op": "subscribe",
            "args": [
                {"channel": "orders", "instType": "SWAP"},
                {"channel": "account"},
                {"channel": "positions", "instType": "ANY"},
            ],
        }
    )
    account = await receive_until(ws, _arg_channel("account"))
    assert_same_shape(account, load_payload("okx", "ws_account"))
    await rest.post(
        "/api/v5/trade/order",
        {
            "instId": "BTC-USDT-SWAP",
            "tdMode": "cross",
            "side": "buy",
            "ordType": "market",
            "sz": "1",
        },
    )
    order = await receive_until(ws, _arg_channel("orders"))
    assert_same_shape(order, load_payload("okx", "ws_orders"))
    position = await receive_until(ws, _arg_channel("positions"))
    assert_same_shape(position["data"][0], load_payload("okx", "rest_positions")["data"][0])
    assert position["arg"] == {"channel": "positions", "instType": "ANY"}
    await ws.close()
