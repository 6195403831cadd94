"""OKX REST client over `responses`: success paths, every mapped error, timeouts, lost acks."""

import base64
import hashlib
import hmac
import json
from decimal import Decimal as D

import pytest
import requests
import responses
from responses import matchers

from exchanges.venues.base import (
    AmendRequest,
    AuthenticationError,
    Credentials,
    Endpoints,
    InvalidOrder,
    OrderRequest,
    OrderStatus,
    OrderType,
    RateLimited,
    RequestTimeout,
    Side,
    SubmissionUncertain,
    SubmitOutcome,
    TimeInForce,
    VenueUnavailable,
)
from exchanges.venues.okx import constants as C
from exchanges.venues.okx.rest import OkxRestClient
from tests.plugins.venues import load_payload

BASE = "https://okx.test"
ENDPOINTS = Endpoints(BASE, "wss://okx.test/ws/v5/public", "wss://okx.test/ws/v5/private")
CREDS = Credentials("key-1", "secret-1", "pass-1")


def ok(data):
    return {"code": "0", "msg": "", "data": data}


@pytest.fixture
def client():
    c = OkxRestClient(ENDPOINTS, CREDS, timeout=(0.5, 0.5))
    yield c
    c.close()


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def limit_order(client_order_id="abc123", **kw) -> OrderRequest:
    return OrderRequest(
        symbol="BTC/USDT:USDT",
        venue_symbol="BTC-USDT-SWAP",
        client_order_id=client_order_id,
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        quantity=D("0.10"),
        price=D("103500"),
        **kw,
    )


def pending_order(**changes) -> dict:
    return {**load_payload("okx", "rest_orders_pending")["data"][0], **changes}


# --------------------------------------------------------------------------- public data


def test_server_time_and_clock_sync(client, mocked):
    mocked.get(f"{BASE}{C.PATH_SERVER_TIME}", json=ok([{"ts": "1597026383085"}]))
    assert client.server_time() == 1597026383085 * 1_000_000
    offset = client.sync_clock()
    assert client.clock.offset_ns == offset
    assert client.signer.clock is client.clock
    assert offset < 0  # 2020 server time vs a later local clock


def test_instruments_of_every_kind(client, mocked):
    for inst_type, name in (
        ("SPOT", "rest_instruments_spot"),
        ("SWAP", "rest_instruments_swap"),
        ("FUTURES", "rest_instruments_futures"),
    ):
        mocked.get(
            f"{BASE}{C.PATH_INSTRUMENTS}",
            json=load_payload("okx", name),
            match=[matchers.query_param_matcher({"instType": inst_type})],
        )
    mocked.get(
        f"{BASE}{C.PATH_INSTRUMENTS}",
        json=load_payload("okx", "rest_instruments_option"),
        match=[matchers.query_param_matcher({"instType": "OPTION", "instFamily": "BTC-USD"})],
    )
    mocked.get(
        f"{BASE}{C.PATH_INSTRUMENTS}",
        json=ok([]),
        match=[matchers.query_param_matcher({"instType": "OPTION", "instFamily": "ETH-USD"})],
    )
    infos = client.instruments()
    assert len(infos) == 5 + 3 + 6 + 4
    assert {i.kind.value for i in infos} == {"spot", "perpetual", "future", "option"}
    assert client.symbols.unified("BTC-USD-241217-92000-C") == "BTC/USD:BTC-241217-92000-C"
    assert "OK-ACCESS-SIGN" not in mocked.calls[0].request.headers


def test_ticker(client, mocked):
    mocked.get(
        f"{BASE}{C.PATH_TICKER}",
        json=ok(load_payload("okx", "ws_tickers")["data"]),
        match=[matchers.query_param_matcher({"instId": "BTC-USDT"})],
    )
    ticker = client.ticker("BTC-USDT")
    assert (ticker.symbol, ticker.best_bid, ticker.best_ask, ticker.last_price) == (
        "BTC/USDT",
        D("8888.88"),
        D("9999.99"),
        D("9999.99"),
    )


def test_order_book_carries_seq_id(client, mocked):
    body = load_payload("okx", "rest_order_book")
    body["data"][0]["seqId"] = 987
    mocked.get(
        f"{BASE}{C.PATH_ORDER_BOOK}",
        json=body,
        match=[matchers.query_param_matcher({"instId": "BTC-USDT", "sz": "400"})],
    )
    book = client.order_book("BTC-USDT", depth=1000)
    assert book.sequence == 987
    assert book.bids[0] == (D("41006.7"), D("0.48792100"))
    assert book.symbol == "BTC/USDT"


