"""The circuit breaker on the database: which breaker covers an instrument, recording a trip
(a `BreakerTrip`, a critical `RiskEvent`, a metric), the pre-trade question "is this
instrument halted?", and an operator's reset. The decision itself is `risk.breaker`.

The connector service calls `observe_marks` on its database thread every status interval
with the latest mark of each streamed instrument (the same marks it marks positions to); the
recent marks live in memory in that process (`MarkWindows`), so nothing is written per mark,
only per trip. An instrument already halted is not tripped again until its trip lifts.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from exchanges.models import Instrument
from orders import metrics
from risk.breaker import Mark, MarkWindows, Rule, cooldown_until, decide
from risk.choices import RiskEventKind, Severity
from risk.models import BreakerTrip, CircuitBreaker, RiskEvent

logger = logging.getLogger(__name__)
MOVE_PLACES = Decimal("0.0001")


def rule_of(breaker: CircuitBreaker) -> Rule:
    return Rule(
        move_pct=breaker.move_pct,
        window_seconds=breaker.window_seconds,
        cooldown_seconds=breaker.cooldown_seconds,
    )


def breakers_in_force() -> tuple[dict[int, CircuitBreaker], CircuitBreaker | None]:
    """The enabled breakers of single instruments by instrument id, and the default one (the
    oldest enabled breaker without an instrument), None when there is none."""
    own: dict[int, CircuitBreaker] = {}
    default = None
    for breaker in CircuitBreaker.objects.filter(enabled=True).order_by("id"):
        if breaker.instrument_id is None:
            default = default or breaker
        else:
            own[breaker.instrument_id] = breaker
    return own, default


def active_trip(instrument: Instrument, now: datetime | None = None) -> BreakerTrip | None:
    """The trip that halts new orders on `instrument` at `now`, None when it may trade."""
    return (
        BreakerTrip.objects.active(now or timezone.now())
        .filter(instrument=instrument)
        .order_by("-tripped_at", "-id")
        .first()
    )


def _label(instrument: Instrument) -> str:
    return f"{instrument.exchange.venue}:{instrument.symbol}"


@transaction.atomic
def record_trip(
    *, breaker: CircuitBreaker, instrument: Instrument, reference: Mark, current: Mark, move
) -> BreakerTrip:
    """Record one trip, and a critical risk event saying what moved and by how much (the
    move in percent to 4 decimal places, as the trip stores it)."""
    move = Decimal(move).quantize(MOVE_PLACES)
    trip = BreakerTrip.objects.create(
        breaker=breaker,
        instrument=instrument,
        tripped_at=current.at,
        reference_price=reference.price,
        reference_at=reference.at,
        mark_price=current.price,
        move_pct=move,
        cooldown_until=cooldown_until(current.at, breaker.cooldown_seconds),
    )
    RiskEvent.objects.create(
        kind=RiskEventKind.CIRCUIT_BREAKER,
        severity=Severity.CRITICAL,
        message=(
            f"circuit breaker tripped on {instrument.symbol}: mark {current.price} moved "
            f"{move}% from {reference.price} within {breaker.window_seconds}s "
            f"(limit {breaker.move_pct}%); new orders halted"
        ),
        details={
            "trip": trip.pk,
            "instrument": instrument.pk,
            "reference_price": str(reference.price),
            "mark_price": str(current.price),
            "move_pct": str(move),
        },
        created_at=current.at,
    )
    transaction.on_commit(lambda: metrics.count_breaker_trip(_label(instrument)))
    logger.warning("circuit breaker tripped on %s: %s%%", instrument, move)
    return trip


def observe_marks(
    windows: MarkWindows,
    marks: Mapping[int, Decimal | None],
    *,
    now: datetime | None = None,
) -> list[BreakerTrip]:
    """Check each instrument's latest mark (instrument id -> mark) against its recent marks
    in `windows` under the breaker that covers it, record the trips, then keep the marks.
    With no breaker in force nothing is kept: one enabled later starts from fresh marks.
    Returns the trips recorded this round."""
    now = now or timezone.now()
    own, default = breakers_in_force()
    longest = max(
        [b.window_seconds for b in own.values()] + [default.window_seconds if default else 0]
    )
    if longest == 0:
        windows.clear()
        return []
    halted = set(
        BreakerTrip.objects.active(now)
        .filter(instrument_id__in=list(marks))
        .values_list("instrument_id", flat=True)
    )
    trips = []
    candidates = {
        pk: price
        for pk, price in marks.items()
        if price is not None and price > 0 and pk not in halted and (pk in own or default)
    }
    instruments = Instrument.objects.select_related("exchange").in_bulk(list(candidates))
    for pk, price in candidates.items():
        breaker = own.get(pk, default)
        tripped = decide(windows.history(pk), Mark(now, price), rule_of(breaker))
        if tripped is not None and pk in instruments:
            trips.append(
                record_trip(
                    breaker=breaker,
                    instrument=instruments[pk],
                    reference=tripped.reference,
                    current=tripped.current,
                    move=tripped.move_pct,
                )
            )
    windows.add(marks, now, keep_seconds=longest)
    return trips


@transaction.atomic
def reset_trip(
    *, trip: BreakerTrip, actor: str, reason: str, now: datetime | None = None
) -> BreakerTrip:
    """An operator lifts a trip: orders on its instrument may go again. Needs who and why;
    a trip already reset or past its cool-down is refused (nothing to lift)."""
    if not actor.strip() or not reason.strip():
        raise ValueError("resetting a circuit breaker needs a reason and who resets it")
    now = now or timezone.now()
    trip = BreakerTrip.objects.select_for_update().get(pk=trip.pk)
    if not BreakerTrip.objects.active(now).filter(pk=trip.pk).exists():
        raise ValueError(f"trip {trip.pk} is not active: nothing to reset")
    trip.reset_at, trip.reset_by, trip.reset_reason = now, actor, reason
    trip.save(update_fields=["reset_at", "reset_by", "reset_reason"])
    RiskEvent.objects.create(
        kind=RiskEventKind.CIRCUIT_BREAKER,
        severity=Severity.INFO,
        message=f"circuit breaker on {trip.instrument.symbol} reset by {actor}: {reason}",
        details={"trip": trip.pk, "instrument": trip.instrument_id},
        created_at=now,
    )
    return trip
