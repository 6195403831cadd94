"""`manage.py seed_demo`: demo data for `make run`, wired to the local simulator.

Creates (or brings up to date) one enabled `simulator` exchange per venue pointing at
settings.SIMULATOR_HOST / SIMULATOR_PORTS, one trading account per venue with the documented demo
keys of `exchanges.simulator.demo` (encrypted like any other), the simulator's instruments with
a market data subscription each (enabled, except options: the Deribit option books are there to
switch on, not streamed by default), a global default risk limit, and an operator superuser `admin` whose random password is printed
once, when the user is created (or with `--reset-password`). Safe to run again: nothing is
duplicated, an existing password is never changed unless asked, an existing subscription
is left as the operator set it.
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from rest_framework.authtoken.models import Token

from exchanges.choices import AccountPermission, Environment, InstrumentKind, Role, Venue
from exchanges.models import Exchange, ExchangeAccount, Instrument
from exchanges.services import (
    exchange_account_create,
    exchange_account_credentials_set,
    instruments_upsert,
)
from exchanges.simulator.demo import DEMO_ACCOUNTS
from exchanges.simulator.instruments import DEFAULT_INSTRUMENTS
from exchanges.venues.base import Endpoints
from marketdata.models import Subscription
from risk.models import RiskLimit

DEMO_ACCOUNT_LABEL = "demo"
OPERATOR_USERNAME = "admin"
GLOBAL_LIMIT_NAME = "Global default"
GLOBAL_LIMIT_DEFAULTS = {
    "max_order_notional": Decimal(1_000_000),
    "max_open_orders": 200,
    "max_daily_loss": Decimal(100_000),
    "price_band_pct": Decimal(10),
    "enabled": True,
}


def simulator_endpoints(venue: Venue | str, host: str, port: int) -> Endpoints:
    """Where the local simulator serves `venue`: the real venue paths on a local port."""
    http, ws = f"http://{host}:{port}", f"ws://{host}:{port}"
    if venue == Venue.DERIBIT:
        return Endpoints(http, f"{ws}/ws/api/v2", f"{ws}/ws/api/v2")
    if venue == Venue.OKX:
        return Endpoints(http, f"{ws}/ws/v5/public", f"{ws}/ws/v5/private")
    if venue == Venue.BYBIT:
        return Endpoints(http, f"{ws}/v5/public", f"{ws}/v5/private")
    raise ValueError(f"no simulator for venue {venue!r}")


class Command(BaseCommand):
    help = "Create the demo exchanges, accounts, instruments, risk limits and admin user."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--reset-password",
            action="store_true",
            help=f"Give the existing '{OPERATOR_USERNAME}' user a new random password and print it.",
        )

    @transaction.atomic
    def handle(self, *args, reset_password: bool = False, **options) -> None:
        for venue in Venue:
            exchange = self._exchange(venue)
            self._account(exchange)
            infos = [info for info in DEFAULT_INSTRUMENTS if info.venue == venue]
            created, updated, deactivated = instruments_upsert(exchange=exchange, infos=infos)
            self.stdout.write(
                f"instruments {exchange.slug}: {created} created, {updated} updated, "
                f"{deactivated} deactivated"
            )
            self._subscriptions(exchange)
        self._risk_limits()
        self._operator(reset_password)

    def _exchange(self, venue: Venue) -> Exchange:
        endpoints = simulator_endpoints(
            venue, settings.SIMULATOR_HOST, settings.SIMULATOR_PORTS[str(venue)]
        )
        exchange, created = Exchange.objects.get_or_create(
            slug=f"{venue}-simulator",
            defaults={
                "venue": venue,
                "environment": Environment.SIMULATOR,
                "name": f"{venue.label} simulator",
            },
        )
        exchange.rest_url = endpoints.rest_url
        exchange.public_ws_url = endpoints.public_ws_url
        exchange.private_ws_url = endpoints.private_ws_url
        exchange.enabled = True
        exchange.save()
        self.stdout.write(
            f"exchange {exchange.slug}: {'created' if created else 'exists'}, {exchange.rest_url}"
        )
        return exchange

    def _account(self, exchange: Exchange) -> ExchangeAccount:
        demo = DEMO_ACCOUNTS[Venue(exchange.venue)]
        account = ExchangeAccount.objects.filter(
            exchange=exchange, label=DEMO_ACCOUNT_LABEL
        ).first()
        if account is None:
            account = exchange_account_create(
                exchange=exchange,
                label=DEMO_ACCOUNT_LABEL,
                api_key=demo.api_key,
                secret=demo.secret,
                passphrase=demo.passphrase,
                permission=AccountPermission.TRADE,
            )
            self.stdout.write(f"account {account}: created")
        elif account.credentials() != demo:
            account = exchange_account_credentials_set(
                account=account,
                api_key=demo.api_key,
                secret=demo.secret,
                passphrase=demo.passphrase,
            )
            self.stdout.write(f"account {account}: demo credentials restored")
        else:
            self.stdout.write(f"account {account}: exists")
        return account

    def _subscriptions(self, exchange: Exchange) -> None:
        missing = Instrument.objects.filter(exchange=exchange, subscription__isnull=True)
        created = Subscription.objects.bulk_create(
            Subscription(instrument=instrument, enabled=instrument.kind != InstrumentKind.OPTION)
            for instrument in missing
        )
        enabled = Subscription.objects.filter(instrument__exchange=exchange, enabled=True).count()
        self.stdout.write(
            f"subscriptions {exchange.slug}: {len(created)} created, {enabled} enabled"
        )

    def _risk_limits(self) -> None:
        limit, created = RiskLimit.objects.get_or_create(
            name=GLOBAL_LIMIT_NAME,
            account=None,
            instrument=None,
            defaults=GLOBAL_LIMIT_DEFAULTS,
        )
        self.stdout.write(f"risk limit {limit}: {'created' if created else 'exists'}")

    def _operator(self, reset_password: bool) -> None:
        User = get_user_model()
        user = User.objects.filter(username=OPERATOR_USERNAME).first()
        if user is None:
            password = secrets.token_urlsafe(16)
            User.objects.create_superuser(OPERATOR_USERNAME, email="", password=password)
            self._print_password("created", password)
        elif reset_password:
            password = secrets.token_urlsafe(16)
            user.set_password(password)
            user.save(update_fields=["password"])
            self._print_password("password reset", password)
        else:
            self.stdout.write(
                f"user {OPERATOR_USERNAME}: exists, password unchanged "
                "(--reset-password prints a new one)"
            )
        user = User.objects.get(username=OPERATOR_USERNAME)
        user.groups.add(*Group.objects.filter(name__in=Role.values))
        token, _ = Token.objects.get_or_create(user=user)
        self.stdout.write(
            f"user {OPERATOR_USERNAME}: roles {', '.join(Role.values)}; "
            f"API token: {token.key} (Authorization: Token {token.key})"
        )

    def _print_password(self, what: str, password: str) -> None:
        self.stdout.write(
            self.style.SUCCESS(
                f"user {OPERATOR_USERNAME}: {what}; password (shown once): {password}"
            )
        )
