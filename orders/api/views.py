"""Orders and fills: thin views over `orders.services` (submit, amend, cancel, cancel-all) and
read-only lists. A user reaches only the accounts visible to them (`accounts_visible_to`:
traders, those granted to them); another account's order is a 404, as if it did not exist.

Answers: a new order is 201, the same client order id again 200 with the order first made; a
bad field 400 naming it; a pre-trade risk refusal 422 (`risk_rejected`, with the check); an
amend or cancel of a closed order 409; a venue refusal of a new order is the order itself,
`rejected`, with the venue's code and message in `reject_reason`.
"""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from exchanges.selectors import accounts_visible_to
from gateway_site.api.errors import error_body
from gateway_site.api.throttles import OrderEntryThrottle, UserThrottle
from gateway_site.api.viewsets import GatewayViewSet
from orders import amend, services
from orders.api import serializers as s
from orders.choices import OrderStatus
from orders.models import Fill, Order
from orders.state import OPEN_STATUSES


class OrderFilter(django_filters.FilterSet):
    symbol = django_filters.CharFilter(field_name="instrument__symbol")
    status = django_filters.ChoiceFilter(choices=OrderStatus.choices)
    open = django_filters.BooleanFilter(
        method="filter_open", help_text="true: every open status (pending_new, new, ...)"
    )

    class Meta:
        model = Order
        fields = ["account", "status", "open", "symbol", "side", "is_external"]

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        if value:
            return queryset.filter(status__in=OPEN_STATUSES)
        return queryset.exclude(status__in=OPEN_STATUSES)


class OrderViewSet(GatewayViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    serializer_class = s.OrderOutput
    filterset_class = OrderFilter
    ordering = "-id"
    action_permissions = {
        "amend": ["orders.change_order"],
        "cancel": ["orders.change_order"],
        "cancel_all": ["orders.change_order"],
    }
    venue_actions = {"create", "amend", "cancel", "cancel_all"}

    def get_queryset(self):
        orders = Order.objects.select_related("instrument", "account").filter(
            account__in=accounts_visible_to(self.request.user)
        )
        if self.action == "retrieve":
            orders = orders.prefetch_related("events", "fills__instrument")
        return orders

    def get_serializer_class(self):
        return s.OrderDetailOutput if self.action == "retrieve" else s.OrderOutput

    def get_throttles(self):
        if self.action in self.venue_actions:
            return [UserThrottle(), OrderEntryThrottle()]
        return super().get_throttles()

    def _actor(self) -> str:
        return self.request.user.get_username()

    @extend_schema(request=s.OrderInput, responses={201: s.OrderOutput, 200: s.OrderOutput})
    def create(self, request: Request) -> Response:
        data = s.OrderInput(data=request.data, accounts=accounts_visible_to(request.user))
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields["order_type"] = fields.pop("type")
        try:
            done = services.submit_order(**fields, actor=self._actor())
        except services.RiskRejected as exc:
            return _risk_rejected(exc)
        return Response(
            s.OrderOutput(done.order).data,
            status=status.HTTP_201_CREATED if done.created else status.HTTP_200_OK,
        )

    @extend_schema(request=s.AmendInput, responses=s.OrderOutput)
    @action(detail=True, methods=["post"])
    def amend(self, request: Request, pk=None) -> Response:
        order = self.get_object()
        data = s.AmendInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            order = amend.amend_order(order, **data.validated_data, actor=self._actor())
        except services.RiskRejected as exc:
            return _risk_rejected(exc)
        except services.OrderNotOpen as exc:
            raise Conflict(str(exc)) from exc
        order.refresh_from_db()
        return Response(s.OrderOutput(order).data)

    @extend_schema(request=None, responses=s.OrderOutput)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk=None) -> Response:
        order = self.get_object()
        try:
            order = services.cancel_order(order, actor=self._actor())
        except services.OrderNotOpen as exc:
            raise Conflict(str(exc)) from exc
        return Response(s.OrderOutput(order).data)

    @extend_schema(request=s.CancelAllInput, responses=s.CancelAllOutput)
    @action(detail=False, methods=["post"])
    def cancel_all(self, request: Request) -> Response:
        data = s.CancelAllInput(data=request.data, accounts=accounts_visible_to(request.user))
        data.is_valid(raise_exception=True)
        account = data.validated_data["account"]
        result = services.cancel_all_orders(
            account, symbol=data.validated_data["symbol"], actor=self._actor()
        )
        body = {
            "account": account.pk,
            "venue_canceled": result.venue_canceled,
            "rounds": result.rounds,
            "rate_limited": result.rate_limited,
            "still_open": result.still_open,
        }
        return Response(s.CancelAllOutput(body).data)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "order_not_open"


def _risk_rejected(exc: services.RiskRejected) -> Response:
    body = error_body("risk_rejected", exc.reason, check=exc.code)
    return Response(body, status=status.HTTP_422_UNPROCESSABLE_ENTITY)


class FillViewSet(GatewayViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    serializer_class = s.FillOutput
    filterset_fields = ["account", "order", "side", "liquidity"]
    ordering = "-id"

    def get_queryset(self):
        return Fill.objects.select_related("instrument").filter(
            account__in=accounts_visible_to(self.request.user)
        )
