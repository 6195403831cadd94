"""OKX conditional orders in the adapter: algo JSON parsing, the REST algo calls over
`responses` (place, cancel, cancel-all, open orders, lookup by client id, fills of a fired
algo) and the private stream's `orders-algo` channel (okx/rest_algo.py, okx/parse.py,
okx/private.py). Payloads: tests/fixtures/venues/okx (SOURCES.md)."""

import json
from decimal import Decimal as D

import orjson
import pytest
import responses
from responses import matchers

from exchanges.venues.base import (
    Credentials,
    Endpoints,
    FillEvent,
    InvalidOrder,
    OrderRequest,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Side,
    TriggerPrice,
)
from exchanges.venues.okx import constants as C
from exchanges.venues.okx.algos import AlgoOrder, AlgoOrders
from exchanges.venues.okx.auth import OkxSigner
from exchanges.venues.okx.parse import order_fill, parse_algo_order, parse_order, with_algo
from exchanges.venues.okx.private import OkxPrivateSession
from exchanges.venues.okx.rest import OkxRestClient
from exchanges.venues.ws import OfflineLink
from tests.plugins.venues import load_payload
from tests.unit.venues.helpers import StoppedClock

BASE = "https://okx.test"
ENDPOINTS = Endpoints(BASE, "wss://okx.test/ws/v5/public", "wss://okx.test/ws/v5/private")
CREDS = Credentials("key-1", "secret-1", "pass-1")
INST = "BTC-USDT-SWAP"
SYMBOL = "BTC/USDT:USDT"


def ok(data):
    return {"code": "0", "msg": "", "data": data}


def pending_algo(**changes) -> dict:
    """The recorded conditional stop loss, with `changes`."""
    raw = load_payload("okx", "rest_orders_algo_pending_close_fraction")["data"][0]
    return {**raw, **changes}


def child_push() -> dict:
    return load_payload("okx", "ws_orders_algo_child_filled")["data"][0]


@pytest.fixture
def client():
    c = OkxRestClient(ENDPOINTS, CREDS, timeout=(0.5, 0.5))
    yield c
    c.close()


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def stop_request(order_type=OrderType.STOP_MARKET, price=None, **kw) -> OrderRequest:
    return OrderRequest(
        symbol=SYMBOL,
        venue_symbol=INST,
        client_order_id=kw.pop("client_order_id", "testalgo1"),
        side=Side.SELL,
        order_type=order_type,
        quantity=D("2"),
        price=price,
        trigger_price=D("50000.5"),
        **kw,
    )


# --------------------------------------------------------------------------- parsing


def test_a_pending_conditional_is_an_untriggered_stop_market():
    update = parse_algo_order(pending_algo(), SYMBOL, 7)
    assert (
        update.client_order_id,
        update.venue_order_id,
        update.order_type,
        update.status,
        update.trigger_price,
        update.trigger_by,
        update.price,
        update.quantity,
        update.reduce_only,
        update.exchange_ts,
    ) == (
        "O-close-frac-status",
        "close-frac-algo",
        OrderType.STOP_MARKET,
        OrderStatus.UNTRIGGERED,
        D("50000"),
        TriggerPrice.LAST,
        None,
        D(0),
        True,
        1622559930237 * 1_000_000,
    )


@pytest.mark.parametrize(
    ("changes", "order_type", "status", "price"),
    [
        (
            {"slTriggerPx": "", "slOrdPx": "", "tpTriggerPx": "61000", "tpOrdPx": "60990"},
            OrderType.TAKE_PROFIT_LIMIT,
            OrderStatus.UNTRIGGERED,
            D("60990"),
        ),
        (
            {"slOrdPx": "49900", "state": "effective"},
            OrderType.STOP_LIMIT,
            OrderStatus.NEW,
            D("49900"),
        ),
        ({"state": "canceled"}, OrderType.STOP_MARKET, OrderStatus.CANCELED, None),
        ({"state": "order_failed"}, OrderType.STOP_MARKET, OrderStatus.REJECTED, None),
    ],
)
def test_algo_kinds_and_states(changes, order_type, status, price):
    update = parse_algo_order(pending_algo(**changes, sz="3"), SYMBOL, 0)
    assert (update.order_type, update.status, update.price, update.quantity) == (
        order_type,
        status,
        price,
        D("3"),
    )