def test_demo_header():
    c = OkxRestClient(ENDPOINTS, CREDS, demo=True)
    assert c.session.headers["x-simulated-trading"] == "1"


# --------------------------------------------------------------------------- placement


def test_place_order_signs_and_returns_the_acknowledged_order(client, mocked):
    item = load_payload("okx", "rest_place_order_response_item")
    mocked.post(f"{BASE}{C.PATH_ORDER}", json=ok([item]))
    update = client.place_order(limit_order(post_only=True))
    assert update.status is OrderStatus.NEW
    assert update.venue_order_id == "12345678901234567890"
    assert update.client_order_id == "client_order_123"
    assert (update.price, update.quantity, update.filled_quantity) == (D("103500"), D("0.10"), D(0))
    request = mocked.calls[0].request
    body = request.body.decode() if isinstance(request.body, bytes) else request.body
    assert json.loads(body) == {
        "instId": "BTC-USDT-SWAP",
        "tdMode": "cross",
        "clOrdId": "abc123",
        "side": "buy",
        "ordType": "post_only",
        "sz": "0.10",
        "px": "103500",
    }
    stamp = request.headers["OK-ACCESS-TIMESTAMP"]
    expected = base64.b64encode(
        hmac.new(b"secret-1", f"{stamp}POST{C.PATH_ORDER}{body}".encode(), hashlib.sha256).digest()
    ).decode()
    assert request.headers["OK-ACCESS-SIGN"] == expected
    assert request.headers["OK-ACCESS-KEY"] == "key-1"
    assert request.headers["OK-ACCESS-PASSPHRASE"] == "pass-1"


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        (dict(time_in_force=TimeInForce.IOC), {"ordType": "ioc"}),
        (
            dict(time_in_force=TimeInForce.FOK, reduce_only=True),
            {"ordType": "fok", "reduceOnly": "true"},
        ),
    ],
)
def test_place_order_types(client, mocked, order, expected):
    mocked.post(
        f"{BASE}{C.PATH_ORDER}",
        json=ok([{"ordId": "1", "clOrdId": "abc123", "sCode": "0", "sMsg": ""}]),
    )
    client.place_order(limit_order(**order))
    body = json.loads(mocked.calls[0].request.body)
    assert {k: body[k] for k in expected} == expected


def test_spot_market_order_trades_cash_in_base_currency(client, mocked):
    mocked.post(
        f"{BASE}{C.PATH_ORDER}",
        json=ok([{"ordId": "9", "clOrdId": "m1", "sCode": "0", "sMsg": ""}]),
    )
    request = OrderRequest(
        symbol="BTC/USDT",
        venue_symbol="BTC-USDT",
        client_order_id="m1",
        side=Side.SELL,
        order_type=OrderType.MARKET,
        quantity=D("0.5"),
    )
    client.place_order(request)
    assert json.loads(mocked.calls[0].request.body) == {
        "instId": "BTC-USDT",
        "tdMode": "cash",
        "clOrdId": "m1",
        "side": "sell",
        "ordType": "market",
        "sz": "0.5",
        "tgtCcy": "base_ccy",
    }


@pytest.mark.parametrize("bad", ["", "has-dash", "under_score", "x" * 33, "spa ce"])
def test_bad_client_order_id_is_refused_before_sending(client, mocked, bad):
    with pytest.raises(InvalidOrder) as info:
        client.place_order(limit_order(client_order_id=bad))
    assert info.value.code == "51000"
    assert len(mocked.calls) == 0


def test_per_item_rejection_from_the_recording(client, mocked):
    mocked.post(f"{BASE}{C.PATH_ORDER}", json=load_payload("okx", "rest_place_algo_order_rejected"))
    with pytest.raises(InvalidOrder) as info:
        client.place_order(limit_order())
    assert (info.value.code, info.value.message) == ("51000", "Parameter instId error")


def test_placement_rate_limit_backs_off_and_is_not_retried(client, mocked):
    mocked.post(
        f"{BASE}{C.PATH_ORDER}",
        json={"code": "50011", "msg": "Too Many Requests", "data": []},
        status=429,
    )
    with pytest.raises(RateLimited) as info:
        client.place_order(limit_order())
    assert info.value.retry_after == C.RATE_LIMIT_PENALTY_SECONDS
    assert len(mocked.calls) == 1
    assert not client.limiter.bucket("place").try_acquire()


