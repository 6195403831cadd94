"""`/api/v1/positions/{id}/protection/`: reading a position's stop loss and take profit, and
every refusal before anything is sent (the orders themselves are placed on the simulator in
tests/integration/orders/test_protection_live.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exchanges.models import AccountGrant
from orders.models import Order
from tests.factories import OrderFactory, PositionFactory
from tests.plugins.api import assert_error

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_throttles")]

D = Decimal


@pytest.fixture
def short():
    return PositionFactory(quantity=D(-250), mark_price=D("65010"))


@pytest.fixture
def trader(make_user, client_for, short):
    user = make_user("tina", "trader")
    AccountGrant.objects.create(user=user, account=short.account)
    return client_for(user)


def url(position) -> str:
    return f"/api/v1/positions/{position.pk}/protection/"


def test_reading_shows_the_open_protective_orders(api, short):
    assert api["viewer"].get(url(short)).json() == {
        "position": short.pk,
        "stop_loss": None,
        "take_profit": None,
    }
    stop = OrderFactory(
        account=short.account,
        instrument=short.instrument,
        side="buy",
        order_type="stop_market",
        price=None,
        quantity=D(250),
        trigger_price=D("66000"),
        trigger_by="mark",
        reduce_only=True,
        status="untriggered",
    )
    answer = api["viewer"].get(url(short)).json()
    assert answer["take_profit"] is None
    assert answer["stop_loss"] == {
        "id": stop.pk,
        "type": "stop_market",
        "side": "buy",
        "quantity": answer["stop_loss"]["quantity"],
        "trigger_price": answer["stop_loss"]["trigger_price"],
        "trigger_by": "mark",
        "status": "untriggered",
        "client_order_id": stop.client_order_id,
    }
    assert D(answer["stop_loss"]["quantity"]) == D(250)
    assert D(answer["stop_loss"]["trigger_price"]) == D(66000)


def test_a_viewer_may_not_set_protection(api, short):
    response = api["viewer"].post(url(short), {"stop_loss": "66000"}, format="json")
    assert response.status_code == 403


def test_a_trader_reaches_only_granted_accounts(make_user, client_for):
    other = PositionFactory()
    stranger = client_for(make_user("sam", "trader"))
    assert stranger.get(url(other)).status_code == 404
    assert stranger.post(url(other), {"stop_loss": "1"}, format="json").status_code == 404


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (
            {"stop_loss": "65000"},
            {"stop_loss": ["must be above the price 65010 for this position"]},
        ),
        (
            {"take_profit": "66000"},
            {"take_profit": ["must be below the price 65010 for this position"]},
        ),
        ({"take_profit": "-5"}, {"take_profit": ["must be positive"]}),
        (
            {"stop_loss": 66000},
            {"stop_loss": ['Send decimals as strings, e.g. "0.1", not JSON numbers.']},
        ),
        (
            {"stop_loss": "66000", "trigger_by": "bid"},
            {"trigger_by": ['"bid" is not a valid choice.']},
        ),
    ],
)
def test_bad_levels_are_400_naming_the_field(trader, short, body, fields):
    assert_error(trader.post(url(short), body, format="json"), 400, "validation_error", fields)
    assert Order.objects.count() == 0


def test_a_request_without_levels_or_on_a_flat_position_is_400(trader, short):
    error = assert_error(trader.post(url(short), {}, format="json"), 400, "validation_error")
    assert error["message"] == "give a stop_loss, a take_profit, or both"
    short.quantity = D(0)
    short.save()
    response = trader.post(url(short), {"stop_loss": "66000"}, format="json")
    error = assert_error(response, 400, "validation_error")
    assert error["message"] == f"position {short.pk} is flat: nothing to protect"
    assert Order.objects.count() == 0
