from rest_framework import serializers

from exchanges.choices import StreamKind, StreamState
from exchanges.models import Instrument
from gateway_site.api.fields import DecimalString, Flag, Integer, PrimaryKey
from marketdata.models import MAX_BOOK_DEPTH, ConnectorStatus, Subscription


class ConnectorOutput(serializers.ModelSerializer):
    stream = serializers.ChoiceField(choices=StreamKind.choices)
    state = serializers.ChoiceField(choices=StreamState.choices)
    messages_per_second = DecimalString(
        max_digits=12, decimal_places=2, help_text="Over the last status interval."
    )
    lag_p50_ms = DecimalString(
        max_digits=18,
        decimal_places=3,
        allow_null=True,
        help_text="Receive time minus exchange time, median of recent messages.",
    )
    lag_p99_ms = DecimalString(max_digits=18, decimal_places=3, allow_null=True)

    class Meta:
        model = ConnectorStatus
        fields = [
            "id",
            "exchange",
            "account",
            "stream",
            "state",
            "detail",
            "started_at",
            "last_heartbeat_at",
            "last_message_at",
            "messages",
            "messages_per_second",
            "reconnects",
            "book_rebuilds",
            "books_invalid",
            "lag_p50_ms",
            "lag_p99_ms",
            "updated_at",
        ]
        read_only_fields = fields


class SubscriptionOutput(serializers.ModelSerializer):
    exchange = serializers.IntegerField(source="instrument.exchange_id")
    symbol = serializers.CharField(source="instrument.symbol")
    venue_symbol = serializers.CharField(source="instrument.venue_symbol")

    class Meta:
        model = Subscription
        fields = [
            "id",
            "instrument",
            "exchange",
            "symbol",
            "venue_symbol",
            "enabled",
            "books",
            "book_depth",
            "trades",
            "tickers",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class SubscriptionUpdateInput(serializers.Serializer):
    enabled = Flag(required=False)
    books = Flag(required=False)
    book_depth = Integer(min_value=1, max_value=MAX_BOOK_DEPTH, required=False)
    trades = Flag(required=False)
    tickers = Flag(required=False)


class SubscriptionCreateInput(SubscriptionUpdateInput):
    instrument = PrimaryKey(queryset=Instrument.objects.all())

    def validate_instrument(self, instrument: Instrument) -> Instrument:
        if Subscription.objects.filter(instrument=instrument).exists():
            raise serializers.ValidationError("This instrument has a subscription already.")
        return instrument
