"""Admin: every page of every model renders for an operator, history is read-only, and API
credentials never reach the HTML."""

import pytest
from django.apps import apps as django_apps
from django.contrib import admin
from django.urls import reverse

from exchanges.models import AccountGrant, ExchangeAccount
from orders.models import OrderEvent, RoutedOrder
from risk.models import KillSwitch
from tests.factories import (
    AppliedFillFactory,
    ArbitrageOpportunityFactory,
    BalanceFactory,
    BreakerTripFactory,
    CandleFactory,
    ConnectorStatusFactory,
    ExchangeFactory,
    FillFactory,
    KillSwitchFactory,
    LedgerEntryFactory,
    OrderEventFactory,
    PositionFactory,
    ReconciliationCursorFactory,
    ReconciliationReportFactory,
    RiskEventFactory,
    RiskLimitFactory,
    SubscriptionFactory,
    TopOfBookSnapshotFactory,
    TradeTickFactory,
)

APPS = {"exchanges", "orders", "portfolio", "risk", "marketdata"}
SECRET = "TopSecretValue-0123456789"
API_KEY = "TestKeyAbcdef12345"
PASSPHRASE = "okx-pass-phrase-777"
READ_ONLY = {
    "orders.order",
    "orders.orderevent",
    "orders.fill",
    "orders.routedorder",
    "portfolio.position",
    "portfolio.balance",
    "portfolio.reconciliationreport",
    "portfolio.ledgerentry",
    "portfolio.appliedfill",
    "portfolio.reconciliationcursor",
    "portfolio.reconciledaccount",
    "risk.riskevent",
    "risk.breakertrip",
    "marketdata.connectorstatus",
    "marketdata.tradetick",
    "marketdata.candle",
    "marketdata.topofbooksnapshot",
    "marketdata.arbitrageopportunity",
}
MODELS = sorted(
    f"{model._meta.app_label}.{model._meta.model_name}"
    for model in admin.site._registry
    if model._meta.app_label in APPS
)


@pytest.fixture
def everything(account, instrument, order, admin_user):
    """One row of every model, all tied to the account whose secret must never show."""
    account.passphrase = PASSPHRASE
    account.save()
    OrderEventFactory(order=order)
    fill = FillFactory(order=order)
    position = PositionFactory(account=account, instrument=instrument)
    AppliedFillFactory(fill=fill, position=position)
    LedgerEntryFactory(account=account, instrument=instrument)
    ReconciliationCursorFactory(account=account)
    BalanceFactory(account=account)
    ReconciliationReportFactory(account=account)
    RiskLimitFactory(account=account, instrument=instrument)
    KillSwitchFactory(account=account)
    AccountGrant.objects.create(user=admin_user, account=account, granted_by="admin")
    RiskEventFactory(account=account, order=order)
    ConnectorStatusFactory(exchange=account.exchange, account=account, stream="private")
    TradeTickFactory(instrument=instrument)
    CandleFactory(instrument=instrument)
    TopOfBookSnapshotFactory(instrument=instrument)
    SubscriptionFactory(instrument=instrument)
    ArbitrageOpportunityFactory(buy_exchange=account.exchange)
    BreakerTripFactory(instrument=instrument)
    order.parent = RoutedOrder.objects.create(
        symbol=instrument.symbol,
        side="buy",
        order_type="market",
        quantity=1,
        max_slippage_bps=50,
        status="open",
        decision={"plan": {"children": []}},
    )
    order.save(update_fields=["parent"])


def assert_no_credentials(html: str) -> None:
    assert SECRET not in html
    assert API_KEY not in html
    assert PASSPHRASE not in html


def test_every_model_of_the_apps_is_registered():
    every = sorted(
        model._meta.label_lower
        for app_label in APPS
        for model in django_apps.get_app_config(app_label).get_models()
    )
    assert MODELS == every
    assert len(MODELS) == 26
    assert set(READ_ONLY) < set(MODELS)


@pytest.mark.parametrize("label", MODELS)
def test_changelist_and_change_page_render(admin_client, everything, label):
    app_label, model_name = label.split(".")
    model = next(m for m in admin.site._registry if m._meta.label_lower == label)
    obj = model.objects.order_by("pk").first()
    assert obj is not None

    changelist = admin_client.get(reverse(f"admin:{app_label}_{model_name}_changelist"))
    assert changelist.status_code == 200
    assert_no_credentials(changelist.content.decode())

    change = admin_client.get(reverse(f"admin:{app_label}_{model_name}_change", args=[obj.pk]))
    assert change.status_code == 200
    html = change.content.decode()
    assert_no_credentials(html)
    if label in READ_ONLY:
        assert 'name="_save"' not in html

    search = admin_client.get(reverse(f"admin:{app_label}_{model_name}_changelist"), {"q": "BTC"})
    assert search.status_code == 200


