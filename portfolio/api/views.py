"""Positions, balances and reconciliation: everyone reads the accounts they may see; risk
officers and admins (`portfolio.run_reconciliation`) reconcile an account now."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.request import Request
from rest_framework.response import Response

from exchanges.selectors import accounts_visible_to
from gateway_site.api.viewsets import GatewayViewSet
from portfolio import selectors
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

    def get_queryset(self):
        return selectors.positions_visible_to(self.request.user)


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
