"""REST details of the OKX face: batch place, amend and cancel, currencies, public trades, paging, quote-sized spot market buys, spot fee
coins, amends below the filled size, reduce-only, and WebSocket drops drawn by probability
(okx/rest_orders.py, okx/rest_account.py)."""

from __future__ import annotations

from decimal import Decimal

import aiohttp
import pytest

from exchanges.simulator.market.generator import MarketConfig, build_engine
from exchanges.venues.base import OrderType, Side, Venue
from tests.support.harness import DROPPED, expect_close
from tests.support.okx import OkxRest, receive_json, start_okx

OKX = Venue.OKX


INST = "BTC-USDT-SWAP"


@pytest.fixture
async def okx():
    simulator = await start_okx({"rate_limits": False})
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        yield (
            simulator,
            session,
            OkxRest(session, simulator.urls[OKX]["rest"], simulator.credentials[OKX]),
        )
    await simulator.stop()


def _limit(cl: str, px: str = "90000", sz: str = "1"):
    return {
        "instId": INST,
        "tdMode": "cross",
        "side": "buy",
        "ordType": "limit",
        "px": px,
        "sz": sz,
        "clOrdId": cl,
    }


async def test_batch_cancel_reports_each_order(okx):
    _, _, rest = okx
    ids = []
    for cl in ("b1", "b2"):
        _, placed = await rest.post("/api/v5/trade/order", _limit(cl))
        ids.append(placed["data"][0]["ordId"])
    _, both = await rest.post(
        "/api/v5/trade/cancel-batch-orders",
        [
            {"instId": INST, "ordId": ids[0]},
            {"instId": INST, "clOrdId": "b2"},
        ],
    )
    assert (
        both["code"],
        [i["sCode"] for i in both["data"]],
        [i["ordId"] for i in both["data"]],
    ) == ("0", ["0", "0"], ids)
    _, placed = await rest.post("/api/v5/trade/order", _limit("b3"))
    _, mixed = await rest.post(
        "/api/v5/trade/cancel-batch-orders",
        [
            {"instId": INST, "clOrdId": "b3"},
            {"instId": INST, "ordId": ids[0]},
            {"instId": "NOPE", "ordId": "1"},
        ],
    )
    assert (mixed["code"], mixed["msg"]) == ("2", "Bulk operation partially succeeded.")
    assert [i["sCode"] for i in mixed["data"]] == ["0", "51400", "51001"]
    status, too_many = await rest.post(
        "/api/v5/trade/cancel-batch-orders", [{"instId": INST, "ordId": "1"}] * 21
    )
    assert (status, too_many["code"]) == (400, "51000")


async def test_batch_place_and_amend_report_each_order(okx):
    _, _, rest = okx
    reduce_nothing = {**_limit("bad", px="190000"), "side": "sell", "reduceOnly": True}
    _, mixed = await rest.post("/api/v5/trade/batch-orders", [_limit("p1"), reduce_nothing])
    assert (mixed["code"], mixed["msg"]) == ("2", "Bulk operation partially succeeded.")
    assert [(i["clOrdId"], i["sCode"]) for i in mixed["data"]] == [("p1", "0"), ("bad", "51169")]
    assert mixed["data"][0]["ordId"] and mixed["data"][1]["ordId"] == ""
    _, both = await rest.post("/api/v5/trade/batch-orders", [_limit("p2"), _limit("p3")])
    assert (both["code"], [i["sMsg"] for i in both["data"]]) == (
        "0",
        ["Order placed", "Order placed"],
    )
    _, bad_params = await rest.post("/api/v5/trade/batch-orders", [{**_limit("p4"), "side": "up"}])
    assert (bad_params["code"], bad_params["msg"]) == ("1", "All operations failed")
    assert (bad_params["data"][0]["sCode"], bad_params["data"][0]["clOrdId"]) == ("51000", "p4")

    _, amended = await rest.post(
        "/api/v5/trade/amend-batch-orders",
        [
            {"instId": INST, "clOrdId": "p2", "newPx": "89000"},
            {"instId": INST, "clOrdId": "gone", "newSz": "2"},
        ],
    )
    assert amended["code"] == "2"
    assert [i["sCode"] for i in amended["data"]] == ["0", "51503"]
    _, order = await rest.get(f"/api/v5/trade/order?instId={INST}&clOrdId=p2")
    assert order["data"][0]["px"] == "89000"
    status, too_many = await rest.post("/api/v5/trade/batch-orders", [_limit("x")] * 21)
    assert (status, too_many["code"]) == (400, "51000")


