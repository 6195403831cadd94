"""Writes to the exchanges app: instrument sync, account creation, secret key rotation.

Keyword-only arguments, one transaction per call (STYLE.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from exchanges.choices import AccountPermission, Venue
from exchanges.models import AccountGrant, Exchange, ExchangeAccount, Instrument
from exchanges.venues import quantities
from exchanges.venues.base import InstrumentInfo

INSTRUMENT_FIELDS = (
    "venue_symbol",
    "kind",
    "base",
    "quote",
    "settle",
    "linear",
    "contract_size",
    "tick_size",
    "lot_size",
    "min_size",
    "min_notional",
    "quantity_unit",
    "expiry",
    "strike",
    "option_type",
    "active",
)


def _instrument_values(info: InstrumentInfo) -> dict[str, Any]:
    expiry = None
    if info.expiry_ts is not None:
        seconds, nanos = divmod(info.expiry_ts, 1_000_000_000)
        expiry = datetime.fromtimestamp(seconds, tz=UTC).replace(microsecond=nanos // 1000)
    return {
        "venue_symbol": info.venue_symbol,
        "kind": str(info.kind),
        "base": info.base,
        "quote": info.quote,
        "settle": info.settle,
        "linear": info.linear,
        "contract_size": info.contract_size,
        "tick_size": info.tick_size,
        "lot_size": info.lot_size,
        "min_size": info.min_size,
        "min_notional": info.min_notional,
        "quantity_unit": str(quantities.quantity_unit(info)),
        "expiry": expiry,
        "strike": info.strike,
        "option_type": str(info.option_type) if info.option_type is not None else "",
        "active": info.active,
    }


@transaction.atomic
def instruments_upsert(
    *, exchange: Exchange, infos: Iterable[InstrumentInfo]
) -> tuple[int, int, int]:
    """Store the instruments `exchange` lists now: create new ones, update changed ones, and
    mark inactive every instrument of the exchange no longer listed (rows are kept: orders and
    fills point at them). Instruments are matched by unified symbol, the one name unique per
    exchange (Bybit's `BTCUSDT` is both a spot pair and a perpetual). Returns (created,
    updated, deactivated); an instrument listed again after being dropped counts as updated."""
    listed: dict[str, dict[str, Any]] = {}
    for info in infos:
        if info.venue != exchange.venue:
            raise ValueError(
                f"instrument {info.venue_symbol} is from {info.venue}, exchange {exchange.slug} "
                f"is {exchange.venue}"
            )
        listed[info.symbol] = _instrument_values(info)

    existing = {
        instrument.symbol: instrument
        for instrument in Instrument.objects.select_for_update().filter(exchange=exchange)
    }
    now = timezone.now()
    to_create: list[Instrument] = []
    to_update: list[Instrument] = []
    for symbol, values in listed.items():
        instrument = existing.get(symbol)
        if instrument is None:
            to_create.append(Instrument(exchange=exchange, symbol=symbol, **values))
            continue
        changed = False
        for name, value in values.items():
            if getattr(instrument, name) != value:
                setattr(instrument, name, value)
                changed = True
        if changed:
            instrument.updated_at = now
            to_update.append(instrument)

    Instrument.objects.bulk_create(to_create, batch_size=500)
    Instrument.objects.bulk_update(to_update, [*INSTRUMENT_FIELDS, "updated_at"], batch_size=500)
    deactivated = (
        Instrument.objects.filter(exchange=exchange, active=True)
        .exclude(symbol__in=list(listed))
        .update(active=False, updated_at=now)
    )
    return len(to_create), len(to_update), deactivated


def exchange_account_credentials_validate(
    *, exchange: Exchange, api_key: str, secret: str, passphrase: str
) -> None:
    """Raise `ValidationError` (by field) unless key and secret are given, and the passphrase
    for OKX, whose keys are created with one."""
    errors = {}
    if not api_key:
        errors["api_key"] = "An API key is required."
    if not secret:
        errors["secret"] = "A secret is required."
    if exchange.venue == Venue.OKX and not passphrase:
        errors["passphrase"] = "OKX API keys have a passphrase; it is required."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def exchange_account_create(
    *,
    exchange: Exchange,
    label: str,
    api_key: str,
    secret: str,
    passphrase: str = "",
    permission: AccountPermission | str = AccountPermission.READ,
    enabled: bool = True,
) -> ExchangeAccount:
    """Store an API key of `exchange`, encrypted. OKX keys need their passphrase."""
    exchange_account_credentials_validate(
        exchange=exchange, api_key=api_key, secret=secret, passphrase=passphrase
    )
    account = ExchangeAccount(
        exchange=exchange,
        label=label,
        api_key=api_key,
        secret=secret,
        passphrase=passphrase,
        permission=permission,
        enabled=enabled,
    )
    account.full_clean()
    account.save()
    return account


@transaction.atomic
def exchange_account_credentials_set(
    *,
    account: ExchangeAccount,
    api_key: str | None = None,
    secret: str | None = None,
    passphrase: str | None = None,
) -> ExchangeAccount:
    """Replace some of an account's credentials; None keeps the stored value."""
    account = (
        ExchangeAccount.objects.select_for_update().select_related("exchange").get(pk=account.pk)
    )
    new_key = account.api_key if api_key is None else api_key
    new_secret = account.secret if secret is None else secret
    new_passphrase = account.passphrase if passphrase is None else passphrase
    exchange_account_credentials_validate(
        exchange=account.exchange, api_key=new_key, secret=new_secret, passphrase=new_passphrase
    )
    account.api_key, account.secret, account.passphrase = new_key, new_secret, new_passphrase
    account.save(update_fields=["api_key", "secret", "passphrase", "updated_at"])
    return account


