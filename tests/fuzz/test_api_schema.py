"""Schemathesis over the API's own OpenAPI schema, against a live server with an admin's token:
for every operation, generated valid and invalid requests never get a 5xx, and every answer
(status, content type, headers, body) is one the schema describes.

The operations that call a venue (`sync_instruments`, an account's `test`, order entry, amend,
cancel, cancel-all, a position's protection orders, and engaging the kill switch, which
cancels on the venues) are left out: a
fuzzed exchange row points anywhere, and a test never reaches past 127.0.0.1. They are tested
against the simulator in tests/integration/api/ (test_venue_calls.py, test_orders.py) and
tests/integration/orders/.
"""

from __future__ import annotations

import importlib

import pytest
import schemathesis
from django.apps import apps as django_apps
from django.contrib.auth.models import Group, User
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token

from tests.factories import ExchangeAccountFactory, ExchangeFactory, InstrumentFactory

GENERATED = SchemaGenerator().get_schema(request=None, public=True)
schema = (
    schemathesis.openapi.from_dict(GENERATED)
    .exclude(path_regex=r"/(sync_instruments|test|amend|cancel|cancel_all)/$")
    .exclude(method="POST", path_regex=r"/api/v1/(orders|kill-switch)/$")
    .exclude(method="POST", path_regex=r"/api/v1/positions/[^/]+/protection/$")
)


@pytest.fixture
def admin_token(transactional_db, django_settings, secrets_key) -> str:
    # A transactional test empties the tables after itself, groups of the roles migration too.
    importlib.import_module("exchanges.migrations.0006_roles").create_roles(django_apps, None)
    importlib.import_module("marketdata.migrations.0007_subscription_roles").grant_subscriptions(
        django_apps, None
    )
    user = User.objects.create_user("fuzzer", password="fuzz-pw-0001")
    for role in ("admin", "risk_officer"):
        user.groups.add(Group.objects.get(name=role))
    account = ExchangeAccountFactory(exchange=ExchangeFactory(venue="okx", slug="okx-fuzz"))
    InstrumentFactory(exchange=account.exchange)
    return Token.objects.create(user=user).key


@pytest.fixture
def django_settings(settings):
    settings.API_THROTTLE_RATES = {"user": "100000/min", "anon": "100000/min", "orders": "1/s"}
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return settings


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_conforms_to_its_schema(case, live_server, admin_token, fresh_throttles):
    case.call_and_validate(
        base_url=live_server.url,
        headers={"Authorization": f"Token {admin_token}"},
        # A request can be schema-valid and still name an object that does not exist or repeat
        # a unique name: the schema cannot say so, and those answers are 400/404 by design.
        excluded_checks=[schemathesis.checks.positive_data_acceptance],
    )
