"""Admin of risk limits (editable), the kill switch (engage or release by adding an action;
actions are never changed), risk events (read-only), circuit breakers (editable) and their
trips (read-only, with a "reset" action). The schedule of the risk checks is django-celery-beat's
"Periodic tasks" ("Risk checks")."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest

from gateway_site.admin_base import ReadOnlyAdmin
from risk import breaker_service, kill_switch
from risk.models import BreakerTrip, CircuitBreaker, KillSwitch, RiskEvent, RiskLimit


@admin.register(RiskLimit)
class RiskLimitAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "scope",
        "max_order_quantity",
        "max_order_notional",
        "max_position",
        "max_open_orders",
        "max_daily_loss",
        "price_band_pct",
        "trip_kill_switch",
        "enabled",
    ]
    list_filter = ["enabled", "trip_kill_switch", "account"]
    search_fields = ["name", "account__label", "instrument__symbol"]
    list_select_related = ["account__exchange", "instrument"]
    autocomplete_fields = ["instrument"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(KillSwitch)
class KillSwitchAdmin(admin.ModelAdmin):
    list_display = ["created_at", "scope", "engaged", "reason", "engaged_by"]
    list_filter = ["engaged", "account"]
    search_fields = ["reason", "engaged_by"]
    list_select_related = ["account__exchange"]
    date_hierarchy = "created_at"
    fields = ["account", "engaged", "reason", "engaged_by", "created_at"]
    readonly_fields = ["engaged_by", "created_at"]

    @admin.display(description="Scope")
    def scope(self, obj: KillSwitch) -> str:
        return "all accounts" if obj.account_id is None else str(obj.account)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: KillSwitch, form, change: bool) -> None:
        """Engaging cancels every open order of the scope (risk.kill_switch); the action row
        is the one `kill_switch` writes, so the admin shows it."""
        actor = request.user.get_username()
        if obj.engaged:
            saved = kill_switch.engage(reason=obj.reason, account=obj.account, actor=actor)
            saved = saved.action
        else:
            saved = kill_switch.release(reason=obj.reason, account=obj.account, actor=actor)
        obj.pk, obj.engaged_by, obj.created_at = saved.pk, saved.engaged_by, saved.created_at
        obj._state.adding = False


@admin.register(RiskEvent)
class RiskEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "severity", "kind", "account", "order", "message"]
    list_filter = ["severity", "kind", "account"]
    search_fields = ["message", "order__client_order_id"]
    list_select_related = ["account__exchange", "order"]
    date_hierarchy = "created_at"


@admin.register(CircuitBreaker)
class CircuitBreakerAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "instrument",
        "move_pct",
        "window_seconds",
        "cooldown_seconds",
        "enabled",
    ]
    list_filter = ["enabled"]
    search_fields = ["instrument__symbol"]
    list_select_related = ["instrument"]
    autocomplete_fields = ["instrument"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(BreakerTrip)
class BreakerTripAdmin(ReadOnlyAdmin):
    list_display = [
        "tripped_at",
        "instrument",
        "reference_price",
        "mark_price",
        "move_pct",
        "cooldown_until",
        "reset_at",
        "reset_by",
    ]
    list_filter = ["instrument__exchange"]
    search_fields = ["instrument__symbol", "reset_by"]
    list_select_related = ["instrument"]
    date_hierarchy = "tripped_at"
    actions = ["reset"]

    @admin.action(description="Reset: let orders go on these instruments again")
    def reset(self, request: HttpRequest, queryset) -> None:
        """Lift the selected trips that still halt orders; the others are reported, unchanged."""
        actor = request.user.get_username()
        for trip in queryset:
            try:
                breaker_service.reset_trip(trip=trip, actor=actor, reason="reset in admin")
            except ValueError as exc:
                self.message_user(request, str(exc), messages.WARNING)
            else:
                self.message_user(request, f"{trip} reset", messages.SUCCESS)

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        if not request.user.has_perm("risk.change_breakertrip"):
            actions.pop("reset", None)
        return actions
