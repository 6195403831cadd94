"""An amend that adds risk passes the pre-trade risk checks as a new order would, against the
OKX simulator through the API: a size above an order limit, or any increase under an engaged
kill switch, is 422 `risk_rejected` with a risk event naming the order, and the venue keeps the
order as it was; a smaller size, a new price within the limits, or a moved stop trigger goes
through; the order being amended is not counted twice among the open orders."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exchanges.venues.base import Venue
from orders.models import Order
from orders.venue import client_for, venue_name
from risk.models import KillSwitch, RiskEvent, RiskLimit
from tests.plugins.api import assert_error

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_throttles")]

D = Decimal
SYMBOL = "BTC/USDT:USDT"


@pytest.fixture
def okx(accounts):
    return accounts[Venue.OKX]


def resting(trader, account, **fields) -> dict:
    body = {
        "account": account.pk,
        "symbol": SYMBOL,
        "side": "buy",
        "type": "limit",
        "quantity": "1",
        "price": "90000",
        **fields,
    }
    response = trader.post("/api/v1/orders/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def amend(trader, made: dict, **change):
    return trader.post(f"/api/v1/orders/{made['id']}/amend/", change, format="json")


def venue_quantity(account, made: dict) -> Decimal:
    order = Order.objects.select_related("instrument").get(pk=made["id"])
    client = client_for(account)
    found = client.order_by_client_id(venue_name(client, order.instrument), order.client_order_id)
    return found.quantity


def test_a_size_above_the_order_limit_is_refused_and_the_order_kept(trader, okx):
    made = resting(trader, okx)
    RiskLimit.objects.create(
        name="two a time",
        instrument=okx.exchange.instruments.get(symbol=SYMBOL),
        max_order_quantity=D("2"),
    )
    refused = amend(trader, made, quantity="3")
    error = assert_error(refused, 422, "risk_rejected")
    assert error["check"] == "order_quantity"
    assert error["message"] == f"quantity 3 is above the limit of 2 for {SYMBOL}"
    event = RiskEvent.objects.get(kind="order_rejected")
    assert (event.account_id, event.order_id, D(event.details["quantity"])) == (
        okx.pk,
        made["id"],
        D("3"),
    )
    assert venue_quantity(okx, made) == D("1")
    assert Order.objects.get(pk=made["id"]).quantity == D("1")
    assert amend(trader, made, quantity="2").status_code == 200
    assert venue_quantity(okx, made) == D("2")


def test_the_amended_order_is_not_counted_twice_among_the_open_orders(trader, okx):
    made = resting(trader, okx)
    RiskLimit.objects.create(name="one at a time", account=okx, max_open_orders=1)
    moved = amend(trader, made, price="89990")
    assert moved.status_code == 200, moved.content
    assert D(moved.json()["price"]) == D("89990")
    assert_error(
        trader.post(
            "/api/v1/orders/",
            {
                "account": okx.pk,
                "symbol": SYMBOL,
                "side": "buy",
                "type": "limit",
                "quantity": "1",
                "price": "89000",
            },
            format="json",
        ),
        422,
        "risk_rejected",
    )


def test_under_the_kill_switch_an_amend_may_cut_risk_but_not_add_it(trader, okx):
    made = resting(trader, okx, quantity="2")
    stop = resting(trader, okx, side="sell", type="stop_market", price=None, trigger_price="50000")
    KillSwitch.objects.create(account=okx, engaged=True, reason="drill", engaged_by="ops")
    error = assert_error(amend(trader, made, quantity="3"), 422, "risk_rejected")
    assert error["check"] == "kill_switch"
    assert amend(trader, made, quantity="1").status_code == 200
    assert venue_quantity(okx, made) == D("1")
    moved = amend(trader, stop, trigger_price="55000")  # protection still moves
    assert moved.status_code == 200, moved.content
    assert D(moved.json()["trigger_price"]) == D("55000")