@transaction.atomic
def exchange_account_secrets_rotate() -> int:
    """Re-encrypt every account's credentials under the first key of GATEWAY_SECRETS_KEYS.

    Rotation: put a new key first in GATEWAY_SECRETS_KEYS (keep the old ones after it), call
    this, then the old keys may be removed. Returns how many accounts were re-encrypted.
    """
    count = 0
    for account in ExchangeAccount.objects.select_for_update().order_by("pk"):
        account.save(update_fields=["api_key", "secret", "passphrase"])
        count += 1
    return count


def instruments_sync(*, exchange: Exchange) -> tuple[int, int, int]:
    """Ask the venue for every instrument it lists now and store them (`instruments_upsert`).

    The venue call happens outside the transaction: a slow venue does not hold database locks.
    Raises the adapter's `VenueError` when the venue cannot be asked.
    """
    from exchanges.clients import rest_client

    client = rest_client(exchange=exchange)
    try:
        infos = client.instruments()
    finally:
        client.close()
    return instruments_upsert(exchange=exchange, infos=infos)


def exchange_account_check(*, account: ExchangeAccount) -> int:
    """Check `account`'s keys against its venue with a signed read; returns how many balances
    the venue answered. Raises the adapter's `VenueError` when the venue says no."""
    from exchanges.clients import rest_client

    client = rest_client(exchange=account.exchange, account=account)
    try:
        return len(client.balances())
    finally:
        client.close()


def _unique_slug(name: str, *, exclude_pk: int | None = None) -> str:
    base = slugify(name)[:56] or "exchange"
    slug, number = base, 1
    taken = Exchange.objects.exclude(pk=exclude_pk)
    while taken.filter(slug=slug).exists():
        number += 1
        slug = f"{base}-{number}"
    return slug


@transaction.atomic
def exchange_create(*, venue: Venue | str, environment: str, name: str, **fields: Any) -> Exchange:
    """A new deployment of `venue`; its slug is made from `name` (unique)."""
    exchange = Exchange(venue=venue, environment=environment, name=name, **fields)
    exchange.slug = _unique_slug(name)
    exchange.full_clean()
    exchange.save()
    return exchange


@transaction.atomic
def exchange_update(*, exchange: Exchange, **fields: Any) -> Exchange:
    """Change some fields of `exchange`; its venue never changes (its accounts and instruments
    belong to that venue)."""
    if "venue" in fields and fields["venue"] != exchange.venue:
        raise ValidationError({"venue": "The venue of an exchange cannot change."})
    for name, value in fields.items():
        setattr(exchange, name, value)
    exchange.full_clean()
    exchange.save()
    return exchange


@transaction.atomic
def exchange_account_update(
    *,
    account: ExchangeAccount,
    api_key: str | None = None,
    secret: str | None = None,
    passphrase: str | None = None,
    **fields: Any,
) -> ExchangeAccount:
    """Change an account's label, permission or enabled flag, and any credential given."""
    if api_key is not None or secret is not None or passphrase is not None:
        account = exchange_account_credentials_set(
            account=account, api_key=api_key, secret=secret, passphrase=passphrase
        )
    if fields:
        for name, value in fields.items():
            setattr(account, name, value)
        account.full_clean()
        account.save(update_fields=[*fields, "updated_at"])
    return account


@transaction.atomic
def account_grant_create(*, user, account: ExchangeAccount, granted_by: str = "") -> AccountGrant:
    """Let `user` see and trade `account` (idempotent)."""
    grant, _ = AccountGrant.objects.get_or_create(
        user=user, account=account, defaults={"granted_by": granted_by}
    )
    return grant
