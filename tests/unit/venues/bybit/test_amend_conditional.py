"""Amending an untriggered conditional order in the Bybit adapter (bybit/encode.py
`amend_body`, bybit/rest.py `amend_order`): the `/v5/order/amend` body with `triggerPrice`
(docs v5 "Amend Order" request example), the order read back `untriggered` with the new
trigger, and the refusals mapped to `InvalidOrder` with Bybit's code and message."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from responses import matchers

from exchanges.venues.base import (
    AmendRequest,
    InvalidOrder,
    OrderNotFound,
    OrderStatus,
    OrderType,
    TriggerPrice,
)
from exchanges.venues.bybit import constants as C
from exchanges.venues.bybit.encode import amend_body
from tests.plugins.venues import load_payload
from tests.unit.venues.bybit.test_rest import URL, client, envelope, mocked  # noqa: F401

STOP_LIMIT = AmendRequest(
    symbol="BTC/USDT:USDT",
    venue_symbol="BTCUSDT",
    client_order_id="gw-stop-1",
    venue_order_id="stop-order-1",
    price=D("28900"),
    quantity=D("0.020"),
    trigger_price=D("28500"),
    conditional=OrderType.STOP_LIMIT,
)
ACK = envelope({"orderId": "stop-order-1", "orderLinkId": "gw-stop-1"})


def sent(body: dict) -> dict:
    return {key: value for key, value in body.items() if value is not None}


def answer_amend(mocked, body: dict, **answer) -> None:  # noqa: F811
    mocked.post(URL + C.PATH_AMEND_ORDER, match=[matchers.json_params_matcher(body)], **answer)


def answer_read_back(mocked) -> None:  # noqa: F811
    mocked.get(
        URL + C.PATH_OPEN_ORDERS,
        match=[
            matchers.query_param_matcher(
                {"category": "linear", "symbol": "BTCUSDT", "orderId": "stop-order-1"}
            )
        ],
        json=load_payload("bybit", "rest_order_realtime_amended_conditional_shape"),
    )


def test_the_body_is_the_documented_amend_of_a_conditional_order():
    docs = load_payload("bybit", "rest_order_amend_request_docs")
    request = AmendRequest(
        symbol="ETH/USDC:USDC",
        venue_symbol="ETHPERP",
        client_order_id="linear-004",
        price=D("1050"),
        quantity=D("0.15"),
        trigger_price=D("1145"),
        conditional=OrderType.STOP_LIMIT,
    )
    body = sent(amend_body(request, "linear", "ETHPERP"))
    # the docs' example also clears a take profit and stop loss the order does not have here
    assert body == {k: v for k, v in docs.items() if k not in ("takeProfit", "stopLoss")}


def test_a_market_stop_sends_only_its_trigger_and_spot_takes_no_order_filter():
    market = AmendRequest(
        symbol="BTC/USDT",
        venue_symbol="BTCUSDT",
        client_order_id="gw-stop-9",
        trigger_price=D("31000.5"),
        conditional=OrderType.STOP_MARKET,
    )
    assert sent(amend_body(market, "spot", "BTCUSDT")) == {
        "category": "spot",
        "symbol": "BTCUSDT",
        "orderLinkId": "gw-stop-9",
        "triggerPrice": "31000.5",
    }
    with pytest.raises(ValueError, match="amend needs a client or venue order id"):
        amend_body(AmendRequest("BTC/USDT", "BTCUSDT", price=D("1")), "spot", "BTCUSDT")


def test_amend_returns_the_untriggered_order_with_its_new_trigger(client, mocked):  # noqa: F811
    answer_amend(
        mocked,
        {
            "category": "linear",
            "symbol": "BTCUSDT",
            "orderId": "stop-order-1",
            "qty": "0.020",
            "price": "28900",
            "triggerPrice": "28500",
        },
        json=ACK,
    )
    answer_read_back(mocked)
    order = client.amend_order(STOP_LIMIT)
    assert (
        order.venue_order_id,
        order.client_order_id,
        order.order_type,
        order.status,
        order.trigger_price,
        order.trigger_by,
        order.quantity,
        order.price,
    ) == (
        "stop-order-1",
        "gw-stop-1",
        OrderType.STOP_LIMIT,
        OrderStatus.UNTRIGGERED,
        D("28500"),
        TriggerPrice.MARK,
        D("0.020"),
        D("28900"),
    )
    assert client.limiter.groups == ["order_amend", "order_query"]


@pytest.mark.parametrize(
    ("code", "message", "error"),
    [
        (110093, "expect Falling, but trigger_price[30000] >= current[29500]??MarkPrice", None),
        (
            10001,
            "The order remains unchanged as the parameters entered match the existing ones.",
            None,
        ),
        (10001, "params error: triggerPrice invalid", None),
        (170130, "Data sent for paramter 'triggerPrice' is not valid.", None),
        (110001, "order not exists or too late to replace", OrderNotFound),
    ],
)
def test_refusals_carry_bybit_code_and_message(client, mocked, code, message, error):  # noqa: F811
    answer_amend(
        mocked,
        {
            "category": "linear",
            "symbol": "BTCUSDT",
            "orderId": "stop-order-1",
            "qty": "0.020",
            "price": "28900",
            "triggerPrice": "28500",
        },
        json=envelope({}, code=code, msg=message),
    )
    with pytest.raises(error or InvalidOrder) as refused:
        client.amend_order(STOP_LIMIT)
    assert (refused.value.code, refused.value.message) == (str(code), message)
