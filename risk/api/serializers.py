"""Input and output shapes of the risk endpoints. Limit values are decimal strings."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.utils import timezone
from rest_framework import serializers

from exchanges.models import ExchangeAccount, Instrument
from gateway_site.api.fields import (
    DecimalString,
    Flag,
    Integer,
    PrimaryKey,
    Text,
)
from risk.breaker import is_active
from risk.models import BreakerTrip, CircuitBreaker, KillSwitch, RiskEvent, RiskLimit


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
            "trip_kill_switch",
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
    trip_kill_switch = Flag(default=False)
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


class RiskEventOutput(serializers.ModelSerializer):
    class Meta:
        model = RiskEvent
        fields = ["id", "kind", "severity", "account", "order", "message", "details", "created_at"]
        read_only_fields = fields


class CircuitBreakerOutput(serializers.ModelSerializer):
    move_pct = DecimalString(max_digits=7, decimal_places=3)

    class Meta:
        model = CircuitBreaker
        fields = [
            "id",
            "instrument",
            "move_pct",
            "window_seconds",
            "cooldown_seconds",
            "enabled",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CircuitBreakerInput(serializers.Serializer):
    instrument = PrimaryKey(queryset=Instrument.objects.all(), allow_null=True, default=None)
    move_pct = DecimalString(max_digits=7, decimal_places=3, validators=[_positive])
    window_seconds = Integer(min_value=1, max_value=2_147_483_647)
    cooldown_seconds = Integer(default=0, min_value=0, max_value=2_147_483_647)
    enabled = Flag(default=True)


class BreakerTripOutput(serializers.ModelSerializer):
    symbol = serializers.CharField(source="instrument.symbol")
    reference_price = DecimalString()
    mark_price = DecimalString()
    move_pct = DecimalString(max_digits=12, decimal_places=4)
    active = serializers.SerializerMethodField()

    class Meta:
        model = BreakerTrip
        fields = [
            "id",
            "breaker",
            "instrument",
            "symbol",
            "tripped_at",
            "reference_price",
            "reference_at",
            "mark_price",
            "move_pct",
            "cooldown_until",
            "active",
            "reset_at",
            "reset_by",
            "reset_reason",
        ]
        read_only_fields = fields

    def get_active(self, trip: BreakerTrip) -> bool:
        return is_active(until=trip.cooldown_until, reset_at=trip.reset_at, now=timezone.now())


class BreakerResetInput(serializers.Serializer):
    reason = Text(max_length=2000)
