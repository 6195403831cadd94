"""The orders API against the simulator: submit, repeat, list, detail, amend, cancel,
cancel-all, fills; who may reach which account; every refusal in the one error format."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exchanges.models import AccountGrant
from exchanges.venues.base import Venue
from orders.models import Order
from risk.models import RiskEvent, RiskLimit
from tests.plugins.api import assert_error
from tests.support.trading import PERPS

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_throttles")]

D = Decimal


def body(account, venue, **changes):
    symbol, price, quantity = PERPS[venue]
    data = {
        "account": account.pk,
        "symbol": symbol,
        "side": "buy",
        "type": "limit",
        "quantity": str(quantity),
        "price": str(price),
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("venue", list(PERPS))
def test_submit_then_read_amend_and_cancel(trader, accounts, venue):
    account = accounts[venue]
    response = trader.post("/api/v1/orders/", body(account, venue), format="json")
    assert response.status_code == 201, response.content
    made = response.json()
    assert made["status"] == "new"
    assert made["venue_order_id"]
    assert made["client_order_id"].startswith("gw")
    assert D(made["quantity"]) == PERPS[venue][2]

    listed = trader.get("/api/v1/orders/", {"account": account.pk, "status": "new"}).json()
    assert [o["id"] for o in listed["results"]] == [made["id"]]
    assert trader.get("/api/v1/orders/", {"symbol": "ETH/USDT"}).json()["results"] == []
    opened = trader.get("/api/v1/orders/", {"open": "true"}).json()["results"]
    assert [o["id"] for o in opened] == [made["id"]]
    assert trader.get("/api/v1/orders/", {"open": "false"}).json()["results"] == []

    detail = trader.get(f"/api/v1/orders/{made['id']}/").json()
    assert [e["kind"] for e in detail["events"]][:2] == ["submit", "status_change"]
    assert detail["fills"] == []

    tick = account.exchange.instruments.get(symbol=PERPS[venue][0]).tick_size
    new_price = PERPS[venue][1] - 4 * tick
    amended = trader.post(
        f"/api/v1/orders/{made['id']}/amend/", {"price": format(new_price, "f")}, format="json"
    )
    assert amended.status_code == 200, amended.content
    assert D(amended.json()["price"]) == new_price

    canceled = trader.post(f"/api/v1/orders/{made['id']}/cancel/")
    assert canceled.status_code == 200, canceled.content
    # Deribit answers the cancel with the order's end; OKX and Bybit accept it, the end comes
    # on the private stream
    assert canceled.json()["status"] == ("canceled" if venue == "deribit" else "pending_cancel")
    if venue == "deribit":
        again = trader.post(f"/api/v1/orders/{made['id']}/cancel/")
        assert_error(again, 409, "order_not_open")


def test_the_same_client_order_id_again_is_200_with_the_same_order(trader, accounts):
    account = accounts[Venue.BYBIT]
    data = body(account, Venue.BYBIT, client_order_id="mine0001")
    first = trader.post("/api/v1/orders/", data, format="json")
    second = trader.post("/api/v1/orders/", data, format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert Order.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        (
            {"quantity": 1},
            {"quantity": ['Send decimals as strings, e.g. "0.1", not JSON numbers.']},
        ),
        ({"side": "long"}, {"side": ['"long" is not a valid choice.']}),
        ({"quantity": "1.005"}, {"quantity": ["must be a multiple of the lot size 0.01"]}),
        ({"price": "90000.05"}, {"price": ["must be a multiple of the tick size 0.1"]}),
        ({"symbol": "XRP/USDT:USDT"}, {"symbol": ["okx sim lists no XRP/USDT:USDT"]}),
    ],
)
def test_bad_input_is_400_naming_the_field(trader, accounts, changes, fields):
    response = trader.post(
        "/api/v1/orders/", body(accounts[Venue.OKX], Venue.OKX, **changes), format="json"
    )
    assert_error(response, 400, "validation_error", fields)
    assert Order.objects.count() == 0


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        (
            {"type": "stop_market", "price": None},
            {"trigger_price": ["a stop_market order needs a trigger price"]},
        ),
        (
            {"type": "stop_market", "trigger_price": "80000.0"},
            {"price": ["a stop_market order takes no price"]},
        ),
        (
            {"type": "take_profit_limit", "price": None, "trigger_price": "95000.0"},
            {"price": ["a take_profit_limit order needs a price"]},
        ),
        (
            {"type": "stop_limit", "trigger_price": "80000.05"},
            {"trigger_price": ["must be a multiple of the tick size 0.1"]},
        ),
        (
            {"type": "stop_limit", "trigger_price": "-1"},
            {"trigger_price": ["must be positive"]},
        ),
        (
            {"trigger_price": "80000.0"},
            {"trigger_price": ["only a stop or take-profit order has a trigger price"]},
        ),
        (
            {"trigger_by": "mark"},
            {"trigger_by": ["only a stop or take-profit order watches a trigger price"]},
        ),
        (
            {"type": "stop_market", "price": None, "trigger_price": "80000.0", "trigger_by": "bid"},
            {"trigger_by": ['"bid" is not a valid choice.']},
        ),
        (
            {"type": "stop_market", "price": None, "trigger_price": 80000},
            {"trigger_price": ['Send decimals as strings, e.g. "0.1", not JSON numbers.']},
        ),
    ],
)
def test_bad_conditional_orders_are_400_naming_the_field(trader, accounts, changes, fields):
    response = trader.post(
        "/api/v1/orders/", body(accounts[Venue.OKX], Venue.OKX, **changes), format="json"
    )
    assert_error(response, 400, "validation_error", fields)
    assert Order.objects.count() == 0


def test_a_risk_refusal_is_422_with_the_check_and_a_risk_event(trader, accounts):
    account = accounts[Venue.OKX]
    RiskLimit.objects.create(name="desk cap", account=account, max_order_notional=D("500"))
    response = trader.post("/api/v1/orders/", body(account, Venue.OKX), format="json")
    error = assert_error(response, 422, "risk_rejected")
    assert error["check"] == "order_notional"
    assert error["message"] == "order notional 900 USD is above the limit of 500 USD"
    assert RiskEvent.objects.filter(kind="order_rejected", account=account).count() == 1
    assert Order.objects.count() == 0


def test_a_trader_reaches_only_granted_accounts(make_user, client_for, accounts):
    user = make_user("ursula", "trader")
    AccountGrant.objects.create(user=user, account=accounts[Venue.OKX])
    client = client_for(user)
    mine = client.post("/api/v1/orders/", body(accounts[Venue.OKX], Venue.OKX), format="json")
    assert mine.status_code == 201
    other = client.post("/api/v1/orders/", body(accounts[Venue.BYBIT], Venue.BYBIT), format="json")
    error = assert_error(other, 400, "validation_error", other.json()["error"]["fields"])
    assert list(error["fields"]) == ["account"]
    foreign = Order.objects.create(
        account=accounts[Venue.BYBIT],
        instrument=accounts[Venue.BYBIT].exchange.instruments.get(symbol="BTC/USDT:USDT"),
        side="buy",
        order_type="limit",
        quantity=D("1"),
        price=D("1"),
    )
    assert client.get(f"/api/v1/orders/{foreign.pk}/").status_code == 404
    assert assert_error(client.post(f"/api/v1/orders/{foreign.pk}/cancel/"), 404, "not_found")
    assert [o["id"] for o in client.get("/api/v1/orders/").json()["results"]] == [mine.json()["id"]]


def test_a_viewer_reads_but_may_not_trade(api, accounts):
    response = api["viewer"].post(
        "/api/v1/orders/", body(accounts[Venue.OKX], Venue.OKX), format="json"
    )
    assert_error(response, 403, "permission_denied")
    assert api["viewer"].get("/api/v1/orders/").status_code == 200
    assert api["viewer"].get("/api/v1/fills/").status_code == 200


def test_cancel_all_answers_what_it_did(trader, accounts):
    account = accounts[Venue.DERIBIT]
    for _ in range(3):
        trader.post("/api/v1/orders/", body(account, Venue.DERIBIT), format="json")
    response = trader.post("/api/v1/orders/cancel_all/", {"account": account.pk}, format="json")
    assert response.status_code == 200, response.content
    result = response.json()
    assert (result["account"], result["still_open"]) == (account.pk, 0)
    assert set(Order.objects.values_list("status", flat=True)) == {"canceled"}
