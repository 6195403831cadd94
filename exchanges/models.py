"""Reference data: where a venue lives, the API keys the gateway trades with, what it can trade.

Live, testnet and the local simulator of a venue are rows of `Exchange` that differ only in their
URLs (`Exchange.endpoints()`); the adapters take an `Endpoints` and `Credentials` and never read
the database.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from exchanges.choices import (
    AccountPermission,
    Environment,
    InstrumentKind,
    OptionType,
    QuantityUnit,
    Venue,
)
from exchanges.fields import EncryptedTextField
from exchanges.venues import base as venue_base
from exchanges.venues.base import Credentials, Endpoints, InstrumentInfo
from gateway_site.models_base import money_field


class Exchange(models.Model):
    """One deployment of a venue: Deribit live, OKX demo trading, the local Bybit simulator.

    `rest_url` is the host base without the API path (`https://www.okx.com`, not
    `.../api/v5`); the adapter adds the path. For Bybit `public_ws_url` is the prefix to which
    the adapter appends the category (`/spot`, `/linear`, `/inverse`, `/option`).

    Rate limits come from the venue: each adapter's `constants.RATE_LIMITS` holds the published
    per-group limits. `rate_limit_percent` is this deployment's ceiling on them (1-100: it can
    only lower them), for keys that another system uses too. Every process trading one account
    shares one budget (in Redis when `REDIS_URL` is set; `exchanges.clients`).
    """

    venue = models.CharField(max_length=16, choices=Venue.choices)
    environment = models.CharField(max_length=16, choices=Environment.choices)
    name = models.CharField(max_length=64)
    slug = models.SlugField(max_length=64, unique=True)
    rest_url = models.URLField(max_length=200)
    public_ws_url = models.CharField(max_length=200)
    private_ws_url = models.CharField(max_length=200)
    enabled = models.BooleanField(default=False)
    rate_limit_percent = models.PositiveSmallIntegerField(
        default=100,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Share of the venue's published rate limits this deployment may use (1-100).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["venue", "environment", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["venue", "environment", "name"], name="exchange_unique_venue_env_name"
            ),
            models.CheckConstraint(
                condition=models.Q(rate_limit_percent__gte=1, rate_limit_percent__lte=100),
                name="exchange_rate_limit_percent_1_100",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def endpoints(self) -> Endpoints:
        return Endpoints(
            rest_url=self.rest_url,
            public_ws_url=self.public_ws_url,
            private_ws_url=self.private_ws_url,
        )


def mask(value: str, *, keep: int = 4) -> str:
    """What an operator may see of a credential: its last `keep` characters, or "set"."""
    if not value:
        return ""
    if len(value) <= keep * 3:
        return "set"
    return "••••" + value[-keep:]


class ExchangeAccount(models.Model):
    """An API key on one `Exchange`. Key, secret and passphrase are encrypted at rest.

    `credentials()` hands the clear values to a venue adapter; nothing else should read them.
    `__str__`/`__repr__` and the admin show only the label and a masked key.
    """

    exchange = models.ForeignKey(Exchange, on_delete=models.PROTECT, related_name="accounts")
    label = models.CharField(max_length=64)
    api_key = EncryptedTextField()
    secret = EncryptedTextField()
    passphrase = EncryptedTextField(
        blank=True, default="", help_text="OKX only: the passphrase chosen with the API key."
    )
    permission = models.CharField(
        max_length=8, choices=AccountPermission.choices, default=AccountPermission.READ
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["exchange", "label"]
        constraints = [
            models.UniqueConstraint(
                fields=["exchange", "label"], name="exchangeaccount_unique_exchange_label"
            ),
        ]
        permissions = [
            ("view_all_accounts", "Can see every account, not only the accounts granted"),
        ]

    def __str__(self) -> str:
        exchange = self.exchange.slug if self.exchange_id else "?"
        return f"{exchange}/{self.label}"

    def __repr__(self) -> str:
        return f"<ExchangeAccount {self.pk}: {self} key={self.api_key_hint}>"

    @property
    def api_key_hint(self) -> str:
        return mask(self.api_key)

    @property
    def can_trade(self) -> bool:
        return self.permission == AccountPermission.TRADE

    def credentials(self) -> Credentials:
        return Credentials(api_key=self.api_key, secret=self.secret, passphrase=self.passphrase)


class AccountGrant(models.Model):
    """A user may see and trade `account`. Users without the `view_all_accounts` permission
    (traders) see only the accounts granted to them; granting is an admin's job."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_grants"
    )
    account = models.ForeignKey(ExchangeAccount, on_delete=models.CASCADE, related_name="grants")
    granted_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user", "account"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "account"], name="accountgrant_unique_user_account"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.account}"


