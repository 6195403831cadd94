"""Deribit REST client against canned HTTP answers (`responses`)."""

import hashlib
import hmac
import json
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import responses

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
from exchanges.venues.deribit import constants as C
from exchanges.venues.deribit.rest import DeribitRestClient, query_string, rpc_request
from tests.plugins.venues import load_payload, load_raw

D = Decimal
URL = "https://deribit.test"
API = f"{URL}/api/v2/"
CREDS = Credentials(api_key="client-id-1", secret="client-secret-1")
ENDPOINTS = Endpoints(rest_url=URL, public_ws_url="", private_ws_url="")


def ok(result, request_id=1):
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


def error(code, message, data=None):
    return {"jsonrpc": "2.0", "id": 1, "error": {"code": code, "message": message, "data": data}}


def order_item(**changes):
    item = json.loads(load_raw("deribit", "rest_buy_response"))["result"]["order"]
    item.update(changes)
    return item


@pytest.fixture
def client():
    rest = DeribitRestClient(ENDPOINTS, CREDS)
    yield rest
    rest.close()


@pytest.fixture
def http():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def query(call):
    """The call's parameters as the query string would carry them, whether it was a GET or
    a POSTed JSON-RPC body (order entry is always POSTed)."""
    if call.request.method == "POST":
        params = json.loads(call.request.body, parse_float=str, parse_int=str)["params"]
        return {
            k: ("true" if v is True else "false" if v is False else v) for k, v in params.items()
        }
    return dict(parse_qsl(urlsplit(call.request.url).query, keep_blank_values=True))


def calls_to(http, method):
    return [c for c in http.calls if urlsplit(c.request.url).path == f"/api/v2/{method}"]


def request(**changes):
    fields = dict(
        symbol="ETH/USDC:USDC",
        venue_symbol="ETH_USDC-PERPETUAL",
        client_order_id="O-19700101-000000-001-001-1",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        quantity=D("0.001"),
        price=D("2973.55"),
        post_only=True,
    )
    fields.update(changes)
    return OrderRequest(**fields)


# --------------------------------------------------------------------------- requests


def test_rpc_request_has_the_documented_envelope():
    documented = load_payload("deribit", "rest_request_docs")
    built = rpc_request("public/ticker", {"instrument": "BTC-24AUG18-6500-P"}, 8066)
    assert built == documented


def test_query_string_encodes_decimals_and_booleans_exactly():
    assert (
        query_string(
            {
                "amount": D("1E+1"),
                "price": D("0.00050"),
                "post_only": True,
                "label": "a b/c",
                "x": None,
            }
        )
        == "amount=10&price=0.00050&post_only=true&label=a%20b%2Fc"
    )


# --------------------------------------------------------------------------- public


def test_server_time_and_clock_sync(client, http):
    http.get(API + C.METHOD_GET_TIME, body=load_raw("deribit", "rest_get_time"))
    assert client.server_time() == 1733338800000 * 1_000_000
    offset = client.sync_clock()
    assert offset == client.clock.offset_ns
    assert offset < 0  # the recorded server time (Dec 2024) is behind this machine's clock
    assert abs(client.clock.now_ms() - 1733338800000) < 5_000


def test_instruments(client, http):
    http.get(API + C.METHOD_GET_INSTRUMENTS, body=load_raw("deribit", "rest_get_instruments"))
    infos = client.instruments()
    assert [i.symbol for i in infos] == [
        "BTC/USD:BTC",
        "BTC/USD:BTC-241227",
        "BTC/USD:BTC-241227-100000-C",
    ]
    assert query(http.calls[0]) == {"currency": "any"}
    assert "Authorization" not in http.calls[0].request.headers


def test_order_book_and_ticker(client, http):
    http.get(API + C.METHOD_GET_ORDER_BOOK, body=load_raw("deribit", "rest_get_order_book"))
    book = client.order_book("BTC-PERPETUAL", depth=20)
    assert query(http.calls[0]) == {"instrument_name": "BTC-PERPETUAL", "depth": "20"}
    assert book.sequence == 133112427566
    assert book.bids[0] == (D("87002.5"), D("199190.0"))
    raw = load_raw("deribit", "ws_ticker")
    data_text = raw[raw.index('"data":') + len('"data":') : raw.rindex("}", 0, raw.rindex("}"))]
    http.get(API + C.METHOD_TICKER, body='{"jsonrpc":"2.0","id":2,"result":' + data_text + "}")
    ticker = client.ticker("BTC-PERPETUAL")
    assert ticker.best_bid == D("92283.5")
    assert ticker.funding_rate == D("0.00001742")


