"""The OKX adapter amends a waiting conditional order with amend-algos (okx/rest_algo.py
`amend_algo_body`, `OkxAlgoRest._amend_algo`): the exact body per kind, the order read back
after the change, the venue's refusals as typed errors; a plain amend keeps amend-order.
Payloads: tests/fixtures/venues/okx (SOURCES.md)."""

import json
from decimal import Decimal as D

import pytest
import responses
from responses import matchers

from exchanges.venues.base import (
    AmendRequest,
    Credentials,
    Endpoints,
    InvalidOrder,
    OrderNotFound,
    OrderStatus,
    OrderType,
    TriggerPrice,
)
from exchanges.venues.okx import constants as C
from exchanges.venues.okx.rest import OkxRestClient
from tests.plugins.venues import load_payload

BASE = "https://okx.test"
ENDPOINTS = Endpoints(BASE, "wss://okx.test/ws/v5/public", "wss://okx.test/ws/v5/private")
CREDS = Credentials("key-1", "secret-1", "pass-1")
INST = "BTC-USDT-SWAP"
SYMBOL = "BTC/USDT:USDT"
ALGO_ID = "2510789768709120"


def ok(data):
    return {"code": "0", "msg": "", "data": data}


def docs_pair() -> dict:
    return load_payload("okx", "rest_amend_algo_order_docs")


def algo_after(**changes) -> dict:
    """The recorded waiting stop loss as GET order-algo shows it, with `changes`."""
    raw = load_payload("okx", "rest_orders_algo_pending_close_fraction")["data"][0]
    return {**raw, "instId": INST, "algoId": ALGO_ID, "algoClOrdId": "algo_01", **changes}


@pytest.fixture
def client():
    c = OkxRestClient(ENDPOINTS, CREDS, timeout=(0.5, 0.5))
    yield c
    c.close()


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def amend(kind: OrderType, **fields) -> AmendRequest:
    return AmendRequest(symbol=SYMBOL, venue_symbol=INST, conditional=kind, **fields)


def answer_with(mocked, body: dict, answer: dict) -> None:
    mocked.post(
        f"{BASE}{C.PATH_AMEND_ALGOS}", json=answer, match=[matchers.json_params_matcher(body)]
    )


def details_of(mocked, raw: dict, **query) -> None:
    mocked.get(
        f"{BASE}{C.PATH_ORDER_ALGO}", json=ok([raw]), match=[matchers.query_param_matcher(query)]
    )


def test_a_stop_limit_sends_size_trigger_and_price_and_returns_the_algo_after(client, mocked):
    pair = docs_pair()
    answer_with(mocked, pair["request"], pair["response"])
    details_of(
        mocked,
        algo_after(sz="2", slTriggerPx="49000", slOrdPx="48900", uTime="1724751378980"),
        algoId=ALGO_ID,
    )
    update = client.amend_order(
        amend(
            OrderType.STOP_LIMIT,
            venue_order_id=ALGO_ID,
            client_order_id="algo_01",
            quantity=D("2"),
            trigger_price=D("49000"),
            price=D("48900"),
        )
    )
    assert json.loads(mocked.calls[0].request.body) == pair["request"]
    assert (
        update.symbol,
        update.venue_order_id,
        update.client_order_id,
        update.status,
        update.order_type,
        update.trigger_price,
        update.trigger_by,
        update.price,
        update.quantity,
        update.exchange_ts,
    ) == (
        SYMBOL,
        ALGO_ID,
        "algo_01",
        OrderStatus.UNTRIGGERED,
        OrderType.STOP_LIMIT,
        D("49000"),
        TriggerPrice.LAST,
        D("48900"),
        D("2"),
        1724751378980 * 1_000_000,
    )
    assert client.algos.get(ALGO_ID).trigger_price == D("49000")


def test_a_stop_market_by_client_id_sends_the_market_price_and_no_size(client, mocked):
    body = {
        "instId": INST,
        "algoClOrdId": "algo_01",
        "newSlTriggerPx": "48500.5",
        "newSlOrdPx": "-1",
    }
    answer_with(mocked, body, docs_pair()["response"])
    details_of(mocked, algo_after(sz="1", slTriggerPx="48500.5"), algoId=ALGO_ID)
    update = client.amend_order(
        amend(OrderType.STOP_MARKET, client_order_id="algo_01", trigger_price=D("48500.5"))
    )
    assert (update.order_type, update.trigger_price, update.price, update.quantity) == (
        OrderType.STOP_MARKET,
        D("48500.5"),
        None,
        D("1"),
    )