class Instrument(models.Model):
    """A tradable instrument of one exchange, as `instruments_upsert` last stored it.

    `symbol` is the unified CCXT-style symbol (`BTC/USDT:USDT`), unique per exchange: it is the
    key the adapters' events carry. `venue_symbol` is the venue's own (`BTC-USDT-SWAP`) and is
    not unique: Bybit names spot and linear instruments alike (`BTCUSDT` in categories `spot`
    and `linear`). Sizes are in the venue's order quantity unit, which `quantity_unit` names
    (base currency, contracts of `contract_size`, or USD; `exchanges.venues.quantities` converts
    them); `info()` is the row as the adapters' `InstrumentInfo`. An instrument the venue stops listing is kept with
    `active=False`, because orders and fills point at it.
    """

    exchange = models.ForeignKey(Exchange, on_delete=models.PROTECT, related_name="instruments")
    venue_symbol = models.CharField(max_length=64)
    symbol = models.CharField(max_length=64)
    kind = models.CharField(max_length=16, choices=InstrumentKind.choices)
    base = models.CharField(max_length=16)
    quote = models.CharField(max_length=16)
    settle = models.CharField(max_length=16)
    linear = models.BooleanField()
    contract_size = money_field()
    tick_size = money_field()
    lot_size = money_field()
    min_size = money_field()
    min_notional = money_field(
        null=True, blank=True
    )  # smallest order value, where the venue has one
    quantity_unit = models.CharField(
        max_length=12,
        choices=QuantityUnit.choices,
        help_text="What an order quantity counts (exchanges.venues.quantities)",
    )
    expiry = models.DateTimeField(null=True, blank=True)
    strike = money_field(null=True, blank=True)
    option_type = models.CharField(max_length=8, choices=OptionType.choices, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["exchange", "symbol"]
        constraints = [
            models.UniqueConstraint(
                fields=["exchange", "symbol"], name="instrument_unique_exchange_symbol"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    contract_size__gt=0, tick_size__gt=0, lot_size__gt=0, min_size__gt=0
                ),
                name="instrument_sizes_positive",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=InstrumentKind.OPTION)
                | (
                    models.Q(strike__isnull=False, expiry__isnull=False) & ~models.Q(option_type="")
                ),
                name="instrument_option_has_strike_expiry_type",
            ),
        ]
        indexes = [
            models.Index(fields=["exchange", "venue_symbol"], name="instrument_exchange_venue_sym")
        ]

    def __str__(self) -> str:
        return f"{self.symbol} ({self.venue_symbol})"

    @property
    def inverse(self) -> bool:
        return not self.linear and self.kind != InstrumentKind.SPOT

    def info(self) -> InstrumentInfo:
        """The row as the adapters' `InstrumentInfo` (what the quantity and book functions
        take)."""
        return InstrumentInfo(
            venue=venue_base.Venue(self.exchange.venue),
            venue_symbol=self.venue_symbol,
            symbol=self.symbol,
            kind=venue_base.InstrumentKind(self.kind),
            base=self.base,
            quote=self.quote,
            settle=self.settle,
            linear=self.linear,
            contract_size=self.contract_size,
            tick_size=self.tick_size,
            lot_size=self.lot_size,
            min_size=self.min_size,
            expiry_ts=int(self.expiry.timestamp()) * 1_000_000_000 if self.expiry else None,
            strike=self.strike,
            option_type=venue_base.OptionType(self.option_type) if self.option_type else None,
            active=self.active,
            min_notional=self.min_notional,
        )
