"""Database fixtures: one simulator exchange with an account and an instrument, a limit order,
and a fresh Fernet key so secret tests never depend on the developer's var/ key."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from tests.factories import (
    ExchangeAccountFactory,
    ExchangeFactory,
    InstrumentFactory,
    OrderFactory,
)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database, whose end first closes what long-lived threads of the
    session still hold open on PostgreSQL (the connectors' database thread keeps its
    connection for CONN_MAX_AGE): the database is then dropped, not left behind."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture
def secrets_key(settings) -> str:
    """A new Fernet key, made the only entry of GATEWAY_SECRETS_KEYS for the test."""
    key = Fernet.generate_key().decode()
    settings.GATEWAY_SECRETS_KEYS = [key]
    return key


@pytest.fixture
def exchange(db):
    return ExchangeFactory(venue="deribit", slug="deribit-test", name="Deribit test")


@pytest.fixture
def account(exchange, secrets_key):
    return ExchangeAccountFactory(
        exchange=exchange,
        label="main",
        api_key="TestKeyAbcdef12345",
        secret="TopSecretValue-0123456789",
    )


@pytest.fixture
def instrument(exchange):
    return InstrumentFactory(exchange=exchange, venue_symbol="BTC-PERPETUAL", symbol="BTC/USD:BTC")


@pytest.fixture
def order(account, instrument):
    return OrderFactory(account=account, instrument=instrument)


@pytest.fixture(autouse=True)
def _fresh_content_type_cache():
    """A transactional test empties every table; its flush makes content types anew with new
    ids, and a stale cache would point audit entries at rows that no longer exist."""
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()
    yield
