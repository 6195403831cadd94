"""Order entry over REST: Bybit's answers for every engine refusal, post-only, spot quote-coin
market buys, amend rules, cancel-all scope, order lookups, pagination and the lost/slow ack
faults (bybit/rest_orders.py, bybit/errors.py)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import aiohttp
import pytest

from exchanges.simulator.bybit.errors import reject_error
from exchanges.simulator.engine.records import CancelReason, RejectReason, SimReject
from exchanges.venues.base import Credentials, OrderStatus, OrderType, Side
from tests.support.bybit import ALICE, VENUE, Rest, best, bybit_sim

POOR = Credentials(api_key="BybitSimPoor0003", secret="poor-secret-0000000000000003")


def limit(side: str, price: Decimal | str, qty: str = "0.010", **extra) -> dict:
    return {
        "category": "linear",
        "symbol": "BTCUSDT",
        "side": side,
        "orderType": "Limit",
        "qty": qty,
        "price": str(price),
        **extra,
    }


def spot(side: str, order_type: str, qty: str, price: Decimal | None = None, **extra) -> dict:
    body = {"category": "spot", "symbol": "BTCUSDT", "side": side, "orderType": order_type}
    body["qty"] = qty
    if price is not None:
        body["price"] = str(price)
    return {**body, **extra}


async def test_minimum_order_value_is_what_bybit_checks():
    """Spot: `minOrderAmt` 5 USDT, not the deprecated `minOrderQty`; linear: `minNotionalValue`
    5 USDT beside `minOrderQty`."""
    async with bybit_sim() as sim, aiohttp.ClientSession() as s:
        rest = Rest(s, sim.urls[VENUE]["rest"], ALICE)
        _, listed, _ = await rest.get(
            "/v5/market/instruments-info", {"category": "spot", "symbol": "BTCUSDT"}, signed=False
        )
        lot = listed["result"]["list"][0]["lotSizeFilter"]
        assert (lot["basePrecision"], lot["minOrderQty"], lot["minOrderAmt"]) == (
            "0.000001",
            "0.000011",
            "5",
        )
        bid, _ = await best(rest, "spot", "BTCUSDT")
        small = spot("Buy", "Limit", "0.000040", bid)  # above minOrderQty, about 4 USDT
        _, reply, _ = await rest.post("/v5/order/create", small)
        assert (reply["retCode"], reply["retMsg"]) == (170140, "Order value exceeded lower limit")
        _, reply, _ = await rest.post("/v5/order/create", spot("Buy", "Limit", "0.000060", bid))
        assert reply["retCode"] == 0
        _, reply, _ = await rest.post("/v5/order/create", spot("Buy", "Market", "4"))
        assert reply["retCode"] == 170140
        _, reply, _ = await rest.post("/v5/order/create", spot("Buy", "Market", "6"))
        assert reply["retCode"] == 0

        _, reply, _ = await rest.post("/v5/order/create", limit("Buy", "4000", qty="0.001"))
        assert (reply["retCode"], reply["retMsg"]) == (
            110094,
            "Order notional value below the lower limit",
        )
        _, reply, _ = await rest.post("/v5/order/create", limit("Buy", "6000", qty="0.001"))
        assert reply["retCode"] == 0


async def test_engine_refusals_map_to_bybit_codes():
    async with bybit_sim() as sim, aiohttp.ClientSession() as s:
        rest = Rest(s, sim.urls[VENUE]["rest"], ALICE)
        bid, ask = await best(rest, "linear", "BTCUSDT")
        cases = [
            (limit("Buy", bid, qty="5000"), 110007, "ab not enough for new order"),
            (limit("Sell", ask + 100, reduceOnly=True), 110017, "Reduce-only rule not satisfied"),
            (limit("Buy", bid - Decimal("0.05")), 10001, None),
            (limit("Buy", bid, qty="0.0001"), 10001, None),
            ({**limit("Buy", bid), "symbol": "DOGEUSDT"}, 10001, "params error: symbol invalid"),
            ({**limit("Buy", bid), "side": "Long"}, 10001, "params error: side invalid"),
            (
                {**limit("Buy", bid), "timeInForce": "GTD"},
                10001,
                "params error: timeInForce invalid",
            ),
            (
                {
                    "category": "spot",
                    "symbol": "BTCUSDT",
                    "side": "Sell",
                    "orderType": "Limit",
                    "qty": "50",
                    "price": str(ask),
                },
                170131,
                "Insufficient balance.",
            ),
            (
                {
                    "category": "spot",
                    "symbol": "XXXUSDT",
                    "side": "Buy",
                    "orderType": "Limit",
                    "qty": "1",
                    "price": "1",
                },
                170121,
                "Invalid symbol.",
            ),
        ]
        for body, code, message in cases:
            _, reply, _ = await rest.post("/v5/order/create", body)
            assert reply["retCode"] == code, (body, reply)
            if message is not None:
                assert reply["retMsg"] == message
            assert reply["result"] == {}

        _, first, _ = await rest.post(
            "/v5/order/create", limit("Buy", bid - 100, orderLinkId="dup-1")
        )
        assert first["retCode"] == 0
        await rest.post(
            "/v5/order/cancel", {"category": "linear", "symbol": "BTCUSDT", "orderLinkId": "dup-1"}
        )
        _, again, _ = await rest.post(
            "/v5/order/create", limit("Buy", bid - 100, orderLinkId="dup-1")
        )
        assert (again["retCode"], again["retMsg"]) == (110072, "OrderLinkedID is duplicate")

        _, gone, _ = await rest.post(
            "/v5/order/cancel", {"category": "linear", "symbol": "BTCUSDT", "orderLinkId": "dup-1"}
        )
        assert (gone["retCode"], gone["retMsg"]) == (
            110001,
            "order not exists or too late to cancel",
        )
        _, gone, _ = await rest.post(
            "/v5/order/amend",
            {"category": "linear", "symbol": "BTCUSDT", "orderId": "123", "price": str(bid)},
        )
        assert (gone["retCode"], gone["retMsg"]) == (
            110001,
            "order not exists or too late to replace",
        )
        _, gone, _ = await rest.post(
            "/v5/order/cancel", {"category": "spot", "symbol": "BTCUSDT", "orderId": "123"}
        )
        assert (gone["retCode"], gone["retMsg"]) == (170213, "Order does not exist.")


async def test_insufficient_balance_from_a_small_wallet():
    async with bybit_sim(accounts=[POOR]) as sim, aiohttp.ClientSession() as s:
        sim.engine.account(VENUE, POOR.api_key).balances["USDT"].total = Decimal(0)
        sim.engine.account(VENUE, POOR.api_key).balances["USDT"].available = Decimal(0)
        rest = Rest(s, sim.urls[VENUE]["rest"], POOR)
        bid, _ = await best(rest, "linear", "BTCUSDT")
        _, reply, _ = await rest.post("/v5/order/create", limit("Buy", bid, qty="0.001"))
        assert reply["retCode"] == 110007


async def test_post_only_that_would_take_is_accepted_then_cancelled():
    async with bybit_sim() as sim, aiohttp.ClientSession() as s:
        rest = Rest(s, sim.urls[VENUE]["rest"], ALICE)
        _, ask = await best(rest, "linear", "BTCUSDT")
        _, reply, _ = await rest.post(
            "/v5/order/create", limit("Buy", ask, timeInForce="PostOnly", orderLinkId="po-1")
        )
        assert reply["retCode"] == 0
        _, found, _ = await rest.get(
            "/v5/order/realtime", {"category": "linear", "orderLinkId": "po-1"}
        )
        [order] = found["result"]["list"]
        assert (
            order["orderId"],
            order["orderStatus"],
            order["rejectReason"],
            order["timeInForce"],
        ) == (
            reply["result"]["orderId"],
            "Cancelled",
            "EC_PostOnlyWillTakeLiquidity",
            "PostOnly",
        )
        _, spot_ask = await best(rest, "spot", "BTCUSDT")
        _, reply, _ = await rest.post(
            "/v5/order/create",
            {
                "category": "spot",
                "symbol": "BTCUSDT",
                "side": "Buy",
                "orderType": "Limit",
                "qty": "0.001",
                "price": str(spot_ask),
                "timeInForce": "PostOnly",
                "orderLinkId": "po-2",
            },
        )
        _, found, _ = await rest.get(
            "/v5/order/history", {"category": "spot", "orderLinkId": "po-2"}
        )
        [spot_order] = found["result"]["list"]
        assert (spot_order["orderId"], spot_order["orderStatus"], spot_order["rejectReason"]) == (
            reply["result"]["orderId"],
            "Rejected",
            "EC_PostOnlyWillTakeLiquidity",
        )
        linear, spot = sim.engine.orders(VENUE, ALICE.api_key)
        assert (linear.client_order_id, linear.status, linear.cancel_reason) == (
            "po-1",
            OrderStatus.CANCELED,
            CancelReason.POST_ONLY_WOULD_TAKE,
        )
        assert (spot.client_order_id, spot.status, spot.reject_reason) == (
            "po-2",
            OrderStatus.REJECTED,
            RejectReason.POST_ONLY_WOULD_CROSS,
        )
        assert spot.order_id == reply["result"]["orderId"]
        _, reused, _ = await rest.post(
            "/v5/order/create",
            {
                "category": "spot",
                "symbol": "BTCUSDT",
                "side": "Buy",
                "orderType": "Limit",
                "qty": "0.001",
                "price": "1000",
                "orderLinkId": "po-2",
            },
        )
        assert (reused["retCode"], reused["retMsg"]) == (170141, "Duplicate clientOrderId")
        assert len(sim.engine.orders(VENUE, ALICE.api_key)) == 2


async def test_fok_and_ioc_outcomes():
    async with bybit_sim() as sim, aiohttp.ClientSession() as s:
        rest = Rest(s, sim.urls[VENUE]["rest"], ALICE)
        bid, _ = await best(rest, "linear", "BTCUSDT")
        _, reply, _ = await rest.post(
            "/v5/order/create", limit("Buy", bid - 200, timeInForce="FOK", orderLinkId="fok-1")
        )
        assert reply["retCode"] == 0
        _, reply, _ = await rest.post(
            "/v5/order/create", limit("Buy", bid - 200, timeInForce="IOC", orderLinkId="ioc-1")
        )
        _, history, _ = await rest.get("/v5/order/history", {"category": "linear"})
        rows = {o["orderLinkId"]: o for o in history["result"]["list"]}
        assert (rows["fok-1"]["orderStatus"], rows["fok-1"]["rejectReason"]) == (
            "Cancelled",
            "EC_CancelForNoFullFill",
        )
        assert (
            rows["ioc-1"]["orderStatus"],
            rows["ioc-1"]["rejectReason"],
            rows["ioc-1"]["leavesQty"],
        ) == (
            "Cancelled",
            "EC_NoImmediateQtyToFill",
            "0",
        )


async def test_spot_market_buy_qty_is_quote_coin_unless_market_unit_is_base():
    async with bybit_sim() as sim, aiohttp.ClientSession() as s:
        rest = Rest(s, sim.urls[VENUE]["rest"], ALICE)
        _, ask = await best(rest, "spot", "BTCUSDT")
        market = {"category": "spot", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Market"}
        _, by_quote, _ = await rest.post(
            "/v5/order/create", {**market, "qty": str(ask * Decimal("0.001"))}
        )
        assert by_quote["retCode"] == 0
        _, by_base, _ = await rest.post(
            "/v5/order/create", {**market, "qty": "0.0020", "marketUnit": "baseCoin"}
        )
        assert by_base["retCode"] == 0
        _, fills, _ = await rest.get("/v5/execution/list", {"category": "spot"})
        filled: dict[str, Decimal] = {}
        for fill in fills["result"]["list"]:
            filled[fill["orderId"]] = filled.get(fill["orderId"], Decimal(0)) + Decimal(
                fill["execQty"]
            )
        assert filled == {
            by_quote["result"]["orderId"]: Decimal("0.0010"),
            by_base["result"]["orderId"]: Decimal("0.0020"),
        }
        # "Spot Fee Currency Instruction": a taker buy pays 0.1% of what it receives, in BTC
        fees = {
            (f["feeCurrency"], Decimal(f["execFee"]) / Decimal(f["execQty"]))
            for f in fills["result"]["list"]
        }
        assert fees == {("BTC", Decimal("0.001"))}
        _, history, _ = await rest.get(
            "/v5/order/history", {"category": "spot", "orderId": by_base["result"]["orderId"]}
        )
        [row] = history["result"]["list"]
        assert row["cumExecFee"] == "0.000002"  # BTC


async def test_amend_rules_and_lookup_by_id_or_link_id():
    async with bybit_sim() as sim, aiohttp.ClientSession() as s:
        rest = Rest(s, sim.urls[VENUE]["rest"], ALICE)
        bid, _ = await best(rest, "linear", "BTCUSDT")
        _, created, _ = await rest.post(
            "/v5/order/create", limit("Buy", bid - 100, orderLinkId="am-1")
        )
        order_id = created["result"]["orderId"]
        same = {
            "category": "linear",
            "symbol": "BTCUSDT",
            "orderId": order_id,
            "price": str(bid - 100),
        }
        _, reply, _ = await rest.post("/v5/order/amend", same)
        assert (reply["retCode"], reply["retMsg"]) == (
            10001,
            "The order remains unchanged as the parameters entered match the existing ones.",
        )
        _, reply, _ = await rest.post(
            "/v5/order/amend", {**same, "price": str(bid - 50), "qty": "0.02"}
        )
        assert reply["result"] == {"orderId": order_id, "orderLinkId": "am-1"}
        for query in ({"orderId": order_id}, {"orderLinkId": "am-1"}):
            _, found, _ = await rest.get("/v5/order/realtime", {"category": "linear", **query})
            [row] = found["result"]["list"]
            assert (row["price"], row["qty"], row["orderStatus"]) == (str(bid - 50), "0.020", "New")
        _, missing, _ = await rest.get("/v5/order/realtime", {"category": "linear"})
        assert missing["retCode"] == 10001


async def test_linear_amend_to_the_filled_quantity_is_refused():
    """110064: the new qty may not be "less than or equal to the filled quantity"."""
    async with bybit_sim() as sim, aiohttp.ClientSession() as s:
        rest = Rest(s, sim.urls[VENUE]["rest"], ALICE)
        bid, _ = await best(rest, "linear", "BTCUSDT")
        price = bid - 100
        _, created, _ = await rest.post(
            "/v5/order/create", limit("Buy", price, qty="0.010", orderLinkId="af-1")
        )
        engine = sim.engine
        engine.add_account(VENUE, "taker", "s", balances={"USDT": Decimal(10**8)})
        bids, _ = engine.book(VENUE, "BTCUSDT")
        ahead = sum(size for level, size in bids if level >= price) - Decimal("0.010")
        engine.place_order(
            VENUE,
            "taker",
            "BTCUSDT",
            side=Side.SELL,
            order_type=OrderType.LIMIT,
            price=price,
            quantity=ahead + Decimal("0.004"),
        )
        amend = {"category": "linear", "symbol": "BTCUSDT", "orderLinkId": "af-1"}
        _, reply, _ = await rest.post("/v5/order/amend", {**amend, "qty": "0.004"})
        assert (reply["retCode"], reply["retMsg"]) == (
            110064,
            "The modified contract quantity cannot be less than or equal to the filled quantity.",
        )
        _, reply, _ = await rest.post("/v5/order/amend", {**amend, "qty": "0.005"})
        assert reply["result"] == {"orderId": created["result"]["orderId"], "orderLinkId": "af-1"}
        order = engine.get_order(VENUE, ALICE.api_key, client_order_id="af-1")
        assert (order.status, order.filled_quantity, order.quantity) == (
            OrderStatus.PARTIALLY_FILLED,
            Decimal("0.004"),
            Decimal("0.005"),
        )


async def test_cancel_all_scope_and_pagination():
    async with bybit_sim() as sim, aiohttp.ClientSession() as s:
        rest = Rest(s, sim.urls[VENUE]["rest"], ALICE)
        bid, _ = await best(rest, "linear", "BTCUSDT")
        for n in range(5):
            await rest.post("/v5/order/create", limit("Buy", bid - 100 - n, orderLinkId=f"pg-{n}"))
        _, page1, _ = await rest.get(
            "/v5/order/realtime", {"category": "linear", "settleCoin": "USDT", "limit": 2}
        )
        _, page2, _ = await rest.get(
            "/v5/order/realtime",
            {
                "category": "linear",
                "settleCoin": "USDT",
                "limit": 2,
                "cursor": page1["result"]["nextPageCursor"],
            },
        )
        _, page3, _ = await rest.get(
            "/v5/order/realtime",
            {
                "category": "linear",
                "settleCoin": "USDT",
                "limit": 2,
                "cursor": page2["result"]["nextPageCursor"],
            },
        )
        links = [o["orderLinkId"] for p in (page1, page2, page3) for o in p["result"]["list"]]
        assert links == ["pg-4", "pg-3", "pg-2", "pg-1", "pg-0"]
        assert page3["result"]["nextPageCursor"] == ""
        _, refused, _ = await rest.post("/v5/order/cancel-all", {"category": "linear"})
        assert refused["retCode"] == 10001
        _, done, _ = await rest.post(
            "/v5/order/cancel-all", {"category": "linear", "symbol": "BTCUSDT"}
        )
        assert sorted(o["orderLinkId"] for o in done["result"]["list"]) == [
            f"pg-{n}" for n in range(5)
        ]
        _, left, _ = await rest.get(
            "/v5/order/realtime", {"category": "linear", "symbol": "BTCUSDT"}
        )
        assert left["result"]["list"] == []


async def test_lost_ack_closes_the_connection_but_the_order_exists():
    async with bybit_sim(faults={"lose_acks": 1, "lost_ack_wait_ms": 10}) as sim:
        async with aiohttp.ClientSession() as s:
            rest = Rest(s, sim.urls[VENUE]["rest"], ALICE)
            bid, _ = await best(rest, "linear", "BTCUSDT")
            with pytest.raises(aiohttp.ClientError):
                await rest.post("/v5/order/create", limit("Buy", bid - 100, orderLinkId="lost-1"))
            _, found, _ = await rest.get(
                "/v5/order/realtime", {"category": "linear", "orderLinkId": "lost-1"}
            )
            assert [o["orderStatus"] for o in found["result"]["list"]] == ["New"]
            assert sim.faults[VENUE].fired["lose_acks"] == 1


async def test_ack_delay_holds_the_answer():
    async with bybit_sim(faults={"ack_delay_ms": 150}) as sim, aiohttp.ClientSession() as s:
        rest = Rest(s, sim.urls[VENUE]["rest"], ALICE)
        bid, _ = await best(rest, "linear", "BTCUSDT")
        loop = asyncio.get_running_loop()
        started = loop.time()
        _, reply, _ = await rest.post("/v5/order/create", limit("Buy", bid - 100))
        assert reply["retCode"] == 0
        assert loop.time() - started >= 0.15


@pytest.mark.parametrize(
    ("reason", "message", "category", "action", "expected"),
    [
        ("insufficient_funds", "", "linear", "create", 110007),
        ("insufficient_funds", "", "spot", "create", 170131),
        ("post_only_would_cross", "", "linear", "amend", 10001),
        ("reduce_only", "", "inverse", "create", 110017),
        ("invalid_price", "price 1.3 is not a multiple of the tick 0.5", "linear", "create", 10001),
        ("invalid_price", "price 1.03 is not a multiple of the tick 0.1", "spot", "create", 170134),
        ("invalid_price", "price -1 must be positive", "spot", "create", 170130),
        ("invalid_size", "quantity 0.0001 is below the minimum 0.001", "spot", "create", 170136),
        ("invalid_size", "quantity 0.00011 is not a multiple of the lot", "spot", "create", 170137),
        ("invalid_size", "quantity 0.001 is below the filled 0.004", "linear", "amend", 110064),
        ("invalid_size", "quantity 0.001 is below the filled 0.004", "spot", "amend", 170313),
        ("order_not_found", "", "linear", "cancel", 110001),
        ("order_closed", "", "linear", "amend", 110001),
        ("order_closed", "", "spot", "cancel", 170213),
        ("duplicate_client_order_id", "", "linear", "create", 110072),
        ("duplicate_client_order_id", "", "spot", "create", 170141),
        ("unknown_instrument", "", "linear", "create", 10001),
        ("unknown_instrument", "", "spot", "create", 170121),
        ("fok_not_fillable", "", "linear", "create", 10001),
        ("no_liquidity", "", "linear", "create", 110118),
        ("no_liquidity", "", "spot", "create", 170210),
    ],
)
def test_every_engine_refusal_has_a_bybit_code(reason, message, category, action, expected):
    error = reject_error(SimReject(RejectReason(reason), message), category, action)
    assert error.code == expected
    assert error.message


async def test_executions_report_the_closed_size():
    async with bybit_sim() as sim, aiohttp.ClientSession() as s:
        rest = Rest(s, sim.urls[VENUE]["rest"], ALICE)
        market = {"category": "linear", "symbol": "BTCUSDT", "orderType": "Market"}
        _, opened, _ = await rest.post(
            "/v5/order/create", {**market, "side": "Buy", "qty": "0.004"}
        )
        _, flipped, _ = await rest.post(
            "/v5/order/create", {**market, "side": "Sell", "qty": "0.006"}
        )
        _, listed, _ = await rest.get("/v5/execution/list", {"category": "linear"})
        closed: dict[str, Decimal] = {}
        for row in listed["result"]["list"]:
            closed[row["orderId"]] = closed.get(row["orderId"], Decimal(0)) + Decimal(
                row["closedSize"]
            )
        assert closed == {
            opened["result"]["orderId"]: Decimal("0"),
            flipped["result"]["orderId"]: Decimal("0.004"),
        }
