"""Operators cancel from the order admin: the actions call `orders.services` like the API."""

from __future__ import annotations

import pytest

from orders import services
from orders.models import Order
from orders.venue import client_for
from tests.support.trading import PERPS

pytestmark = pytest.mark.django_db


def place(account, venue):
    symbol, price, quantity = PERPS[venue]
    return services.submit_order(
        account=account,
        symbol=symbol,
        side="buy",
        order_type="limit",
        quantity=quantity,
        price=price,
        actor="alice",
    ).order


def test_cancel_selected_and_cancel_all_of_their_accounts(admin_client, accounts):
    deribit, okx = accounts["deribit"], accounts["okx"]
    first, second = place(deribit, "deribit"), place(deribit, "deribit")
    others = [place(okx, "okx") for _ in range(2)]
    response = admin_client.post(
        "/admin/orders/order/",
        {"action": "cancel_selected", "_selected_action": [first.pk]},
        follow=True,
    )
    assert "Cancel sent for 1 order(s)." in response.content.decode()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("canceled", "new")
    response = admin_client.post(
        "/admin/orders/order/",
        {"action": "cancel_all_of_accounts", "_selected_action": [others[0].pk]},
        follow=True,
    )
    assert "canceled on the venue, none still open" in response.content.decode()
    client = client_for(okx)
    assert client.open_orders(client.symbols.venue(PERPS["okx"][0])) == []
    assert set(Order.objects.filter(account=okx).values_list("status", flat=True)) == {"canceled"}
    second.refresh_from_db()
    assert second.status == "new"  # another account: untouched


def test_a_viewer_sees_no_cancel_action(client, make_user):
    viewer = make_user("vera", "viewer")
    viewer.is_staff = True
    viewer.save()
    client.force_login(viewer)
    response = client.get("/admin/orders/order/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Select order to view" in page  # the list itself is there
    assert "cancel_selected" not in page
