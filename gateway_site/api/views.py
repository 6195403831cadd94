"""Site-wide endpoints: the API root, who I am, and the audit trail."""

from __future__ import annotations

from auditlog.models import LogEntry
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from exchanges.choices import Role
from exchanges.selectors import accounts_visible_to
from gateway_site.api.viewsets import GatewayViewSet


class RootOutput(serializers.Serializer):
    schema = serializers.URLField()
    docs = serializers.URLField()
    me = serializers.URLField()


@extend_schema(responses=RootOutput, description="Links to the API's parts.")
@api_view(["GET"])
def api_root(request: Request) -> Response:
    return Response(
        {
            "schema": reverse("schema", request=request),
            "docs": reverse("api-docs", request=request),
            "me": reverse("me", request=request),
        }
    )


class MyAccountOutput(serializers.Serializer):
    id = serializers.IntegerField()
    exchange = serializers.IntegerField(source="exchange_id")
    label = serializers.CharField()


class MeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    roles = serializers.ListField(child=serializers.ChoiceField(choices=Role.choices))
    is_superuser = serializers.BooleanField()
    accounts = MyAccountOutput(many=True)


@extend_schema(responses=MeOutput, description="Who I am, my roles and the accounts I see.")
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def me(request: Request) -> Response:
    user = request.user
    roles = sorted(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
    body = {
        "id": user.pk,
        "username": user.get_username(),
        "roles": roles,
        "is_superuser": user.is_superuser,
        "accounts": accounts_visible_to(user).order_by("pk"),
    }
    return Response(MeOutput(body).data)


class AuditOutput(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", allow_null=True, default=None)
    action = serializers.SerializerMethodField()
    object_type = serializers.SerializerMethodField()
    changes = serializers.DictField(
        source="changes_dict",
        child=serializers.ListField(child=serializers.CharField(allow_null=True)),
        help_text="Field: [old, new]. Credentials show only that they changed.",
    )

    class Meta:
        model = LogEntry
        fields = [
            "id",
            "timestamp",
            "actor",
            "remote_addr",
            "action",
            "object_type",
            "object_pk",
            "object_repr",
            "changes",
        ]
        read_only_fields = fields

    def get_action(self, entry: LogEntry) -> str:
        return {0: "create", 1: "update", 2: "delete", 3: "access"}.get(entry.action, "other")

    def get_object_type(self, entry: LogEntry) -> str:
        return f"{entry.content_type.app_label}.{entry.content_type.model}"


class AuditViewSet(GatewayViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Who created or changed exchanges, accounts, risk limits, the kill switch, grants and
    users, when and from where (admins)."""

    queryset = LogEntry.objects.select_related("actor", "content_type")
    serializer_class = AuditOutput
    filterset_fields = ["actor", "object_pk", "content_type"]
    ordering = "-id"