async def test_currencies_list_one_row_per_chain(okx):
    _, _, rest = okx
    _, answer = await rest.get("/api/v5/asset/currencies")
    assert [(r["ccy"], r["chain"]) for r in answer["data"]] == [
        ("BTC", "BTC-Bitcoin"),
        ("ETH", "ETH-ERC20"),
        ("USDT", "USDT-ERC20"),
        ("USDT", "USDT-TRC20"),
        ("USDC", "USDC-ERC20"),
    ]
    _, usdt = await rest.get("/api/v5/asset/currencies?ccy=USDT")
    assert {r["ccy"] for r in usdt["data"]} == {"USDT"}
    status, unsigned = await rest.get("/api/v5/asset/currencies", signed=False)
    assert (status, unsigned["code"]) == (401, "50103")


async def test_public_trades_newest_first(okx):
    simulator, _, rest = okx
    simulator.advance(5)
    _, answer = await rest.get(f"/api/v5/market/trades?instId={INST}&limit=3", signed=False)
    trades = answer["data"]
    assert len(trades) == 3
    assert [t["ts"] for t in trades] == sorted((t["ts"] for t in trades), reverse=True)
    assert set(trades[0]) == {"instId", "side", "sz", "px", "source", "tradeId", "ts"}


async def test_orders_pending_and_fills_page_newest_first(okx):
    _, _, rest = okx
    ids = []
    for i in range(5):
        _, placed = await rest.post("/api/v5/trade/order", _limit(f"pg{i}", px=str(90000 + i)))
        ids.append(placed["data"][0]["ordId"])
    _, page = await rest.get(f"/api/v5/trade/orders-pending?instId={INST}&limit=2")
    assert [o["ordId"] for o in page["data"]] == [ids[4], ids[3]]
    _, older = await rest.get(f"/api/v5/trade/orders-pending?instId={INST}&limit=2&after={ids[3]}")
    assert [o["ordId"] for o in older["data"]] == [ids[2], ids[1]]
    _, newer = await rest.get(f"/api/v5/trade/orders-pending?instId={INST}&before={ids[2]}")
    assert [o["ordId"] for o in newer["data"]] == [ids[4], ids[3]]
    for _ in range(3):
        await rest.post(
            "/api/v5/trade/order",
            {"instId": INST, "tdMode": "cross", "side": "sell", "ordType": "market", "sz": "1"},
        )
    _, fills = await rest.get(f"/api/v5/trade/fills?instId={INST}")
    bills = [int(f["billId"]) for f in fills["data"]]
    assert bills == sorted(bills, reverse=True) and len(bills) >= 3
    _, rest_page = await rest.get(f"/api/v5/trade/fills?instId={INST}&after={bills[0]}&limit=100")
    assert [int(f["billId"]) for f in rest_page["data"]] == bills[1:]
    status, history = await rest.get("/api/v5/trade/fills-history")
    assert (status, history["code"]) == (400, "50014")
    _, history = await rest.get("/api/v5/trade/fills-history?instType=SWAP")
    assert [f["billId"] for f in history["data"]] == [f["billId"] for f in fills["data"]]


