"""Admin of orders, their history and fills: read-only, because the order path (services,
connectors, reconciliation) is the only writer and the history must never change."""

from __future__ import annotations

from django.contrib import admin

from gateway_site.admin_base import ReadOnlyAdmin, ReadOnlyInline
from orders.models import Fill, Order, OrderEvent


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
