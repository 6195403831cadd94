"""Exchanges, accounts, instruments and grants: thin views over the services and selectors."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from exchanges import services
from exchanges.api import serializers as s
from exchanges.choices import AccountPermission, InstrumentKind, Venue
from exchanges.models import AccountGrant, Exchange, ExchangeAccount, Instrument
from exchanges.selectors import accounts_visible_to
from gateway_site.api.viewsets import GatewayViewSet


class ExchangeViewSet(GatewayViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Deployments of a venue (live, testnet, simulator): admins create and change them."""

    queryset = Exchange.objects.all()
    serializer_class = s.ExchangeOutput
    filterset_fields = ["venue", "environment", "enabled"]
    action_permissions = {"sync_instruments": ["exchanges.change_exchange"]}
    venue_actions = {"sync_instruments"}

    @extend_schema(request=s.ExchangeInput, responses={201: s.ExchangeOutput})
    def create(self, request: Request) -> Response:
        data = s.ExchangeInput(data=request.data)
        data.is_valid(raise_exception=True)
        exchange = services.exchange_create(**data.model_fields())
        return Response(s.ExchangeOutput(exchange).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ExchangeInput(partial=True), responses=s.ExchangeOutput)
    def partial_update(self, request: Request, pk=None) -> Response:
        exchange = self.get_object()
        data = s.ExchangeInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        exchange = services.exchange_update(exchange=exchange, **data.model_fields())
        return Response(s.ExchangeOutput(exchange).data)

    @extend_schema(request=None, responses=s.SyncResultOutput)
    @action(detail=True, methods=["post"])
    def sync_instruments(self, request: Request, pk=None) -> Response:
        """Load the venue's instruments now: what was created, updated and deactivated."""
        created, updated, deactivated = services.instruments_sync(exchange=self.get_object())
        return Response({"created": created, "updated": updated, "deactivated": deactivated})


class AccountFilter(django_filters.FilterSet):
    """The API names the field `permissions`, as the account's input and output do."""

    permissions = django_filters.ChoiceFilter(
        field_name="permission", choices=AccountPermission.choices
    )

    class Meta:
        model = ExchangeAccount
        fields = ["exchange", "enabled", "permissions"]


class AccountViewSet(GatewayViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """API keys on an exchange. Secrets go in, never out; traders see only granted accounts."""

    serializer_class = s.AccountOutput
    filterset_class = AccountFilter
    action_permissions = {"test": ["exchanges.change_exchangeaccount"]}
    venue_actions = {"test"}

    def get_queryset(self):
        return accounts_visible_to(self.request.user)

    @extend_schema(request=s.AccountCreateInput, responses={201: s.AccountOutput})
    def create(self, request: Request) -> Response:
        data = s.AccountCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        account = services.exchange_account_create(
            exchange=values["exchange"],
            label=values["label"],
            api_key=values["api_key"],
            secret=values["api_secret"],
            passphrase=values["passphrase"],
            permission=values["permissions"],
            enabled=values["enabled"],
        )
        return Response(s.AccountOutput(account).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.AccountUpdateInput, responses=s.AccountOutput)
    def partial_update(self, request: Request, pk=None) -> Response:
        account = self.get_object()
        data = s.AccountUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if "api_secret" in values:
            values["secret"] = values.pop("api_secret")
        if "permissions" in values:
            values["permission"] = values.pop("permissions")
        account = services.exchange_account_update(account=account, **values)
        return Response(s.AccountOutput(account).data)

    @extend_schema(request=None, responses=s.AccountTestOutput)
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk=None) -> Response:
        """Check the keys against the venue with a signed read (the account's balances)."""
        balances = services.exchange_account_check(account=self.get_object())
        return Response({"ok": True, "balances": balances})


class InstrumentFilter(django_filters.FilterSet):
    venue = django_filters.ChoiceFilter(field_name="exchange__venue", choices=Venue.choices)
    kind = django_filters.ChoiceFilter(choices=InstrumentKind.choices)
    symbol = django_filters.CharFilter()
    base = django_filters.CharFilter()
    quote = django_filters.CharFilter()
    settle = django_filters.CharFilter()

    class Meta:
        model = Instrument
        fields = ["exchange", "venue", "kind", "base", "quote", "settle", "active", "symbol"]


class InstrumentViewSet(GatewayViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """What each exchange lists, as `sync_instruments` last stored it."""

    queryset = Instrument.objects.select_related("exchange")
    serializer_class = s.InstrumentOutput
    filterset_class = InstrumentFilter


class GrantViewSet(
    GatewayViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin
):
    """Which user may see and trade which account. Admins grant and revoke; a trader sees only
    their own grants."""

    def get_queryset(self):
        grants = AccountGrant.objects.all()
        user = self.request.user
        if not user.is_authenticated:
            return grants.none()
        return grants if user.has_perm("exchanges.view_all_accounts") else grants.filter(user=user)

    serializer_class = s.GrantOutput
    filterset_fields = ["user", "account"]

    @extend_schema(request=s.GrantInput, responses={201: s.GrantOutput})
    def create(self, request: Request) -> Response:
        data = s.GrantInput(data=request.data)
        data.is_valid(raise_exception=True)
        grant = services.account_grant_create(
            user=data.validated_data["user"],
            account=data.validated_data["account"],
            granted_by=request.user.get_username(),
        )
        return Response(s.GrantOutput(grant).data, status=status.HTTP_201_CREATED)
