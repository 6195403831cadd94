"""Bybit REST client over `responses`: success, every mapped error, timeouts and lost placements."""

import hashlib
import hmac
import json
from decimal import Decimal as D

import pytest
import requests
import responses
from responses import matchers

from exchanges.venues import base
from exchanges.venues.base import (
    AmendRequest,
    Credentials,
    Endpoints,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    SubmitOutcome,
    TimeInForce,
)
from exchanges.venues.bybit import constants as C
from exchanges.venues.bybit import parse
from exchanges.venues.bybit.rest import BybitRestClient
from exchanges.venues.bybit.symbols import AmbiguousSymbol, SymbolTable
from exchanges.venues.ratelimit import RateLimiter
from tests.plugins.venues import load_payload

URL = "https://api.bybit.test"
ENDPOINTS = Endpoints(
    URL, "wss://stream.bybit.test/v5/public", "wss://stream.bybit.test/v5/private"
)
MS = 1_000_000


def documented_signature(prehash: str) -> str:
    """Bybit's documented REST signature of the test key: hex HMAC-SHA256 keyed by the secret."""
    return hmac.new(b"test_secret", prehash.encode(), hashlib.sha256).hexdigest()


class RecordingLimiter(RateLimiter):
    def __init__(self):
        super().__init__(C.RATE_LIMITS)
        self.groups = []

    def acquire(self, group="default", cost=1.0):
        self.groups.append(group)
        return super().acquire(group, cost)


def table():
    instruments = parse.parse_instruments(
        load_payload("bybit", "rest_instruments_info_linear")["result"]
    ) + parse.parse_instruments(load_payload("bybit", "rest_instruments_info_spot")["result"])
    return SymbolTable(instruments)


@pytest.fixture
def client():
    return BybitRestClient(
        ENDPOINTS,
        Credentials(api_key="test_api_key", secret="test_secret"),
        symbols=table(),
        limiter=RecordingLimiter(),
    )


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def answer_get(mocked, path, query, **answer):
    """Answer a GET of `path` whose query is exactly `query` with `answer` (json=, body=, ...)."""
    mocked.get(URL + path, match=[matchers.query_param_matcher(query)], **answer)


def envelope(result, time_ms=1700000000000, code=0, msg="OK"):
    return {"retCode": code, "retMsg": msg, "result": result, "retExtInfo": {}, "time": time_ms}


def order_item(**changes):
    (item,) = load_payload("bybit", "ws_order")["data"]
    return {**item, **changes}


LIMIT_BUY = OrderRequest(
    symbol="BTC/USDT:USDT",
    venue_symbol="BTCUSDT",
    client_order_id="gw-0001",
    side=Side.BUY,
    order_type=OrderType.LIMIT,
    quantity=D("0.010"),
    price=D("30000"),
)


# --------------------------------------------------------------------------- public data


def test_server_time_and_clock_sync(client, mocked):
    mocked.get(URL + C.PATH_SERVER_TIME, json=load_payload("bybit", "rest_server_time_docs"))
    assert client.server_time() == 1688639403423213947
    mocked.get(URL + C.PATH_SERVER_TIME, json=load_payload("bybit", "rest_server_time_docs"))
    offset = client.sync_clock()
    assert client.clock.offset_ns == offset
    assert abs(client.clock.now_ns() - 1688639403423213947) < 2_000_000_000
    headers = client.signer.rest_headers("GET", C.PATH_POSITIONS)
    assert abs(int(headers["X-BAPI-TIMESTAMP"]) - 1688639403423) < 2_000
    assert "X-BAPI-SIGN" not in mocked.calls[0].request.headers


