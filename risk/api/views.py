"""Risk limits and the kill switch: everyone reads, risk officers write."""

from __future__ import annotations

from django.db.models import Q
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.request import Request
from rest_framework.response import Response

from exchanges.selectors import accounts_visible_to
from gateway_site.api.viewsets import GatewayViewSet
from risk import kill_switch, services
from risk.api import serializers as s
from risk.models import KillSwitch, RiskLimit


def _visible(queryset, user):
    """Rows of every account (account empty) or of an account `user` may see."""
    return queryset.filter(Q(account__isnull=True) | Q(account__in=accounts_visible_to(user)))


class RiskLimitViewSet(GatewayViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    serializer_class = s.RiskLimitOutput
    filterset_fields = ["account", "instrument", "enabled"]

    def get_queryset(self):
        return _visible(
            RiskLimit.objects.select_related("account__exchange", "instrument"), self.request.user
        )

    @extend_schema(request=s.RiskLimitInput, responses={201: s.RiskLimitOutput})
    def create(self, request: Request) -> Response:
        data = s.RiskLimitInput(data=request.data)
        data.is_valid(raise_exception=True)
        limit = services.risk_limit_create(**data.validated_data)
        return Response(s.RiskLimitOutput(limit).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.RiskLimitInput(partial=True), responses=s.RiskLimitOutput)
    def partial_update(self, request: Request, pk=None) -> Response:
        limit = self.get_object()
        data = s.RiskLimitInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        limit = services.risk_limit_update(limit=limit, **data.validated_data)
        return Response(s.RiskLimitOutput(limit).data)


class KillSwitchViewSet(GatewayViewSet, mixins.ListModelMixin):
    """The kill switch's history, newest first; POST engages or releases it."""

    serializer_class = s.KillSwitchOutput
    filterset_fields = ["account", "engaged"]
    ordering = "-id"

    def get_queryset(self):
        return _visible(KillSwitch.objects.all(), self.request.user)

    @extend_schema(request=s.KillSwitchInput, responses={201: s.KillSwitchOutput})
    def create(self, request: Request) -> Response:
        data = s.KillSwitchInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields, actor = data.validated_data, request.user.get_username()
        if fields["engaged"]:
            action = kill_switch.engage(
                reason=fields["reason"], account=fields.get("account"), actor=actor
            ).action
        else:
            action = kill_switch.release(
                reason=fields["reason"], account=fields.get("account"), actor=actor
            )
        return Response(s.KillSwitchOutput(action).data, status=status.HTTP_201_CREATED)
