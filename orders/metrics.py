"""Prometheus metrics of the order path (`prometheus-client`), exported at `/metrics` by the
process that sends orders (the web process; a worker on its own registry).

- `gateway_order_entry_seconds`: submission (checks, write, send) to the venue's answer, per
  exchange venue and resulting status;
- `gateway_order_rejects_total`: refusals by reason (`risk check code`, or `venue_<error>`);
- `gateway_kill_switch_engaged`: 1 while the global switch (`account="all"`) or an account's is
  engaged;
- `gateway_reconciliation_differences_total`: differences reconciliation found and fixed;
- `gateway_breaker_trips_total`, `gateway_risk_findings_total`: circuit breaker trips per
  instrument, scheduled risk check findings per kind and severity;
- `gateway_orders_triggered_total`: stop and take-profit orders the venue fired, per venue
  (counted where the venue's messages are applied: the connectors process);
- `gateway_routing_decisions_total`: smart order routing decisions by outcome (`single`: one
  venue, `split`: several, `none`: nothing routable), `gateway_routing_decision_seconds` the
  time to gather the inputs and decide, `gateway_routing_exclusions_total` accounts left out by
  reason, `gateway_routing_reroutes_total` children re-routed after a refusal, by venue.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

ORDER_ENTRY = Histogram(
    "gateway_order_entry_seconds",
    "Order submission to venue acknowledgement, through orders.services",
    ("venue", "status"),
    buckets=(0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5),
)
ORDER_REJECTS = Counter(
    "gateway_order_rejects_total",
    "Orders refused, by reason (risk check or venue error)",
    ("reason",),
)
KILL_SWITCH = Gauge(
    "gateway_kill_switch_engaged", "1 while the kill switch is engaged, per scope", ("account",)
)
RECONCILIATION_DIFFERENCES = Counter(
    "gateway_reconciliation_differences_total",
    "Differences between the gateway and the venue found (and fixed) by reconciliation",
    ("kind",),
)


ORDERS_TRIGGERED = Counter(
    "gateway_orders_triggered_total",
    "Stop and take-profit orders whose trigger the venue reported fired, per venue",
    ("venue",),
)


def observe_entry(venue: str, seconds: float, status: str) -> None:
    ORDER_ENTRY.labels(venue=str(venue), status=str(status)).observe(seconds)


def count_triggered(venue: str) -> None:
    ORDERS_TRIGGERED.labels(venue=str(venue)).inc()


def count_reject(reason: str) -> None:
    ORDER_REJECTS.labels(reason=reason).inc()


def set_kill_switch(account: str, engaged: bool) -> None:
    KILL_SWITCH.labels(account=account).set(1 if engaged else 0)


def count_differences(kind: str, count: int) -> None:
    if count:
        RECONCILIATION_DIFFERENCES.labels(kind=kind).inc(count)


# Risk monitoring (risk.breaker_service, risk.monitor): circuit breaker trips per instrument
# ("venue:symbol") and the scheduled checks' findings per kind and severity.
BREAKER_TRIPS = Counter(
    "gateway_breaker_trips_total", "Circuit breaker trips, per instrument", ("instrument",)
)
RISK_FINDINGS = Counter(
    "gateway_risk_findings_total",
    "Findings of the scheduled risk checks, per kind and severity",
    ("kind", "severity"),
)


def count_breaker_trip(instrument: str) -> None:
    BREAKER_TRIPS.labels(instrument=instrument).inc()


def count_risk_finding(kind: str, severity: str) -> None:
    RISK_FINDINGS.labels(kind=kind, severity=severity).inc()


ROUTING_DECISIONS = Counter(
    "gateway_routing_decisions_total",
    "Smart order routing decisions, by outcome (single, split, none)",
    ("outcome",),
)
ROUTING_DECISION_SECONDS = Histogram(
    "gateway_routing_decision_seconds",
    "Gathering the routing inputs and deciding, before any child is sent",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
)
ROUTING_EXCLUSIONS = Counter(
    "gateway_routing_exclusions_total",
    "Accounts left out of a routing decision, by reason",
    ("reason",),
)
ROUTING_REROUTES = Counter(
    "gateway_routing_reroutes_total",
    "Child orders re-routed after the venue or the order path refused them, by venue",
    ("venue",),
)


def observe_routing(seconds: float, plan) -> None:
    """Count one routing decision (`orders.routing.Plan`), its time and its exclusions."""
    outcome = {0: "none", 1: "single"}.get(len(plan.children), "split")
    ROUTING_DECISIONS.labels(outcome=outcome).inc()
    ROUTING_DECISION_SECONDS.observe(seconds)
    for excluded in plan.excluded:
        ROUTING_EXCLUSIONS.labels(reason=excluded.reason).inc()


def count_reroute(venue: str) -> None:
    ROUTING_REROUTES.labels(venue=venue).inc()