def test_instruments_paginate_and_fill_the_table(mocked):
    first = load_payload("bybit", "rest_instruments_info_linear_docs")
    first["result"]["nextPageCursor"] = "page-2"
    second = load_payload("bybit", "rest_instruments_info_linear")
    answer_get(mocked, C.PATH_INSTRUMENTS, {"category": "linear", "limit": "1000"}, json=first)
    answer_get(
        mocked,
        C.PATH_INSTRUMENTS,
        {"category": "linear", "limit": "1000", "cursor": "page-2"},
        json=second,
    )
    answer_get(
        mocked,
        C.PATH_INSTRUMENTS,
        {"category": "spot", "limit": "1000"},
        json=load_payload("bybit", "rest_instruments_info_spot"),
    )
    client = BybitRestClient(ENDPOINTS, categories=("linear", "spot"))
    found = client.instruments()
    assert [(i.symbol, i.venue_symbol) for i in found] == [
        ("BTC/USDT:USDT", "BTCUSDT"),
        ("BTC/USDT:USDT", "BTCUSDT"),
        ("ETH/USDT:USDT", "ETHUSDT"),
        ("BTC/USDT", "BTCUSDT"),
        ("ETH/USDT", "ETHUSDT"),
    ]
    assert client.symbols.resolve("BTC/USDT") == ("spot", "BTCUSDT")
    assert client.symbols.resolve("BTC/USDT:USDT") == ("linear", "BTCUSDT")
    assert all("X-BAPI-SIGN" not in call.request.headers for call in mocked.calls)


def test_options_are_listed_per_base_coin(mocked):
    option = load_payload("bybit", "rest_instruments_info_option_docs")
    empty = envelope({"category": "option", "list": [], "nextPageCursor": ""})
    answer_get(
        mocked,
        C.PATH_INSTRUMENTS,
        {"category": "option", "baseCoin": "BTC", "limit": "1000"},
        json=option,
    )
    answer_get(
        mocked,
        C.PATH_INSTRUMENTS,
        {"category": "option", "baseCoin": "ETH", "limit": "1000"},
        json=empty,
    )
    client = BybitRestClient(ENDPOINTS, categories=("option",), option_base_coins=("BTC", "ETH"))
    assert [i.symbol for i in client.instruments()] == ["BTC/USDT:USDT-260327-70000-P"]


def test_ticker_by_unified_symbol(client, mocked):
    answer_get(
        mocked,
        C.PATH_TICKER,
        {"category": "inverse", "symbol": "BTCUSD"},
        json=load_payload("bybit", "rest_tickers_inverse_docs"),
    )
    ticker = client.ticker("BTC/USD:BTC")
    assert (ticker.symbol, ticker.best_bid, ticker.best_ask, ticker.exchange_ts) == (
        "BTC/USD:BTC",
        D("103401.00"),
        D("109152.80"),
        1760352369814 * MS,
    )
    assert client.limiter.groups == ["market"]


def test_a_bare_ambiguous_symbol_is_refused(client):
    with pytest.raises(AmbiguousSymbol):
        client.ticker("BTCUSDT")


def test_order_book_depth_is_capped_per_category(client, mocked):
    answer_get(
        mocked,
        C.PATH_ORDER_BOOK,
        {"category": "linear", "symbol": "BTCUSDT", "limit": "500"},
        json=load_payload("bybit", "rest_orderbook"),
    )
    book = client.order_book("linear:BTCUSDT", depth=1000)
    assert (book.symbol, book.sequence, book.bids[0], book.asks[0]) == (
        "BTC/USDT:USDT",
        1234567,
        (D("27450.50"), D("1.500")),
        (D("27451.00"), D("1.200")),
    )


# --------------------------------------------------------------------------- orders


def test_place_limit_order(client, mocked):
    mocked.post(
        URL + C.PATH_PLACE_ORDER,
        json=load_payload("bybit", "rest_order_create_docs"),
        match=[
            matchers.json_params_matcher(
                {
                    "category": "linear",
                    "symbol": "BTCUSDT",
                    "side": "Buy",
                    "orderType": "Limit",
                    "qty": "0.010",
                    "orderLinkId": "gw-0001",
                    "price": "30000",
                    "timeInForce": "GTC",
                }
            )
        ],
    )
    update = client.place_order(LIMIT_BUY)
    assert update == base.OrderUpdate(
        venue=base.Venue.BYBIT,
        symbol="BTC/USDT:USDT",
        client_order_id="spot-test-postonly",
        venue_order_id="1321003749386327552",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        price=D("30000"),
        quantity=D("0.010"),
        filled_quantity=D("0"),
        average_price=None,
        status=OrderStatus.NEW,
        exchange_ts=1672211918471 * MS,
        receive_ts=update.receive_ts,
    )
    request = mocked.calls[0].request
    body = request.body.decode() if isinstance(request.body, bytes) else request.body
    ts, recv = request.headers["X-BAPI-TIMESTAMP"], request.headers["X-BAPI-RECV-WINDOW"]
    # Bybit's recipe ("Authentication"): hex HMAC-SHA256(secret, timestamp + key + recv + body)
    assert request.headers["X-BAPI-SIGN"] == documented_signature(f"{ts}test_api_key{recv}{body}")
    assert (request.headers["X-BAPI-API-KEY"], recv) == ("test_api_key", "5000")
    assert client.limiter.groups == ["order_create"]