# --------------------------------------------------------------------------- signing


def test_private_read_is_a_get_signed_over_its_query(client, http):
    http.get(API + C.METHOD_GET_POSITIONS, json=ok([]))
    client.clock.offset_ns = 0
    assert client.positions() == []
    sent = http.calls[0].request
    assert sent.method == "GET"
    scheme, _, fields = sent.headers["Authorization"].partition(" ")
    parts = dict(field.split("=", 1) for field in fields.split(","))
    uri = urlsplit(sent.url).path + "?" + urlsplit(sent.url).query
    string_to_sign = f"{parts['ts']}\n{parts['nonce']}\nGET\n{uri}\n\n"
    expected = hmac.new(b"client-secret-1", string_to_sign.encode(), hashlib.sha256).hexdigest()
    assert (scheme, parts["sig"]) == ("deri-hmac-sha256", expected)


def test_private_call_carries_a_valid_deri_hmac_signature(client, http):
    http.post(API + C.METHOD_BUY, body=load_raw("deribit", "rest_buy_response"))
    client.clock.offset_ns = 0
    order = client.place_order(request())
    assert order.status is OrderStatus.NEW
    sent = http.calls[0].request
    header = sent.headers["Authorization"]
    scheme, _, fields = header.partition(" ")
    assert scheme == "deri-hmac-sha256"
    parts = dict(field.split("=", 1) for field in fields.split(","))
    assert parts["id"] == "client-id-1"
    assert sent.method == "POST"  # order entry is never a GET (a GET may be resent)
    body = sent.body.decode() if isinstance(sent.body, bytes) else sent.body
    string_to_sign = f"{parts['ts']}\n{parts['nonce']}\nPOST\n{urlsplit(sent.url).path}\n{body}\n"
    expected = hmac.new(b"client-secret-1", string_to_sign.encode(), hashlib.sha256).hexdigest()
    assert parts["sig"] == expected
    assert query(http.calls[0]) == {
        "instrument_name": "ETH_USDC-PERPETUAL",
        "amount": "0.001",
        "type": "limit",
        "label": "O-19700101-000000-001-001-1",
        "price": "2973.55",
        "time_in_force": "good_til_cancelled",
        "post_only": "true",
        "reject_post_only": "true",
    }