def test_the_order_a_fired_algo_placed_is_reported_under_the_algo_ids():
    raw = child_push()
    known = AlgoOrder(
        "2497956918703120500",
        "OEEADEMOSTOPLIMIT001",
        OrderType.STOP_LIMIT,
        D("1890"),
        TriggerPrice.MARK,
    )
    update = with_algo(parse_order(raw, "ETH/USDT", 0), known)
    assert (
        update.client_order_id,
        update.venue_order_id,
        update.order_type,
        update.trigger_price,
        update.trigger_by,
        update.status,
        update.filled_quantity,
    ) == (
        "OEEADEMOSTOPLIMIT001",
        "2497956918703120500",
        OrderType.STOP_LIMIT,
        D("1890"),
        TriggerPrice.MARK,
        OrderStatus.FILLED,
        D("0.003"),
    )
    unknown = parse_order(raw, "ETH/USDT", 0)
    assert (unknown.order_type, unknown.trigger_price) == (OrderType.STOP_LIMIT, None)
    fill = order_fill(raw, "ETH/USDT", 0, D("0.000006"))
    assert (fill.client_order_id, fill.venue_order_id, fill.trade_id) == (
        "OEEADEMOSTOPLIMIT001",
        "2497956918703120500",
        "1518905600",
    )


# --------------------------------------------------------------------------- REST


def test_place_stop_market_sends_sl_fields_and_returns_untriggered(client, mocked):
    mocked.post(
        f"{BASE}{C.PATH_ORDER_ALGO}", json=load_payload("okx", "rest_place_algo_order_response")
    )
    update = client.place_order(stop_request(reduce_only=True))
    (call,) = mocked.calls
    assert json.loads(call.request.body) == {
        "instId": INST,
        "tdMode": "cross",
        "side": "sell",
        "ordType": "conditional",
        "sz": "2",
        "algoClOrdId": "testalgo1",
        "slTriggerPx": "50000.5",
        "slOrdPx": "-1",
        "slTriggerPxType": "mark",
        "reduceOnly": True,
    }
    assert (
        update.client_order_id,
        update.venue_order_id,
        update.status,
        update.order_type,
        update.trigger_price,
        update.trigger_by,
    ) == (
        "testalgo1",  # the request's (the recorded answer's own id is a made-up one)
        "12345",
        OrderStatus.UNTRIGGERED,
        OrderType.STOP_MARKET,
        D("50000.5"),
        TriggerPrice.MARK,
    )
    assert client.algos.get("12345").order_type is OrderType.STOP_MARKET


def test_place_take_profit_limit_sends_tp_fields_with_its_price(client, mocked):
    mocked.post(
        f"{BASE}{C.PATH_ORDER_ALGO}", json=load_payload("okx", "rest_place_algo_order_response")
    )
    client.place_order(
        stop_request(OrderType.TAKE_PROFIT_LIMIT, D("50010"), trigger_by=TriggerPrice.LAST)
    )
    body = json.loads(mocked.calls[0].request.body)
    assert {k: v for k, v in body.items() if k.startswith(("tp", "sl"))} == {
        "tpTriggerPx": "50000.5",
        "tpOrdPx": "50010",
        "tpTriggerPxType": "last",
    }


def test_a_reached_trigger_is_an_invalid_order_with_the_venue_code(client, mocked):
    msg = "SL trigger price cannot be higher than the mark price"
    mocked.post(
        f"{BASE}{C.PATH_ORDER_ALGO}",
        json={
            "code": "1",
            "msg": "Operation failed.",
            "data": [{"algoId": "", "algoClOrdId": "x", "sCode": "51304", "sMsg": msg}],
        },
    )
    with pytest.raises(InvalidOrder) as info:
        client.place_order(stop_request())
    assert (info.value.code, info.value.message) == ("51304", msg)


def test_cancel_conditional_uses_cancel_algos(client, mocked):
    mocked.post(
        f"{BASE}{C.PATH_CANCEL_ALGOS}",
        json=load_payload("okx", "rest_cancel_algo_order_response"),
        match=[matchers.json_params_matcher([{"instId": INST, "algoId": "12345"}])],
    )
    ack = client.cancel_order(
        INST, client_order_id="test_algo_1", venue_order_id="12345", conditional=True
    )
    assert (ack.status, ack.client_order_id, ack.venue_order_id) == (
        OrderStatus.PENDING_CANCEL,
        "test_algo_1",
        "12345",
    )


def details(mocked, raw: dict, **query):
    mocked.get(
        f"{BASE}{C.PATH_ORDER_ALGO}",
        json=ok([raw]),
        match=[matchers.query_param_matcher(query)],
    )


