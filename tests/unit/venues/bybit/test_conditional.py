"""Bybit conditional orders in the adapter: the create body (triggerPrice, triggerDirection,
triggerBy; orderFilter on spot), the placed update, parsing Untriggered/Triggered/Deactivated
orders back into stop and take-profit types, cancel with the conditional flag, and the
110092/110093 refusals (bybit/encode.py, bybit/parse.py, bybit/rest.py)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest
from responses import matchers

from exchanges.venues.base import (
    InvalidOrder,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    TriggerPrice,
)
from exchanges.venues.bybit import constants as C
from exchanges.venues.bybit import parse
from exchanges.venues.bybit.encode import order_body
from tests.plugins.venues import load_payload
from tests.unit.venues.bybit.test_rest import URL, client, envelope, mocked  # noqa: F401

STOP_LOSS = OrderRequest(
    symbol="BTC/USDT:USDT",
    venue_symbol="BTCUSDT",
    client_order_id="gw-stop-1",
    side=Side.SELL,
    order_type=OrderType.STOP_MARKET,
    quantity=D("0.010"),
    reduce_only=True,
    trigger_price=D("29000"),
    trigger_by=TriggerPrice.MARK,
)
TAKE_PROFIT = OrderRequest(
    symbol="BTC/USDT:USDT",
    venue_symbol="BTCUSDT",
    client_order_id="gw-take-2",
    side=Side.SELL,
    order_type=OrderType.TAKE_PROFIT_LIMIT,
    quantity=D("0.010"),
    price=D("33000"),
    reduce_only=True,
    trigger_price=D("32900"),
    trigger_by=TriggerPrice.LAST,
)


def test_create_bodies_of_a_stop_and_a_take_profit():
    assert order_body(STOP_LOSS, "linear", "BTCUSDT") == {
        "category": "linear",
        "symbol": "BTCUSDT",
        "side": "Sell",
        "orderType": "Market",
        "qty": "0.010",
        "orderLinkId": "gw-stop-1",
        "timeInForce": "IOC",
        "triggerPrice": "29000",
        "triggerDirection": 2,
        "triggerBy": "MarkPrice",
        "reduceOnly": True,
    }
    assert order_body(TAKE_PROFIT, "linear", "BTCUSDT") == {
        "category": "linear",
        "symbol": "BTCUSDT",
        "side": "Sell",
        "orderType": "Limit",
        "qty": "0.010",
        "orderLinkId": "gw-take-2",
        "price": "33000",
        "timeInForce": "GTC",
        "triggerPrice": "32900",
        "triggerDirection": 1,
        "triggerBy": "LastPrice",
        "reduceOnly": True,
    }


def test_spot_conditional_orders_use_the_stop_order_filter_and_the_last_price():
    request = OrderRequest(
        symbol="BTC/USDT",
        venue_symbol="BTCUSDT",
        client_order_id="gw-spot-3",
        side=Side.BUY,
        order_type=OrderType.STOP_LIMIT,
        quantity=D("0.001"),
        price=D("31000"),
        trigger_price=D("30900"),
        trigger_by=TriggerPrice.LAST,
    )
    assert order_body(request, "spot", "BTCUSDT") == {
        "category": "spot",
        "symbol": "BTCUSDT",
        "side": "Buy",
        "orderType": "Limit",
        "qty": "0.001",
        "orderLinkId": "gw-spot-3",
        "price": "31000",
        "timeInForce": "GTC",
        "triggerPrice": "30900",
        "orderFilter": "StopOrder",
    }
    with pytest.raises(InvalidOrder):
        order_body(replace(request, trigger_by=TriggerPrice.MARK), "spot", "BTCUSDT")
    with pytest.raises(InvalidOrder):
        order_body(STOP_LOSS, "option", "BTC-27MAR26-70000-P-USDT")


def test_conditional_pushes_parse_into_stop_and_take_profit_updates():
    items = load_payload("bybit", "ws_order_conditional_shape")["data"]
    untriggered, triggered, deactivated = (
        parse.parse_order(item, "BTC/USDT:USDT", 7) for item in items
    )
    assert (
        untriggered.client_order_id,
        untriggered.venue_order_id,
        untriggered.order_type,
        untriggered.status,
        untriggered.trigger_price,
        untriggered.trigger_by,
        untriggered.price,
        untriggered.reduce_only,
    ) == (
        "gw-stop-1",
        "stop-order-1",
        OrderType.STOP_MARKET,
        OrderStatus.UNTRIGGERED,
        D("29000"),
        TriggerPrice.MARK,
        None,
        True,
    )
    assert (triggered.venue_order_id, triggered.order_type, triggered.status) == (
        "stop-order-1",
        OrderType.STOP_MARKET,
        OrderStatus.NEW,
    )
    assert (
        deactivated.client_order_id,
        deactivated.order_type,
        deactivated.status,
        deactivated.price,
        deactivated.trigger_price,
        deactivated.trigger_by,
    ) == (
        "gw-take-2",
        OrderType.TAKE_PROFIT_LIMIT,
        OrderStatus.CANCELED,
        D("28000"),
        D("28100"),
        TriggerPrice.LAST,
    )


def test_a_plain_order_stays_plain_and_spot_direction_comes_from_the_base_price():
    (plain,) = load_payload("bybit", "ws_order")["data"]  # stopOrderType StopLoss, trigger "0"
    update = parse.parse_order(plain, "BTC/USDT:USDT", 7)
    assert (update.order_type, update.trigger_price, update.trigger_by) == (
        OrderType.LIMIT,
        None,
        None,
    )
    item = load_payload("bybit", "ws_order_conditional_shape")["data"][0]
    spot = {
        **item,
        "category": "spot",
        "triggerDirection": 0,
        "triggerBy": "",
        "basePrice": "30000",
    }
    update = parse.parse_order(spot, "BTC/USDT", 7)
    assert (update.order_type, update.trigger_by) == (OrderType.STOP_MARKET, TriggerPrice.LAST)
    rising = {**spot, "triggerPrice": "31000"}
    assert parse.parse_order(rising, "BTC/USDT", 7).order_type is OrderType.TAKE_PROFIT_MARKET


def test_place_returns_an_untriggered_update_with_the_trigger(client, mocked):  # noqa: F811
    mocked.post(
        URL + C.PATH_PLACE_ORDER,
        json=envelope({"orderId": "stop-order-1", "orderLinkId": "gw-stop-1"}),
        match=[matchers.json_params_matcher(order_body(STOP_LOSS, "linear", "BTCUSDT"))],
    )
    placed = client.place_order(STOP_LOSS)
    assert (
        placed.client_order_id,
        placed.venue_order_id,
        placed.order_type,
        placed.status,
        placed.trigger_price,
        placed.trigger_by,
        placed.time_in_force,
        placed.price,
    ) == (
        "gw-stop-1",
        "stop-order-1",
        OrderType.STOP_MARKET,
        OrderStatus.UNTRIGGERED,
        D("29000"),
        TriggerPrice.MARK,
        TimeInForce.IOC,
        None,
    )


def test_a_trigger_already_reached_is_an_invalid_order(client, mocked):  # noqa: F811
    message = "expect Falling, but trigger_price[29000] >= current[28950.5]??MarkPrice"
    mocked.post(URL + C.PATH_PLACE_ORDER, json=envelope({}, code=110093, msg=message))
    with pytest.raises(InvalidOrder) as refused:
        client.place_order(STOP_LOSS)
    assert (refused.value.code, refused.value.message) == ("110093", message)


def test_cancel_of_a_conditional_order_adds_the_stop_order_filter_on_spot_only(
    client,  # noqa: F811
    mocked,  # noqa: F811
):
    answer = envelope({"orderId": "stop-order-1", "orderLinkId": "gw-stop-1"})
    mocked.post(
        URL + C.PATH_CANCEL_ORDER,
        json=answer,
        match=[
            matchers.json_params_matcher(
                {"category": "linear", "symbol": "BTCUSDT", "orderLinkId": "gw-stop-1"}
            )
        ],
    )
    canceled = client.cancel_order("BTC/USDT:USDT", client_order_id="gw-stop-1", conditional=True)
    assert (canceled.client_order_id, canceled.venue_order_id, canceled.status) == (
        "gw-stop-1",
        "stop-order-1",
        OrderStatus.PENDING_CANCEL,
    )
    mocked.post(
        URL + C.PATH_CANCEL_ORDER,
        json=answer,
        match=[
            matchers.json_params_matcher(
                {
                    "category": "spot",
                    "symbol": "BTCUSDT",
                    "orderId": "stop-order-1",
                    "orderFilter": "StopOrder",
                }
            )
        ],
    )
    client.cancel_order("BTC/USDT", venue_order_id="stop-order-1", conditional=True)
