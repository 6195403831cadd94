"""The OKX face's "Amend algo order" (POST /api/v5/trade/amend-algos, okx/rest_algo.py): a
waiting stop loss / take profit moves its trigger, size and (limit kinds) order price, answers
in OKX's shape, pushes `orders-algo`, and refuses what OKX refuses; the plain amend-order does
not reach an algo."""

from __future__ import annotations

from decimal import Decimal

import aiohttp
import pytest

from exchanges.venues.base import Venue
from tests.plugins.venues import load_payload
from tests.support.okx import OkxRest, receive_until, start_okx
from tests.support.shape import assert_same_shape
from tests.unit.simulator.okx.test_algo import INST, move, private_ws, stop, trigger

OKX = Venue.OKX
AMEND = "/api/v5/trade/amend-algos"


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


async def place(rest: OkxRest, body: dict) -> str:
    _, placed = await rest.post("/api/v5/trade/order-algo", body)
    assert placed["code"] == "0", placed
    return placed["data"][0]["algoId"]


async def details(rest: OkxRest, algo_id: str) -> dict:
    _, answer = await rest.get(f"/api/v5/trade/order-algo?algoId={algo_id}")
    return answer["data"][0]


def take_profit(cl: str, trigger_px: str, ord_px: str) -> dict:
    """A sell take profit (fires on a rise) at `trigger_px`, then a limit at `ord_px`."""
    return {
        "instId": INST,
        "tdMode": "cross",
        "side": "sell",
        "ordType": "conditional",
        "sz": "1",
        "algoClOrdId": cl,
        "tpTriggerPx": trigger_px,
        "tpOrdPx": ord_px,
    }


def refusal(answer: dict) -> tuple[str, str, str]:
    (item,) = answer["data"]
    return answer["code"], item["sCode"], item["sMsg"]


async def test_amend_moves_the_trigger_answers_in_okx_shape_and_pushes_orders_algo(okx):
    simulator, session, rest = okx
    ws = await private_ws(simulator, session)
    algo_id = await place(rest, stop("am1", trigger(simulator, "-2")))
    placed = await receive_until(ws, lambda m: m.get("arg", {}).get("channel") == "orders-algo")
    new_trigger = trigger(simulator, "-3")
    status, answer = await rest.post(
        AMEND,
        {
            "instId": INST,
            "algoId": algo_id,
            "newSlTriggerPx": new_trigger,
            "newSlOrdPx": "-1",
            "reqId": "move1",
        },
    )
    assert (status, answer) == (
        200,
        {
            "code": "0",
            "msg": "",
            "data": [
                {
                    "algoId": algo_id,
                    "algoClOrdId": "am1",
                    "reqId": "move1",
                    "sCode": "0",
                    "sMsg": "",
                }
            ],
        },
    )
    assert_same_shape(answer, load_payload("okx", "rest_amend_algo_order_docs")["response"])
    pushed = await receive_until(ws, lambda m: m.get("arg", {}).get("channel") == "orders-algo")
    (algo,) = pushed["data"]
    assert (algo["algoId"], algo["state"], algo["slTriggerPx"], algo["slOrdPx"], algo["sz"]) == (
        algo_id,
        "live",
        new_trigger,
        "-1",
        "1",
    )
    assert placed["data"][0]["slTriggerPx"] != new_trigger
    assert await details(rest, algo_id) == algo
    await ws.close()


async def test_amend_by_algo_client_id_changes_size_and_the_limit_price(okx):
    simulator, _, rest = okx
    at = trigger(simulator, "-2")
    limit = format(Decimal(at) - 10, "f")
    algo_id = await place(rest, stop("am2", at, ord_px=limit))
    new_limit = format(Decimal(at) - 20, "f")
    _, answer = await rest.post(
        AMEND,
        {
            "instId": INST,
            "algoClOrdId": "am2",
            "newSz": "3",
            "newSlTriggerPx": at,
            "newSlOrdPx": new_limit,
        },
    )
    assert answer["data"][0] == {
        "algoId": algo_id,
        "algoClOrdId": "am2",
        "reqId": "",
        "sCode": "0",
        "sMsg": "",
    }
    algo = await details(rest, algo_id)
    assert (algo["sz"], algo["slTriggerPx"], algo["slOrdPx"], algo["state"]) == (
        "3",
        at,
        new_limit,
        "live",
    )
    _, size_only = await rest.post(AMEND, {"instId": INST, "algoId": algo_id, "newSz": "2"})
    assert size_only["code"] == "0"
    assert (await details(rest, algo_id))["sz"] == "2"