def test_a_plain_cancel_of_a_fired_algo_cancels_the_order_it_placed(client, mocked):
    refused = {
        "ordId": "12345",
        "clOrdId": "",
        "sCode": "51400",
        "sMsg": "Order cancellation failed as the order has been filled, canceled or does not exist.",
    }
    mocked.post(
        f"{BASE}{C.PATH_CANCEL_ORDER}",
        json={"code": "1", "msg": "", "data": [refused]},
        match=[matchers.json_params_matcher({"instId": INST, "ordId": "12345"})],
    )
    details(mocked, pending_algo(algoId="12345", state="effective", ordId="777"), algoId="12345")
    mocked.post(
        f"{BASE}{C.PATH_CANCEL_ORDER}",
        json=ok([{"ordId": "777", "clOrdId": "", "sCode": "0", "sMsg": ""}]),
        match=[matchers.json_params_matcher({"instId": INST, "ordId": "777"})],
    )
    ack = client.cancel_order(INST, client_order_id="test_algo_1", venue_order_id="12345")
    assert (ack.status, ack.venue_order_id, ack.client_order_id) == (
        OrderStatus.PENDING_CANCEL,
        "12345",
        "test_algo_1",
    )
    assert [c.request.method for c in mocked.calls] == ["POST", "GET", "POST"]
    assert client.algos.algo_id_of("777") == "12345"


def test_a_conditional_cancel_of_an_algo_that_fired_cancels_its_order(client, mocked):
    mocked.post(
        f"{BASE}{C.PATH_CANCEL_ALGOS}",
        json={
            "code": "1",
            "msg": "",
            "data": [{"algoId": "12345", "sCode": "51000", "sMsg": "Parameter algoId error"}],
        },
    )
    details(mocked, pending_algo(algoId="12345", state="effective", ordId="778"), algoId="12345")
    mocked.post(
        f"{BASE}{C.PATH_CANCEL_ORDER}",
        json=ok([{"ordId": "778", "clOrdId": "", "sCode": "0", "sMsg": ""}]),
        match=[matchers.json_params_matcher({"instId": INST, "ordId": "778"})],
    )
    ack = client.cancel_order(INST, venue_order_id="12345", conditional=True)
    assert ack.venue_order_id == "12345"


def test_a_refused_cancel_of_an_unknown_algo_raises_the_refusal(client, mocked):
    mocked.post(
        f"{BASE}{C.PATH_CANCEL_ALGOS}",
        json={
            "code": "1",
            "msg": "",
            "data": [{"algoId": "9", "sCode": "51000", "sMsg": "Parameter algoId error"}],
        },
    )
    mocked.get(
        f"{BASE}{C.PATH_ORDER_ALGO}",
        json={"code": "51603", "msg": "Order does not exist", "data": []},
    )
    with pytest.raises(InvalidOrder) as info:
        client.cancel_order(INST, venue_order_id="9", conditional=True)
    assert info.value.code == "51000"


def test_open_orders_and_cancel_all_cover_pending_algos_ten_a_request(client, mocked):
    mocked.get(f"{BASE}{C.PATH_OPEN_ORDERS}", json=ok([]))
    algos = [pending_algo(algoId=str(100 + i), algoClOrdId=f"a{i}", sz="1") for i in range(12)]
    mocked.get(
        f"{BASE}{C.PATH_ALGOS_PENDING}",
        json=ok(algos),
        match=[matchers.query_param_matcher({"ordType": "conditional", "limit": "100"})],
    )
    listed = client.open_orders()
    assert [(o.client_order_id, o.status) for o in listed[:2]] == [
        ("a0", OrderStatus.UNTRIGGERED),
        ("a1", OrderStatus.UNTRIGGERED),
    ]
    assert len(listed) == 12

    def answer(request):
        body = json.loads(request.body)
        return (
            200,
            {},
            json.dumps(ok([{"algoId": o["algoId"], "sCode": "0", "sMsg": ""} for o in body])),
        )

    mocked.add_callback(responses.POST, f"{BASE}{C.PATH_CANCEL_ALGOS}", callback=answer)
    assert client.cancel_all() == 12
    batches = [
        json.loads(c.request.body) for c in mocked.calls if c.request.url.endswith("cancel-algos")
    ]
    assert [len(b) for b in batches] == [10, 2]
    assert batches[1] == [{"instId": INST, "algoId": "110"}, {"instId": INST, "algoId": "111"}]