def test_place_post_only_reduce_only_and_spot_market(client, mocked):
    mocked.post(
        URL + C.PATH_PLACE_ORDER,
        json=load_payload("bybit", "rest_order_create_docs"),
        match=[
            matchers.json_params_matcher(
                {
                    "category": "linear",
                    "symbol": "BTCUSDT",
                    "side": "Sell",
                    "orderType": "Limit",
                    "qty": "0.5",
                    "orderLinkId": "gw-2",
                    "price": "31000.5",
                    "timeInForce": "PostOnly",
                    "reduceOnly": True,
                }
            )
        ],
    )
    update = client.place_order(
        OrderRequest(
            "BTC/USDT:USDT",
            "BTCUSDT",
            "gw-2",
            Side.SELL,
            OrderType.LIMIT,
            D("0.5"),
            D("31000.5"),
            post_only=True,
            reduce_only=True,
        )
    )
    assert (update.post_only, update.reduce_only) == (True, True)
    mocked.post(
        URL + C.PATH_PLACE_ORDER,
        json=load_payload("bybit", "rest_order_create_docs"),
        match=[
            matchers.json_params_matcher(
                {
                    "category": "spot",
                    "symbol": "BTCUSDT",
                    "side": "Buy",
                    "orderType": "Market",
                    "qty": "0.25",
                    "orderLinkId": "gw-3",
                    "timeInForce": "IOC",
                    "marketUnit": "baseCoin",
                }
            )
        ],
    )
    update = client.place_order(
        OrderRequest(
            "BTC/USDT",
            "BTCUSDT",
            "gw-3",
            Side.BUY,
            OrderType.MARKET,
            D("0.25"),
            time_in_force=TimeInForce.IOC,
        )
    )
    assert (update.symbol, update.price, update.order_type) == ("BTC/USDT", None, OrderType.MARKET)
    mocked.post(
        URL + C.PATH_PLACE_ORDER,
        json=load_payload("bybit", "rest_order_create_docs"),
        match=[
            matchers.json_params_matcher(
                {
                    "category": "linear",
                    "symbol": "BTCUSDT",
                    "side": "Sell",
                    "orderType": "Market",
                    "qty": "1",
                    "orderLinkId": "gw-5",
                    "timeInForce": "IOC",
                }
            )
        ],
    )
    update = client.place_order(
        OrderRequest("BTC/USDT:USDT", "BTCUSDT", "gw-5", Side.SELL, OrderType.MARKET, D("1"))
    )
    assert update.time_in_force is TimeInForce.IOC
    with pytest.raises(base.ReduceOnlyViolation):
        client.place_order(
            OrderRequest(
                "BTC/USDT", "BTCUSDT", "gw-4", Side.SELL, OrderType.MARKET, D("1"), reduce_only=True
            )
        )


@pytest.mark.parametrize(("code", "spec"), sorted(C.ERRORS.items()))
def test_every_mapped_error(client, mocked, code, spec):
    error, _hint = spec
    mocked.post(URL + C.PATH_CANCEL_ORDER, json=envelope({}, code=int(code), msg=f"message {code}"))
    if code == C.ERROR_CLOCK_SKEW:
        mocked.get(URL + C.PATH_SERVER_TIME, json=load_payload("bybit", "rest_server_time_docs"))
    with pytest.raises(error) as caught:
        client.cancel_order("BTC/USDT:USDT", client_order_id="gw-1")
    assert type(caught.value) is error
    assert (caught.value.code, caught.value.message, caught.value.venue) == (
        str(code),
        f"message {code}",
        base.Venue.BYBIT,
    )


