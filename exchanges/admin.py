"""Admin of the exchanges app.

API credentials are write-only here: the form has password inputs that never render a value
(blank keeps the stored one), and pages show the key masked and whether a secret is set.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest

from exchanges.models import AccountGrant, Exchange, ExchangeAccount, Instrument, mask
from exchanges.services import exchange_account_credentials_validate


@admin.register(Exchange)
class ExchangeAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "venue",
        "environment",
        "enabled",
        "rest_url",
        "rate_limit_percent",
    ]
    list_filter = ["venue", "environment", "enabled"]
    search_fields = ["name", "slug", "rest_url"]
    prepopulated_fields = {"slug": ["name"]}
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "venue", "environment", "enabled"]}),
        ("Endpoints", {"fields": ["rest_url", "public_ws_url", "private_ws_url"]}),
        ("Rate limits", {"fields": ["rate_limit_percent"]}),
        (None, {"fields": ["created_at", "updated_at"]}),
    ]


def _secret_input(label: str, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=help_text or "Write-only. Leave blank to keep the stored value.",
    )


class ExchangeAccountForm(forms.ModelForm):
    """Credentials enter through write-only inputs; the model's encrypted fields are never
    bound to the form, so their values cannot reach the page."""

    new_api_key = _secret_input("API key")
    new_secret = _secret_input("Secret")
    new_passphrase = _secret_input(
        "Passphrase", "OKX only. Write-only; leave blank to keep the stored value."
    )

    class Meta:
        model = ExchangeAccount
        fields = ["exchange", "label", "permission", "enabled"]

    def clean(self) -> dict:
        cleaned = super().clean()
        exchange = cleaned.get("exchange")
        if exchange is None:
            return cleaned
        adding = self.instance.pk is None
        stored = self.instance
        try:
            exchange_account_credentials_validate(
                exchange=exchange,
                api_key=cleaned.get("new_api_key") or ("" if adding else stored.api_key),
                secret=cleaned.get("new_secret") or ("" if adding else stored.secret),
                passphrase=cleaned.get("new_passphrase") or ("" if adding else stored.passphrase),
            )
        except ValidationError as exc:
            raise ValidationError(
                {f"new_{field}": errors for field, errors in exc.error_dict.items()}
            ) from exc
        return cleaned

    def _post_clean(self) -> None:
        super()._post_clean()
        for field, attr in [
            ("new_api_key", "api_key"),
            ("new_secret", "secret"),
            ("new_passphrase", "passphrase"),
        ]:
            value = self.cleaned_data.get(field)
            if value:
                setattr(self.instance, attr, value)


@admin.register(ExchangeAccount)
class ExchangeAccountAdmin(admin.ModelAdmin):
    form = ExchangeAccountForm
    list_display = [
        "label",
        "exchange",
        "permission",
        "enabled",
        "api_key_masked",
        "secret_status",
        "updated_at",
    ]
    list_filter = ["exchange__venue", "exchange__environment", "permission", "enabled"]
    search_fields = ["label", "exchange__name", "exchange__slug"]
    list_select_related = ["exchange"]
    readonly_fields = [
        "api_key_masked",
        "secret_status",
        "passphrase_status",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["exchange", "label", "permission", "enabled"]}),
        (
            "Credentials (encrypted at rest)",
            {
                "fields": [
                    "api_key_masked",
                    "secret_status",
                    "passphrase_status",
                    "new_api_key",
                    "new_secret",
                    "new_passphrase",
                ]
            },
        ),
        (None, {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(description="API key")
    def api_key_masked(self, obj: ExchangeAccount) -> str:
        return mask(obj.api_key) or "-"

    @admin.display(description="Secret")
    def secret_status(self, obj: ExchangeAccount) -> str:
        return "set" if obj.secret else "not set"

    @admin.display(description="Passphrase")
    def passphrase_status(self, obj: ExchangeAccount) -> str:
        return "set" if obj.passphrase else "not set"


@admin.register(AccountGrant)
class AccountGrantAdmin(admin.ModelAdmin):
    """Who may see and trade which account (traders see only their granted accounts)."""

    list_display = ["user", "account", "granted_by", "created_at"]
    list_filter = ["account__exchange"]
    search_fields = ["user__username", "account__label", "account__exchange__slug"]
    list_select_related = ["user", "account__exchange"]
    autocomplete_fields = ["user"]
    readonly_fields = ["granted_by", "created_at"]

    def save_model(self, request: HttpRequest, obj: AccountGrant, form, change: bool) -> None:
        if not change:
            obj.granted_by = request.user.get_username()
        super().save_model(request, obj, form, change)


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin):
    list_display = [
        "symbol",
        "venue_symbol",
        "exchange",
        "kind",
        "linear",
        "quantity_unit",
        "contract_size",
        "tick_size",
        "lot_size",
        "min_size",
        "expiry",
        "active",
    ]
    list_filter = ["exchange", "kind", "linear", "quantity_unit", "active", "option_type"]
    search_fields = ["symbol", "venue_symbol", "base", "quote"]
    list_select_related = ["exchange"]
    readonly_fields = ["created_at", "updated_at"]