# --------------------------------------------------------------------------- error table


@pytest.mark.parametrize(("code", "spec"), sorted(C.ERRORS.items()))
def test_every_mapped_code_raises_its_type(client, mocked, code, spec):
    error, _hint = spec
    mocked.post(
        f"{BASE}{C.PATH_CANCEL_ORDER}",
        json={
            "code": "1",
            "msg": "",
            "data": [{"ordId": "1", "clOrdId": "", "sCode": code, "sMsg": f"m{code}"}],
        },
    )
    with pytest.raises(error) as info:
        client.cancel_order("BTC-USDT-SWAP", venue_order_id="1")
    assert type(info.value) is error
    assert (info.value.code, info.value.message, info.value.venue) == (code, f"m{code}", "okx")


def test_envelope_level_auth_error(client, mocked):
    mocked.get(
        f"{BASE}{C.PATH_BALANCES}",
        json={"code": "50113", "msg": "Invalid signature", "data": []},
        status=401,
    )
    with pytest.raises(AuthenticationError) as info:
        client.balances()
    assert info.value.code == "50113"


def test_unknown_code_is_a_plain_venue_error(client, mocked):
    mocked.get(f"{BASE}{C.PATH_POSITIONS}", json={"code": "59999", "msg": "odd", "data": []})
    with pytest.raises(Exception) as info:
        client.positions()
    assert type(info.value).__name__ == "VenueError" and info.value.code == "59999"


def test_http_errors_without_an_envelope(client, mocked):
    mocked.get(f"{BASE}{C.PATH_SERVER_TIME}", body="<html>busy</html>", status=503)
    with pytest.raises(VenueUnavailable):
        client.server_time()
    mocked.replace(responses.GET, f"{BASE}{C.PATH_SERVER_TIME}", body="slow down", status=429)
    with pytest.raises(RateLimited):
        client.server_time()


def test_read_timeout_of_a_query_is_request_timeout(client, mocked):
    mocked.get(f"{BASE}{C.PATH_POSITIONS}", body=requests.ReadTimeout("slow"))
    with pytest.raises(RequestTimeout):
        client.positions()


# --------------------------------------------------------------------------- lost acks


def lookup(mocked, **kw):
    mocked.get(
        f"{BASE}{C.PATH_ORDER}",
        match=[matchers.query_param_matcher({"instId": "BTC-USDT-SWAP", "clOrdId": "abc123"})],
        **kw,
    )


@pytest.mark.parametrize(
    "failure",
    [
        {"body": requests.ReadTimeout("no answer")},
        {"body": requests.ConnectionError("reset")},
        {
            "json": {
                "code": "1",
                "msg": "",
                "data": [{"sCode": "50004", "sMsg": "timeout", "ordId": "", "clOrdId": "abc123"}],
            }
        },
        {"json": {"code": "51149", "msg": "Order timed out", "data": []}},
    ],
)
def test_lost_ack_then_order_found(client, mocked, failure):
    mocked.post(f"{BASE}{C.PATH_ORDER}", **failure)
    lookup(mocked, json=ok([pending_order(clOrdId="abc123")]))
    update = client.place_order(limit_order())
    assert (update.client_order_id, update.venue_order_id, update.status) == (
        "abc123",
        "1234567890123456789",
        OrderStatus.NEW,
    )
    assert [c.request.method for c in mocked.calls] == ["POST", "GET"]


def no_algo(mocked, client_order_id="abc123"):
    """GET order-algo by `algoClOrdId` answering that no such algo order exists."""
    mocked.get(
        f"{BASE}{C.PATH_ORDER_ALGO}",
        json={"code": "51603", "msg": "Order does not exist", "data": []},
        match=[matchers.query_param_matcher({"algoClOrdId": client_order_id})],
    )


def no_algos_pending(mocked, **query):
    mocked.get(
        f"{BASE}{C.PATH_ALGOS_PENDING}",
        json=ok([]),
        match=[matchers.query_param_matcher({"ordType": "conditional", "limit": "100", **query})],
    )


