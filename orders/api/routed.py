"""Routed orders: `POST /api/v1/orders/routed/` routes one order across the venues of the
caller's accounts (`orders.routed.route_order`), `GET` reads it back with its children and the
decision. A user routes only over the accounts visible to them (`accounts_visible_to`), and
sees only the routed orders whose children or candidate accounts they may see; another's is a
404, as if it did not exist.

Answers: 201 with the parent (also when nothing could be routed: `status` rejected and the
decision says why); a bad field 400 naming it.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from exchanges.models import ExchangeAccount
from exchanges.selectors import accounts_visible_to
from gateway_site.api.fields import Choice, DecimalString, PrimaryKey, Text
from gateway_site.api.throttles import OrderEntryThrottle, UserThrottle
from gateway_site.api.viewsets import GatewayViewSet
from orders import routed
from orders.choices import OrderType, Side
from orders.models import RoutedOrder

DEFAULT_SLIPPAGE_BPS = Decimal(50)


class RoutedInput(serializers.Serializer):
    symbol = Text(max_length=64, help_text="Unified pair, e.g. BTC/USDT:USDT")
    side = Choice(choices=Side.choices)
    type = Choice(choices=OrderType.choices)
    quantity = DecimalString(help_text="Base currency (BTC), whatever each venue counts in")
    price = DecimalString(required=False, allow_null=True, default=None)
    accounts = serializers.ListField(
        child=PrimaryKey(queryset=ExchangeAccount.objects.select_related("exchange")),
        required=False,
        allow_empty=False,
        help_text="Route over these accounts only; default every account you may see",
    )
    max_slippage_bps = DecimalString(
        required=False,
        default=DEFAULT_SLIPPAGE_BPS,
        help_text="Worst fill allowed, in bps from the best price seen (default 50)",
    )

    def __init__(self, *args, accounts=None, **kwargs):
        super().__init__(*args, **kwargs)
        if accounts is not None:
            self.fields["accounts"].child.queryset = accounts

    def validate_quantity(self, value: Decimal) -> Decimal:
        if value <= 0:
            raise serializers.ValidationError("must be positive")
        return value

    def validate_max_slippage_bps(self, value: Decimal) -> Decimal:
        if value < 0:
            raise serializers.ValidationError("must not be negative")
        return value

    def validate(self, data):
        if data["type"] == OrderType.LIMIT and (data["price"] is None or data["price"] <= 0):
            raise serializers.ValidationError({"price": ["a limit order needs a positive price"]})
        if data["type"] == OrderType.MARKET and data["price"] is not None:
            raise serializers.ValidationError({"price": ["a market order takes no price"]})
        return data


class ChildOutput(serializers.Serializer):
    id = serializers.IntegerField()
    account = serializers.IntegerField(source="account_id")
    venue = serializers.CharField(source="account.exchange.venue")
    venue_symbol = serializers.CharField(source="instrument.venue_symbol")
    client_order_id = serializers.CharField()
    quantity = serializers.SerializerMethodField(help_text="Base currency")
    venue_quantity = DecimalString(source="quantity", help_text="The venue's order unit")
    price = DecimalString()
    time_in_force = serializers.CharField()
    status = serializers.CharField()
    filled_quantity = DecimalString(help_text="The venue's order unit")
    average_price = DecimalString(source="average_fill_price")
    reject_reason = serializers.CharField()

    def get_quantity(self, order) -> str:
        return format(routed.quantity_in_base(order), "f")


class RoutedOutput(serializers.ModelSerializer):
    type = serializers.CharField(source="order_type")
    quantity = DecimalString()
    price = DecimalString()
    max_slippage_bps = DecimalString()
    filled_quantity = DecimalString()
    average_price = DecimalString()
    children = ChildOutput(many=True, source="child_orders")

    class Meta:
        model = RoutedOrder
        fields = [
            "id",
            "symbol",
            "side",
            "type",
            "quantity",
            "price",
            "max_slippage_bps",
            "status",
            "filled_quantity",
            "average_price",
            "children",
            "decision",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class RoutedOrderViewSet(GatewayViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Routed (parent) orders: list (newest first, filter by `status`, `symbol`), detail,
    and `create` to route one."""

    serializer_class = RoutedOutput
    ordering = "-id"
    filterset_fields = ["status", "symbol", "side"]

    def get_queryset(self):
        visible = accounts_visible_to(self.request.user)
        return RoutedOrder.objects.filter(
            Q(children__account__in=visible) | Q(created_by=self.request.user.get_username())
        ).distinct()

    def get_throttles(self):
        if self.action == "create":
            return [UserThrottle(), OrderEntryThrottle()]
        return super().get_throttles()

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(
            RoutedOutput([routed.summarize(parent) for parent in page], many=True).data
        )

    def retrieve(self, request: Request, pk=None) -> Response:
        return Response(RoutedOutput(routed.summarize(self.get_object())).data)

    @extend_schema(request=RoutedInput, responses={201: RoutedOutput})
    def create(self, request: Request) -> Response:
        visible = accounts_visible_to(request.user)
        data = RoutedInput(data=request.data, accounts=visible)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        chosen = fields.pop("accounts", None)
        accounts = chosen if chosen is not None else list(visible.select_related("exchange"))
        try:
            parent = routed.route_order(
                symbol=fields["symbol"],
                side=fields["side"],
                quantity=fields["quantity"],
                order_type=fields["type"],
                price=fields["price"],
                accounts=accounts,
                max_slippage_bps=fields["max_slippage_bps"],
                actor=request.user.get_username(),
            )
        except DjangoValidationError as exc:
            raise exceptions.ValidationError({"non_field_errors": exc.messages}) from exc
        return Response(RoutedOutput(parent).data, status=status.HTTP_201_CREATED)
