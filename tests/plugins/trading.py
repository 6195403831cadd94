"""Trading fixtures: `accounts`, one trading account per venue with the simulator's demo keys,
on exchanges pointing at the test's simulator (`sim`), with the simulator's instruments, and
`trader`, an API client of a trader granted all of them. The order path's per-thread venue
clients are closed after each test."""

from __future__ import annotations

import pytest

from exchanges.models import AccountGrant, ExchangeAccount
from exchanges.services import exchange_account_create
from exchanges.venues.base import Venue
from orders.venue import forget_clients
from tests.integration.marketdata.conftest import make_exchanges


@pytest.fixture
def accounts(sim) -> dict[Venue, ExchangeAccount]:
    exchanges = make_exchanges(sim)
    made = {}
    for venue, exchange in exchanges.items():
        credentials = sim.credentials[venue]
        made[venue] = exchange_account_create(
            exchange=exchange,
            label="desk",
            api_key=credentials.api_key,
            secret=credentials.secret,
            passphrase=credentials.passphrase,
            permission="trade",
        )
    yield made
    forget_clients()


@pytest.fixture
def trader(make_user, client_for, accounts):
    """The API client of trader "tina", granted every account of `accounts`."""
    user = make_user("tina", "trader")
    for account in accounts.values():
        AccountGrant.objects.create(user=user, account=account)
    return client_for(user)