def test_order_by_client_id_falls_back_to_the_algo_and_its_placed_order(client, mocked):
    mocked.get(
        f"{BASE}{C.PATH_ORDER}",
        json={"code": "51603", "msg": "Order does not exist", "data": []},
        match=[
            matchers.query_param_matcher({"instId": "ETH-USDT", "clOrdId": "OEEADEMOSTOPLIMIT001"})
        ],
    )
    fired = pending_algo(
        instId="ETH-USDT",
        algoId="2497956918703120500",
        algoClOrdId="OEEADEMOSTOPLIMIT001",
        state="effective",
        ordId="2497956918703120501",
        slOrdPx="1886",
        sz="0.003",
    )
    details(mocked, fired, algoClOrdId="OEEADEMOSTOPLIMIT001")
    mocked.get(
        f"{BASE}{C.PATH_ORDER}",
        json=ok([child_push()]),
        match=[
            matchers.query_param_matcher({"instId": "ETH-USDT", "ordId": "2497956918703120501"})
        ],
    )
    found = client.order_by_client_id("ETH-USDT", "OEEADEMOSTOPLIMIT001")
    assert (
        found.status,
        found.venue_order_id,
        found.order_type,
        found.trigger_price,
        found.filled_quantity,
    ) == (
        OrderStatus.FILLED,
        "2497956918703120500",
        OrderType.STOP_LIMIT,
        D("50000"),
        D("0.003"),
    )


def test_rest_fills_of_a_known_algo_order_carry_the_algo_ids(client, mocked):
    row = load_payload("okx", "rest_fills_docs")["data"][0]
    client.algos.remember(
        AlgoOrder("55", "mystop1", OrderType.STOP_MARKET, D("1"), TriggerPrice.MARK), row["ordId"]
    )
    mocked.get(f"{BASE}{C.PATH_FILLS}", json=load_payload("okx", "rest_fills_docs"))
    (fill,) = client.fills().fills
    assert (fill.venue_order_id, fill.client_order_id) == ("55", "mystop1")


# --------------------------------------------------------------------------- private stream


def session():
    s = OkxPrivateSession(
        OkxSigner(CREDS, StoppedClock(1_700_000_000_000_000_000)), algos=AlgoOrders()
    )
    return s, OfflineLink()


def push(channel: str, *items: dict) -> bytes:
    return orjson.dumps({"arg": {"channel": channel, "instType": "ANY"}, "data": list(items)})


def test_orders_algo_pushes_then_the_placed_order_keeps_the_conditional_type():
    s, link = session()
    algo = pending_algo(
        instId="ETH-USDT",
        algoId="2497956918703120500",
        algoClOrdId="OEEADEMOSTOPLIMIT001",
        slOrdPx="1886",
        slTriggerPx="1890",
        slTriggerPxType="mark",
        sz="0.003",
    )
    (live,) = s.on_message(push("orders-algo", algo), link)
    assert (live.status, live.order_type, live.trigger_by) == (
        OrderStatus.UNTRIGGERED,
        OrderType.STOP_LIMIT,
        TriggerPrice.MARK,
    )
    (effective,) = s.on_message(
        push("orders-algo", {**algo, "state": "effective", "ordId": "2497956918703120501"}), link
    )
    assert effective.status is OrderStatus.NEW
    update, fill = s.on_message(push("orders", child_push()), link)
    assert isinstance(update, OrderUpdate) and isinstance(fill, FillEvent)
    assert (
        update.client_order_id,
        update.venue_order_id,
        update.order_type,
        update.trigger_price,
    ) == (
        "OEEADEMOSTOPLIMIT001",
        "2497956918703120500",
        OrderType.STOP_LIMIT,
        D("1890"),
    )
    assert (fill.client_order_id, fill.venue_order_id, fill.quantity) == (
        "OEEADEMOSTOPLIMIT001",
        "2497956918703120500",
        D("0.003"),
    )


def test_other_algo_kinds_are_skipped():
    s, link = session()
    trigger = pending_algo(ordType="trigger", slTriggerPx="", triggerPx="40000")
    assert s.on_message(push("orders-algo", trigger), link) == []


def test_a_spot_market_stop_is_sized_in_the_base_currency(client, mocked):
    mocked.post(
        f"{BASE}{C.PATH_ORDER_ALGO}", json=load_payload("okx", "rest_place_algo_order_response")
    )
    request = OrderRequest(
        symbol="BTC/USDT",
        venue_symbol="BTC-USDT",
        client_order_id="spotstop1",
        side=Side.BUY,
        order_type=OrderType.STOP_MARKET,
        quantity=D("0.01"),
        trigger_price=D("99000"),
    )
    client.place_order(request)
    body = json.loads(mocked.calls[0].request.body)
    assert (body["tdMode"], body["tgtCcy"], body["sz"]) == ("cash", "base_ccy", "0.01")