def test_signing_uses_the_clock_offset(client, http):
    http.get(API + C.METHOD_GET_POSITIONS, json=ok([]))
    client.clock.offset_ns = -3_600_000 * 1_000_000  # an hour behind
    client.positions()
    header = http.calls[0].request.headers["Authorization"]
    ts = int(dict(f.split("=", 1) for f in header.split(" ", 1)[1].split(","))["ts"])
    assert abs(ts - (base.now_ns() // 1_000_000 - 3_600_000)) < 5_000


def test_token_mode_authenticates_then_uses_bearer_and_refreshes(http):
    client = DeribitRestClient(ENDPOINTS, CREDS, auth_mode="token")
    http.get(
        API + C.METHOD_AUTH,
        json=ok(
            {
                "access_token": "tok-1",
                "refresh_token": "ref-1",
                "expires_in": 900,
                "scope": "connection mainaccount",
                "token_type": "bearer",
            }
        ),
    )
    http.get(API + C.METHOD_GET_POSITIONS, json=ok([]))
    client.positions()
    auth_call, positions_call = http.calls[0], http.calls[1]
    params = query(auth_call)
    assert params["grant_type"] == "client_signature"
    assert params["client_id"] == "client-id-1"
    string_to_sign = f"{params['timestamp']}\n{params['nonce']}\n{params['data']}"
    assert (
        params["signature"]
        == hmac.new(b"client-secret-1", string_to_sign.encode(), hashlib.sha256).hexdigest()
    )
    assert "client_secret" not in params
    assert positions_call.request.headers["Authorization"] == "bearer tok-1"
    # near expiry: refresh with the refresh token
    client.token.expires_at -= 880
    client.positions()
    assert query(http.calls[2]) == {"grant_type": "refresh_token", "refresh_token": "ref-1"}
    client.close()


def test_private_call_without_credentials_fails_locally(http):
    client = DeribitRestClient(ENDPOINTS)
    with pytest.raises(base.AuthenticationError):
        client.positions()
    assert len(http.calls) == 0


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(("code", "spec"), sorted(C.ERRORS.items()))
def test_every_mapped_error(client, http, code, spec):
    cls, name = spec
    http.get(API + C.METHOD_GET_POSITIONS, json=error(int(code), name))
    with pytest.raises(cls) as caught:
        client.positions()
    assert type(caught.value) is cls
    assert caught.value.code == str(code)
    assert caught.value.message == name
    assert caught.value.venue == base.Venue.DERIBIT


def test_recorded_error_responses(client, http):
    http.get(API + C.METHOD_GET_POSITIONS, body=load_raw("deribit", "rest_error_response_docs"))
    with pytest.raises(base.InvalidOrder) as caught:
        client.positions()
    assert (caught.value.code, caught.value.message) == ("11050", "bad_request")


def test_rate_limit_penalizes_the_group_and_is_never_retried(client, http):
    http.post(API + C.METHOD_BUY, body=load_raw("deribit", "rest_error_response"))
    with pytest.raises(base.RateLimited) as caught:
        client.place_order(request())
    assert caught.value.code == "10028"
    assert caught.value.retry_after == C.RATE_LIMIT_PENALTY_SECONDS
    assert len(http.calls) == 1
    assert client.limiter.bucket(C.MATCHING_ENGINE).try_acquire() is False
    assert client.limiter.bucket(C.NON_MATCHING_ENGINE).try_acquire() is True


def test_unknown_code_and_reduce_only_message(client, http):
    http.get(API + C.METHOD_GET_POSITIONS, json=error(99999, "weird"))
    with pytest.raises(base.VenueError) as caught:
        client.positions()
    assert type(caught.value) is base.VenueError
    http.replace(
        responses.GET,
        API + C.METHOD_GET_POSITIONS,
        json=error(11030, "other_reject", "reduce_only"),
    )
    with pytest.raises(base.ReduceOnlyViolation):
        client.positions()


def test_gateway_page_is_an_uncertain_answer(client, http):
    http.get(API + C.METHOD_GET_POSITIONS, body="<html>bad gateway</html>", status=502)
    with pytest.raises(base.RequestTimeout):
        client.positions()
    http.replace(responses.GET, API + C.METHOD_GET_POSITIONS, body="<html>nope</html>", status=404)
    with pytest.raises(base.ProtocolError):
        client.positions()


def test_timeout_on_a_read_is_a_request_timeout(client, http):
    http.get(API + C.METHOD_GET_POSITIONS, body=requests.exceptions.ReadTimeout("slow"))
    with pytest.raises(base.RequestTimeout) as caught:
        client.positions()
    assert caught.value.code == "timeout"


def test_local_validation_of_the_label(client, http):
    with pytest.raises(base.InvalidOrder):
        client.place_order(request(client_order_id="x" * 65))
    assert len(http.calls) == 0


# --------------------------------------------------------------------------- lost placements


def test_timeout_then_found_by_label_returns_the_order(client, http):
    http.post(API + C.METHOD_BUY, body=requests.exceptions.ReadTimeout("lost"))
    http.get(
        API + C.METHOD_GET_ORDER_STATE_BY_LABEL,
        json=None,
        body='{"jsonrpc":"2.0","id":2,"result":['
        + json.dumps(order_item(label="O-19700101-000000-001-001-1"))
        + "]}",
    )
    order = client.place_order(request())
    assert order.client_order_id == "O-19700101-000000-001-001-1"
    assert order.venue_order_id == "USDC-104819327443"
    assert order.price == D("2973.55")
    lookup = calls_to(http, C.METHOD_GET_ORDER_STATE_BY_LABEL)
    assert query(lookup[0]) == {"currency": "USDC", "label": "O-19700101-000000-001-001-1"}
    assert len(calls_to(http, C.METHOD_BUY)) == 1  # never re-sent


def test_connection_error_then_absent(client, http):
    http.post(API + C.METHOD_SELL, body=requests.exceptions.ConnectionError("reset"))
    http.get(API + C.METHOD_GET_ORDER_STATE_BY_LABEL, json=ok([]))
    with pytest.raises(base.SubmissionUncertain) as caught:
        client.place_order(request(side=Side.SELL))
    assert caught.value.outcome is SubmitOutcome.ABSENT
    assert len(calls_to(http, C.METHOD_SELL)) == 1


def test_timeout_then_lookup_fails_is_unknown(client, http):
    http.post(API + C.METHOD_BUY, body=requests.exceptions.ReadTimeout("lost"))
    http.get(
        API + C.METHOD_GET_ORDER_STATE_BY_LABEL, body=requests.exceptions.ConnectTimeout("down")
    )
    with pytest.raises(base.SubmissionUncertain) as caught:
        client.place_order(request())
    assert caught.value.outcome is SubmitOutcome.UNKNOWN


def test_label_lookup_ignores_other_instruments(client, http):
    other = order_item(instrument_name="ETH-PERPETUAL")
    http.get(API + C.METHOD_GET_ORDER_STATE_BY_LABEL, body=json.dumps(ok([other]), default=float))
    assert client.order_by_client_id("ETH_USDC-PERPETUAL", other["label"]) is None


# --------------------------------------------------------------------------- order management


def test_market_order_params(client, http):
    http.post(API + C.METHOD_SELL, body=load_raw("deribit", "rest_buy_response"))
    client.place_order(
        request(
            order_type=OrderType.MARKET,
            price=None,
            post_only=False,
            reduce_only=True,
            time_in_force=TimeInForce.IOC,
            side=Side.SELL,
        )
    )
    assert query(http.calls[0]) == {
        "instrument_name": "ETH_USDC-PERPETUAL",
        "amount": "0.001",
        "type": "market",
        "label": "O-19700101-000000-001-001-1",
        "time_in_force": "immediate_or_cancel",
        "reduce_only": "true",
    }


def test_amend_by_venue_id_and_by_label(client, http):
    http.post(API + C.METHOD_EDIT, body=load_raw("deribit", "rest_edit_response"))
    order = client.amend_order(
        AmendRequest(
            symbol="ETH/USDC:USDC",
            venue_symbol="ETH_USDC-PERPETUAL",
            venue_order_id="USDC-104819327443",
            price=D("3067.2"),
            quantity=D("0.001"),
        )
    )
    assert order.price == D("3067.2")
    assert query(http.calls[0]) == {
        "order_id": "USDC-104819327443",
        "amount": "0.001",
        "price": "3067.2",
    }
    http.post(API + C.METHOD_EDIT_BY_LABEL, body=load_raw("deribit", "rest_edit_response"))
    http.get(
        API + C.METHOD_GET_ORDER_STATE_BY_LABEL,
        body='{"jsonrpc":"2.0","id":3,"result":[' + json.dumps(order_item()) + "]}",
    )
    client.amend_order(
        AmendRequest(
            symbol="ETH/USDC:USDC",
            venue_symbol="ETH_USDC-PERPETUAL",
            client_order_id="O-19700101-000000-001-001-1",
            price=D("3067.2"),
        )
    )
    edit = calls_to(http, C.METHOD_EDIT_BY_LABEL)[0]
    assert query(edit) == {
        "label": "O-19700101-000000-001-001-1",
        "instrument_name": "ETH_USDC-PERPETUAL",
        "amount": "0.001",
        "price": "3067.2",
    }


def test_cancel_by_id_and_by_label(client, http):
    http.post(API + C.METHOD_CANCEL, body=load_raw("deribit", "rest_cancel_response"))
    order = client.cancel_order("ETH_USDC-PERPETUAL", venue_order_id="USDC-104819327443")
    assert order.status is OrderStatus.CANCELED
    http.post(API + C.METHOD_CANCEL_BY_LABEL, json=ok(1))
    http.get(
        API + C.METHOD_GET_ORDER_STATE_BY_LABEL,
        body='{"jsonrpc":"2.0","id":3,"result":['
        + json.dumps(order_item(order_state="cancelled"))
        + "]}",
    )
    order = client.cancel_order("ETH_USDC-PERPETUAL", client_order_id="O-19700101-000000-001-001-1")
    assert order.status is OrderStatus.CANCELED
    assert query(calls_to(http, C.METHOD_CANCEL_BY_LABEL)[0]) == {
        "label": "O-19700101-000000-001-001-1",
        "currency": "USDC",
    }


def test_cancel_by_label_of_nothing_is_not_found(client, http):
    http.post(API + C.METHOD_CANCEL_BY_LABEL, json=ok(0))
    http.get(API + C.METHOD_GET_ORDER_STATE_BY_LABEL, json=ok([]))
    with pytest.raises(base.OrderNotFound):
        client.cancel_order("BTC-PERPETUAL", client_order_id="nope")


def test_cancel_all_and_open_orders(client, http):
    http.post(API + C.METHOD_CANCEL_ALL, json=ok(3))
    http.post(API + C.METHOD_CANCEL_ALL_BY_INSTRUMENT, json=ok(2))
    assert client.cancel_all() == 3
    assert client.cancel_all("BTC-PERPETUAL") == 2
    assert query(calls_to(http, C.METHOD_CANCEL_ALL_BY_INSTRUMENT)[0]) == {
        "instrument_name": "BTC-PERPETUAL"
    }
    body = (
        '{"jsonrpc":"2.0","id":4,"result":[' + json.dumps(order_item(filled_amount=0.0005)) + "]}"
    )
    http.get(API + C.METHOD_GET_OPEN_ORDERS, body=body)
    http.get(API + C.METHOD_GET_OPEN_ORDERS_BY_INSTRUMENT, body=body)
    (open_all,) = client.open_orders()
    (open_one,) = client.open_orders("ETH_USDC-PERPETUAL")
    assert open_all.status is OrderStatus.PARTIALLY_FILLED
    assert open_all.filled_quantity == D("0.0005")
    assert open_one == open_all.__class__(
        **{**_fields(open_all), "receive_ts": open_one.receive_ts}
    )


def _fields(obj):
    return {name: getattr(obj, name) for name in obj.__slots__}


def test_positions_and_balances(client, http):
    http.get(API + C.METHOD_GET_POSITIONS, body=load_raw("deribit", "rest_get_positions"))
    http.get(
        API + C.METHOD_GET_ACCOUNT_SUMMARIES, body=load_raw("deribit", "rest_get_account_summaries")
    )
    (position,) = client.positions()
    assert position.symbol == "BTC/USD:BTC"
    assert position.quantity == D(50)
    assert query(calls_to(http, C.METHOD_GET_POSITIONS)[0]) == {"currency": "any"}
    btc, eth = client.balances()
    assert (btc.currency, btc.total, btc.available) == ("BTC", D("302.61869214"), D("301.38059622"))
    assert (eth.currency, eth.total) == ("ETH", D(100))


def test_dead_man_switch(client, http):
    http.get(API + C.METHOD_ENABLE_CANCEL_ON_DISCONNECT, json=ok("ok"))
    http.get(API + C.METHOD_DISABLE_CANCEL_ON_DISCONNECT, json=ok("ok"))
    client.set_dead_man_switch(30)
    client.set_dead_man_switch(0)
    assert query(calls_to(http, C.METHOD_ENABLE_CANCEL_ON_DISCONNECT)[0]) == {"scope": "account"}
    assert query(calls_to(http, C.METHOD_DISABLE_CANCEL_ON_DISCONNECT)[0]) == {"scope": "account"}


# --------------------------------------------------------------------------- fills


def _trades_body(items, has_more=False):
    trades = ",".join(items)
    return (
        '{"jsonrpc":"2.0","id":5,"result":{"has_more":'
        + json.dumps(has_more)
        + ',"trades":['
        + trades
        + "]}}"
    )


def _trade(trade_id, ts, instrument="BTC-PERPETUAL"):
    return (
        f'{{"trade_id":"{trade_id}","order_id":"o1","instrument_name":"{instrument}",'
        '"direction":"buy","price":8954.5,"amount":20,"fee":0.00000168,"fee_currency":"BTC",'
        f'"timestamp":{ts},"liquidity":"M","label":"c1"}}'
    )


def test_fills_by_instrument_with_cursor(client, http):
    http.get(
        API + C.METHOD_GET_USER_TRADES_BY_INSTRUMENT,
        body=_trades_body([_trade("t1", 1000), _trade("t2", 2000), _trade("t3", 2000)]),
    )
    page = client.fills(cursor="1000:t1", venue_symbol="BTC-PERPETUAL")
    assert [f.trade_id for f in page.fills] == ["t2", "t3"]
    assert page.cursor == "2000:t2,t3"
    first = page.fills[0]
    assert (first.price, first.quantity, first.fee) == (D("8954.5"), D(20), D("0.00000168"))
    assert first.liquidity is base.Liquidity.MAKER
    assert first.client_order_id == "c1"
    assert query(http.calls[0]) == {
        "instrument_name": "BTC-PERPETUAL",
        "start_timestamp": "1000",
        "count": "1000",
        "sorting": "asc",
    }
    # the next page starts at the cursor and skips what it already returned
    http.replace(
        responses.GET,
        API + C.METHOD_GET_USER_TRADES_BY_INSTRUMENT,
        body=_trades_body([_trade("t2", 2000), _trade("t3", 2000)]),
    )
    again = client.fills(cursor=page.cursor, venue_symbol="BTC-PERPETUAL")
    assert again.fills == ()
    assert again.cursor == "2000:t2,t3"


def test_fills_across_currencies_stop_at_the_earliest_truncated_source(http):
    client = DeribitRestClient(ENDPOINTS, CREDS, currencies=("BTC", "USDC"))

    def by_currency(req):
        currency = dict(parse_qsl(urlsplit(req.url).query))["currency"]
        if currency == "BTC":
            return 200, {}, _trades_body([_trade("b1", 1000), _trade("b2", 3000)])
        return (
            200,
            {},
            _trades_body(
                [
                    _trade("u1", 1500, "BTC_USDC-PERPETUAL"),
                    _trade("u2", 2000, "BTC_USDC-PERPETUAL"),
                ],
                has_more=True,
            ),
        )

    http.add_callback(
        responses.GET, API + C.METHOD_GET_USER_TRADES_BY_CURRENCY, callback=by_currency
    )
    page = client.fills(cursor="900:")
    assert [f.trade_id for f in page.fills] == ["b1", "u1", "u2"]
    assert [f.symbol for f in page.fills] == ["BTC/USD:BTC", "BTC/USDC:USDC", "BTC/USDC:USDC"]
    assert page.cursor == "2000:u2"
    client.close()


def test_post_mode_sends_a_signed_json_rpc_body_with_exact_numbers(http):
    client = DeribitRestClient(ENDPOINTS, CREDS, http_method="POST")
    http.post(API + C.METHOD_BUY, body=load_raw("deribit", "rest_buy_response"))
    order = client.place_order(request(quantity=D("0.0010"), price=D("2973.55")))
    assert order.venue_order_id == "USDC-104819327443"
    sent = http.calls[0].request
    body = sent.body.decode()
    assert json.loads(body, parse_float=D) == {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "private/buy",
        "params": {
            "instrument_name": "ETH_USDC-PERPETUAL",
            "amount": D("0.0010"),
            "type": "limit",
            "label": "O-19700101-000000-001-001-1",
            "price": D("2973.55"),
            "time_in_force": "good_til_cancelled",
            "post_only": True,
            "reject_post_only": True,
        },
    }
    assert '"amount":0.0010' in body and '"price":2973.55' in body
    assert sent.headers["Content-Type"] == "application/json"
    parts = dict(f.split("=", 1) for f in sent.headers["Authorization"].split(" ", 1)[1].split(","))
    string_to_sign = f"{parts['ts']}\n{parts['nonce']}\nPOST\n/api/v2/private/buy\n{body}\n"
    assert (
        parts["sig"]
        == hmac.new(b"client-secret-1", string_to_sign.encode(), hashlib.sha256).hexdigest()
    )
    client.close()


def test_unknown_modes_are_refused():
    with pytest.raises(ValueError):
        DeribitRestClient(ENDPOINTS, CREDS, http_method="PUT")
    with pytest.raises(ValueError):
        DeribitRestClient(ENDPOINTS, CREDS, auth_mode="basic")


def test_unauthorized_read_resyncs_the_clock_and_is_sent_once_more(client, http):
    http.get(
        API + C.METHOD_GET_TIME, json=ok(base.now_ns() // 1_000_000 + 120_000)
    )  # venue 2 min ahead
    http.get(API + C.METHOD_GET_POSITIONS, json=error(13009, "unauthorized"))
    http.get(API + C.METHOD_GET_POSITIONS, json=ok([]))
    assert client.positions() == []
    assert abs(client.clock.offset_ns - 120_000 * 1_000_000) < 5_000 * 1_000_000
    first, second = calls_to(http, C.METHOD_GET_POSITIONS)
    ts = [
        int(
            dict(
                f.split("=", 1)
                for f in c.request.headers["Authorization"].split(" ", 1)[1].split(",")
            )["ts"]
        )
        for c in (first, second)
    ]
    assert 115_000 < ts[1] - ts[0] < 125_000


def test_unauthorized_placement_resyncs_but_is_not_resent(client, http):
    http.get(API + C.METHOD_GET_TIME, json=ok(base.now_ns() // 1_000_000))
    http.post(API + C.METHOD_BUY, json=error(13009, "unauthorized"))
    with pytest.raises(base.AuthenticationError):
        client.place_order(request())
    assert len(calls_to(http, C.METHOD_BUY)) == 1
    assert len(calls_to(http, C.METHOD_GET_TIME)) == 1