def test_rate_limit_error_backs_off_until_the_reset_time(client, mocked):
    reset_ms = client.clock.now_ms() + 3_000
    mocked.post(
        URL + C.PATH_PLACE_ORDER,
        json=envelope({}, code=10006, msg="Too many visits!"),
        headers={"X-Bapi-Limit-Status": "0", "X-Bapi-Limit-Reset-Timestamp": str(reset_ms)},
    )
    with pytest.raises(base.RateLimited) as caught:
        client.place_order(LIMIT_BUY)
    assert 2.0 < caught.value.retry_after <= 3.0
    assert len(mocked.calls) == 1  # never retried
    assert not client.limiter.bucket("order_create").try_acquire()
    assert client.limiter.bucket("order_cancel").try_acquire()


def test_exhausted_limit_header_penalizes_before_any_error(client, mocked):
    reset_ms = client.clock.now_ms() + 2_000
    mocked.get(
        URL + C.PATH_BALANCES,
        json=load_payload("bybit", "rest_wallet_balance"),
        headers={"X-Bapi-Limit-Status": "0", "X-Bapi-Limit-Reset-Timestamp": str(reset_ms)},
    )
    assert len(client.balances()) == 3
    assert not client.limiter.bucket("wallet").try_acquire()


def test_clock_skew_resyncs_the_offset_and_does_not_retry(client, mocked):
    mocked.post(
        URL + C.PATH_PLACE_ORDER,
        json=envelope({}, code=10002, msg="invalid request, please check your server timestamp"),
    )
    mocked.get(URL + C.PATH_SERVER_TIME, json=load_payload("bybit", "rest_server_time_docs"))
    with pytest.raises(base.ClockSkew):
        client.place_order(LIMIT_BUY)
    assert [call.request.method for call in mocked.calls] == ["POST", "GET"]
    assert abs(client.clock.now_ns() - 1688639403423213947) < 2_000_000_000


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (403, "access too frequent", base.RateLimited),
        (429, "", base.RateLimited),
        (401, "", base.AuthenticationError),
        (502, "<html>bad gateway</html>", base.VenueUnavailable),
        (404, "not found", base.ProtocolError),
    ],
)
def test_http_errors_without_envelope(client, mocked, status, body, error):
    mocked.get(URL + C.PATH_BALANCES, body=body, status=status)
    with pytest.raises(error) as caught:
        client.balances()
    assert type(caught.value) is error


def test_ip_ban_blocks_every_endpoint_group(client, mocked):
    mocked.get(URL + C.PATH_BALANCES, body="access too frequent", status=403)
    with pytest.raises(base.RateLimited) as caught:
        client.balances()
    assert caught.value.retry_after == C.IP_BAN_PENALTY_SECONDS
    assert not any(client.limiter.bucket(group).try_acquire() for group in C.RATE_LIMITS)


def test_transport_errors(client, mocked):
    mocked.get(URL + C.PATH_BALANCES, body=requests.ReadTimeout("read timed out"))
    with pytest.raises(base.RequestTimeout):
        client.balances()
    mocked.get(URL + C.PATH_BALANCES, body=requests.ConnectionError("refused"))
    with pytest.raises(base.RequestTimeout) as caught:  # a VenueUnavailable: nothing decided
        client.balances()
    assert caught.value.code == "connection"


def test_unsigned_client_refuses_private_calls():
    with pytest.raises(base.AuthenticationError):
        BybitRestClient(ENDPOINTS, symbols=table()).balances()


# --------------------------------------------------------------------------- lost placements


def realtime(mocked, items, open_only=None, status=200, body=None):
    params = {"category": "linear", "symbol": "BTCUSDT", "orderLinkId": "gw-0001"}
    if open_only:
        params["openOnly"] = str(open_only)
    kwargs = (
        {"body": body}
        if body is not None
        else {"json": envelope({"list": items, "nextPageCursor": ""})}
    )
    answer_get(mocked, C.PATH_OPEN_ORDERS, params, status=status, **kwargs)


@pytest.mark.parametrize(
    "lost", [requests.ReadTimeout("read timed out"), requests.ConnectionError("reset by peer")]
)
def test_lost_placement_found_by_client_id_is_accepted(client, mocked, lost):
    mocked.post(URL + C.PATH_PLACE_ORDER, body=lost)
    realtime(mocked, [order_item(orderLinkId="gw-0001", orderStatus="New", orderId="v-9")])
    update = client.place_order(LIMIT_BUY)
    assert (update.client_order_id, update.venue_order_id, update.status) == (
        "gw-0001",
        "v-9",
        OrderStatus.NEW,
    )
    assert [c.request.method for c in mocked.calls] == ["POST", "GET"]