async def test_a_closing_fill_carries_the_pnl_it_realized(okx):
    _, _, rest = okx
    for side in ("buy", "sell"):
        _, placed = await rest.post(
            "/api/v5/trade/order",
            {"instId": INST, "tdMode": "cross", "side": side, "ordType": "market", "sz": "1"},
        )
        assert placed["code"] == "0"
    _, fills = await rest.get(f"/api/v5/trade/fills?instId={INST}")
    (bought,) = [f for f in fills["data"] if f["side"] == "buy"]  # 1 contract: one maker level
    sold = [f for f in fills["data"] if f["side"] == "sell"]
    assert bought["fillPnl"] == "0"  # "always 0" for a fill that does not close
    entry = Decimal(bought["fillPx"])
    assert [Decimal(f["fillPnl"]) for f in sold] == [
        (Decimal(f["fillPx"]) - entry) * Decimal(f["fillSz"]) * Decimal("0.01") for f in sold
    ]  # ctVal 0.01 BTC per contract
    assert sold


async def test_spot_market_buy_is_sized_in_quote_currency(okx):
    _, _, rest = okx
    _, placed = await rest.post(
        "/api/v5/trade/order",
        {
            "instId": "BTC-USDT",
            "tdMode": "cash",
            "side": "buy",
            "ordType": "market",
            "sz": "1000",
            "clOrdId": "q1",
        },
    )
    assert placed["code"] == "0"
    _, order = await rest.get("/api/v5/trade/order?instId=BTC-USDT&clOrdId=q1")
    got = order["data"][0]
    assert (got["sz"], got["tgtCcy"], got["state"], got["ordType"], got["px"]) == (
        "1000",
        "quote_ccy",
        "filled",
        "market",
        "",
    )
    spent = Decimal(got["accFillSz"]) * Decimal(got["avgPx"])
    assert Decimal("999") < spent <= Decimal("1000")
    _, base = await rest.post(
        "/api/v5/trade/order",
        {
            "instId": "BTC-USDT",
            "tdMode": "cash",
            "side": "buy",
            "ordType": "market",
            "sz": "0.01",
            "tgtCcy": "base_ccy",
            "clOrdId": "q2",
        },
    )
    assert base["code"] == "0"
    _, order = await rest.get("/api/v5/trade/order?instId=BTC-USDT&clOrdId=q2")
    assert (order["data"][0]["accFillSz"], order["data"][0]["tgtCcy"]) == ("0.01", "base_ccy")


async def test_spot_fees_are_in_the_coin_received(okx):
    """ "Get transaction details": a BTC-USDT buy pays its fee in BTC, a sell in USDT."""
    _, _, rest = okx
    spot = {"instId": "BTC-USDT", "tdMode": "cash", "ordType": "market", "tgtCcy": "base_ccy"}
    await rest.post("/api/v5/trade/order", {**spot, "side": "buy", "sz": "0.02", "clOrdId": "fb"})
    await rest.post("/api/v5/trade/order", {**spot, "side": "sell", "sz": "0.01", "clOrdId": "fs"})
    _, fills = await rest.get("/api/v5/trade/fills?instId=BTC-USDT")
    by_side: dict[str, list[dict]] = {}
    for fill in fills["data"]:
        by_side.setdefault(fill["side"], []).append(fill)
    assert {f["feeCcy"] for f in by_side["buy"]} == {"BTC"}
    assert sum(Decimal(f["fee"]) for f in by_side["buy"]) == Decimal("-0.00002")  # 0.1%
    assert {f["feeCcy"] for f in by_side["sell"]} == {"USDT"}
    assert [Decimal(f["fee"]) for f in by_side["sell"]] == [
        -(Decimal(f["fillSz"]) * Decimal(f["fillPx"]) * Decimal("0.001")).quantize(
            Decimal("0.00000001")
        )
        for f in by_side["sell"]
    ]
    _, bought = await rest.get("/api/v5/trade/order?instId=BTC-USDT&clOrdId=fb")
    assert (bought["data"][0]["feeCcy"], bought["data"][0]["fee"]) == ("BTC", "-0.00002")
    _, resting = await rest.post(
        "/api/v5/trade/order",
        {**spot, "ordType": "limit", "px": "1000", "side": "buy", "sz": "0.01", "clOrdId": "fr"},
    )
    assert resting["data"][0]["sCode"] == "0"
    _, unfilled = await rest.get("/api/v5/trade/order?instId=BTC-USDT&clOrdId=fr")
    assert (unfilled["data"][0]["feeCcy"], unfilled["data"][0]["fee"]) == ("BTC", "0")


