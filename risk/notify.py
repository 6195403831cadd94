"""Risk news to every web process's `/ws/stream` channel `risk`.

Every `RiskEvent` (a pre-trade refusal, a scheduled check's finding, a breaker trip or reset,
a kill switch engaged or released) is published on `risk` once its transaction commits
(`risk.apps` connects `publish_event_after_commit` to the event's creation, so no caller can
forget it). An update's data is `{"events": [row]}`; the snapshot a subscriber gets first
(`marketdata.stream.risk`) adds the state now: `kill_switches` engaged and `breaker_trips`
halting orders. An event of one account also goes to that account's channel `risk_events.<id>`
(`marketdata.stream.private`), which its traders read. Rows carry the REST API's field names (`/api/v1/risk-events/`,
`/api/v1/kill-switch/`, `/api/v1/circuit-breakers/trips/`), decimals as strings.
"""

from __future__ import annotations

from typing import Any

from orders.notify import RISK_EVENTS, money, publish, publish_account_event, when

RISK = "risk"


def event_data(event: Any) -> dict[str, Any]:
    return {
        "id": event.pk,
        "kind": event.kind,
        "severity": event.severity,
        "account": event.account_id,
        "order": event.order_id,
        "message": event.message,
        "details": event.details,
        "created_at": when(event.created_at),
    }


def kill_switch_data(action: Any) -> dict[str, Any]:
    return {
        "id": action.pk,
        "account": action.account_id,
        "engaged": action.engaged,
        "reason": action.reason,
        "engaged_by": action.engaged_by,
        "created_at": when(action.created_at),
    }


def breaker_trip_data(trip: Any) -> dict[str, Any]:
    return {
        "id": trip.pk,
        "breaker": trip.breaker_id,
        "instrument": trip.instrument_id,
        "symbol": trip.instrument.symbol,
        "tripped_at": when(trip.tripped_at),
        "reference_price": money(trip.reference_price),
        "mark_price": money(trip.mark_price),
        "move_pct": money(trip.move_pct),
        "cooldown_until": when(trip.cooldown_until),
    }


def publish_event_after_commit(sender, instance, created: bool, **kwargs) -> None:
    """`post_save` receiver of `RiskEvent`: publish a new event once it is committed."""
    if not created:
        return
    from django.db import transaction

    row = event_data(instance)
    data = {"events": [row]}
    transaction.on_commit(lambda: publish(RISK, data))
    if instance.account_id is not None:
        account = instance.account_id
        transaction.on_commit(lambda: publish_account_event(account, RISK_EVENTS, row))