async def test_a_take_profit_limit_amends_its_tp_pair(okx):
    simulator, _, rest = okx
    at = trigger(simulator, "2")
    algo_id = await place(rest, take_profit("tp1", at, at))
    higher = trigger(simulator, "3")
    _, answer = await rest.post(
        AMEND,
        {
            "instId": INST,
            "algoId": algo_id,
            "newTpTriggerPx": higher,
            "newTpOrdPx": higher,
            "newTpTriggerPxType": "last",
        },
    )
    assert answer["code"] == "0"
    algo = await details(rest, algo_id)
    assert (algo["tpTriggerPx"], algo["tpOrdPx"], algo["tpTriggerPxType"], algo["slTriggerPx"]) == (
        higher,
        higher,
        "last",
        "",
    )


async def test_an_unknown_canceled_or_fired_algo_does_not_exist(okx):
    simulator, _, rest = okx
    missing = ("1", "51527", "Order modification unsuccessful. The stop order does not exist.")
    body = {"newSlTriggerPx": trigger(simulator, "-3"), "newSlOrdPx": "-1", "instId": INST}
    _, unknown = await rest.post(AMEND, {**body, "algoId": "424242"})
    assert refusal(unknown) == missing
    assert unknown["data"][0]["algoId"] == "424242"
    canceled_id = await place(rest, stop("gone1", trigger(simulator, "-2")))
    await rest.post("/api/v5/trade/cancel-algos", [{"instId": INST, "algoId": canceled_id}])
    _, canceled = await rest.post(AMEND, {**body, "algoId": canceled_id})
    assert refusal(canceled) == missing
    other_id = await place(rest, stop("inst1", trigger(simulator, "-2")))
    _, wrong_inst = await rest.post(AMEND, {**body, "instId": "ETH-USDT-SWAP", "algoId": other_id})
    assert refusal(wrong_inst) == missing
    await rest.post(
        "/api/v5/trade/order",
        {"instId": INST, "tdMode": "cross", "side": "buy", "ordType": "market", "sz": "1"},
    )
    fired_id = await place(
        rest,
        stop("fired1", trigger(simulator, "-2", "mark"), reduceOnly=True, slTriggerPxType="mark"),
    )
    move(simulator, "-3")
    assert (await details(rest, fired_id))["state"] == "effective"
    _, fired = await rest.post(AMEND, {"instId": INST, "algoId": fired_id, "newSz": "2"})
    assert refusal(fired) == missing


@pytest.mark.parametrize(
    ("side", "by", "placed_pct", "pct", "code", "msg"),
    [
        (
            "sell",
            "last",
            "-2",
            "1",
            "51280",
            "SL trigger price cannot be higher than the last price.",
        ),
        (
            "buy",
            "last",
            "2",
            "-1",
            "51278",
            "SL trigger price cannot be lower than the last price.",
        ),
        (
            "sell",
            "mark",
            "-2",
            "1",
            "51304",
            "SL trigger price cannot be higher than the mark price.",
        ),
    ],
)
async def test_a_trigger_already_reached_is_refused_and_the_algo_kept(
    okx, side, by, placed_pct, pct, code, msg
):
    simulator, _, rest = okx
    at = trigger(simulator, placed_pct, by)
    algo_id = await place(rest, stop("reach1", at, side=side, slTriggerPxType=by))
    _, answer = await rest.post(
        AMEND,
        {
            "instId": INST,
            "algoId": algo_id,
            "newSlTriggerPx": trigger(simulator, pct, by),
            "newSlOrdPx": "-1",
        },
    )
    assert refusal(answer) == ("1", code, msg)
    assert answer["data"][0]["algoId"] == algo_id
    algo = await details(rest, algo_id)
    assert (algo["slTriggerPx"], algo["state"]) == (at, "live")


async def test_refusals_of_what_an_amendment_cannot_change(okx):
    simulator, _, rest = okx
    at = trigger(simulator, "-2")
    market_id = await place(rest, stop("ref1", at))
    limit_id = await place(rest, stop("ref2", at, ord_px=at))
    head = {"instId": INST, "algoId": market_id}
    lower = trigger(simulator, "-3")
    cases = [
        ({}, ("51500", "You must enter a price, quantity, or TP/SL")),
        (
            {"newTpTriggerPx": trigger(simulator, "2"), "newTpOrdPx": "-1"},
            (
                "51526",
                "Order modification unsuccessful. Take profit/Stop loss conditions cannot be "
                "added to or removed from stop orders.",
            ),
        ),
        (
            {"newSlTriggerPx": "0", "newSlOrdPx": "-1"},
            (
                "51531",
                "Order modification unsuccessful. The stop order must have either take profit "
                "or stop loss attached.",
            ),
        ),
        (
            {"newSlTriggerPx": lower, "newSlOrdPx": "-1", "newSlTriggerPxType": "mark"},
            ("51528", "Unable to modify trigger price type"),
        ),
        ({"newSlTriggerPx": lower, "newSlOrdPx": lower}, ("51000", "Parameter newSlOrdPx error")),
        (
            {"newSlTriggerPx": "1.05", "newSlOrdPx": "-1"},
            ("51000", "Parameter newSlTriggerPx error"),
        ),
        (
            {"newSz": "0.001"},
            ("51020", "Your order should meet or exceed the minimum order amount."),
        ),
        ({"newSz": "0"}, ("51000", "Parameter newSz error")),
    ]
    for extra, (code, msg) in cases:
        _, answer = await rest.post(AMEND, {**head, **extra})
        assert refusal(answer) == ("1", code, msg), extra
    _, limit_at_market = await rest.post(
        AMEND, {"instId": INST, "algoId": limit_id, "newSlTriggerPx": lower, "newSlOrdPx": "-1"}
    )
    assert refusal(limit_at_market) == ("1", "51000", "Parameter newSlOrdPx error")
    _, off_tick = await rest.post(
        AMEND, {"instId": INST, "algoId": limit_id, "newSlTriggerPx": lower, "newSlOrdPx": "1.05"}
    )
    assert refusal(off_tick) == ("1", "51000", "Parameter newSlOrdPx error")
    algo = await details(rest, market_id)
    assert (algo["slTriggerPx"], algo["slTriggerPxType"], algo["sz"], algo["state"]) == (
        at,
        "last",
        "1",
        "live",
    )
    _, same_type = await rest.post(
        AMEND, {**head, "newSlTriggerPx": lower, "newSlOrdPx": "-1", "newSlTriggerPxType": "last"}
    )
    assert same_type["code"] == "0"


