"""Risk limits, the kill switch, circuit breakers and their trips, and risk events: everyone
reads, risk officers write (and reset trips)."""

from __future__ import annotations

from django.db.models import Q
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from exchanges.selectors import accounts_visible_to
from gateway_site.api.errors import error_body
from gateway_site.api.viewsets import GatewayViewSet
from risk import breaker_service, kill_switch, services
from risk.api import serializers as s
from risk.models import BreakerTrip, CircuitBreaker, KillSwitch, RiskEvent, RiskLimit


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


class RiskEventViewSet(GatewayViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """What the risk checks did or found, newest first (filters: kind, severity, account)."""

    serializer_class = s.RiskEventOutput
    filterset_fields = ["kind", "severity", "account"]
    ordering = "-id"

    def get_queryset(self):
        return _visible(RiskEvent.objects.all(), self.request.user)


class CircuitBreakerViewSet(GatewayViewSet, mixins.ListModelMixin):
    """The circuit breakers' settings; POST adds one (risk officers)."""

    serializer_class = s.CircuitBreakerOutput
    filterset_fields = ["instrument", "enabled"]

    def get_queryset(self):
        return CircuitBreaker.objects.all()

    @extend_schema(request=s.CircuitBreakerInput, responses={201: s.CircuitBreakerOutput})
    def create(self, request: Request) -> Response:
        data = s.CircuitBreakerInput(data=request.data)
        data.is_valid(raise_exception=True)
        breaker = services.circuit_breaker_create(**data.validated_data)
        return Response(s.CircuitBreakerOutput(breaker).data, status=status.HTTP_201_CREATED)


class BreakerTripViewSet(GatewayViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """The breakers' trips, newest first; `reset` lifts an active one (risk officers)."""

    serializer_class = s.BreakerTripOutput
    filterset_fields = ["instrument"]
    ordering = "-id"
    action_permissions = {"reset": ["risk.change_breakertrip"]}

    def get_queryset(self):
        return BreakerTrip.objects.select_related("instrument")

    @extend_schema(request=s.BreakerResetInput, responses=s.BreakerTripOutput)
    @action(detail=True, methods=["post"])
    def reset(self, request: Request, pk=None) -> Response:
        trip = self.get_object()
        data = s.BreakerResetInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            trip = breaker_service.reset_trip(
                trip=trip, actor=request.user.get_username(), reason=data.validated_data["reason"]
            )
        except ValueError as exc:
            return Response(
                error_body("trip_not_active", str(exc)), status=status.HTTP_409_CONFLICT
            )
        return Response(s.BreakerTripOutput(trip).data)
