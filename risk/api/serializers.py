"""Input and output shapes of the risk endpoints. Limit values are decimal strings."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from rest_framework import serializers

from exchanges.models import ExchangeAccount, Instrument
from gateway_site.api.fields import (
    DecimalString,
    Flag,
    Integer,
    PrimaryKey,
    Text,
)
from risk.models import KillSwitch, RiskLimit


def _positive(value: Decimal) -> None:
    if value <= 0:
        raise serializers.ValidationError("Must be greater than zero.")


NON_NEGATIVE = MinValueValidator(Decimal(0), message="Must not be negative.")


class RiskLimitOutput(serializers.ModelSerializer):
    scope = serializers.CharField()
    max_order_quantity = DecimalString(allow_null=True)
    max_order_notional = DecimalString(allow_null=True)
    max_position = DecimalString(allow_null=True)
    max_daily_loss = DecimalString(allow_null=True)
    price_band_pct = DecimalString(allow_null=True, max_digits=7, decimal_places=3)

    class Meta:
        model = RiskLimit
        fields = [
            "id",
            "name",
            "account",
            "instrument",
            "scope",
            "max_order_quantity",
            "max_order_notional",
            "max_position",
            "max_open_orders",
            "max_daily_loss",
            "price_band_pct",
            "enabled",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class RiskLimitInput(serializers.Serializer):
    name = Text(max_length=64)
    account = PrimaryKey(queryset=ExchangeAccount.objects.all(), allow_null=True, default=None)
    instrument = PrimaryKey(queryset=Instrument.objects.all(), allow_null=True, default=None)
    max_order_quantity = DecimalString(allow_null=True, default=None, validators=[_positive])
    max_order_notional = DecimalString(allow_null=True, default=None, validators=[_positive])
    max_position = DecimalString(allow_null=True, default=None, validators=[NON_NEGATIVE])
    max_open_orders = Integer(allow_null=True, default=None, min_value=0, max_value=2_147_483_647)
    max_daily_loss = DecimalString(allow_null=True, default=None, validators=[NON_NEGATIVE])
    price_band_pct = DecimalString(
        allow_null=True, default=None, max_digits=7, decimal_places=3, validators=[_positive]
    )
    enabled = Flag(default=True)


class KillSwitchOutput(serializers.ModelSerializer):
    class Meta:
        model = KillSwitch
        fields = ["id", "account", "engaged", "reason", "engaged_by", "created_at"]
        read_only_fields = fields


class KillSwitchInput(serializers.Serializer):
    engaged = Flag()
    reason = Text(max_length=2000)
    account = PrimaryKey(queryset=ExchangeAccount.objects.all(), allow_null=True, default=None)