@pytest.mark.parametrize(
    ("body", "status", "code", "msg"),
    [
        (
            {"instId": INST, "newSz": "2"},
            400,
            "50015",
            "Either parameter algoId or algoClOrdId is required.",
        ),
        ({"algoId": "1", "newSz": "2"}, 400, "50014", "Parameter instId can not be empty."),
        (
            {"instId": INST, "algoId": "1", "newSlTriggerPx": "100"},
            400,
            "50014",
            "Parameter newSlOrdPx can not be empty.",
        ),
        (
            {"instId": INST, "algoId": "1", "newSlOrdPx": "-1"},
            400,
            "50014",
            "Parameter newSlTriggerPx can not be empty.",
        ),
        ({"instId": INST, "algoId": "1", "newSz": "abc"}, 400, "51000", "Parameter newSz error"),
        (
            {"instId": INST, "algoId": "1", "newSz": "2", "reqId": "not-alnum"},
            400,
            "51000",
            "Parameter reqId error",
        ),
        (
            {
                "instId": INST,
                "algoId": "1",
                "newSlTriggerPx": "100",
                "newSlOrdPx": "-1",
                "newSlTriggerPxType": "best",
            },
            400,
            "51000",
            "Parameter newSlTriggerPxType error",
        ),
    ],
)
async def test_malformed_requests_are_refused_whole(okx, body, status, code, msg):
    _, _, rest = okx
    answer_status, answer = await rest.post(AMEND, body)
    assert (answer_status, answer) == (status, {"code": code, "msg": msg, "data": []})


async def test_cxl_on_fail_cancels_the_algo_when_the_amendment_is_refused(okx):
    simulator, _, rest = okx
    algo_id = await place(rest, stop("cxl1", trigger(simulator, "-2")))
    kept_id = await place(rest, stop("cxl2", trigger(simulator, "-2")))
    reached = {"newSlTriggerPx": trigger(simulator, "1"), "newSlOrdPx": "-1", "instId": INST}
    _, answer = await rest.post(AMEND, {**reached, "algoId": algo_id, "cxlOnFail": True})
    assert refusal(answer)[:2] == ("1", "51280")
    _, kept = await rest.post(AMEND, {**reached, "algoId": kept_id, "cxlOnFail": False})
    assert refusal(kept)[:2] == ("1", "51280")
    assert ((await details(rest, algo_id))["state"], (await details(rest, kept_id))["state"]) == (
        "canceled",
        "live",
    )


async def test_the_plain_amend_order_does_not_reach_an_algo(okx):
    simulator, _, rest = okx
    at = trigger(simulator, "-2")
    algo_id = await place(rest, stop("plain1", at, ord_px=at))
    gone = "Your order has already been filled or canceled."
    _, by_id = await rest.post(
        "/api/v5/trade/amend-order", {"instId": INST, "ordId": algo_id, "newSz": "2"}
    )
    _, by_cl = await rest.post(
        "/api/v5/trade/amend-order", {"instId": INST, "clOrdId": "plain1", "newPx": at}
    )
    _, unknown = await rest.post(
        "/api/v5/trade/amend-order", {"instId": INST, "ordId": "424242", "newSz": "2"}
    )
    _, batch = await rest.post(
        "/api/v5/trade/amend-batch-orders", [{"instId": INST, "ordId": algo_id, "newSz": "2"}]
    )
    for answer in (by_id, by_cl, unknown, batch):
        assert refusal(answer) == ("1", "51503", gone)
    algo = await details(rest, algo_id)
    assert (algo["sz"], algo["slOrdPx"], algo["state"]) == ("1", at, "live")
