"""Admin of orders, their history and fills: read-only, because the order path (services,
connectors, reconciliation) is the only writer and the history must never change. Operators
act through it: "Cancel selected orders" and "Cancel all open orders of their accounts" call
`orders.services`, and an open order's page has "Amend" (price, quantity, a waiting stop's
trigger), which calls `orders.amend` like the API does."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from exchanges.models import ExchangeAccount
from exchanges.venues.base import VenueError
from gateway_site.admin_base import ReadOnlyAdmin, ReadOnlyInline
from orders import amend, services, state
from orders.models import Fill, Order, OrderEvent, RoutedOrder
from risk.checks import figure


def _figure(required: bool = False) -> forms.DecimalField:
    return forms.DecimalField(required=required, max_digits=38, decimal_places=18)


class AmendForm(forms.Form):
    """The new figures of an open order; an empty field keeps the order's own."""

    price = _figure()
    quantity = _figure()
    trigger_price = _figure()


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    fields = ["sequence", "kind", "from_status", "to_status", "message", "created_at"]
    ordering = ["sequence"]


class FillInline(ReadOnlyInline):
    model = Fill
    fields = ["trade_id", "side", "price", "quantity", "fee", "fee_currency", "liquidity"]


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = [
        "client_order_id",
        "account",
        "instrument",
        "side",
        "order_type",
        "price",
        "trigger_price",
        "quantity",
        "filled_quantity",
        "status",
        "created_at",
    ]
    list_filter = ["status", "side", "order_type", "time_in_force", "account__exchange__venue"]
    search_fields = ["client_order_id", "venue_order_id", "instrument__symbol", "account__label"]
    list_select_related = ["account__exchange", "instrument"]
    date_hierarchy = "created_at"
    inlines = [OrderEventInline, FillInline]
    actions = ["cancel_selected", "cancel_all_of_accounts"]

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("orders.change_order")

    def get_urls(self):
        amend_view = self.admin_site.admin_view(self.amend_view)
        return [path("<int:pk>/amend/", amend_view, name="orders_order_amend"), *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        order = Order.objects.filter(pk=object_id).only("status").first()
        amendable = order is not None and order.status in amend.AMENDABLE
        extra = dict(extra_context or {})
        if amendable and self.has_cancel_permission(request):
            extra["amend_url"] = reverse("admin:orders_order_amend", args=[order.pk])
        return super().change_view(request, object_id, form_url, extra)

    def amend_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The "Amend" page of one order: the form, then `orders.amend.amend_order`; a bad
        figure is shown on its field, a venue or risk refusal as a message."""
        if not self.has_cancel_permission(request):
            raise PermissionDenied
        order = get_object_or_404(Order.objects.select_related("account", "instrument"), pk=pk)
        back = reverse("admin:orders_order_change", args=[order.pk])
        form = AmendForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                amend.amend_order(order, **form.cleaned_data, actor=request.user.get_username())
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            except services.RiskRejected as exc:
                self.message_user(request, f"Refused by {exc.code}: {exc.reason}", messages.ERROR)
            except (VenueError, services.OrderNotOpen) as exc:
                self.message_user(request, f"Not amended: {exc}", messages.ERROR)
                return redirect(back)
            else:
                self.message_user(request, f"{order} amended on the venue.", messages.SUCCESS)
                return redirect(back)
        terms = (
            f"{order.side} {figure(order.quantity)} {order.instrument.symbol} {order.order_type}"
        )
        if order.price is not None:
            terms += f" @ {figure(order.price)}"
        if order.trigger_price is not None:
            terms += f", trigger {figure(order.trigger_price)} ({order.trigger_by})"
        context = {
            **self.admin_site.each_context(request),
            "title": f"Amend {order}",
            "order": order,
            "terms": terms,
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/orders/order/amend.html", context)

    @admin.action(description="Cancel selected orders", permissions=["cancel"])
    def cancel_selected(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        actor = request.user.get_username()
        done, failed = 0, []
        for order in queryset.filter(status__in=state.OPEN_STATUSES):
            try:
                services.cancel_order(order, actor=actor)
                done += 1
            except (VenueError, services.OrderNotOpen) as exc:
                failed.append(f"{order}: {exc}")
        self.message_user(request, f"Cancel sent for {done} order(s).", messages.SUCCESS)
        for line in failed:
            self.message_user(request, line, messages.ERROR)

    @admin.action(
        description="Cancel all open orders of the selected orders' accounts",
        permissions=["cancel"],
    )
    def cancel_all_of_accounts(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        actor = request.user.get_username()
        accounts = ExchangeAccount.objects.filter(pk__in=queryset.values("account_id"))
        for account in accounts.select_related("exchange"):
            try:
                result = services.cancel_all_orders(account, actor=actor)
            except VenueError as exc:
                self.message_user(request, f"{account}: {exc}", messages.ERROR)
                continue
            level = messages.SUCCESS if result.still_open == 0 else messages.WARNING
            self.message_user(
                request,
                f"{account}: {result.venue_canceled} canceled on the venue, "
                f"{'none' if result.still_open == 0 else result.still_open} still open",
                level,
            )


@admin.register(OrderEvent)
class OrderEventAdmin(ReadOnlyAdmin):
    list_display = ["order", "sequence", "kind", "from_status", "to_status", "created_at"]
    list_filter = ["kind", "to_status"]
    search_fields = ["order__client_order_id", "order__venue_order_id", "message"]
    list_select_related = ["order"]
    date_hierarchy = "created_at"


@admin.register(Fill)
class FillAdmin(ReadOnlyAdmin):
    list_display = [
        "trade_id",
        "account",
        "instrument",
        "order",
        "side",
        "price",
        "quantity",
        "fee",
        "fee_currency",
        "liquidity",
        "executed_at",
    ]
    list_filter = ["side", "liquidity", "account__exchange__venue"]
    search_fields = ["trade_id", "venue_order_id", "client_order_id", "instrument__symbol"]
    list_select_related = ["account__exchange", "instrument", "order"]
    date_hierarchy = "executed_at"


class ChildOrderInline(ReadOnlyInline):
    model = Order
    fk_name = "parent"
    fields = [
        "client_order_id",
        "account",
        "instrument",
        "quantity",
        "price",
        "status",
        "filled_quantity",
        "average_fill_price",
        "reject_reason",
    ]
    readonly_fields = fields
    verbose_name = "child order"
    verbose_name_plural = "child orders"


@admin.register(RoutedOrder)
class RoutedOrderAdmin(ReadOnlyAdmin):
    """Routed (parent) orders with their children and the decision, read-only: the decision is
    a record of what routing saw and chose, written once (`orders.routed`)."""

    list_display = [
        "id",
        "symbol",
        "side",
        "order_type",
        "quantity",
        "filled_quantity",
        "average_price",
        "status",
        "created_by",
        "created_at",
    ]
    list_filter = ["status", "side", "order_type"]
    search_fields = ["symbol", "created_by"]
    date_hierarchy = "created_at"
    inlines = [ChildOrderInline]
