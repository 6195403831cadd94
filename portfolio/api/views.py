"""Positions, balances and reconciliation: everyone reads the accounts they may see; risk
officers and admins (`portfolio.run_reconciliation`) reconcile an account now."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from exchanges.selectors import accounts_visible_to
from gateway_site.api.errors import error_body
from gateway_site.api.throttles import OrderEntryThrottle, UserThrottle
from gateway_site.api.viewsets import GatewayViewSet
from orders import services
from portfolio import protection, selectors
from portfolio.api import serializers as s
from portfolio.choices import ReconciliationKind, ReconciliationStatus
from portfolio.models import Position, ReconciliationReport
from portfolio.reconciliation import reconcile_account


class PositionFilter(django_filters.FilterSet):
    symbol = django_filters.CharFilter(field_name="instrument__symbol")
    open = django_filters.BooleanFilter(method="filter_open", label="Only non-zero positions")

    class Meta:
        model = Position
        fields = ["account", "instrument", "symbol", "open"]

    def filter_open(self, queryset, name, value):
        return queryset.exclude(quantity=0) if value else queryset.filter(quantity=0)


class PositionViewSet(GatewayViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Each account's position per instrument: the venue's quantity and entry, the gateway's
    realized PnL from fills, unrealized from the latest mark."""

    serializer_class = s.PositionOutput
    filterset_class = PositionFilter
    action_permissions = {"protect": ["orders.add_order", "orders.change_order"]}

    def get_queryset(self):
        return selectors.positions_visible_to(self.request.user)

    def get_throttles(self):
        if self.action == "protect":
            return [UserThrottle(), OrderEntryThrottle()]
        return super().get_throttles()

    @extend_schema(request=None, responses=s.ProtectionOutput)
    @action(detail=True, methods=["get"])
    def protection(self, request: Request, pk=None) -> Response:
        """The position's open stop loss and take profit (`portfolio.protection`)."""
        position = self.get_object()
        return _protection(position, protection.protective_orders(position))

    @extend_schema(
        request=s.ProtectInput,
        responses={
            200: s.ProtectionOutput,
            422: OpenApiResponse(description="A pre-trade risk check refused an order"),
        },
    )
    @protection.mapping.post
    def protect(self, request: Request, pk=None) -> Response:
        """Set, replace or remove the position's stop loss and take profit: reduce-only
        stop-market and take-profit-market orders for the whole position, placed natively on
        the venue (`portfolio.protection`)."""
        position = self.get_object()
        data = s.ProtectInput(data=request.data)
        data.is_valid(raise_exception=True)
        levels = dict(data.validated_data)
        try:
            found = protection.protect_position(
                position,
                stop_loss=levels.pop("stop_loss", protection.KEEP),
                take_profit=levels.pop("take_profit", protection.KEEP),
                trigger_by=levels["trigger_by"],
                actor=request.user.get_username(),
            )
        except services.RiskRejected as exc:
            body = error_body("risk_rejected", exc.reason, check=exc.code)
            return Response(body, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
        return _protection(position, found)


def _protection(position: Position, found: protection.Protection) -> Response:
    return Response(
        s.ProtectionOutput(
            {
                "position": position.pk,
                "stop_loss": found.stop_loss,
                "take_profit": found.take_profit,
            }
        ).data
    )


class BalanceViewSet(GatewayViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Each account's wallet per currency, as the venue last said."""

    serializer_class = s.BalanceOutput
    filterset_fields = ["account", "currency"]

    def get_queryset(self):
        return selectors.balances_visible_to(self.request.user)


class ReportFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=ReconciliationKind.choices)
    status = django_filters.ChoiceFilter(choices=ReconciliationStatus.choices)

    class Meta:
        model = ReconciliationReport
        fields = ["account", "kind", "status"]


class ReportViewSet(GatewayViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Reconciliation reports, newest first: one per kind and run."""

    serializer_class = s.ReportOutput
    filterset_class = ReportFilter
    ordering = "-id"

    def get_queryset(self):
        return selectors.reports_visible_to(self.request.user)


class RunViewSet(GatewayViewSet):
    """Reconcile one account with its venue now."""

    queryset = ReconciliationReport.objects.none()
    action_permissions = {"create": ["portfolio.run_reconciliation"]}

    @extend_schema(request=s.RunInput, responses={200: s.ReportOutput(many=True)})
    def create(self, request: Request) -> Response:
        """The account's orders, fills, positions and balances made equal to the venue's: one
        report per kind (a venue's refusal is a report with status `error`)."""
        data = s.RunInput(data=request.data, accounts=accounts_visible_to(request.user))
        data.is_valid(raise_exception=True)
        reports = reconcile_account(data.validated_data["account"])
        return Response(s.ReportOutput(reports, many=True).data)
