"""The OKX face's algo orders (okx/rest_algo.py, okx/algo_wire.py): one-way stop loss / take
profit (`ordType` conditional) placed, listed, refused, canceled and fired, on REST and on the
`orders-algo` and `orders` channels, as docs-v5 "Algo Trading" describes them."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_UP, Decimal

import aiohttp
import orjson
import pytest

from exchanges.venues.base import Venue
from tests.support.okx import OkxRest, login_request, receive_json, receive_until, start_okx

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


def trigger(simulator, pct: str, by: str = "last") -> str:
    """A trigger `pct` percent from the watched price, on the tick, as a wire string."""
    engine = simulator.engine
    info = engine.instrument(OKX, INST)
    if by == "mark":
        price = engine.mark_price(OKX, INST)
    else:
        price = engine.trigger_source_price(OKX, INST, "last")
    value = price * (1 + Decimal(pct) / 100)
    rounding = ROUND_UP if Decimal(pct) > 0 else ROUND_DOWN
    on_tick = (value / info.tick_size).quantize(Decimal(1), rounding=rounding) * info.tick_size
    return format(on_tick.normalize(), "f")


def stop(cl: str, trigger_px: str, *, ord_px: str = "-1", side: str = "sell", **extra) -> dict:
    return {
        "instId": INST,
        "tdMode": "cross",
        "side": side,
        "ordType": "conditional",
        "sz": "1",
        "algoClOrdId": cl,
        "slTriggerPx": trigger_px,
        "slOrdPx": ord_px,
        **extra,
    }


def move(simulator, pct: str) -> None:
    """Shift the mark (no trade happens, so the last price stays)."""
    simulator.engine.market.move("BTC", OKX, Decimal(pct))
    simulator.engine.step(0)


async def private_ws(simulator, session):
    ws = await session.ws_connect(simulator.urls[OKX]["ws_private"])
    await ws.send_str(orjson.dumps(login_request(simulator.credentials[OKX])).decode())
    assert (await receive_json(ws))["event"] == "login"
    args = [
        {"channel": "orders", "instType": "ANY"},
        {"channel": "orders-algo", "instType": "ANY"},
    ]
    await ws.send_str(orjson.dumps({"op": "subscribe", "args": args}).decode())
    await receive_until(
        ws, lambda m: m.get("event") == "subscribe" and m["arg"]["channel"] == "orders-algo"
    )
    return ws


async def test_place_answers_the_algo_ids_and_lists_it_pending(okx):
    simulator, _, rest = okx
    at = trigger(simulator, "-2")
    status, placed = await rest.post("/api/v5/trade/order-algo", stop("sl1", at))
    assert (status, placed["code"]) == (200, "0")
    (item,) = placed["data"]
    assert sorted(item) == ["algoClOrdId", "algoId", "sCode", "sMsg"]
    assert (item["algoClOrdId"], item["sCode"]) == ("sl1", "0")
    _, pending = await rest.get("/api/v5/trade/orders-algo-pending?ordType=conditional")
    (algo,) = pending["data"]
    assert {k: algo[k] for k in ("algoId", "algoClOrdId", "clOrdId", "ordId", "state")} == {
        "algoId": item["algoId"],
        "algoClOrdId": "sl1",
        "clOrdId": "",
        "ordId": "",
        "state": "live",
    }
    assert (algo["slTriggerPx"], algo["slOrdPx"], algo["slTriggerPxType"], algo["tpTriggerPx"]) == (
        at,
        "-1",
        "last",
        "",
    )
    _, details = await rest.get("/api/v5/trade/order-algo?algoClOrdId=sl1")
    assert details["data"] == [algo]
    _, none = await rest.get("/api/v5/trade/orders-algo-pending?ordType=trigger")
    assert none["data"] == []
    _, missing = await rest.get("/api/v5/trade/orders-algo-pending")
    assert missing["code"] == "50014"


async def test_plain_order_endpoints_do_not_know_an_untriggered_algo(okx):
    simulator, _, rest = okx
    _, placed = await rest.post("/api/v5/trade/order-algo", stop("sl2", trigger(simulator, "-2")))
    algo_id = placed["data"][0]["algoId"]
    _, by_id = await rest.get(f"/api/v5/trade/order?instId={INST}&ordId={algo_id}")
    _, by_cl = await rest.get(f"/api/v5/trade/order?instId={INST}&clOrdId=sl2")
    assert (by_id["code"], by_cl["code"]) == ("51603", "51603")
    _, cancel = await rest.post("/api/v5/trade/cancel-order", {"instId": INST, "ordId": algo_id})
    assert cancel["data"][0]["sCode"] == "51400"
    _, pending = await rest.get("/api/v5/trade/orders-pending")
    assert pending["data"] == []


@pytest.mark.parametrize(
    ("side", "kind", "pct", "code", "msg"),
    [
        ("sell", "sl", "1", "51280", "SL trigger price cannot be higher than the last price."),
        ("buy", "sl", "-1", "51278", "SL trigger price cannot be lower than the last price."),
        ("sell", "tp", "-1", "51279", "TP trigger price cannot be lower than the last price."),
        ("buy", "tp", "1", "51277", "TP trigger price cannot be higher than the last price."),
    ],
)
async def test_a_reached_trigger_is_refused_with_its_okx_code(okx, side, kind, pct, code, msg):
    simulator, _, rest = okx
    body = {
        "instId": INST,
        "tdMode": "cross",
        "side": side,
        "ordType": "conditional",
        "sz": "1",
        f"{kind}TriggerPx": trigger(simulator, pct),
        f"{kind}OrdPx": "-1",
    }
    _, refused = await rest.post("/api/v5/trade/order-algo", body)
    assert (refused["code"], refused["data"][0]["sCode"], refused["data"][0]["sMsg"]) == (
        "1",
        code,
        msg,
    )


async def test_refusals_of_parameters_and_duplicates(okx):
    simulator, _, rest = okx
    at = trigger(simulator, "-2")
    _, trailing = await rest.post("/api/v5/trade/order-algo", {**stop("x1", at), "ordType": "twap"})
    assert (trailing["code"], trailing["msg"]) == ("51000", "Parameter ordType error")
    await rest.post("/api/v5/trade/order-algo", stop("dup1", at))
    _, dup = await rest.post("/api/v5/trade/order-algo", stop("dup1", at))
    assert (dup["data"][0]["sCode"], dup["data"][0]["sMsg"]) == (
        "51065",
        "algoClOrdId already exists.",
    )
    _, mark = await rest.post(
        "/api/v5/trade/order-algo",
        stop("m1", trigger(simulator, "1", "mark"), slTriggerPxType="mark"),
    )
    assert mark["data"][0]["sCode"] == "51304"
    status, too_many = await rest.post(
        "/api/v5/trade/cancel-algos", [{"instId": INST, "algoId": "1"}] * 11
    )
    assert (status, too_many["code"]) == (400, "51000")


async def test_cancel_algos_by_either_id_and_cancel_all_after_leaves_them(okx):
    simulator, _, rest = okx
    ids = []
    for cl in ("c1", "c2", "c3"):
        _, placed = await rest.post("/api/v5/trade/order-algo", stop(cl, trigger(simulator, "-2")))
        ids.append(placed["data"][0]["algoId"])
    _, canceled = await rest.post(
        "/api/v5/trade/cancel-algos",
        [{"instId": INST, "algoId": ids[0]}, {"instId": INST, "algoClOrdId": "c2"}],
    )
    assert [(i["algoId"], i["sCode"]) for i in canceled["data"]] == [(ids[0], "0"), (ids[1], "0")]
    _, again = await rest.post("/api/v5/trade/cancel-algos", [{"instId": INST, "algoId": ids[0]}])
    assert (again["code"], again["data"][0]["sCode"]) == ("1", "51000")
    simulator.faces[OKX]._fire_dead_man(simulator.credentials[OKX].api_key)
    _, pending = await rest.get("/api/v5/trade/orders-algo-pending?ordType=conditional")
    assert [a["algoId"] for a in pending["data"]] == [ids[2]]
    _, history = await rest.get(
        "/api/v5/trade/orders-algo-history?ordType=conditional&state=canceled"
    )
    assert sorted(a["algoId"] for a in history["data"]) == ids[:2]


async def test_a_fired_stop_pushes_effective_then_its_order_under_the_algo_ids(okx):
    simulator, session, rest = okx
    await rest.post(
        "/api/v5/trade/order",
        {"instId": INST, "tdMode": "cross", "side": "buy", "ordType": "market", "sz": "1"},
    )
    ws = await private_ws(simulator, session)
    _, placed = await rest.post(
        "/api/v5/trade/order-algo",
        stop("fire1", trigger(simulator, "-2", "mark"), reduceOnly=True, slTriggerPxType="mark"),
    )
    algo_id = placed["data"][0]["algoId"]
    live = await receive_until(ws, lambda m: m.get("arg", {}).get("channel") == "orders-algo")
    assert live["data"][0]["state"] == "live"
    move(simulator, "-3")
    seen: list = []
    await receive_until(
        ws,
        lambda m: m.get("arg", {}).get("channel") == "orders" and m["data"][0]["state"] == "filled",
        seen=seen,
    )
    algo_states = [m["data"][0]["state"] for m in seen if m["arg"]["channel"] == "orders-algo"]
    orders = [m["data"][0] for m in seen if m["arg"]["channel"] == "orders"]
    assert algo_states == ["effective"]
    effective = next(m["data"][0] for m in seen if m["arg"]["channel"] == "orders-algo")
    ord_id = effective["ordId"]
    assert ord_id and ord_id != algo_id and effective["actualSide"] == "sl"
    assert {
        (o["ordId"], o["algoId"], o["algoClOrdId"], o["clOrdId"], o["source"]) for o in orders
    } == {(ord_id, algo_id, "fire1", "", "7")}
    assert (orders[0]["state"], orders[0]["ordType"], orders[-1]["accFillSz"]) == (
        "live",
        "market",
        "1",
    )
    _, order = await rest.get(f"/api/v5/trade/order?instId={INST}&ordId={ord_id}")
    assert (order["data"][0]["algoId"], order["data"][0]["state"]) == (algo_id, "filled")
    _, fills = await rest.get(f"/api/v5/trade/fills?ordId={ord_id}")
    assert {(f["ordId"], f["clOrdId"]) for f in fills["data"]} == {(ord_id, "")}
    await ws.close()


async def test_a_trigger_whose_order_cannot_be_placed_ends_order_failed(okx):
    simulator, session, rest = okx
    ws = await private_ws(simulator, session)
    await rest.post(
        "/api/v5/trade/order-algo",
        stop("fail1", trigger(simulator, "-2", "mark"), reduceOnly=True, slTriggerPxType="mark"),
    )
    move(simulator, "-3")
    failed = await receive_until(
        ws,
        lambda m: (
            m.get("arg", {}).get("channel") == "orders-algo" and m["data"][0]["state"] != "live"
        ),
    )
    assert (
        failed["data"][0]["state"],
        failed["data"][0]["failCode"],
        failed["data"][0]["ordId"],
    ) == (
        "order_failed",
        "51169",
        "",
    )
    await ws.close()
