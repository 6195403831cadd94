"""Editing an untriggered trigger order in the Deribit adapter (deribit/encode.py
`edit_params`, deribit/rest.py `amend_order`): private/edit by the trigger-order id with
`amount`, a limit kind's `price` and `trigger_price`, the amount read first with
private/get_order_state when it does not change, edit_by_label without an id or once the
trigger order has fired (the order it placed has an id of its own), the answer
parsed `untriggered` with the new trigger, and the refusals mapped to `InvalidOrder`."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest

from exchanges.venues.base import (
    AmendRequest,
    InvalidOrder,
    OrderStatus,
    OrderType,
    TriggerPrice,
)
from exchanges.venues.deribit import constants as C
from exchanges.venues.deribit.encode import edit_params
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

STOP_MARKET = AmendRequest(
    symbol="BTC/USD:BTC",
    venue_symbol="BTC-PERPETUAL",
    client_order_id="gw-sl-1",
    venue_order_id="SLMS-1234",
    quantity=D("200"),
    trigger_price=D("89500"),
    conditional=OrderType.STOP_MARKET,
)


def fixture(name: str) -> dict:
    return json.loads(load_raw("deribit", name))


def stop_limit_item(**changes) -> dict:
    """The edit answer's order as an untriggered sell stop limit SLLS-77 at 89400."""
    item = fixture("rest_edit_trigger_response_shape")["result"]["order"]
    return {
        **item,
        "order_id": "SLLS-77",
        "order_type": "stop_limit",
        "price": 89400.0,
        "amount": 100.0,
        **changes,
    }


def sent(call) -> tuple[str, dict]:
    body = json.loads(call.request.body)
    return body["method"], body["params"]


def test_edit_params_leave_out_the_price_of_a_market_kind():
    assert edit_params(STOP_MARKET, D("200"), D("89550")) == {
        "amount": D("200"),
        "trigger_price": D("89500"),
    }
    limit = AmendRequest(
        "BTC/USD:BTC",
        "BTC-PERPETUAL",
        venue_order_id="SLLS-77",
        price=D("89400"),
        trigger_price=D("89500"),
        conditional=OrderType.STOP_LIMIT,
    )
    assert edit_params(limit, D("100"), D("89400")) == {
        "amount": D("100"),
        "price": D("89400"),
        "trigger_price": D("89500"),
    }


def test_edit_by_trigger_id_sends_the_trigger_and_returns_the_untriggered_order(client, http):  # noqa: F811
    http.post(API + C.METHOD_EDIT, body=load_raw("deribit", "rest_edit_trigger_response_shape"))
    order = client.amend_order(STOP_MARKET)
    request = fixture("rest_edit_trigger_request_shape")
    assert sent(http.calls[0]) == (request["method"], request["params"])
    assert len(http.calls) == 1
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
        "SLMS-1234",
        "gw-sl-1",
        OrderType.STOP_MARKET,
        OrderStatus.UNTRIGGERED,
        D("89500.0"),
        TriggerPrice.MARK,
        D("200.0"),
        None,
    )


def test_an_unchanged_amount_is_read_by_the_trigger_id_first(client, http):  # noqa: F811
    http.get(API + C.METHOD_GET_ORDER_STATE, json=ok(stop_limit_item(trigger_price=89000.0)))
    http.post(API + C.METHOD_EDIT, json=ok({"order": stop_limit_item(), "trades": []}))
    order = client.amend_order(
        AmendRequest(
            "BTC/USD:BTC",
            "BTC-PERPETUAL",
            client_order_id="gw-sl-1",
            venue_order_id="SLLS-77",
            price=D("89400"),
            trigger_price=D("89500"),
            conditional=OrderType.STOP_LIMIT,
        )
    )
    assert query(calls_to(http, C.METHOD_GET_ORDER_STATE)[0]) == {"order_id": "SLLS-77"}
    assert sent(calls_to(http, C.METHOD_EDIT)[0])[1] == {
        "order_id": "SLLS-77",
        "amount": 100,
        "price": 89400,
        "trigger_price": 89500,
    }
    assert (order.order_type, order.status, order.trigger_price, order.price) == (
        OrderType.STOP_LIMIT,
        OrderStatus.UNTRIGGERED,
        D("89500.0"),
        D("89400.0"),
    )


def test_without_an_id_the_label_names_the_trigger_order(client, http):  # noqa: F811
    http.post(
        API + C.METHOD_EDIT_BY_LABEL, body=load_raw("deribit", "rest_edit_trigger_response_shape")
    )
    order = client.amend_order(
        AmendRequest(
            "BTC/USD:BTC",
            "BTC-PERPETUAL",
            client_order_id="gw-sl-1",
            quantity=D("200"),
            trigger_price=D("89500"),
            conditional=OrderType.STOP_MARKET,
        )
    )
    assert sent(http.calls[0]) == (
        C.METHOD_EDIT_BY_LABEL,
        {
            "label": "gw-sl-1",
            "instrument_name": "BTC-PERPETUAL",
            "amount": 200,
            "trigger_price": 89500,
        },
    )
    assert (order.venue_order_id, order.status) == ("SLMS-1234", OrderStatus.UNTRIGGERED)


def test_a_fired_trigger_order_is_edited_by_label_as_the_order_it_placed(client, http):  # noqa: F811
    placed = {**stop_limit_item(), "order_id": "31337", "order_state": "open", "label": "gw-sl-1"}
    http.post(API + C.METHOD_EDIT_BY_LABEL, json=ok({"order": placed, "trades": []}))
    client.amend_order(
        AmendRequest(
            "BTC/USD:BTC",
            "BTC-PERPETUAL",
            client_order_id="gw-sl-1",
            venue_order_id="SLLS-77",  # the trigger order's id: it has fired (no `conditional`)
            price=D("89300"),
            quantity=D("100"),
        )
    )
    assert sent(http.calls[0]) == (
        C.METHOD_EDIT_BY_LABEL,
        {"label": "gw-sl-1", "instrument_name": "BTC-PERPETUAL", "amount": 100, "price": 89300},
    )


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (10035, "trigger_price_too_low"),
        (10034, "trigger_price_too_high"),
        (10044, "trigger_price_wrong_tick"),
        (11036, "invalid_trigger_price"),
    ],
)
def test_refusals_are_invalid_orders_with_deribit_code(client, http, code, message):  # noqa: F811
    http.post(API + C.METHOD_EDIT, json=error(code, message, {"reason": "mark_price is 90000"}))
    with pytest.raises(InvalidOrder) as refused:
        client.amend_order(STOP_MARKET)
    assert (refused.value.code, refused.value.message) == (
        str(code),
        f"{message} {{'reason': 'mark_price is 90000'}}",
    )
