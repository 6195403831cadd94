"""Endpoints that call a venue, against the simulator over real sockets: checking an account's
keys and loading instruments. Venue errors come back in the error format with the venue's code."""

import pytest

from exchanges.venues.base import Venue
from tests.factories import ExchangeAccountFactory, ExchangeFactory
from tests.plugins.api import assert_error

pytestmark = pytest.mark.django_db


def simulator_exchange(sim, venue: Venue):
    urls = sim.urls[venue]
    return ExchangeFactory(
        venue=venue.value,
        slug=f"{venue}-sim-api",
        rest_url=urls["rest"],
        public_ws_url=urls["ws_public"],
        private_ws_url=urls["ws_private"],
    )


def simulator_account(sim, exchange, venue: Venue, **override):
    demo = sim.credentials[venue]
    values = {"api_key": demo.api_key, "secret": demo.secret, "passphrase": demo.passphrase}
    return ExchangeAccountFactory(exchange=exchange, **{**values, **override})


@pytest.mark.parametrize("venue", list(Venue))
def test_account_keys_check_out_with_a_signed_read(api, sim_module, secrets_key, venue):
    exchange = simulator_exchange(sim_module, venue)
    account = simulator_account(sim_module, exchange, venue)
    response = api["admin"].post(f"/api/v1/accounts/{account.pk}/test/")
    assert response.status_code == 200, response.content
    assert response.json()["ok"] is True
    assert response.json()["balances"] >= 1


@pytest.mark.parametrize(
    ("venue", "venue_code"),
    [(Venue.OKX, "50113"), (Venue.BYBIT, "10004"), (Venue.DERIBIT, "13009")],
)
def test_wrong_keys_answer_the_venues_error(api, sim_module, secrets_key, venue, venue_code):
    exchange = simulator_exchange(sim_module, venue)
    account = simulator_account(sim_module, exchange, venue, secret="not-the-secret-0000000000")
    response = api["admin"].post(f"/api/v1/accounts/{account.pk}/test/")
    error = assert_error(response, 502, "venue_authentication_failed")
    assert (error["venue"], error["venue_code"]) == (venue.value, venue_code)


@pytest.mark.parametrize("role", ["viewer", "trader", "risk_officer"])
def test_only_admins_check_keys(api, sim_module, secrets_key, role):
    exchange = simulator_exchange(sim_module, Venue.OKX)
    account = simulator_account(sim_module, exchange, Venue.OKX)
    response = api[role].post(f"/api/v1/accounts/{account.pk}/test/")
    assert_error(response, 403, "permission_denied")


@pytest.mark.parametrize("venue", list(Venue))
def test_sync_instruments_says_what_changed(api, sim_module, venue):
    from exchanges.simulator.instruments import DEFAULT_INSTRUMENTS

    exchange = simulator_exchange(sim_module, venue)
    listed = sum(1 for info in DEFAULT_INSTRUMENTS if info.venue is venue)
    first = api["admin"].post(f"/api/v1/exchanges/{exchange.pk}/sync_instruments/")
    assert first.status_code == 200, first.content
    assert first.json() == {"created": listed, "updated": 0, "deactivated": 0}
    again = api["admin"].post(f"/api/v1/exchanges/{exchange.pk}/sync_instruments/")
    assert again.json() == {"created": 0, "updated": 0, "deactivated": 0}
    rows = api["viewer"].get(f"/api/v1/instruments/?exchange={exchange.pk}&page_size=1000")
    assert len(rows.json()["results"]) == listed


def test_an_unreachable_venue_is_503(api):
    exchange = ExchangeFactory(venue="okx", slug="okx-down", rest_url="http://127.0.0.1:9")
    error = assert_error(
        api["admin"].post(f"/api/v1/exchanges/{exchange.pk}/sync_instruments/"),
        504,
        "venue_timeout",
    )
    assert error["venue"] == "okx"
