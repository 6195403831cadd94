"""Exchanges, accounts, instruments, grants and `me`: each role's rights, grants for traders,
validation, and secrets that go in and never come out."""

import pytest

from exchanges.models import AccountGrant, Exchange, ExchangeAccount
from tests.factories import ExchangeAccountFactory, ExchangeFactory, InstrumentFactory
from tests.plugins.api import assert_error

pytestmark = pytest.mark.django_db

NEW_EXCHANGE = {
    "name": "OKX desk two",
    "venue": "okx",
    "environment": "testnet",
    "rest_url": "https://www.okx.com",
    "ws_public_url": "wss://wspap.okx.com:8443/ws/v5/public",
    "ws_private_url": "wss://wspap.okx.com:8443/ws/v5/private",
}


def test_admin_creates_reads_and_changes_an_exchange(api):
    created = api["admin"].post("/api/v1/exchanges/", NEW_EXCHANGE, format="json")
    assert created.status_code == 201
    body = created.json()
    assert {k: body[k] for k in NEW_EXCHANGE} == NEW_EXCHANGE
    assert (body["slug"], body["enabled"], body["rate_limit_percent"]) == (
        "okx-desk-two",
        False,
        100,
    )
    row = Exchange.objects.get(pk=body["id"])
    assert row.public_ws_url == NEW_EXCHANGE["ws_public_url"]

    again = api["admin"].post(
        "/api/v1/exchanges/", {**NEW_EXCHANGE, "environment": "live"}, format="json"
    )
    assert again.json()["slug"] == "okx-desk-two-2"

    changed = api["admin"].patch(
        f"/api/v1/exchanges/{body['id']}/",
        {"enabled": True, "rate_limit_percent": 40},
        format="json",
    )
    assert changed.status_code == 200
    assert (changed.json()["enabled"], changed.json()["rate_limit_percent"]) == (True, 40)
    assert api["viewer"].get(f"/api/v1/exchanges/{body['id']}/").json()["enabled"] is True


def test_exchange_validation(api):
    bad = {**NEW_EXCHANGE, "ws_public_url": "https://x", "rate_limit_percent": 0}
    assert_error(
        api["admin"].post("/api/v1/exchanges/", bad, format="json"),
        400,
        "validation_error",
        {
            "ws_public_url": ["A WebSocket URL starts with ws:// or wss://."],
            "rate_limit_percent": ["Ensure this value is greater than or equal to 1."],
        },
    )
    exchange = ExchangeFactory(venue="okx")
    assert_error(
        api["admin"].patch(f"/api/v1/exchanges/{exchange.pk}/", {"venue": "bybit"}, format="json"),
        400,
        "validation_error",
        {"venue": ["The venue of an exchange cannot change."]},
    )


@pytest.mark.parametrize("role", ["viewer", "trader", "risk_officer"])
def test_only_admins_write_exchanges(api, role):
    assert_error(
        api[role].post("/api/v1/exchanges/", NEW_EXCHANGE, format="json"), 403, "permission_denied"
    )
    exchange = ExchangeFactory()
    assert_error(
        api[role].patch(f"/api/v1/exchanges/{exchange.pk}/", {"enabled": True}, format="json"),
        403,
        "permission_denied",
    )
    assert_error(
        api[role].post(f"/api/v1/exchanges/{exchange.pk}/sync_instruments/"),
        403,
        "permission_denied",
    )
    assert api[role].get("/api/v1/exchanges/").status_code == 200


def test_lists_page_with_a_cursor(api):
    for number in range(3):
        ExchangeFactory(slug=f"page-{number}", name=f"Page {number}")
    expected = list(
        Exchange.objects.filter(venue="deribit").order_by("id").values_list("slug", flat=True)
    )
    url, pages = "/api/v1/exchanges/?page_size=2&venue=deribit", []
    while url:
        page = api["viewer"].get(url).json()
        assert set(page) == {"results", "next", "previous"}
        pages.append([row["slug"] for row in page["results"]])
        url = page["next"]
    assert [len(page) for page in pages] == [2, 2, 1]
    assert [slug for page in pages for slug in page] == expected
    assert expected[-3:] == ["page-0", "page-1", "page-2"]


def account_body(exchange, **fields):
    return {
        "exchange": exchange.pk,
        "label": "desk",
        "api_key": "ApiKeyValue-1234567890",
        "api_secret": "SecretValue-abcdefghij",
        "passphrase": "PassPhrase-klmnop",
        "permissions": "trade",
        **fields,
    }


