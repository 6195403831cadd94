"""Amending a stop or take profit that waits for its trigger, through the API against each
simulated venue: the trigger, the quantity and a stop limit's price move on the venue in place
(the order stays `untriggered`, with the same venue id); a level the price has already passed
is the venue's refusal and changes nothing; bad input is a 400 naming the field."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

import pytest

from orders import ingest
from orders.models import Order
from orders.venue import client_for, venue_name
from risk.checks import figure
from tests.plugins.api import assert_error
from tests.support.trading import PERPS

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_throttles")]

D = Decimal
VENUES = list(PERPS)


def place(trader, account, venue, **fields) -> dict:
    symbol, _, quantity = PERPS[venue]
    body = {
        "account": account.pk,
        "symbol": symbol,
        "quantity": str(quantity),
        "price": None,
        **fields,
    }
    response = trader.post("/api/v1/orders/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "untriggered"
    return response.json()


def levels(sim, account, venue, *factors: str) -> list[str]:
    """Prices at these multiples of the venue's mark, on the instrument's tick."""
    instrument = account.exchange.instruments.get(symbol=PERPS[venue][0])
    mark = sim.call(sim.engine.mark_price, venue, instrument.venue_symbol)
    tick = instrument.tick_size
    return [format((mark * D(f) / tick).to_integral_value(ROUND_DOWN) * tick, "f") for f in factors]


def on_venue(account, made: dict):
    """The order as the venue lists it among the account's open orders."""
    order = Order.objects.select_related("instrument").get(pk=made["id"])
    client = client_for(account)
    listed = client.open_orders(venue_name(client, order.instrument))
    (found,) = [u for u in listed if u.client_order_id == order.client_order_id]
    return found


@pytest.mark.parametrize("venue", VENUES)
def test_a_stop_moves_its_trigger_and_size_in_place(sim, trader, accounts, venue):
    account = accounts[venue]
    quantity = PERPS[venue][2]
    first, second = levels(sim, account, venue, "0.8", "0.85")
    made = place(trader, account, venue, side="sell", type="stop_market", trigger_price=first)
    moved = trader.post(
        f"/api/v1/orders/{made['id']}/amend/", {"trigger_price": second}, format="json"
    )
    assert moved.status_code == 200, moved.content
    data = moved.json()
    assert (data["status"], D(data["trigger_price"]), D(data["quantity"])) == (
        "untriggered",
        D(second),
        quantity,
    )
    assert data["venue_order_id"] == made["venue_order_id"]
    venue_order = on_venue(account, made)
    assert (venue_order.trigger_price, venue_order.quantity) == (D(second), quantity)

    bigger = trader.post(
        f"/api/v1/orders/{made['id']}/amend/", {"quantity": str(2 * quantity)}, format="json"
    )
    assert bigger.status_code == 200, bigger.content
    assert (D(bigger.json()["quantity"]), D(bigger.json()["trigger_price"])) == (
        2 * quantity,
        D(second),
    )
    assert on_venue(account, made).quantity == 2 * quantity
    kinds = list(Order.objects.get(pk=made["id"]).events.values_list("kind", flat=True))
    assert kinds.count("amend_request") == 2 and kinds.count("amend") == 2
    asked = Order.objects.get(pk=made["id"]).events.filter(kind="amend_request")
    assert [e.message for e in asked.order_by("sequence")] == [
        f"amend to {figure(quantity)} at market, trigger {figure(D(second))} by tina",
        f"amend to {figure(2 * quantity)} at market, trigger {figure(D(second))} by tina",
    ]


@pytest.mark.parametrize("venue", VENUES)
def test_a_stop_limit_moves_its_limit_price(sim, trader, accounts, venue):
    account = accounts[venue]
    # Deribit: a limit price within 1.5% of the mark
    trigger, price, new_price = levels(sim, account, venue, "1.01", "1.012", "1.013")
    made = place(
        trader, account, venue, side="buy", type="stop_limit", trigger_price=trigger, price=price
    )
    moved = trader.post(f"/api/v1/orders/{made['id']}/amend/", {"price": new_price}, format="json")
    assert moved.status_code == 200, moved.content
    assert (D(moved.json()["price"]), D(moved.json()["trigger_price"])) == (
        D(new_price),
        D(trigger),
    )
    venue_order = on_venue(account, made)
    assert (venue_order.price, venue_order.trigger_price) == (D(new_price), D(trigger))