def test_lost_placement_found_among_closed_orders(client, mocked):
    mocked.post(URL + C.PATH_PLACE_ORDER, json=envelope({}, code=10000, msg="Server Timeout"))
    realtime(mocked, [])
    realtime(
        mocked,
        [order_item(orderLinkId="gw-0001", orderStatus="Filled", cumExecQty="0.010")],
        open_only=1,
    )
    update = client.place_order(LIMIT_BUY)
    assert (update.status, update.filled_quantity) == (OrderStatus.FILLED, D("0.010"))


def test_lost_placement_absent(client, mocked):
    mocked.post(URL + C.PATH_PLACE_ORDER, body=requests.ReadTimeout("read timed out"))
    realtime(mocked, [])
    realtime(mocked, [], open_only=1)
    with pytest.raises(base.SubmissionUncertain) as caught:
        client.place_order(LIMIT_BUY)
    assert caught.value.outcome is SubmitOutcome.ABSENT
    assert [c.request.method for c in mocked.calls] == ["POST", "GET", "GET"]


def test_lost_placement_unknown_when_the_lookup_fails(client, mocked):
    mocked.post(URL + C.PATH_PLACE_ORDER, body=requests.ReadTimeout("read timed out"))
    realtime(mocked, [], body=requests.ConnectionError("down"))
    with pytest.raises(base.SubmissionUncertain) as caught:
        client.place_order(LIMIT_BUY)
    assert caught.value.outcome is SubmitOutcome.UNKNOWN
    assert [c.request.method for c in mocked.calls] == ["POST", "GET"]


def test_a_venue_error_answer_is_not_looked_up(client, mocked):
    mocked.post(URL + C.PATH_PLACE_ORDER, json=envelope({}, code=10016, msg="Server error."))
    with pytest.raises(base.VenueUnavailable):
        client.place_order(LIMIT_BUY)
    assert len(mocked.calls) == 1


# --------------------------------------------------------------------------- amend, cancel, queries


def test_amend_returns_the_order_bybit_reports(client, mocked):
    mocked.post(
        URL + C.PATH_AMEND_ORDER,
        json=load_payload("bybit", "rest_order_amend_docs"),
        match=[
            matchers.json_params_matcher(
                {"category": "linear", "symbol": "BTCUSDT", "orderId": "v-1", "price": "30100"}
            )
        ],
    )
    answer_get(
        mocked,
        C.PATH_OPEN_ORDERS,
        {
            "category": "linear",
            "symbol": "BTCUSDT",
            "orderId": "c6f055d9-7f21-4079-913d-e6523a9cfffa",
        },
        json=envelope({"list": [order_item(orderStatus="New", price="30100")]}),
    )
    update = client.amend_order(
        AmendRequest("BTC/USDT:USDT", "BTCUSDT", venue_order_id="v-1", price=D("30100"))
    )
    assert (update.price, update.status) == (D("30100"), OrderStatus.NEW)
    assert client.limiter.groups == ["order_amend", "order_query"]


def test_cancel_is_one_request_and_reports_pending_cancel(client, mocked):
    """The documented answer of `/v5/order/cancel` (docs v5 "Trade > Cancel Order") names the
    order only: the cancel is pending until the private stream says how it ended."""
    mocked.post(
        URL + C.PATH_CANCEL_ORDER,
        json=load_payload("bybit", "rest_order_cancel_docs"),
        match=[
            matchers.json_params_matcher(
                {"category": "linear", "symbol": "BTCUSDT", "orderLinkId": "linear-004"}
            )
        ],
    )
    update = client.cancel_order("BTC/USDT:USDT", client_order_id="linear-004")
    assert (
        update.status,
        update.symbol,
        update.client_order_id,
        update.venue_order_id,
        update.quantity,
        update.filled_quantity,
        update.price,
        update.exchange_ts,
    ) == (
        OrderStatus.PENDING_CANCEL,
        "BTC/USDT:USDT",
        "linear-004",
        "c6f055d9-7f21-4079-913d-e6523a9cfffa",
        D(0),
        D(0),
        None,
        0,
    )
    assert client.limiter.groups == ["order_cancel"]
    assert len(mocked.calls) == 1


