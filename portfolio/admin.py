"""Admin of positions, balances, ledger entries and reconciliation reports: read-only, the
venues are the source of truth and the portfolio services the only writers. Operators who may
(`portfolio.run_reconciliation`) reconcile accounts now: "Reconcile now" on the accounts to
reconcile, or on the accounts of selected reports."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from gateway_site.admin_base import ReadOnlyAdmin
from portfolio.models import (
    AppliedFill,
    Balance,
    LedgerEntry,
    Position,
    ReconciledAccount,
    ReconciliationCursor,
    ReconciliationReport,
)
from portfolio.reconciliation import reconcile_account

RUN_PERMISSION = "portfolio.run_reconciliation"


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
        "fees",
        "settle_currency",
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


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "executed_at",
        "account",
        "instrument",
        "kind",
        "amount",
        "currency",
        "quantity",
        "price",
        "realized",
        "execution_id",
    ]
    list_filter = ["kind", "account__exchange__venue"]
    search_fields = ["execution_id", "instrument__symbol", "account__label"]
    list_select_related = ["account__exchange", "instrument"]
    date_hierarchy = "executed_at"


@admin.register(AppliedFill)
class AppliedFillAdmin(ReadOnlyAdmin):
    list_display = ["fill", "position", "realized", "applied_at"]
    search_fields = ["fill__trade_id", "position__instrument__symbol"]
    list_select_related = ["fill", "position__instrument"]


@admin.register(ReconciliationCursor)
class ReconciliationCursorAdmin(ReadOnlyAdmin):
    list_display = ["account", "kind", "value", "updated_at"]
    list_select_related = ["account__exchange"]


def _reconcile(modeladmin: admin.ModelAdmin, request: HttpRequest, accounts) -> None:
    """Reconcile each account now and say how each kind ended, one message per account."""
    for account in accounts:
        reports = reconcile_account(account)
        summary = ", ".join(f"{r.kind} {r.status} ({r.mismatches} differed)" for r in reports)
        failed = any(r.status == "error" for r in reports)
        modeladmin.message_user(
            request,
            f"{account}: {summary}",
            level=messages.ERROR if failed else messages.SUCCESS,
        )


class RunsReconciliation:
    def has_run_reconciliation_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(RUN_PERMISSION)


@admin.register(ReconciliationReport)
class ReconciliationReportAdmin(RunsReconciliation, ReadOnlyAdmin):
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
    actions = ["reconcile_again"]

    @admin.action(
        description="Reconcile the accounts of the selected reports now",
        permissions=["run_reconciliation"],
    )
    def reconcile_again(self, request: HttpRequest, queryset: QuerySet) -> None:
        accounts = {
            report.account_id: report.account
            for report in queryset.select_related("account__exchange")
        }
        _reconcile(self, request, accounts.values())


@admin.register(ReconciledAccount)
class ReconciledAccountAdmin(RunsReconciliation, ReadOnlyAdmin):
    list_display = ["label", "exchange", "enabled"]
    list_filter = ["exchange__venue", "enabled"]
    search_fields = ["label"]
    list_select_related = ["exchange"]
    fields = ["exchange", "label", "enabled"]
    actions = ["reconcile_now"]

    @admin.action(description="Reconcile now", permissions=["run_reconciliation"])
    def reconcile_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        _reconcile(self, request, queryset.select_related("exchange"))
