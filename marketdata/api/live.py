"""Live market data over REST: the latest ticker, book and consolidated book, as the connectors
last published them (`marketdata.feed`: the cache holds each channel's latest state; Redis
when `REDIS_URL` is set, so every web process answers the same).

A book is served only while it is valid: the connectors remove a book's state when they find
it wrong (sequence gap, checksum, stale, drift) and publish it again once rebuilt; until then
the answer is 404 `not_found`, as for a book not received yet.
"""

from __future__ import annotations

from django.core.cache import cache
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from exchanges.choices import Venue
from exchanges.models import Instrument
from gateway_site.api.permissions import ModelPermissions
from gateway_site.api.schema import ErrorSerializer
from marketdata import feed
from marketdata.models import TopOfBookSnapshot
from marketdata.selectors import NotListed, listed_instrument

NO_DATA = OpenApiResponse(ErrorSerializer, description="Nothing received for it yet (`not_found`).")


# --------------------------------------------------------------------------- query parameters


# CCXT's unified symbol: BASE/QUOTE, then :SETTLE for derivatives, -YYMMDD for dated ones and
# -STRIKE-C|P for options (BTC/USD:BTC-261225-100000-C).
UNIFIED_SYMBOL = r"^[A-Za-z0-9]+/[A-Za-z0-9]+(:[A-Za-z0-9]+(-[0-9]{6}(-[0-9.]+-[CP])?)?)?$"


def symbol_field(help_text: str) -> serializers.RegexField:
    return serializers.RegexField(
        UNIFIED_SYMBOL,
        max_length=64,
        help_text=help_text,
        error_messages={"invalid": "Not a unified symbol (BASE/QUOTE[:SETTLE[-YYMMDD...]])."},
    )


class InstrumentQuery(serializers.Serializer):
    venue = serializers.ChoiceField(choices=Venue.choices)
    symbol = symbol_field("Unified symbol: BTC/USDT:USDT")
    exchange = serializers.SlugField(
        required=False, help_text="Exchange slug, when two enabled exchanges of the venue list it"
    )

    def instrument(self) -> Instrument:
        try:
            return listed_instrument(
                venue=self.validated_data["venue"],
                symbol=self.validated_data["symbol"],
                exchange=self.validated_data.get("exchange"),
            )
        except NotListed as missing:
            raise serializers.ValidationError({missing.field: [missing.message]}) from None


class BookQuery(InstrumentQuery):
    depth = serializers.IntegerField(min_value=1, max_value=50, default=feed.BOOK_DEPTH)


class PairQuery(serializers.Serializer):
    symbol = symbol_field("Unified pair: BTC/USDT:USDT")


class TickerListQuery(serializers.Serializer):
    venue = serializers.ChoiceField(choices=Venue.choices, required=False)


def query(serializer_class, request: Request):
    """The validated query parameters; a parameter given twice is refused, not half-read."""
    repeated = {
        name: ["Given more than once."]
        for name in serializer_class().fields
        if len(request.query_params.getlist(name)) > 1
    }
    if repeated:
        raise serializers.ValidationError(repeated)
    params = serializer_class(data=request.query_params.dict())
    params.is_valid(raise_exception=True)
    return params


# --------------------------------------------------------------------------- responses


class LevelsField(serializers.ListField):
    child = serializers.ListField(child=serializers.CharField(), min_length=2, max_length=2)


class BookOutput(serializers.Serializer):
    venue = serializers.CharField()
    symbol = serializers.CharField()
    sequence = serializers.IntegerField(allow_null=True)
    bids = LevelsField(help_text="[price, size] pairs, best first, as Decimal strings")
    asks = LevelsField(help_text="[price, size] pairs, best first, as Decimal strings")
    exchange_time = serializers.CharField(allow_null=True)
    received_at = serializers.CharField(allow_null=True)


class TickerOutput(serializers.Serializer):
    venue = serializers.CharField()
    symbol = serializers.CharField()
    best_bid = serializers.CharField(allow_null=True)
    best_bid_size = serializers.CharField(allow_null=True)
    best_ask = serializers.CharField(allow_null=True)
    best_ask_size = serializers.CharField(allow_null=True)
    last_price = serializers.CharField(allow_null=True)
    mark_price = serializers.CharField(allow_null=True)
    index_price = serializers.CharField(allow_null=True)
    funding_rate = serializers.CharField(allow_null=True)
    open_interest = serializers.CharField(allow_null=True)
    exchange_time = serializers.CharField(allow_null=True)
    received_at = serializers.CharField(allow_null=True)


class ConsolidatedOutput(serializers.Serializer):
    symbol = serializers.CharField()
    venues = serializers.ListField(child=serializers.CharField())
    bids = serializers.ListField(child=serializers.DictField(), help_text="best first")
    asks = serializers.ListField(child=serializers.DictField(), help_text="best first")


# --------------------------------------------------------------------------- views


class LiveViewSet(viewsets.ViewSet):
    """Reading live market data needs the view permission on top-of-book samples, which every
    role has."""

    permission_classes = [ModelPermissions]
    queryset = TopOfBookSnapshot.objects.none()  # what ModelPermissions reads the model from

    @extend_schema(parameters=[BookQuery], responses={200: BookOutput, 404: NO_DATA})
    def book(self, request: Request) -> Response:
        """The latest valid book of an instrument, `depth` levels a side (best first)."""
        params = query(BookQuery, request)
        instrument = params.instrument()
        data = _latest(feed.book_channel(instrument.exchange.venue, instrument.symbol))
        depth = params.validated_data["depth"]
        return Response({**data, "bids": data["bids"][:depth], "asks": data["asks"][:depth]})

    @extend_schema(parameters=[InstrumentQuery], responses={200: TickerOutput, 404: NO_DATA})
    def ticker(self, request: Request) -> Response:
        """The latest ticker of an instrument."""
        instrument = query(InstrumentQuery, request).instrument()
        return Response(_latest(feed.ticker_channel(instrument.exchange.venue, instrument.symbol)))

    @extend_schema(parameters=[TickerListQuery], responses=TickerOutput(many=True))
    def tickers(self, request: Request) -> Response:
        """The latest ticker of every active instrument of the enabled exchanges that has one,
        by venue and symbol."""
        venue = query(TickerListQuery, request).validated_data.get("venue")
        listed = Instrument.objects.filter(exchange__enabled=True, active=True)
        if venue:
            listed = listed.filter(exchange__venue=venue)
        channels = sorted(
            {feed.ticker_channel(v, s) for v, s in listed.values_list("exchange__venue", "symbol")}
        )
        found = cache.get_many([feed.latest_key(channel) for channel in channels])
        return Response([found[key] for key in map(feed.latest_key, channels) if key in found])

    @extend_schema(parameters=[PairQuery], responses={200: ConsolidatedOutput, 404: NO_DATA})
    def consolidated(self, request: Request) -> Response:
        """The latest consolidated book of a pair across the venues that list it (sizes in the
        base currency)."""
        pair = query(PairQuery, request).validated_data["symbol"]
        return Response(_latest(feed.consolidated_channel(pair)))


def _latest(channel: str) -> dict:
    data = cache.get(feed.latest_key(channel))
    if data is None:
        raise exceptions.NotFound(f"No data for {channel} yet.")
    return data


book = LiveViewSet.as_view({"get": "book"})
ticker = LiveViewSet.as_view({"get": "ticker"})
tickers = LiveViewSet.as_view({"get": "tickers"})
consolidated = LiveViewSet.as_view({"get": "consolidated"})