def test_cancel_all_for_a_symbol_and_for_the_account(client, mocked):
    mocked.post(
        URL + C.PATH_CANCEL_ALL,
        json=load_payload("bybit", "rest_order_cancel_all_docs"),
        match=[matchers.json_params_matcher({"category": "linear", "symbol": "ETHUSDT"})],
    )
    assert client.cancel_all("ETH/USDT:USDT") == 2
    client.categories = ("linear", "spot")
    none = envelope({"list": [], "success": "1"})
    mocked.post(
        URL + C.PATH_CANCEL_ALL,
        json=load_payload("bybit", "rest_order_cancel_all_docs"),
        match=[matchers.json_params_matcher({"category": "linear", "settleCoin": "USDT"})],
    )
    mocked.post(
        URL + C.PATH_CANCEL_ALL,
        json=none,
        match=[matchers.json_params_matcher({"category": "linear", "settleCoin": "USDC"})],
    )
    mocked.post(
        URL + C.PATH_CANCEL_ALL,
        json=load_payload("bybit", "rest_order_cancel_all_docs"),
        match=[matchers.json_params_matcher({"category": "spot"})],
    )
    # spot cancel-all takes plain orders only unless orderFilter says StopOrder
    mocked.post(
        URL + C.PATH_CANCEL_ALL,
        json=none,
        match=[matchers.json_params_matcher({"category": "spot", "orderFilter": "StopOrder"})],
    )
    assert client.cancel_all() == 4


def test_open_orders_and_order_by_client_id(client, mocked):
    payload = load_payload("bybit", "rest_order_realtime")
    answer_get(
        mocked,
        C.PATH_OPEN_ORDERS,
        {"category": "linear", "symbol": "ETHUSDT", "limit": "50"},
        json=payload,
    )
    orders = client.open_orders("ETH/USDT:USDT")
    assert [(o.symbol, o.client_order_id, o.price) for o in orders] == [
        ("ETH/USDT:USDT", "client-open-1", D("3930.41")),
        ("ETH/USDT:USDT", "client-open-2", D("3940.42")),
    ]
    answer_get(
        mocked,
        C.PATH_OPEN_ORDERS,
        {"category": "linear", "symbol": "ETHUSDT", "orderLinkId": "nope"},
        json=envelope({"list": [], "nextPageCursor": ""}),
    )
    answer_get(
        mocked,
        C.PATH_OPEN_ORDERS,
        {"category": "linear", "symbol": "ETHUSDT", "orderLinkId": "nope", "openOnly": "1"},
        json=envelope({"list": [], "nextPageCursor": ""}),
    )
    assert client.order_by_client_id("ETH/USDT:USDT", "nope") is None


def test_open_orders_of_the_whole_account(client, mocked):
    client.categories = ("linear", "spot")
    answer_get(
        mocked,
        C.PATH_OPEN_ORDERS,
        {"category": "linear", "settleCoin": "USDT", "limit": "50"},
        json=load_payload("bybit", "rest_order_realtime"),
    )
    empty = envelope({"list": [], "nextPageCursor": ""})
    answer_get(
        mocked,
        C.PATH_OPEN_ORDERS,
        {"category": "linear", "settleCoin": "USDC", "limit": "50"},
        json=empty,
    )
    answer_get(mocked, C.PATH_OPEN_ORDERS, {"category": "spot", "limit": "50"}, json=empty)
    assert [o.venue_order_id for o in client.open_orders()] == ["open-order-1", "open-order-2"]


