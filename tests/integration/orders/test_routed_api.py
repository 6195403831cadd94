"""The routed orders API against the simulator: route, read back, route over a subset of the
accounts, who may see what, and bad input in the one error format."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exchanges.models import AccountGrant
from exchanges.venues.base import Venue
from tests.integration.orders.test_routed import SYMBOL, Market
from tests.plugins.api import assert_error

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_throttles")]
D = Decimal


@pytest.fixture
def market(sim, accounts):
    made = Market(sim, accounts)
    made.rest_ask(Venue.OKX, "100000", "1")
    made.rest_ask(Venue.BYBIT, "100001", "1")
    made.publish()
    return made


@pytest.fixture
def trader(make_user, client_for, accounts):
    user = make_user("tina", "trader")
    for venue in (Venue.OKX, Venue.BYBIT):
        AccountGrant.objects.create(user=user, account=accounts[venue])
    return client_for(user)


def body(**changes):
    data = {
        "symbol": SYMBOL,
        "side": "buy",
        "type": "market",
        "quantity": "0.2",
        "max_slippage_bps": "0.5",
    }
    data.update(changes)
    return data


def test_route_then_read_it_back(trader, market, accounts):
    response = trader.post("/api/v1/orders/routed/", body(), format="json")
    assert response.status_code == 201, response.content
    made = response.json()
    assert (made["status"], D(made["filled_quantity"]), D(made["average_price"])) == (
        "filled",
        D("0.2"),
        D("100000"),
    )
    assert [
        (c["account"], c["venue"], D(c["quantity"]), D(c["venue_quantity"]), c["status"])
        for c in made["children"]
    ] == [(accounts[Venue.OKX].pk, "okx", D("0.2"), D("20"), "filled")]
    assert D(made["children"][0]["average_price"]) == D("100000")
    plan = made["decision"]["plan"]
    assert [c["venue"] for c in plan["children"]] == ["okx"]
    # the Deribit account is not granted to tina: never a candidate
    assert {i["venue"] for i in made["decision"]["inputs"]} == {"okx", "bybit"}

    again = trader.get(f"/api/v1/orders/routed/{made['id']}/")
    assert again.status_code == 200
    assert again.json() == {**made, "updated_at": again.json()["updated_at"]}
    listed = trader.get("/api/v1/orders/routed/", {"status": "filled"}).json()
    assert [r["id"] for r in listed["results"]] == [made["id"]]
    assert listed["results"][0]["children"] == made["children"]
    assert trader.get("/api/v1/orders/routed/", {"status": "open"}).json()["results"] == []


def test_a_subset_of_accounts_routes_over_those_only(trader, market, accounts):
    bybit = accounts[Venue.BYBIT]
    response = trader.post("/api/v1/orders/routed/", body(accounts=[bybit.pk]), format="json")
    assert response.status_code == 201, response.content
    made = response.json()
    assert [(c["venue"], c["status"]) for c in made["children"]] == [("bybit", "filled")]
    assert D(made["average_price"]) == D("100001")


def test_another_users_accounts_and_routed_orders_are_out_of_reach(
    trader, market, accounts, make_user, client_for
):
    deribit = accounts[Venue.DERIBIT]
    refused = trader.post("/api/v1/orders/routed/", body(accounts=[deribit.pk]), format="json")
    assert_error(
        refused,
        400,
        "validation_error",
        {"accounts.0": [f'Invalid pk "{deribit.pk}" - object does not exist.']},
    )

    made = trader.post("/api/v1/orders/routed/", body(), format="json").json()
    other = make_user("olga", "trader")
    AccountGrant.objects.create(user=other, account=deribit)
    olga = client_for(other)
    assert olga.get(f"/api/v1/orders/routed/{made['id']}/").status_code == 404
    assert olga.get("/api/v1/orders/routed/").json()["results"] == []


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"type": "limit"}, {"price": ["a limit order needs a positive price"]}),
        ({"price": "100000"}, {"price": ["a market order takes no price"]}),
        ({"quantity": "0"}, {"quantity": ["must be positive"]}),
        ({"max_slippage_bps": "-1"}, {"max_slippage_bps": ["must not be negative"]}),
    ],
)
def test_bad_input_names_the_field(trader, accounts, changes, fields):
    response = trader.post("/api/v1/orders/routed/", body(**changes), format="json")
    assert_error(response, 400, "validation_error", fields)
