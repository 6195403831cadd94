"""Input and output shapes of the exchanges endpoints (one small serializer per direction).

Secrets are write-only: no output serializer has a field that could carry one; the API key is
shown masked.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from exchanges.choices import AccountPermission, Environment, InstrumentKind, OptionType, Venue
from exchanges.models import AccountGrant, Exchange, ExchangeAccount, Instrument
from exchanges.services import INSTRUMENT_FIELDS
from gateway_site.api.fields import (
    Choice,
    DecimalString,
    Flag,
    Integer,
    PrimaryKey,
    Text,
    Url,
)

URL_FIELDS = {
    "rest_url": "rest_url",
    "ws_public_url": "public_ws_url",
    "ws_private_url": "private_ws_url",
}


class ExchangeOutput(serializers.ModelSerializer):
    ws_public_url = serializers.CharField(source="public_ws_url")
    ws_private_url = serializers.CharField(source="private_ws_url")

    class Meta:
        model = Exchange
        fields = [
            "id",
            "name",
            "slug",
            "venue",
            "environment",
            "rest_url",
            "ws_public_url",
            "ws_private_url",
            "enabled",
            "rate_limit_percent",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


def _ws_url(value: str) -> str:
    if not value.startswith(("ws://", "wss://")):
        raise serializers.ValidationError("A WebSocket URL starts with ws:// or wss://.")
    return value


class ExchangeInput(serializers.Serializer):
    name = Text(max_length=64)
    venue = Choice(choices=Venue.choices)
    environment = Choice(choices=Environment.choices)
    rest_url = Url(max_length=200)
    ws_public_url = Text(max_length=200, validators=[_ws_url])
    ws_private_url = Text(max_length=200, validators=[_ws_url])
    enabled = Flag(default=False)
    rate_limit_percent = Integer(min_value=1, max_value=100, default=100)

    def model_fields(self) -> dict:
        data = dict(self.validated_data)
        for api_name, model_name in URL_FIELDS.items():
            if api_name in data:
                data[model_name] = data.pop(api_name)
        return data


class SyncResultOutput(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    deactivated = serializers.IntegerField()


class AccountOutput(serializers.ModelSerializer):
    api_key = serializers.CharField(source="api_key_hint", help_text="Masked: its last characters.")
    has_passphrase = serializers.SerializerMethodField()
    permissions = serializers.ChoiceField(source="permission", choices=AccountPermission.choices)

    class Meta:
        model = ExchangeAccount
        fields = [
            "id",
            "exchange",
            "label",
            "api_key",
            "has_passphrase",
            "permissions",
            "enabled",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_has_passphrase(self, account: ExchangeAccount) -> bool:
        return bool(account.passphrase)


class AccountCreateInput(serializers.Serializer):
    exchange = PrimaryKey(queryset=Exchange.objects.all())
    label = Text(max_length=64)
    api_key = Text(write_only=True, max_length=512, trim_whitespace=True)
    api_secret = Text(write_only=True, max_length=512, trim_whitespace=True)
    passphrase = Text(write_only=True, max_length=512, required=False, default="", allow_blank=True)
    permissions = Choice(choices=AccountPermission.choices, default=AccountPermission.READ)
    enabled = Flag(default=True)


class AccountUpdateInput(serializers.Serializer):
    label = Text(max_length=64, required=False)
    api_key = Text(write_only=True, max_length=512, required=False)
    api_secret = Text(write_only=True, max_length=512, required=False)
    passphrase = Text(write_only=True, max_length=512, required=False, allow_blank=True)
    permissions = Choice(choices=AccountPermission.choices, required=False)
    enabled = Flag(required=False)


class AccountTestOutput(serializers.Serializer):
    ok = serializers.BooleanField()
    balances = serializers.IntegerField(help_text="How many balances the signed read returned.")


class InstrumentOutput(serializers.ModelSerializer):
    venue = serializers.ChoiceField(source="exchange.venue", choices=Venue.choices)
    kind = serializers.ChoiceField(choices=InstrumentKind.choices)
    option_type = serializers.ChoiceField(choices=OptionType.choices, allow_blank=True)
    contract_size = DecimalString()
    tick_size = DecimalString()
    lot_size = DecimalString()
    min_size = DecimalString()
    strike = DecimalString(allow_null=True)
    min_notional = DecimalString(
        allow_null=True,
        help_text="Smallest order value in quote currency, where the venue has one.",
    )

    class Meta:
        model = Instrument
        # What sync_instruments stores, and no more.
        fields = ["id", "exchange", "venue", "symbol", *INSTRUMENT_FIELDS, "updated_at"]
        read_only_fields = fields


class GrantOutput(serializers.ModelSerializer):
    class Meta:
        model = AccountGrant
        fields = ["id", "user", "account", "granted_by", "created_at"]
        read_only_fields = fields


class GrantInput(serializers.Serializer):
    user = PrimaryKey(queryset=get_user_model().objects.all())
    account = PrimaryKey(queryset=ExchangeAccount.objects.all())
