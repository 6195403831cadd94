"""Shapes of the orders API: what a client sends to submit, amend and cancel, and what it gets
back. Amounts are strings of decimals (`DecimalString`), never JSON floats."""

from __future__ import annotations

from rest_framework import serializers

from exchanges.models import ExchangeAccount
from gateway_site.api.fields import Choice, DecimalString, Flag, PrimaryKey, Text
from orders.choices import OrderType, Side, TimeInForce, TriggerPrice
from orders.models import Fill, Order, OrderEvent


class OrderInput(serializers.Serializer):
    account = PrimaryKey(queryset=ExchangeAccount.objects.select_related("exchange"))
    symbol = Text(max_length=64, help_text="Unified symbol, e.g. BTC/USDT:USDT")
    side = Choice(choices=Side.choices)
    type = Choice(choices=OrderType.choices)
    quantity = DecimalString(
        help_text="CCXT units: contracts for derivatives, base currency for spot"
    )
    price = DecimalString(required=False, allow_null=True, default=None)
    trigger_price = DecimalString(
        required=False,
        allow_null=True,
        default=None,
        help_text="Stop and take-profit orders: the price that fires them",
    )
    trigger_by = Choice(
        choices=TriggerPrice.choices,
        required=False,
        allow_null=True,
        default=None,
        help_text="Stop and take-profit orders: the price watched (mark unless given)",
    )
    time_in_force = Choice(choices=TimeInForce.choices, default=TimeInForce.GTC)
    post_only = Flag(default=False)
    reduce_only = Flag(default=False)
    client_order_id = Text(max_length=32, required=False, allow_null=True, default=None)

    def __init__(self, *args, accounts=None, **kwargs):
        super().__init__(*args, **kwargs)
        if accounts is not None:
            self.fields["account"].queryset = accounts


class AmendInput(serializers.Serializer):
    price = DecimalString(required=False, allow_null=True, default=None)
    quantity = DecimalString(required=False, allow_null=True, default=None)
    # an untriggered stop or take profit moves its trigger
    trigger_price = DecimalString(required=False, allow_null=True, default=None)


class CancelAllInput(serializers.Serializer):
    account = PrimaryKey(queryset=ExchangeAccount.objects.select_related("exchange"))
    symbol = Text(max_length=64, required=False, allow_null=True, default=None)

    def __init__(self, *args, accounts=None, **kwargs):
        super().__init__(*args, **kwargs)
        if accounts is not None:
            self.fields["account"].queryset = accounts


class OrderEventOutput(serializers.ModelSerializer):
    class Meta:
        model = OrderEvent
        fields = [
            "sequence",
            "kind",
            "from_status",
            "to_status",
            "message",
            "exchange_at",
            "created_at",
        ]
        read_only_fields = fields


class FillOutput(serializers.ModelSerializer):
    symbol = serializers.CharField(source="instrument.symbol")
    price = DecimalString()
    quantity = DecimalString()
    fee = DecimalString()

    class Meta:
        model = Fill
        fields = [
            "id",
            "account",
            "order",
            "symbol",
            "trade_id",
            "side",
            "price",
            "quantity",
            "fee",
            "fee_currency",
            "liquidity",
            "executed_at",
        ]
        read_only_fields = fields


class OrderOutput(serializers.ModelSerializer):
    symbol = serializers.CharField(source="instrument.symbol")
    type = serializers.CharField(source="order_type")
    quantity = DecimalString()
    price = DecimalString(allow_null=True)
    filled_quantity = DecimalString()
    average_fill_price = DecimalString(allow_null=True)
    trigger_price = DecimalString(allow_null=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "account",
            "symbol",
            "side",
            "type",
            "quantity",
            "price",
            "time_in_force",
            "post_only",
            "reduce_only",
            "trigger_price",
            "trigger_by",
            "triggered_at",
            "client_order_id",
            "venue_order_id",
            "status",
            "filled_quantity",
            "average_fill_price",
            "reject_reason",
            "is_external",
            "created_at",
            "updated_at",
            "submitted_at",
            "acknowledged_at",
            "closed_at",
        ]
        read_only_fields = fields


class OrderDetailOutput(OrderOutput):
    events = OrderEventOutput(many=True, read_only=True)
    fills = FillOutput(many=True, read_only=True)

    class Meta(OrderOutput.Meta):
        fields = [*OrderOutput.Meta.fields, "events", "fills"]
        read_only_fields = fields


class CancelAllOutput(serializers.Serializer):
    account = serializers.IntegerField()
    venue_canceled = serializers.IntegerField()
    rounds = serializers.IntegerField()
    rate_limited = serializers.IntegerField()
    still_open = serializers.IntegerField(allow_null=True)