async def test_amend_to_a_size_at_or_below_the_filled_one_fills_the_order():
    """ "Amend order", newSz: at or below the filled quantity the order becomes filled."""
    engine = build_engine(seed=1, config=MarketConfig(levels=0, taker_rate=0.0, resize_rate=0.0))
    simulator = await start_okx({"rate_limits": False}, engine=engine, warm_up=0)
    engine.add_account(OKX, "taker", "s", "p", balances={"USDT": Decimal(10**6)})
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
            rest = OkxRest(session, simulator.urls[OKX]["rest"], simulator.credentials[OKX])
            order = {**_limit("am1", px="100000", sz="5"), "side": "sell"}
            _, placed = await rest.post("/api/v5/trade/order", order)
            engine.place_order(
                OKX, "taker", INST, side=Side.BUY, order_type=OrderType.MARKET, quantity=Decimal(2)
            )
            _, amended = await rest.post(
                "/api/v5/trade/amend-order", {"instId": INST, "clOrdId": "am1", "newSz": "1"}
            )
            assert (amended["code"], amended["data"][0]["sCode"]) == ("0", "0")
            assert amended["data"][0]["ordId"] == placed["data"][0]["ordId"]
            _, got = await rest.get(f"/api/v5/trade/order?instId={INST}&clOrdId=am1")
            row = got["data"][0]
            assert (row["state"], row["accFillSz"], row["sz"], row["px"]) == (
                "filled",
                "2",
                "2",
                "100000",
            )
            _, pending = await rest.get(f"/api/v5/trade/orders-pending?instId={INST}")
            assert pending["data"] == []
            assert engine.book(OKX, INST) == ([], [])
            for cl in ("cnt1", "cnt2"):
                await rest.post("/api/v5/trade/order", _limit(cl, px="99000", sz="2"))
            await rest.post("/api/v5/trade/order", _limit("cnt3", px="98000", sz="1"))
            _, book = await rest.get(f"/api/v5/market/books?instId={INST}&sz=5", signed=False)
            assert book["data"][0]["bids"] == [["99000", "4", "0", "2"], ["98000", "1", "0", "1"]]
    finally:
        await simulator.stop()


async def test_reduce_only_needs_an_opposite_position(okx):
    _, _, rest = okx
    order = {
        "instId": INST,
        "tdMode": "cross",
        "side": "sell",
        "ordType": "market",
        "sz": "1",
        "reduceOnly": True,
    }
    _, refused = await rest.post("/api/v5/trade/order", order)
    assert (refused["code"], refused["data"][0]["sCode"]) == ("1", "51169")
    await rest.post("/api/v5/trade/order", {**order, "side": "buy", "reduceOnly": False})
    _, accepted = await rest.post("/api/v5/trade/order", order)
    assert accepted["code"] == "0"
    _, positions = await rest.get("/api/v5/account/positions")
    assert positions["data"] == []


async def test_drop_probability_closes_a_socket_on_send(okx):
    simulator, session, _ = okx
    ws = await session.ws_connect(simulator.urls[OKX]["ws_public"])
    await ws.send_str("ping")
    assert await receive_json(ws) == "pong"
    simulator.faults[OKX].update(drop_ws_probability=1.0)
    await ws.send_str("ping")
    await expect_close(ws, DROPPED)
    assert simulator.faults[OKX].fired["drop_ws_probability"] == 1
