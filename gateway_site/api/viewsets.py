"""The base of every API viewset: model permissions, the audit actor, PATCH (never PUT), and a
stable order for cursor pagination."""

from rest_framework import viewsets

from gateway_site.api.permissions import AuditedMixin, ModelPermissions


class GatewayViewSet(AuditedMixin, viewsets.GenericViewSet):
    permission_classes = [ModelPermissions]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    ordering = "id"