def test_admin_creates_an_account_and_sees_the_key_masked(api, secrets_key):
    exchange = ExchangeFactory(venue="okx")
    created = api["admin"].post("/api/v1/accounts/", account_body(exchange), format="json")
    assert created.status_code == 201
    body = created.json()
    assert body == {
        "id": body["id"],
        "exchange": exchange.pk,
        "label": "desk",
        "api_key": "••••7890",
        "has_passphrase": True,
        "permissions": "trade",
        "enabled": True,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    account = ExchangeAccount.objects.get(pk=body["id"])
    assert account.credentials().secret == "SecretValue-abcdefghij"
    assert account.credentials().passphrase == "PassPhrase-klmnop"


def test_account_validation(api, secrets_key):
    okx = ExchangeFactory(venue="okx")
    assert_error(
        api["admin"].post("/api/v1/accounts/", account_body(okx, passphrase=""), format="json"),
        400,
        "validation_error",
        {"passphrase": ["OKX API keys have a passphrase; it is required."]},
    )
    assert_error(
        api["admin"].post(
            "/api/v1/accounts/",
            {**account_body(okx), "exchange": 999999, "permissions": "all"},
            format="json",
        ),
        400,
        "validation_error",
        {
            "exchange": ['Invalid pk "999999" - object does not exist.'],
            "permissions": ['"all" is not a valid choice.'],
        },
    )
    api["admin"].post("/api/v1/accounts/", account_body(okx), format="json")
    error = assert_error(
        api["admin"].post("/api/v1/accounts/", account_body(okx), format="json"),
        400,
        "validation_error",
    )
    assert error["message"] == "Exchange account with this Exchange and Label already exists."


def test_admin_changes_label_and_credentials(api, secrets_key):
    account = ExchangeAccountFactory(exchange=ExchangeFactory(venue="bybit"))
    response = api["admin"].patch(
        f"/api/v1/accounts/{account.pk}/",
        {"label": "renamed", "api_secret": "NewSecret-000000000", "permissions": "read"},
        format="json",
    )
    assert response.status_code == 200
    assert (response.json()["label"], response.json()["permissions"]) == ("renamed", "read")
    account.refresh_from_db()
    assert (account.label, account.secret, account.permission) == (
        "renamed",
        "NewSecret-000000000",
        "read",
    )


def test_traders_see_only_granted_accounts(api, make_user, client_for, secrets_key):
    exchange = ExchangeFactory(venue="deribit")
    granted = ExchangeAccountFactory(exchange=exchange, label="granted")
    hidden = ExchangeAccountFactory(exchange=exchange, label="hidden")
    trader = make_user("tara", "trader")
    api["admin"].post("/api/v1/grants/", {"user": trader.pk, "account": granted.pk}, format="json")
    tara = client_for(trader)
    assert [a["label"] for a in tara.get("/api/v1/accounts/").json()["results"]] == ["granted"]
    assert tara.get(f"/api/v1/accounts/{granted.pk}/").status_code == 200
    assert_error(tara.get(f"/api/v1/accounts/{hidden.pk}/"), 404, "not_found")
    me = tara.get("/api/v1/me/").json()
    assert (me["roles"], me["accounts"]) == (
        ["trader"],
        [{"id": granted.pk, "exchange": exchange.pk, "label": "granted"}],
    )
    viewer_sees = api["viewer"].get("/api/v1/accounts/").json()["results"]
    assert [a["label"] for a in viewer_sees] == ["granted", "hidden"]
    hidden.permission = "read"
    hidden.save()
    reads = api["viewer"].get("/api/v1/accounts/?permissions=read").json()["results"]
    assert [a["label"] for a in reads] == ["hidden"]
    own = tara.get("/api/v1/grants/").json()["results"]
    assert [(g["user"], g["account"]) for g in own] == [(trader.pk, granted.pk)]
    assert_error(
        tara.post("/api/v1/grants/", {"user": trader.pk, "account": hidden.pk}, format="json"),
        403,
        "permission_denied",
    )
    assert_error(
        tara.post("/api/v1/accounts/", account_body(exchange, label="mine"), format="json"),
        403,
        "permission_denied",
    )


def test_admin_grants_and_revokes(api, make_user, secrets_key):
    account = ExchangeAccountFactory()
    user = make_user("tom", "trader")
    created = api["admin"].post(
        "/api/v1/grants/", {"user": user.pk, "account": account.pk}, format="json"
    )
    assert created.status_code == 201
    assert created.json()["granted_by"] == "admin-user"
    listed = api["admin"].get(f"/api/v1/grants/?user={user.pk}").json()["results"]
    assert [(g["user"], g["account"]) for g in listed] == [(user.pk, account.pk)]
    assert api["admin"].delete(f"/api/v1/grants/{created.json()['id']}/").status_code == 204
    assert not AccountGrant.objects.filter(user=user).exists()


def test_instruments_filter(api):
    okx = ExchangeFactory(venue="okx", slug="okx-f")
    bybit = ExchangeFactory(venue="bybit", slug="bybit-f")
    InstrumentFactory(
        exchange=okx,
        symbol="BTC/USDT:USDT",
        venue_symbol="BTC-USDT-SWAP",
        kind="perpetual",
        base="BTC",
        quote="USDT",
        settle="USDT",
    )
    InstrumentFactory(
        exchange=okx,
        symbol="ETH/USDT",
        venue_symbol="ETH-USDT",
        kind="spot",
        base="ETH",
        quote="USDT",
        settle="USDT",
    )
    InstrumentFactory(
        exchange=bybit,
        symbol="BTC/USDT",
        venue_symbol="BTCUSDT",
        kind="spot",
        base="BTC",
        quote="USDT",
        settle="USDT",
        active=False,
    )

    def symbols(query: str) -> list[str]:
        response = api["viewer"].get(f"/api/v1/instruments/?{query}")
        assert response.status_code == 200, response.content
        return [row["symbol"] for row in response.json()["results"]]

    assert symbols("venue=okx") == ["BTC/USDT:USDT", "ETH/USDT"]
    assert symbols("base=BTC") == ["BTC/USDT:USDT", "BTC/USDT"]
    assert symbols("kind=spot&active=false") == ["BTC/USDT"]
    assert symbols(f"exchange={bybit.pk}") == ["BTC/USDT"]
    assert symbols("symbol=ETH/USDT") == ["ETH/USDT"]
    row = api["viewer"].get("/api/v1/instruments/?symbol=BTC/USDT:USDT").json()["results"][0]
    assert (row["venue"], row["tick_size"], row["venue_symbol"]) == (
        "okx",
        row["tick_size"],
        "BTC-USDT-SWAP",
    )
    assert isinstance(row["tick_size"], str)
    assert_error(
        api["viewer"].get("/api/v1/instruments/?kind=bond"),
        400,
        "validation_error",
        {"kind": ["Select a valid choice. bond is not one of the available choices."]},
    )
