"""The `risk` channel of `/ws/stream`: every risk event as it happens (`risk.notify`), for
users with `risk.view_riskevent` who see every account (`exchanges.view_all_accounts`: viewers,
risk officers, admins); others get `forbidden`, as the events name any account.

Snapshot: the latest `RECENT_EVENTS` events (oldest first), the kill switches engaged now
(global and per account) and the breaker trips halting orders now. Updates: `{"events":
[row, ...]}`. Events never change, so a client that falls behind gets them all, concatenated
into one update (`merge_events`)."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

RISK = "risk"
PERMISSIONS = frozenset({"risk.view_riskevent", "exchanges.view_all_accounts"})
RECENT_EVENTS = 50


def _snapshot() -> dict[str, Any]:
    from exchanges.models import ExchangeAccount
    from risk import notify
    from risk.models import BreakerTrip, KillSwitch, RiskEvent

    events = RiskEvent.objects.order_by("-created_at", "-id")[:RECENT_EVENTS]
    switches = []
    for scope in [None, *ExchangeAccount.objects.order_by("id")]:
        action = KillSwitch.objects.latest_for(scope)
        if action is not None and action.engaged:
            switches.append(notify.kill_switch_data(action))
    trips = BreakerTrip.objects.active().select_related("instrument").order_by("tripped_at", "id")
    return {
        "events": [notify.event_data(event) for event in reversed(list(events))],
        "kill_switches": switches,
        "breaker_trips": [notify.breaker_trip_data(trip) for trip in trips],
    }


@database_sync_to_async
def read_risk_snapshot() -> dict[str, dict[str, Any]]:
    return {RISK: _snapshot()}


def merge_events(previous: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "events": [*previous.get("events", ()), *data.get("events", ())]}
