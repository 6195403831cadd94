"""Venue clients built from `Exchange` rows: the venue's limits lowered by the row's ceiling,
one budget per exchange and account, and the account's own credentials."""

import uuid

import pytest

from exchanges.clients import rate_limit_scope, rate_limiter, rest_client
from exchanges.venues.ratelimit import Limit
from tests.factories import ExchangeAccountFactory, ExchangeFactory

pytestmark = pytest.mark.django_db


def exchange_row(venue: str, **fields):
    return ExchangeFactory(venue=venue, slug=f"{venue}-{uuid.uuid4().hex[:12]}", **fields)


@pytest.mark.parametrize(
    ("venue", "group", "published"),
    [
        ("okx", "place", Limit(rate=30, burst=60)),
        ("bybit", "order_create", Limit(rate=10, burst=10)),
        ("deribit", "matching_engine", Limit(rate=5, burst=20)),
    ],
)
def test_the_row_lowers_the_venues_published_limits(venue, group, published):
    full = rest_client(exchange=exchange_row(venue))
    half = rest_client(exchange=exchange_row(venue, rate_limit_percent=50))
    assert full.limiter.bucket(group).limit == published
    assert half.limiter.bucket(group).limit == published.lowered(50)
    full.close()
    half.close()


def test_clients_of_one_account_share_one_budget(secrets_key):
    exchange = exchange_row("okx", rate_limit_percent=1)  # cancel_all_after: 1 per second
    account = ExchangeAccountFactory(exchange=exchange, passphrase="pass-phrase-1")
    other = ExchangeAccountFactory(exchange=exchange, passphrase="pass-phrase-2")
    first = rest_client(exchange=exchange, account=account)
    second = rest_client(exchange=exchange, account=account)
    third = rest_client(exchange=exchange, account=other)
    assert first.limiter.bucket("cancel_all_after").try_acquire() is True
    assert second.limiter.bucket("cancel_all_after").try_acquire() is False
    assert third.limiter.bucket("cancel_all_after").try_acquire() is True
    assert first.credentials == account.credentials()
    assert third.credentials == other.credentials()


def test_scope_names_exchange_and_account(secrets_key):
    exchange = exchange_row("bybit")
    account = ExchangeAccountFactory(exchange=exchange)
    assert rate_limit_scope(exchange=exchange) == f"bybit:{exchange.slug}:public"
    assert rate_limit_scope(exchange=exchange, account=account) == (
        f"bybit:{exchange.slug}:account-{account.pk}"
    )
    assert rate_limiter(exchange=exchange, account=account).scope == (
        f"bybit:{exchange.slug}:account-{account.pk}"
    )


def test_budgets_are_counted_where_the_settings_say(settings):
    settings.RATE_LIMIT_STORAGE_URL = "memory://"
    limiter = rate_limiter(exchange=exchange_row("deribit"))
    assert type(limiter.strategy.storage).__name__ == "MemoryStorage"


def test_an_account_of_another_exchange_is_refused(secrets_key):
    account = ExchangeAccountFactory(exchange=exchange_row("okx"), passphrase="p")
    with pytest.raises(ValueError, match="belongs to another exchange"):
        rest_client(exchange=exchange_row("okx"), account=account)
