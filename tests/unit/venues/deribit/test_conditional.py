"""Deribit trigger orders in the adapter: the private/buy|sell parameters (type, trigger,
trigger_price), the placed `untriggered` update, parsing untriggered/triggered orders and the
order a trigger placed back to the trigger-order id, cancel with the conditional flag, and the
10035/10034 refusals (deribit/encode.py, deribit/parse.py, deribit/rest.py)."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest

from exchanges.venues.base import (
    InvalidOrder,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    TriggerPrice,
)
from exchanges.venues.deribit import constants as C
from exchanges.venues.deribit import parse
from exchanges.venues.deribit.encode import order_body
from tests.plugins.venues import load_raw
from tests.unit.venues.deribit.test_rest import (  # noqa: F401
    API,
    calls_to,
    client,
    error,
    http,
    ok,
    query,
)

STOP_LOSS = OrderRequest(
    symbol="BTC/USD:BTC",
    venue_symbol="BTC-PERPETUAL",
    client_order_id="gw-sl-1",
    side=Side.SELL,
    order_type=OrderType.STOP_MARKET,
    quantity=D("100"),
    reduce_only=True,
    trigger_price=D("90000"),
    trigger_by=TriggerPrice.MARK,
)


def trigger_items(*, decimals: bool = True) -> list[dict]:
    """The fixture's order objects, numbers as Decimal (as the client decodes them) or as
    JSON numbers again (to build an answer body)."""
    text = load_raw("deribit", "ws_user_orders_trigger_shape")
    raw = json.loads(text, parse_float=D) if decimals else json.loads(text)
    return raw["params"]["data"]


def test_parameters_of_a_stop_market_and_a_take_limit():
    assert order_body(STOP_LOSS) == {
        "instrument_name": "BTC-PERPETUAL",
        "amount": D("100"),
        "type": "stop_market",
        "label": "gw-sl-1",
        "trigger_price": D("90000"),
        "trigger": "mark_price",
        "reduce_only": True,
    }
    take = OrderRequest(
        symbol="BTC/USD:BTC",
        venue_symbol="BTC-PERPETUAL",
        client_order_id="gw-tp-2",
        side=Side.SELL,
        order_type=OrderType.TAKE_PROFIT_LIMIT,
        quantity=D("100"),
        price=D("110010"),
        post_only=True,
        trigger_price=D("110000"),
        trigger_by=TriggerPrice.INDEX,
    )
    assert order_body(take) == {
        "instrument_name": "BTC-PERPETUAL",
        "amount": D("100"),
        "type": "take_limit",
        "label": "gw-tp-2",
        "price": D("110010"),
        "time_in_force": "good_til_cancelled",
        "trigger_price": D("110000"),
        "trigger": "index_price",
    }


def test_trigger_orders_parse_to_the_trigger_order_id_before_and_after_firing():
    untriggered, triggered, placed = (
        parse.parse_order(item, "BTC/USD:BTC", 9) for item in trigger_items()
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
        "gw-sl-1",
        "SLMS-1234",
        OrderType.STOP_MARKET,
        OrderStatus.UNTRIGGERED,
        D("90000.0"),
        TriggerPrice.MARK,
        None,
        True,
    )
    assert (triggered.venue_order_id, triggered.status) == ("SLMS-1234", OrderStatus.NEW)
    assert (
        placed.venue_order_id,
        placed.client_order_id,
        placed.order_type,
        placed.status,
        placed.filled_quantity,
        placed.average_price,
    ) == (
        "SLMS-1234",
        "gw-sl-1",
        OrderType.STOP_MARKET,
        OrderStatus.FILLED,
        D("100.0"),
        D("89990.5"),
    )
    assert parse.is_trigger_order_id("SLMS-1234") and parse.is_trigger_order_id("TPLB-7")
    assert not parse.is_trigger_order_id("104819400001")
    assert not parse.is_trigger_order_id("USDC-104819327443")


def test_place_returns_the_untriggered_order(client, http):  # noqa: F811
    untriggered = trigger_items(decimals=False)[0]
    http.post(API + C.METHOD_SELL, json=ok({"order": untriggered, "trades": []}))
    placed = client.place_order(STOP_LOSS)
    assert (
        placed.venue_order_id,
        placed.order_type,
        placed.status,
        placed.trigger_price,
        placed.trigger_by,
    ) == (
        "SLMS-1234",
        OrderType.STOP_MARKET,
        OrderStatus.UNTRIGGERED,
        D("90000.0"),
        TriggerPrice.MARK,
    )
    assert query(calls_to(http, C.METHOD_SELL)[0]) == {
        "instrument_name": "BTC-PERPETUAL",
        "amount": "100",
        "type": "stop_market",
        "label": "gw-sl-1",
        "trigger_price": "90000",
        "trigger": "mark_price",
        "reduce_only": "true",
    }


@pytest.mark.parametrize(
    ("code", "message"), [(10035, "trigger_price_too_low"), (10034, "trigger_price_too_high")]
)
def test_a_trigger_already_reached_is_an_invalid_order(client, http, code, message):  # noqa: F811
    http.post(API + C.METHOD_SELL, json=error(code, message))
    with pytest.raises(InvalidOrder) as refused:
        client.place_order(STOP_LOSS)
    assert (refused.value.code, refused.value.message) == (str(code), message)


def test_cancel_by_trigger_id_while_untriggered_and_by_label_after(client, http):  # noqa: F811
    cancelled = {**trigger_items(decimals=False)[0], "order_state": "cancelled"}
    http.post(API + C.METHOD_CANCEL, json=ok(cancelled))
    order = client.cancel_order(
        "BTC-PERPETUAL", client_order_id="gw-sl-1", venue_order_id="SLMS-1234", conditional=True
    )
    assert (order.venue_order_id, order.status) == ("SLMS-1234", OrderStatus.CANCELED)
    assert query(calls_to(http, C.METHOD_CANCEL)[0]) == {"order_id": "SLMS-1234"}
    # fired (a stop limit now resting under its own id): the label finds it
    http.post(API + C.METHOD_CANCEL_BY_LABEL, json=ok(1))
    resting = {
        **trigger_items(decimals=False)[2],
        "order_state": "cancelled",
        "order_type": "stop_limit",
        "filled_amount": 0,
    }
    http.get(API + C.METHOD_GET_ORDER_STATE_BY_LABEL, body=json.dumps(ok([resting]), default=str))
    order = client.cancel_order(
        "BTC-PERPETUAL", client_order_id="gw-sl-1", venue_order_id="SLMS-1234"
    )
    assert (order.venue_order_id, order.order_type, order.status) == (
        "SLMS-1234",
        OrderType.STOP_LIMIT,
        OrderStatus.CANCELED,
    )
    assert query(calls_to(http, C.METHOD_CANCEL_BY_LABEL)[0]) == {
        "label": "gw-sl-1",
        "currency": "BTC",
    }