@pytest.mark.parametrize("label", sorted(READ_ONLY))
def test_history_cannot_be_added_or_deleted(admin_client, everything, label):
    app_label, model_name = label.split(".")
    model = next(m for m in admin.site._registry if m._meta.label_lower == label)
    obj = model.objects.order_by("pk").first()
    assert admin_client.get(reverse(f"admin:{app_label}_{model_name}_add")).status_code == 403
    delete_url = reverse(f"admin:{app_label}_{model_name}_delete", args=[obj.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=obj.pk).exists()


def test_order_event_cannot_be_changed(admin_client, everything):
    event = OrderEvent.objects.get()
    url = reverse("admin:orders_orderevent_change", args=[event.pk])
    assert admin_client.post(url, {"message": "edited"}).status_code == 403
    assert OrderEvent.objects.get().message == ""


def test_account_add_page_has_write_only_inputs(admin_client, secrets_key):
    html = admin_client.get(reverse("admin:exchanges_exchangeaccount_add")).content.decode()
    for name in ("new_api_key", "new_secret", "new_passphrase"):
        assert f'type="password" name="{name}"' in html
    assert 'name="secret"' not in html
    assert 'name="api_key"' not in html


def test_account_add_and_edit_through_the_admin(admin_client, secrets_key):
    okx = ExchangeFactory(venue="okx")
    add_url = reverse("admin:exchanges_exchangeaccount_add")
    form = {
        "exchange": okx.pk,
        "label": "desk",
        "permission": "trade",
        "enabled": "on",
        "new_api_key": API_KEY,
        "new_secret": SECRET,
    }
    refused = admin_client.post(add_url, form)
    assert refused.status_code == 200
    html = refused.content.decode()
    assert "OKX API keys have a passphrase; it is required." in html
    assert_no_credentials(html)
    assert not ExchangeAccount.objects.exists()

    response = admin_client.post(add_url, {**form, "new_passphrase": PASSPHRASE})
    assert response.status_code == 302
    account = ExchangeAccount.objects.get()
    assert account.credentials().secret == SECRET
    assert account.credentials().passphrase == PASSPHRASE

    change_url = reverse("admin:exchanges_exchangeaccount_change", args=[account.pk])
    page = admin_client.get(change_url).content.decode()
    assert_no_credentials(page)
    assert '<div class="readonly">••••2345</div>' in page
    assert page.count('<div class="readonly">set</div>') == 2  # secret and passphrase

    # Blank inputs keep the stored credentials; a filled one replaces its value only.
    edit = {"exchange": okx.pk, "label": "desk2", "permission": "read", "enabled": "on"}
    assert admin_client.post(change_url, edit).status_code == 302
    account = ExchangeAccount.objects.get()
    assert (account.label, account.permission) == ("desk2", "read")
    assert (account.api_key, account.secret, account.passphrase) == (API_KEY, SECRET, PASSPHRASE)

    assert (
        admin_client.post(change_url, {**edit, "new_secret": "rotated-secret"}).status_code == 302
    )
    account = ExchangeAccount.objects.get()
    assert (account.api_key, account.secret, account.passphrase) == (
        API_KEY,
        "rotated-secret",
        PASSPHRASE,
    )


def test_kill_switch_is_engaged_by_adding_an_action(admin_client, admin_user, account, settings):
    settings.KILL_SWITCH_CANCEL_SECONDS = 0.5  # the factory account's venue never answers
    url = reverse("admin:risk_killswitch_add")
    response = admin_client.post(url, {"account": "", "engaged": "on", "reason": "venue outage"})
    assert response.status_code == 302
    action = KillSwitch.objects.get()
    assert (action.account, action.engaged, action.reason, action.engaged_by) == (
        None,
        True,
        "venue outage",
        admin_user.username,
    )
    assert KillSwitch.objects.is_engaged(account) is True
    change_url = reverse("admin:risk_killswitch_change", args=[action.pk])
    assert admin_client.post(change_url, {"engaged": "", "reason": "x"}).status_code == 403