def test_lost_ack_then_order_absent(client, mocked):
    mocked.post(f"{BASE}{C.PATH_ORDER}", body=requests.ReadTimeout("no answer"))
    lookup(mocked, json={"code": "51603", "msg": "Order does not exist", "data": []})
    no_algo(mocked)
    with pytest.raises(SubmissionUncertain) as info:
        client.place_order(limit_order())
    assert info.value.outcome is SubmitOutcome.ABSENT


@pytest.mark.parametrize(
    "lookup_failure",
    [
        {"body": requests.ReadTimeout("still nothing")},
        {"json": {"code": "50001", "msg": "down", "data": []}, "status": 503},
    ],
)
def test_lost_ack_then_lookup_fails(client, mocked, lookup_failure):
    mocked.post(f"{BASE}{C.PATH_ORDER}", body=requests.ConnectionError("reset"))
    lookup(mocked, **lookup_failure)
    with pytest.raises(SubmissionUncertain) as info:
        client.place_order(limit_order())
    assert info.value.outcome is SubmitOutcome.UNKNOWN
    assert sum(c.request.method == "POST" for c in mocked.calls) == 1


# --------------------------------------------------------------------------- order management


def test_amend_then_reads_the_order(client, mocked):
    mocked.post(
        f"{BASE}{C.PATH_AMEND_ORDER}",
        json=ok(
            [{"ordId": "1234567890123456789", "clOrdId": "", "reqId": "", "sCode": "0", "sMsg": ""}]
        ),
        match=[
            matchers.json_params_matcher(
                {"instId": "BTC-USDT-SWAP", "ordId": "1234567890123456789", "newPx": "103400"}
            )
        ],
    )
    mocked.get(f"{BASE}{C.PATH_ORDER}", json=ok([pending_order(px="103400")]))
    update = client.amend_order(
        AmendRequest(
            "BTC/USDT:USDT",
            "BTC-USDT-SWAP",
            venue_order_id="1234567890123456789",
            price=D("103400"),
        )
    )
    assert update.price == D("103400")


def test_cancel_by_client_id_is_one_request_and_pending(client, mocked):
    mocked.post(
        f"{BASE}{C.PATH_CANCEL_ORDER}",
        json=ok([{"ordId": "1234567890123456789", "clOrdId": "abc123", "sCode": "0", "sMsg": ""}]),
        match=[matchers.json_params_matcher({"instId": "BTC-USDT-SWAP", "clOrdId": "abc123"})],
    )
    update = client.cancel_order("BTC-USDT-SWAP", client_order_id="abc123")
    # one request: OKX answers a cancel with the ids only (docs-v5 "Trade > Cancel order"),
    # the final state comes on the orders channel
    assert len(mocked.calls) == 1
    assert (
        update.status,
        update.symbol,
        update.client_order_id,
        update.venue_order_id,
        update.quantity,
        update.exchange_ts,
    ) == (OrderStatus.PENDING_CANCEL, "BTC/USDT:USDT", "abc123", "1234567890123456789", 0, 0)


def test_cancel_all_pages_and_batches(client, mocked):
    first = [pending_order(ordId=str(1000 + i), instId="BTC-USDT-SWAP") for i in range(100)]
    second = [pending_order(ordId=str(2000 + i), instId="ETH-USDT-SWAP") for i in range(3)]
    mocked.get(
        f"{BASE}{C.PATH_OPEN_ORDERS}",
        json=ok(first),
        match=[matchers.query_param_matcher({"limit": "100"})],
    )
    mocked.get(
        f"{BASE}{C.PATH_OPEN_ORDERS}",
        json=ok(second),
        match=[matchers.query_param_matcher({"limit": "100", "after": "1099"})],
    )

    def answer(request):
        orders = json.loads(request.body)
        data = [{"ordId": o["ordId"], "clOrdId": "", "sCode": "0", "sMsg": ""} for o in orders]
        data[-1] = {**data[-1], "sCode": "51400", "sMsg": "already filled"}
        return (200, {}, json.dumps(ok(data)))

    mocked.add_callback(responses.POST, f"{BASE}{C.PATH_CANCEL_BATCH}", callback=answer)
    no_algos_pending(mocked)
    assert client.cancel_all() == 103 - 6  # 6 batches, the last order of each was not canceled
    batches = [json.loads(c.request.body) for c in mocked.calls if c.request.method == "POST"]
    assert [len(b) for b in batches] == [20, 20, 20, 20, 20, 3]
    assert batches[-1][0] == {"instId": "ETH-USDT-SWAP", "ordId": "2000"}


