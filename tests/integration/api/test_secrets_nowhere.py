"""Secrets go in through the API and never come out: not in any API answer, error, admin page,
audit entry, log line or database row (only ciphertext is stored)."""

import io
import logging

import pytest
from django.core.management import call_command
from django.db import connection

from tests.plugins.api import assert_error

pytestmark = pytest.mark.django_db

VENUES = {
    "okx": ("OkxKey-7f3a9c1e55d2", "OkxSecret-Zq81nB5xw0Lp", "OkxPass-Hh72kkd0Qe"),
    "bybit": ("BybitKey-ab91cc03de77", "BybitSecret-Mx0Pq7Rt2Vs9", ""),
    "deribit": ("DeribitKey-5d1e2f3a4b", "DeribitSecret-Wn4Ck8Ly6Tg1", ""),
}
SECRETS = [s for _, secret, phrase in VENUES.values() for s in (secret, phrase) if s]
KEYS = [key for key, _, _ in VENUES.values()]


def assert_clean(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"a secret shows in {where}"
    for key in KEYS:
        assert key not in text, f"a whole API key shows in {where}"


def test_no_secret_leaves_the_server(api, admin_client, secrets_key, caplog):
    caplog.set_level(logging.DEBUG)
    admin = api["admin"]
    seen: list[tuple[str, str]] = []

    def record(what: str, response) -> dict:
        seen.append((what, response.content.decode()))
        is_json = response["Content-Type"].startswith("application/json")
        return response.json() if is_json and response.content else {}

    account_ids = []
    for venue, (key, secret, phrase) in VENUES.items():
        exchange = record(
            f"create {venue} exchange",
            admin.post(
                "/api/v1/exchanges/",
                {
                    "name": f"{venue} secrets",
                    "venue": venue,
                    "environment": "testnet",
                    "rest_url": "https://127.0.0.1",
                    "ws_public_url": "wss://127.0.0.1/public",
                    "ws_private_url": "wss://127.0.0.1/private",
                },
                format="json",
            ),
        )
        body = {
            "exchange": exchange["id"],
            "label": "desk",
            "api_key": key,
            "api_secret": secret,
            "passphrase": phrase,
            "permissions": "trade",
        }
        created = record(
            f"create {venue} account", admin.post("/api/v1/accounts/", body, format="json")
        )
        account_ids.append(created["id"])
        duplicate = admin.post("/api/v1/accounts/", body, format="json")
        assert_error(duplicate, 400, "validation_error")
        record(f"duplicate {venue} account", duplicate)
        too_long = admin.post(
            "/api/v1/accounts/", {**body, "label": "x", "api_secret": secret * 40}, format="json"
        )
        record(f"too long {venue} secret", too_long)
        record(
            f"rotate {venue} secret",
            admin.patch(
                f"/api/v1/accounts/{created['id']}/",
                {"api_secret": secret, "passphrase": phrase},
                format="json",
            ),
        )

    for role, client in api.items():
        for path in (
            "/api/v1/accounts/",
            "/api/v1/exchanges/",
            "/api/v1/me/",
            "/api/v1/audit/",
            "/api/v1/grants/",
            "/api/v1/schema/",
        ):
            record(f"{role} GET {path}", client.get(path))
        for pk in account_ids:
            record(f"{role} GET account {pk}", client.get(f"/api/v1/accounts/{pk}/"))

    for path in (
        "/admin/exchanges/exchangeaccount/",
        "/admin/auditlog/logentry/",
        "/admin/exchanges/accountgrant/",
    ):
        seen.append((f"admin page {path}", admin_client.get(path).content.decode()))
    for pk in account_ids:
        page = admin_client.get(f"/admin/exchanges/exchangeaccount/{pk}/change/")
        seen.append((f"admin account page {pk}", page.content.decode()))
    from auditlog.models import LogEntry

    for entry in LogEntry.objects.all():
        page = admin_client.get(f"/admin/auditlog/logentry/{entry.pk}/change/")
        assert page.status_code == 200
        assert 'name="_save"' not in page.content.decode()  # the audit trail is read-only
        seen.append((f"admin audit entry {entry.pk}", page.content.decode()))

    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    seen.append(("dumpdata", dump.getvalue()))
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            seen.append((f"table {table}", repr(cursor.fetchall())))
    seen.append(("log lines", caplog.text))

    assert len(seen) > 60
    for where, text in seen:
        assert_clean(text, where)
    masked = [a["api_key"] for a in api["viewer"].get("/api/v1/accounts/").json()["results"]]
    assert sorted(masked) == sorted(f"••••{key[-4:]}" for key in KEYS)
