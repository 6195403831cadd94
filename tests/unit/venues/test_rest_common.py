from decimal import Decimal as D

import pytest
import requests
import responses

from exchanges.venues.base import (
    OrderNotFound,
    OrderRequest,
    OrderStatus,
    OrderType,
    OrderUpdate,
    RateLimited,
    RequestTimeout,
    Side,
    SubmissionUncertain,
    SubmitOutcome,
    TimeInForce,
    Venue,
)
from exchanges.venues.ratelimit import Limit, RateLimiter
from exchanges.venues.rest_common import penalize, pooled_session, send, settle_lost_placement

REQUEST = OrderRequest(
    symbol="BTC/USDT:USDT",
    venue_symbol="BTC-USDT-SWAP",
    client_order_id="abc123",
    side=Side.BUY,
    order_type=OrderType.LIMIT,
    quantity=D("1"),
    price=D("100"),
)
LOST = RequestTimeout("POST /order: read timed out", venue=Venue.OKX, code="timeout")
FOUND = OrderUpdate(
    venue=Venue.OKX,
    symbol="BTC/USDT:USDT",
    client_order_id="abc123",
    venue_order_id="42",
    side=Side.BUY,
    order_type=OrderType.LIMIT,
    time_in_force=TimeInForce.GTC,
    price=D("100"),
    quantity=D("1"),
    filled_quantity=D("0"),
    average_price=None,
    status=OrderStatus.NEW,
    exchange_ts=1,
    receive_ts=2,
)


def test_lost_placement_found_is_returned():
    assert settle_lost_placement(REQUEST, LOST, lambda: FOUND, venue=Venue.OKX) is FOUND


def test_lost_placement_absent():
    with pytest.raises(SubmissionUncertain) as caught:
        settle_lost_placement(REQUEST, LOST, lambda: None, venue=Venue.OKX)
    error = caught.value
    assert (error.outcome, error.code, error.venue) == (SubmitOutcome.ABSENT, "timeout", "okx")
    assert error.__cause__ is LOST
    assert "abc123" in error.message


def test_lost_placement_unknown_when_the_lookup_fails():
    failure = OrderNotFound("lookup refused", venue=Venue.OKX, code="50001")

    def lookup():
        raise failure

    with pytest.raises(SubmissionUncertain) as caught:
        settle_lost_placement(REQUEST, LOST, lookup, venue=Venue.OKX)
    assert (caught.value.outcome, caught.value.code) == (SubmitOutcome.UNKNOWN, "timeout")
    assert caught.value.__cause__ is failure


def test_penalize_holds_the_group_and_says_how_long():
    limiter = RateLimiter({"default": Limit(rate=5, burst=5), "place": Limit(rate=5, burst=5)})
    error = penalize(limiter, "place", RateLimited("slow down", venue=Venue.OKX), 2.0)
    assert error.retry_after == 2.0
    assert not limiter.bucket("place").try_acquire()
    assert limiter.bucket("default").try_acquire()


def test_pooled_session_keeps_a_given_session_and_never_retries_its_own():
    given = requests.Session()
    assert pooled_session(given) is given
    own = pooled_session()
    assert own.get_adapter("https://x").max_retries.total == 0
    assert own.get_adapter("http://x")._pool_maxsize == 16


@responses.activate
def test_send_maps_transport_failures_to_request_timeout():
    session = pooled_session()
    responses.get("http://venue/ok", body="fine")
    responses.get("http://venue/slow", body=requests.ReadTimeout("read timed out"))
    responses.get("http://venue/down", body=requests.ConnectionError("refused"))
    answer = send(session, "GET", "http://venue/ok", venue=Venue.BYBIT, what="ok", timeout=1)
    assert answer.text == "fine"
    for path, code in (("slow", "timeout"), ("down", "connection")):
        with pytest.raises(RequestTimeout) as caught:
            send(session, "GET", f"http://venue/{path}", venue=Venue.BYBIT, what=path, timeout=1)
        assert (caught.value.code, caught.value.venue) == (code, "bybit")
        assert caught.value.message.startswith(f"{path}: ")
