"""Choices of the exchanges app, and the bridge from the venue enums to Django choices.

The venue vocabulary (`Venue`, `OrderStatus`, ...) is defined once, as `StrEnum`s in
`exchanges/venues/base.py`, which must not import Django. `text_choices` builds a Django
`TextChoices` from such an enum, member for member, so the database, admin and API use exactly the
values the adapters emit: a `TextChoices` member equals (and hashes like) the enum member of the
same value. Choices that exist only in the database (an account's permission) are plain
`TextChoices` here.

Stream kinds and states are the connectors' vocabulary (`marketdata.ConnectorStatus`); they live
here beside the venue enums they come from.
"""

from __future__ import annotations

import enum

from django.db import models

from exchanges.venues import base


def text_choices(
    enum_cls: type[enum.StrEnum], labels: dict[str, str] | None = None
) -> type[models.TextChoices]:
    """A `TextChoices` with the members, names and values of `enum_cls`.

    Labels default to the capitalized value with spaces (`pending_new` -> "Pending new");
    `labels` overrides some of them by value.
    """
    labels = labels or {}
    members = [
        (member.name, (member.value, labels.get(member.value, _label(member.value))))
        for member in enum_cls
    ]
    return models.TextChoices(enum_cls.__name__, members)


def _label(value: str) -> str:
    return value.replace("_", " ").capitalize()


Venue = text_choices(base.Venue, {"okx": "OKX"})
Environment = text_choices(base.Environment)
InstrumentKind = text_choices(base.InstrumentKind)
OptionType = text_choices(base.OptionType)
StreamKind = text_choices(base.StreamKind)
StreamState = text_choices(base.StreamState)
QuantityUnit = text_choices(
    base.QuantityUnit,
    {"base": "Base currency", "contracts": "Contracts", "quote": "Quote currency (USD)"},
)


class AccountPermission(models.TextChoices):
    """What an API key may do. A trade key also reads; a read key never sends an order."""

    READ = "read", "Read only"
    TRADE = "trade", "Read and trade"


class Role(models.TextChoices):
    """The API's roles, one Django group each (created by a data migration with their model
    permissions): what a user may do is the union of their groups' permissions."""

    VIEWER = "viewer", "Viewer: reads everything but secrets"
    TRADER = "trader", "Trader: trades the accounts granted to them"
    RISK_OFFICER = "risk_officer", "Risk officer: limits and the kill switch"
    ADMIN = "admin", "Admin: exchanges, accounts and keys, users and grants"
