"""Connector heartbeats (which streams run, and how they are doing) and subscriptions (what
they stream)."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.request import Request
from rest_framework.response import Response

from exchanges.models import Exchange
from exchanges.selectors import accounts_visible_to
from gateway_site.api.viewsets import GatewayViewSet
from marketdata import services
from marketdata.api import serializers as s
from marketdata.models import ConnectorStatus, Subscription


class ConnectorViewSet(GatewayViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    serializer_class = s.ConnectorOutput
    filterset_fields = ["exchange", "account", "stream", "state"]

    def get_queryset(self):
        visible = accounts_visible_to(self.request.user)
        return ConnectorStatus.objects.filter(Q(account__isnull=True) | Q(account__in=visible))


class SubscriptionFilter(django_filters.FilterSet):
    exchange = django_filters.ModelChoiceFilter(
        field_name="instrument__exchange", queryset=Exchange.objects.all()
    )
    symbol = django_filters.CharFilter(field_name="instrument__symbol")

    class Meta:
        model = Subscription
        fields = ["instrument", "exchange", "symbol", "enabled"]


class SubscriptionViewSet(GatewayViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """What the connectors stream per instrument; a change takes effect within seconds,
    without a restart (`CONNECTOR_RELOAD_SECONDS`)."""

    queryset = Subscription.objects.select_related("instrument")
    serializer_class = s.SubscriptionOutput
    filterset_class = SubscriptionFilter

    @extend_schema(request=s.SubscriptionCreateInput, responses={201: s.SubscriptionOutput})
    def create(self, request: Request) -> Response:
        data = s.SubscriptionCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = services.subscription_create(**data.validated_data)
        return Response(s.SubscriptionOutput(subscription).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.SubscriptionUpdateInput, responses=s.SubscriptionOutput)
    def partial_update(self, request: Request, pk=None) -> Response:
        data = s.SubscriptionUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        subscription = services.subscription_update(
            subscription=self.get_object(), **data.validated_data
        )
        return Response(s.SubscriptionOutput(subscription).data)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, pk=None) -> Response:
        services.subscription_delete(subscription=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
