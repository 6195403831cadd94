"""Stored market data over REST: public trades, candles and arbitrage opportunities."""

from __future__ import annotations

import django_filters
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from exchanges.models import Exchange
from gateway_site.api.filters import UtcDateTimeFilter
from gateway_site.api.viewsets import GatewayViewSet
from marketdata import selectors
from marketdata.api.live import InstrumentQuery, query
from marketdata.models import ArbitrageOpportunity, Candle, TradeTick

# --------------------------------------------------------------------------- trades


class TradeOutput(serializers.ModelSerializer):
    venue = serializers.CharField(source="instrument.exchange.venue")
    symbol = serializers.CharField(source="instrument.symbol")
    price = serializers.DecimalField(max_digits=38, decimal_places=18, normalize_output=True)
    quantity = serializers.DecimalField(max_digits=38, decimal_places=18, normalize_output=True)
    side = serializers.CharField(help_text="The taker's side")

    class Meta:
        model = TradeTick
        fields = ["trade_id", "venue", "symbol", "price", "quantity", "side", "traded_at"]


class TradeViewSet(GatewayViewSet, mixins.ListModelMixin):
    """Public trades of one instrument, newest first (`venue` and `symbol` required)."""

    serializer_class = TradeOutput
    ordering = ("-traded_at", "-id")

    instrument = None

    @extend_schema(parameters=[InstrumentQuery])
    def list(self, request: Request, *args, **kwargs) -> Response:
        self.instrument = query(InstrumentQuery, request).instrument()
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        # Before `list` has read the query (the permission check asks too): no trade at all.
        if self.instrument is None:
            return TradeTick.objects.none()
        return TradeTick.objects.filter(instrument=self.instrument).select_related(
            "instrument__exchange"
        )


# --------------------------------------------------------------------------- candles


class CandleQuery(InstrumentQuery):
    interval = serializers.ChoiceField(choices=list(selectors.INTERVALS), default="1m")
    start = serializers.DateTimeField(
        required=False, help_text="ISO 8601; default: `end` minus 100 intervals"
    )
    end = serializers.DateTimeField(required=False, help_text="ISO 8601, exclusive; default: now")

    def validate(self, attrs: dict) -> dict:
        step = selectors.INTERVALS[attrs["interval"]]
        attrs.setdefault("end", timezone.now())
        attrs.setdefault("start", attrs["end"] - 100 * step)
        if attrs["start"] >= attrs["end"]:
            raise serializers.ValidationError({"start": ["Must be before end."]})
        if (attrs["end"] - attrs["start"]) / step > selectors.MAX_CANDLES:
            raise serializers.ValidationError(
                {"start": [f"At most {selectors.MAX_CANDLES} {attrs['interval']} candles a call."]}
            )
        return attrs


class CandleOutput(serializers.Serializer):
    open_time = serializers.DateTimeField()
    open = serializers.DecimalField(max_digits=38, decimal_places=18, normalize_output=True)
    high = serializers.DecimalField(max_digits=38, decimal_places=18, normalize_output=True)
    low = serializers.DecimalField(max_digits=38, decimal_places=18, normalize_output=True)
    close = serializers.DecimalField(max_digits=38, decimal_places=18, normalize_output=True)
    volume = serializers.DecimalField(max_digits=38, decimal_places=18, normalize_output=True)
    trades = serializers.IntegerField()


class CandleViewSet(GatewayViewSet):
    """OHLCV candles of one instrument, oldest first, built from the public trades: 1-minute
    candles as stored, longer intervals folded from them. A minute without trades has none."""

    queryset = Candle.objects.none()  # for the permission (view_candle)
    pagination_class = None  # bounded by MAX_CANDLES instead

    @extend_schema(parameters=[CandleQuery], responses=CandleOutput(many=True))
    def list(self, request: Request) -> Response:
        params = query(CandleQuery, request)
        instrument = params.instrument()
        bars = selectors.candles(
            instrument,
            interval=params.validated_data["interval"],
            start=params.validated_data["start"],
            end=params.validated_data["end"],
        )
        return Response(CandleOutput(bars, many=True).data)


# --------------------------------------------------------------------------- opportunities


class OpportunityOutput(serializers.ModelSerializer):
    buy_exchange = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    sell_exchange = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    is_open = serializers.BooleanField()

    class Meta:
        model = ArbitrageOpportunity
        fields = [
            "id",
            "symbol",
            "buy_exchange",
            "sell_exchange",
            "buy_price",
            "sell_price",
            "size",
            "net_edge_bps",
            "net_edge_quote",
            "best_net_edge_bps",
            "best_net_edge_quote",
            "opened_at",
            "last_seen_at",
            "closed_at",
            "is_open",
        ]
        read_only_fields = fields


class OpportunityFilter(django_filters.FilterSet):
    is_open = django_filters.BooleanFilter(field_name="closed_at", lookup_expr="isnull")
    buy_exchange = django_filters.ModelChoiceFilter(
        queryset=Exchange.objects.all(), to_field_name="slug"
    )
    sell_exchange = django_filters.ModelChoiceFilter(
        queryset=Exchange.objects.all(), to_field_name="slug"
    )
    opened_after = UtcDateTimeFilter(field_name="opened_at", lookup_expr="gte")

    class Meta:
        model = ArbitrageOpportunity
        fields = ["symbol", "is_open", "buy_exchange", "sell_exchange", "opened_after"]


class OpportunityViewSet(GatewayViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Cross-venue arbitrage the connectors found (net of both taker fees), newest first."""

    queryset = ArbitrageOpportunity.objects.select_related("buy_exchange", "sell_exchange")
    serializer_class = OpportunityOutput
    filterset_class = OpportunityFilter
    ordering = ("-opened_at", "-id")
