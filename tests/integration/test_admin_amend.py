"""Admin's "Amend" page of an order, against the OKX simulator: an operator moves a waiting
stop's trigger and a resting order's price on the venue; a bad figure is shown on its field
and nothing is sent; a risk refusal is a message; a closed order has no "Amend" link and its
page says why; a user without order entry rights may not open it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from exchanges.venues.base import Venue
from orders import services
from orders.models import Order
from orders.venue import client_for, venue_name
from risk.models import RiskLimit

pytestmark = pytest.mark.django_db

D = Decimal
SYMBOL = "BTC/USDT:USDT"


@pytest.fixture
def okx(accounts):
    return accounts[Venue.OKX]


def submit(account, **fields) -> Order:
    order = {
        "account": account,
        "symbol": SYMBOL,
        "side": "buy",
        "order_type": "limit",
        "quantity": D("1"),
        "price": D("90000"),
        "actor": "ops",
        **fields,
    }
    return services.submit_order(**order).order


def on_venue(account, order: Order):
    client = client_for(account)
    return client.order_by_client_id(venue_name(client, order.instrument), order.client_order_id)


def page(order: Order) -> str:
    return reverse("admin:orders_order_amend", args=[order.pk])


def test_an_operator_moves_a_stop_and_a_price_on_the_venue(admin_client, okx):
    stop = submit(okx, side="sell", order_type="stop_market", price=None, trigger_price=D("50000"))
    change = admin_client.get(reverse("admin:orders_order_change", args=[stop.pk]))
    assert page(stop) in change.content.decode()  # the "Amend" link
    form = admin_client.get(page(stop))
    assert form.status_code == 200
    assert "sell 1 BTC/USDT:USDT stop_market, trigger 50000 (mark)" in form.content.decode()

    moved = admin_client.post(page(stop), {"trigger_price": "55000"})
    assert moved.status_code == 302
    assert moved["Location"] == reverse("admin:orders_order_change", args=[stop.pk])
    stop.refresh_from_db()
    assert (stop.status, stop.trigger_price) == ("untriggered", D("55000"))
    assert on_venue(okx, stop).trigger_price == D("55000")
    assert list(stop.events.values_list("kind", flat=True))[-1] == "amend"
    assert stop.events.get(kind="amend_request").message.endswith("by admin")

    resting = submit(okx)
    assert admin_client.post(page(resting), {"price": "89990"}).status_code == 302
    assert on_venue(okx, resting).price == D("89990")


def test_a_bad_figure_is_shown_on_its_field_and_nothing_is_sent(admin_client, okx):
    stop = submit(okx, side="sell", order_type="stop_market", price=None, trigger_price=D("50000"))
    answer = admin_client.post(page(stop), {"price": "49000"})
    assert answer.status_code == 200
    assert answer.context["form"].errors == {"price": ["a stop_market order has no price to amend"]}
    empty = admin_client.post(page(stop), {})
    assert empty.context["form"].non_field_errors() == [
        "give a new price, quantity or trigger price"
    ]
    assert not stop.events.filter(kind="amend_request").exists()


def test_a_risk_refusal_is_a_message(admin_client, okx):
    resting = submit(okx)
    RiskLimit.objects.create(
        name="one lot", instrument=resting.instrument, max_order_quantity=D("1")
    )
    answer = admin_client.post(page(resting), {"quantity": "2"}, follow=True)
    text = [str(m) for m in answer.context["messages"]]
    assert text == [f"Refused by order_quantity: quantity 2 is above the limit of 1 for {SYMBOL}"]
    assert on_venue(okx, resting).quantity == D("1")


def test_a_closed_order_has_no_amend_and_a_viewer_may_not_amend(admin_client, client, okx):
    stop = submit(okx, side="sell", order_type="stop_market", price=None, trigger_price=D("50000"))
    services.cancel_order(stop, actor="ops")  # OKX: pending_cancel until the push; Deribit ends it
    Order.objects.filter(pk=stop.pk).update(status="canceled")
    change = admin_client.get(reverse("admin:orders_order_change", args=[stop.pk]))
    assert page(stop) not in change.content.decode()
    answer = admin_client.post(page(stop), {"trigger_price": "55000"}, follow=True)
    assert [str(m) for m in answer.context["messages"]] == [
        f"Not amended: order {stop.pk} is canceled: only an open order is amended"
    ]
    viewer = User.objects.create_user("vera", password="pw-not-used-123", is_staff=True)
    viewer.groups.add(Group.objects.get(name="viewer"))
    client.force_login(viewer)
    assert client.get(page(stop)).status_code == 403
