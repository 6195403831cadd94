"""Venue REST clients for `Exchange` rows: the one place the apps build one.

A client gets the account's credentials (when given) and a request budget over the venue's
published limits, lowered to the row's `rate_limit_percent`. The budget's scope is the exchange
and the account, counted in `settings.RATE_LIMIT_STORAGE_URL`: with Redis, every process that
trades one account (web, workers, connectors) shares it, so together they stay under the venue's
limit; calls without an account share the exchange's public budget.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from exchanges.models import Exchange, ExchangeAccount
from exchanges.venues.protocols import RestClient
from exchanges.venues.ratelimit import RateLimiter
from exchanges.venues.registry import get_adapter


def rate_limit_scope(*, exchange: Exchange, account: ExchangeAccount | None = None) -> str:
    who = f"account-{account.pk}" if account is not None else "public"
    return f"{exchange.venue}:{exchange.slug}:{who}"


def rate_limiter(*, exchange: Exchange, account: ExchangeAccount | None = None) -> RateLimiter:
    return get_adapter(exchange.venue).limiter(
        scope=rate_limit_scope(exchange=exchange, account=account),
        storage_url=settings.RATE_LIMIT_STORAGE_URL,
        percent=exchange.rate_limit_percent,
    )


def rest_client(
    *, exchange: Exchange, account: ExchangeAccount | None = None, **options: Any
) -> RestClient:
    """The venue client of `exchange`, signed with `account`'s keys when one is given."""
    if account is not None and account.exchange_id != exchange.pk:
        raise ValueError(f"account {account} belongs to another exchange than {exchange.slug}")
    credentials = account.credentials() if account is not None else None
    return get_adapter(exchange.venue).rest_client(
        exchange.endpoints(),
        credentials,
        limiter=rate_limiter(exchange=exchange, account=account),
        **options,
    )
