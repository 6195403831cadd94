"""Admin of positions, balances and reconciliation reports: read-only, the venues are the
source of truth and the portfolio services the only writers."""

from __future__ import annotations

from django.contrib import admin

from gateway_site.admin_base import ReadOnlyAdmin
from portfolio.models import Balance, Position, ReconciliationReport


@admin.register(Position)
class PositionAdmin(ReadOnlyAdmin):
    list_display = [
        "account",
        "instrument",
        "quantity",
        "entry_price",
        "mark_price",
        "liquidation_price",
        "unrealized_pnl",
        "realized_pnl",
        "updated_at",
    ]
    list_filter = ["account__exchange__venue", "account"]
    search_fields = ["instrument__symbol", "instrument__venue_symbol", "account__label"]
    list_select_related = ["account__exchange", "instrument"]


@admin.register(Balance)
class BalanceAdmin(ReadOnlyAdmin):
    list_display = ["account", "currency", "total", "available", "locked", "updated_at"]
    list_filter = ["account__exchange__venue", "currency"]
    search_fields = ["currency", "account__label"]
    list_select_related = ["account__exchange"]


@admin.register(ReconciliationReport)
class ReconciliationReportAdmin(ReadOnlyAdmin):
    list_display = [
        "account",
        "kind",
        "status",
        "checked",
        "mismatches",
        "started_at",
        "finished_at",
    ]
    list_filter = ["kind", "status", "account__exchange__venue"]
    search_fields = ["account__label"]
    list_select_related = ["account__exchange"]
    date_hierarchy = "started_at"