def test_open_orders_of_one_instrument(client, mocked):
    mocked.get(
        f"{BASE}{C.PATH_OPEN_ORDERS}",
        json=load_payload("okx", "rest_orders_pending"),
        match=[matchers.query_param_matcher({"limit": "100", "instId": "BTC-USDT-SWAP"})],
    )
    no_algos_pending(mocked, instId="BTC-USDT-SWAP")
    (order,) = client.open_orders("BTC-USDT-SWAP")
    assert (order.symbol, order.client_order_id, order.status) == (
        "BTC/USDT:USDT",
        "client-order-1",
        OrderStatus.NEW,
    )


def test_order_by_client_id_absent(client, mocked):
    lookup(mocked, json={"code": "51603", "msg": "Order does not exist", "data": []})
    no_algo(mocked)
    assert client.order_by_client_id("BTC-USDT-SWAP", "abc123") is None


# --------------------------------------------------------------------------- fills, account


def fill_row(bill: int) -> dict:
    row = load_payload("okx", "rest_fills_docs")["data"][0]
    return {**row, "billId": str(bill), "tradeId": str(bill + 7)}


def test_fills_latest_page_without_cursor(client, mocked):
    mocked.get(f"{BASE}{C.PATH_FILLS}", json=load_payload("okx", "rest_fills_docs"))
    page = client.fills()
    assert page.cursor == "680800019754098688"
    assert [f.trade_id for f in page.fills] == ["744876980"]
    assert page.fills[0].fee == D("0.00000192834")


def test_fills_since_cursor_walk_down_to_the_cursor(client, mocked):
    newest = [fill_row(b) for b in range(600, 500, -1)]  # 100 rows, newest first
    older = [fill_row(b) for b in range(500, 497, -1)]
    mocked.get(
        f"{BASE}{C.PATH_FILLS}",
        json=ok(newest),
        match=[matchers.query_param_matcher({"limit": "100", "before": "497"})],
    )
    mocked.get(
        f"{BASE}{C.PATH_FILLS}",
        json=ok(older),
        match=[matchers.query_param_matcher({"limit": "100", "before": "497", "after": "501"})],
    )
    page = client.fills(cursor="497")
    assert [f.trade_id for f in page.fills] == [str(b + 7) for b in range(498, 601)]
    assert page.cursor == "600"


def test_fills_of_one_instrument_name_its_type(client, mocked):
    mocked.get(
        f"{BASE}{C.PATH_FILLS}",
        json=ok([]),
        match=[
            matchers.query_param_matcher(
                {"limit": "100", "instType": "SWAP", "instId": "BTC-USDT-SWAP", "before": "5"}
            )
        ],
    )
    assert client.fills(cursor="5", venue_symbol="BTC-USDT-SWAP").cursor == "5"


def test_positions_and_balances(client, mocked):
    mocked.get(f"{BASE}{C.PATH_POSITIONS}", json=load_payload("okx", "rest_positions"))
    mocked.get(f"{BASE}{C.PATH_BALANCES}", json=load_payload("okx", "rest_account_balance"))
    (position,) = client.positions()
    assert (position.symbol, position.quantity, position.entry_price) == (
        "BTC/USDT:USDT",
        D("0.5"),
        D("10000"),
    )
    (balance,) = client.balances()
    assert (balance.currency, balance.available) == ("USDT", D("94.42612990333333"))


def test_dead_man_switch(client, mocked):
    mocked.post(
        f"{BASE}{C.PATH_DEAD_MAN_SWITCH}",
        json=ok([{"triggerTime": "1587971460", "ts": "1587971400", "tag": ""}]),
        match=[matchers.json_params_matcher({"timeOut": "60"})],
    )
    client.set_dead_man_switch(60)
    mocked.replace(
        responses.POST,
        f"{BASE}{C.PATH_DEAD_MAN_SWITCH}",
        json=ok([{"triggerTime": "0", "ts": "1587971400", "tag": ""}]),
        match=[matchers.json_params_matcher({"timeOut": "0"})],
    )
    client.set_dead_man_switch(0)
    with pytest.raises(ValueError):
        client.set_dead_man_switch(5)
    assert len(mocked.calls) == 2


def test_private_call_without_credentials_is_refused(mocked):
    anonymous = OkxRestClient(ENDPOINTS)
    with pytest.raises(Exception, match="credentials"):
        anonymous.positions()
    assert len(mocked.calls) == 0