@pytest.mark.parametrize("venue", VENUES)
def test_a_trigger_the_price_has_passed_is_refused_and_changes_nothing(
    sim, trader, accounts, venue
):
    account = accounts[venue]
    below, above = levels(sim, account, venue, "0.8", "1.2")
    made = place(trader, account, venue, side="sell", type="stop_market", trigger_price=below)
    refused = trader.post(
        f"/api/v1/orders/{made['id']}/amend/", {"trigger_price": above}, format="json"
    )
    assert refused.status_code == 400, refused.content
    assert refused.json()["error"]["code"] == "invalid_order"
    row = Order.objects.get(pk=made["id"])
    assert (row.status, row.trigger_price) == ("untriggered", D(below))
    assert on_venue(account, made).trigger_price == D(below)
    assert list(row.events.values_list("kind", flat=True))[-1] == "error"


@pytest.mark.parametrize(
    ("kind", "change", "fields"),
    [
        (
            "limit",
            {"trigger_price": "80000"},
            {
                "trigger_price": [
                    "order {id} is not a stop or take profit: it has no trigger to move"
                ]
            },
        ),
        (
            "stop_market",
            {"price": "80000"},
            {"price": ["a stop_market order has no price to amend"]},
        ),
        (
            "stop_market",
            {"trigger_price": "50000.05"},
            {"trigger_price": ["must be a multiple of the tick size 0.1"]},
        ),
        ("stop_market", {"trigger_price": "-1"}, {"trigger_price": ["must be positive"]}),
    ],
)
def test_bad_amends_are_400_naming_the_field(trader, accounts, kind, change, fields):
    venue = "okx"
    account = accounts[venue]
    if kind == "limit":
        made = trader.post(
            "/api/v1/orders/",
            {
                "account": account.pk,
                "symbol": PERPS[venue][0],
                "side": "buy",
                "type": "limit",
                "quantity": "1",
                "price": "90000",
            },
            format="json",
        ).json()
    else:
        made = place(trader, account, venue, side="sell", type=kind, trigger_price="50000")
    response = trader.post(f"/api/v1/orders/{made['id']}/amend/", change, format="json")
    expected = {
        name: [text.format(id=made["id"]) for text in texts] for name, texts in fields.items()
    }
    assert_error(response, 400, "validation_error", expected)


def test_a_canceled_stop_is_not_amended(trader, accounts):
    account = accounts["deribit"]  # Deribit answers the cancel with the order's end
    made = place(trader, account, "deribit", side="sell", type="stop_market", trigger_price="50000")
    assert trader.post(f"/api/v1/orders/{made['id']}/cancel/").json()["status"] == "canceled"
    again = trader.post(
        f"/api/v1/orders/{made['id']}/amend/", {"trigger_price": "60000"}, format="json"
    )
    assert_error(again, 409, "order_not_open")


def test_an_amend_with_nothing_to_change_is_400(trader, accounts):
    made = place(
        trader, accounts["okx"], "okx", side="sell", type="stop_market", trigger_price="50000"
    )
    response = trader.post(f"/api/v1/orders/{made['id']}/amend/", {}, format="json")
    error = assert_error(response, 400, "validation_error")
    assert error["message"] == "give a new price, quantity or trigger price"


def shock(sim, venue, pct: str) -> None:
    def move() -> None:
        sim.engine.market.move("BTC", venue, D(pct))
        sim.engine.step(0)

    sim.call(move)


@pytest.mark.parametrize("venue", VENUES)
def test_a_fired_stop_limit_is_amended_as_the_order_it_placed(sim, trader, accounts, venue):
    account = accounts[venue]
    trigger, price, new_price = levels(sim, account, venue, "1.004", "1.008", "1.009")
    made = place(
        trader, account, venue, side="buy", type="stop_limit", trigger_price=trigger, price=price
    )
    shock(sim, venue, "1.5")  # fires it; its limit price is then under the market: it rests
    row = Order.objects.select_related("instrument").get(pk=made["id"])
    client = client_for(account)
    news = client.order_by_client_id(venue_name(client, row.instrument), row.client_order_id)
    ingest.apply_order_update(account, news)  # what the private stream would bring
    row.refresh_from_db()
    assert (row.status, row.triggered_at is not None) == ("new", True)

    moved = trader.post(f"/api/v1/orders/{made['id']}/amend/", {"price": new_price}, format="json")
    assert moved.status_code == 200, moved.content
    assert (moved.json()["status"], D(moved.json()["price"])) == ("new", D(new_price))
    assert on_venue(account, made).price == D(new_price)
    no_trigger = trader.post(
        f"/api/v1/orders/{made['id']}/amend/", {"trigger_price": trigger}, format="json"
    )
    assert_error(
        no_trigger,
        400,
        "validation_error",
        {"trigger_price": [f"order {made['id']} has fired: it has no trigger to move"]},
    )