def test_fills_cursor_walks_categories(client, mocked):
    client.categories = ("linear", "spot")
    answer_get(
        mocked,
        C.PATH_FILLS,
        {"category": "linear", "limit": "100"},
        json=load_payload("bybit", "rest_execution_list_docs"),
    )
    page = client.fills()
    assert [(f.trade_id, f.symbol, f.fee_currency) for f in page.fills] == [
        ("e0cbe81d-0f18-5866-9415-cf319b5dab3b", "ETH/USDC:USDC", "USDC")
    ]
    assert page.cursor == "linear:132766%3A2%2C132766%3A2"
    last = load_payload("bybit", "rest_execution_list_docs")
    last["result"]["nextPageCursor"] = ""
    mocked.get(
        URL + C.PATH_FILLS,
        json=last,
        match=[
            matchers.query_string_matcher(
                "category=linear&limit=100&cursor=132766%3A2%2C132766%3A2"
            )
        ],
    )
    assert client.fills(cursor=page.cursor).cursor == "spot:"
    sent = mocked.calls[-1].request
    assert sent.url.endswith("?category=linear&limit=100&cursor=132766%3A2%2C132766%3A2")
    ts = sent.headers["X-BAPI-TIMESTAMP"]
    query = "category=linear&limit=100&cursor=132766%3A2%2C132766%3A2"  # signed as sent
    assert sent.headers["X-BAPI-SIGN"] == documented_signature(f"{ts}test_api_key5000{query}")
    answer_get(
        mocked,
        C.PATH_FILLS,
        {"category": "spot", "limit": "100"},
        json=envelope({"category": "spot", "list": [], "nextPageCursor": ""}),
    )
    final = client.fills(cursor="spot:")
    assert (final.fills, final.cursor) == ((), None)


def test_fills_page_holds_the_venue_made_executions_apart(client, mocked):
    """A `/v5/execution/list` page (the documented example) with a funding and an ADL row
    added in the documented shape (`execType` of "Enums > execType"): the trade is a fill,
    the other two are the page's `executions`."""
    client.categories = ("linear",)
    page = load_payload("bybit", "rest_execution_list_docs")
    trade = page["result"]["list"][0]
    page["result"]["list"] += [
        {**trade, "execType": "Funding", "execId": "fund-1", "execFee": "0.0123", "orderId": ""},
        {**trade, "execType": "AdlTrade", "execId": "adl-1", "execFee": "0", "side": "Sell"},
    ]
    page["result"]["nextPageCursor"] = ""
    answer_get(mocked, C.PATH_FILLS, {"category": "linear", "limit": "100"}, json=page)
    found = client.fills()
    assert [f.trade_id for f in found.fills] == ["e0cbe81d-0f18-5866-9415-cf319b5dab3b"]
    assert [
        (e.kind, e.execution_id, e.symbol, e.amount, e.currency, e.quantity, e.price)
        for e in found.executions
    ] == [
        (base.ExecutionKind.FUNDING, "fund-1", "ETH/USDC:USDC", D("-0.0123"), "USDC", D(0), None),
        (base.ExecutionKind.ADL, "adl-1", "ETH/USDC:USDC", D(0), "USDC", D("-0.1"), D("1190.15")),
    ]


def test_positions_and_balances(client, mocked):
    client.categories = ("linear",)
    answer_get(
        mocked,
        C.PATH_POSITIONS,
        {"category": "linear", "settleCoin": "USDT", "limit": "200"},
        json=load_payload("bybit", "rest_position_list"),
    )
    answer_get(
        mocked,
        C.PATH_POSITIONS,
        {"category": "linear", "settleCoin": "USDC", "limit": "200"},
        json=envelope({"list": [], "nextPageCursor": ""}),
    )
    positions = client.positions()
    assert [(p.symbol, p.quantity) for p in positions] == [
        ("BTC/USDT:USDT", D("0.5")),
        ("ETH/USDT:USDT", D("-5.0")),
        ("SOL/USDT:USDT", D("0")),
    ]
    answer_get(
        mocked,
        C.PATH_BALANCES,
        {"accountType": "UNIFIED"},
        json=load_payload("bybit", "rest_wallet_balance"),
    )
    assert [(b.currency, b.total) for b in client.balances()] == [
        ("BTC", D("0")),
        ("USDT", D("1000.50")),
        ("ETH", D("0")),
    ]


@pytest.mark.parametrize(("asked", "window"), [(10, 10), (1, 3), (0, 300), (900, 300)])
def test_dead_man_switch(client, mocked, asked, window):
    for product in C.DEAD_MAN_SWITCH_PRODUCTS:
        mocked.post(
            URL + C.PATH_DEAD_MAN_SWITCH,
            json=load_payload("bybit", "rest_dcp_docs"),
            match=[matchers.json_params_matcher({"product": product, "timeWindow": window})],
        )
    client.set_dead_man_switch(asked)
    assert [json.loads(c.request.body)["product"] for c in mocked.calls] == list(
        C.DEAD_MAN_SWITCH_PRODUCTS
    )
    assert client.limiter.groups == ["dcp"] * 3
