"""The kill switch through the API against the simulator: engaging it refuses every new order
at once and cancels every open order on all three venues, stop orders waiting for their
trigger included; releasing it is an explicit act that lets orders through again."""

from __future__ import annotations

import pytest

from exchanges.models import AccountGrant
from orders.models import Order
from orders.venue import client_for as venue_client
from risk.models import KillSwitch, RiskEvent
from tests.plugins.api import assert_error
from tests.support.trading import PERPS

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_throttles")]


def order_body(account, venue):
    symbol, price, quantity = PERPS[venue]
    return {
        "account": account.pk,
        "symbol": symbol,
        "side": "buy",
        "type": "limit",
        "quantity": str(quantity),
        "price": str(price),
    }


def test_engaging_cancels_everything_everywhere_and_refuses_new_orders(
    api, make_user, client_for, accounts
):
    trader_user = make_user("tom", "trader")
    for account in accounts.values():
        AccountGrant.objects.create(user=trader_user, account=account)
    trader = client_for(trader_user)
    for venue, account in accounts.items():
        for _ in range(2):
            made = trader.post("/api/v1/orders/", order_body(account, venue), format="json")
            assert made.status_code == 201, made.content
        stop = {
            **order_body(account, venue),
            "type": "stop_market",
            "price": None,
            "trigger_price": "150000",
            "trigger_by": "last",
        }
        made = trader.post("/api/v1/orders/", stop, format="json")
        assert (made.status_code, made.json()["status"]) == (201, "untriggered"), made.content

    engaged = api["risk_officer"].post(
        "/api/v1/kill-switch/", {"engaged": True, "reason": "runaway algo"}, format="json"
    )
    assert engaged.status_code == 201, engaged.content
    assert KillSwitch.objects.is_engaged()
    for venue, account in accounts.items():
        client = venue_client(account)
        assert client.open_orders(client.symbols.venue(PERPS[venue][0])) == []
    assert set(Order.objects.values_list("status", flat=True)) == {"canceled"}

    refused = trader.post("/api/v1/orders/", order_body(accounts["okx"], "okx"), format="json")
    error = assert_error(refused, 422, "risk_rejected")
    assert error["check"] == "kill_switch"
    assert RiskEvent.objects.filter(kind="kill_switch", severity="critical").count() == 1

    released = api["risk_officer"].post(
        "/api/v1/kill-switch/", {"engaged": False, "reason": "algo fixed"}, format="json"
    )
    assert released.status_code == 201
    assert released.json()["engaged_by"] == "risk_officer-user"
    again = trader.post("/api/v1/orders/", order_body(accounts["okx"], "okx"), format="json")
    assert again.status_code == 201
    assert again.json()["status"] == "new"


def test_a_trader_may_not_engage_or_release(api):
    response = api["trader"].post(
        "/api/v1/kill-switch/", {"engaged": True, "reason": "x"}, format="json"
    )
    assert_error(response, 403, "permission_denied")
    assert not KillSwitch.objects.exists()
