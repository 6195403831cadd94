"""Connector heartbeats: which streams run, and how they are doing."""

from __future__ import annotations

from django.db.models import Q
from rest_framework import mixins

from exchanges.selectors import accounts_visible_to
from gateway_site.api.viewsets import GatewayViewSet
from marketdata.api.serializers import ConnectorOutput
from marketdata.models import ConnectorStatus


class ConnectorViewSet(GatewayViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    serializer_class = ConnectorOutput
    filterset_fields = ["exchange", "account", "stream", "state"]

    def get_queryset(self):
        visible = accounts_visible_to(self.request.user)
        return ConnectorStatus.objects.filter(Q(account__isnull=True) | Q(account__in=visible))
