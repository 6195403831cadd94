"""Input and output shapes of the portfolio endpoints. Amounts are decimal strings; quantities
are signed (long positive) in the instrument's order quantity unit (contracts, the base
currency for spot, USD for Deribit and Bybit inverse)."""

from __future__ import annotations

from rest_framework import serializers

from exchanges.models import ExchangeAccount
from gateway_site.api.fields import Choice, DecimalString, PrimaryKey
from orders.choices import TriggerPrice
from portfolio.choices import ReconciliationKind, ReconciliationStatus
from portfolio.models import Balance, Position, ReconciliationReport


class PositionOutput(serializers.ModelSerializer):
    symbol = serializers.CharField(source="instrument.symbol", help_text="Unified symbol.")
    quantity = DecimalString(help_text="Signed: positive long, negative short.")
    average_price = DecimalString(
        source="entry_price", allow_null=True, help_text="Average entry price; null when flat."
    )
    mark_price = DecimalString(allow_null=True)
    liquidation_price = DecimalString(allow_null=True)
    realized_pnl = DecimalString(help_text="From the fills and executions, net of fees.")
    unrealized_pnl = DecimalString()
    fees = DecimalString(help_text="Fees paid in the settle currency (rebates negative).")
    other_fees = serializers.DictField(
        child=serializers.CharField(),
        help_text="Fees paid in other currencies, by currency; not in realized_pnl.",
    )
    settle_currency = serializers.CharField(help_text="The currency of the PnL figures.")

    class Meta:
        model = Position
        fields = [
            "id",
            "account",
            "instrument",
            "symbol",
            "quantity",
            "average_price",
            "mark_price",
            "liquidation_price",
            "realized_pnl",
            "unrealized_pnl",
            "fees",
            "other_fees",
            "settle_currency",
            "venue_updated_at",
            "updated_at",
        ]
        read_only_fields = fields


class ProtectInput(serializers.Serializer):
    stop_loss = DecimalString(
        required=False,
        allow_null=True,
        help_text="Trigger price of the stop loss; null removes it, absent leaves it.",
    )
    take_profit = DecimalString(
        required=False,
        allow_null=True,
        help_text="Trigger price of the take profit; null removes it, absent leaves it.",
    )
    trigger_by = Choice(choices=TriggerPrice.choices, default=TriggerPrice.MARK)


class ProtectiveOrder(serializers.Serializer):
    id = serializers.IntegerField()
    type = serializers.CharField(source="order_type")
    side = serializers.CharField()
    quantity = DecimalString()
    trigger_price = DecimalString()
    trigger_by = serializers.CharField()
    status = serializers.CharField()
    client_order_id = serializers.CharField()


class ProtectionOutput(serializers.Serializer):
    position = serializers.IntegerField()
    stop_loss = ProtectiveOrder(allow_null=True)
    take_profit = ProtectiveOrder(allow_null=True)


class BalanceOutput(serializers.ModelSerializer):
    total = DecimalString()
    available = DecimalString()
    locked = DecimalString()

    class Meta:
        model = Balance
        fields = [
            "id",
            "account",
            "currency",
            "total",
            "available",
            "locked",
            "venue_updated_at",
            "updated_at",
        ]
        read_only_fields = fields


class ReportOutput(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=ReconciliationKind.choices)
    status = serializers.ChoiceField(choices=ReconciliationStatus.choices)
    details = serializers.DictField(
        help_text="`differences` (what differed and what was done), `notes`, and `error` "
        "(message, venue, venue_code, type) when the venue refused."
    )

    class Meta:
        model = ReconciliationReport
        fields = [
            "id",
            "account",
            "kind",
            "status",
            "checked",
            "mismatches",
            "details",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class RunInput(serializers.Serializer):
    account = PrimaryKey(queryset=ExchangeAccount.objects.none())

    def __init__(self, *args, accounts=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if accounts is not None:
            self.fields["account"].queryset = accounts