@pytest.mark.parametrize(
    ("kind", "price", "pair"),
    [
        (
            OrderType.TAKE_PROFIT_LIMIT,
            D("61010"),
            {"newTpTriggerPx": "61000", "newTpOrdPx": "61010"},
        ),
        (OrderType.TAKE_PROFIT_MARKET, None, {"newTpTriggerPx": "61000", "newTpOrdPx": "-1"}),
    ],
)
def test_a_take_profit_sends_the_tp_pair(client, mocked, kind, price, pair):
    body = {"instId": INST, "algoId": ALGO_ID, "newSz": "3", **pair}
    answer_with(mocked, body, docs_pair()["response"])
    raw = algo_after(
        slTriggerPx="", slOrdPx="", tpTriggerPx="61000", tpOrdPx=pair["newTpOrdPx"], sz="3"
    )
    details_of(mocked, raw, algoId=ALGO_ID)
    update = client.amend_order(
        amend(kind, venue_order_id=ALGO_ID, quantity=D("3"), trigger_price=D("61000"), price=price)
    )
    assert (update.order_type, update.trigger_price, update.price, update.quantity) == (
        kind,
        D("61000"),
        price,
        D("3"),
    )


@pytest.mark.parametrize(
    ("code", "msg", "error"),
    [
        ("51280", "SL trigger price cannot be higher than the last price.", InvalidOrder),
        ("51528", "Unable to modify trigger price type", InvalidOrder),
        ("51000", "Parameter newSlOrdPx error", InvalidOrder),
        ("51527", "Order modification unsuccessful. The stop order does not exist.", OrderNotFound),
    ],
)
def test_a_refused_amendment_raises_the_venue_code_and_message(client, mocked, code, msg, error):
    refused = {
        "code": "1",
        "msg": "Operation failed.",
        "data": [{"algoId": ALGO_ID, "algoClOrdId": "", "reqId": "", "sCode": code, "sMsg": msg}],
    }
    mocked.post(f"{BASE}{C.PATH_AMEND_ALGOS}", json=refused)
    with pytest.raises(error) as info:
        client.amend_order(
            amend(OrderType.STOP_MARKET, venue_order_id=ALGO_ID, trigger_price=D("48000"))
        )
    assert (type(info.value), info.value.code, info.value.message) == (error, code, msg)
    assert len(mocked.calls) == 1  # nothing read back after a refusal


def test_an_algo_gone_before_the_read_back_is_not_found(client, mocked):
    answer_with(
        mocked,
        {"instId": INST, "algoId": ALGO_ID, "newSlTriggerPx": "48000", "newSlOrdPx": "-1"},
        docs_pair()["response"],
    )
    mocked.get(
        f"{BASE}{C.PATH_ORDER_ALGO}",
        json={"code": "51603", "msg": "Order does not exist", "data": []},
    )
    with pytest.raises(OrderNotFound) as info:
        client.amend_order(
            amend(OrderType.STOP_MARKET, venue_order_id=ALGO_ID, trigger_price=D("48000"))
        )
    assert info.value.code == "51603"


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (
            amend(OrderType.STOP_MARKET, trigger_price=D("48000")),
            "amend needs an order id or client order id",
        ),
        (
            amend(OrderType.STOP_MARKET, venue_order_id=ALGO_ID),
            "a conditional amend needs its trigger price",
        ),
        (
            amend(OrderType.STOP_LIMIT, venue_order_id=ALGO_ID, trigger_price=D("48000")),
            "a stop/take-profit limit amend needs its price",
        ),
        (
            amend(
                OrderType.TAKE_PROFIT_MARKET,
                venue_order_id=ALGO_ID,
                trigger_price=D("61000"),
                price=D("61010"),
            ),
            "a take_profit_market order has no price to amend",
        ),
    ],
)
def test_an_incomplete_request_is_refused_before_sending(client, mocked, request_, message):
    with pytest.raises(InvalidOrder) as info:
        client.amend_order(request_)
    assert info.value.message == message
    assert len(mocked.calls) == 0


def test_a_plain_amend_keeps_amend_order(client, mocked):
    mocked.post(
        f"{BASE}{C.PATH_AMEND_ORDER}",
        json=ok([{"ordId": "77", "clOrdId": "c1", "reqId": "", "sCode": "0", "sMsg": ""}]),
        match=[matchers.json_params_matcher({"instId": INST, "ordId": "77", "newPx": "50000"})],
    )
    order = load_payload("okx", "rest_orders_pending")["data"][0]
    mocked.get(f"{BASE}{C.PATH_ORDER}", json=ok([{**order, "instId": INST, "ordId": "77"}]))
    update = client.amend_order(
        AmendRequest(symbol=SYMBOL, venue_symbol=INST, venue_order_id="77", price=D("50000"))
    )
    assert update.venue_order_id == "77"
    assert [c.request.url.split("?")[0] for c in mocked.calls] == [
        f"{BASE}{C.PATH_AMEND_ORDER}",
        f"{BASE}{C.PATH_ORDER}",
    ]
