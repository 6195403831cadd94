"""The circuit breaker's decision, pure (no Django, no I/O): does a mark price that moved more
than a set percentage within a set window halt new orders on its instrument, and is a halt
still in force?

The connector process keeps, per instrument, the marks it saw within the longest configured
window (`MarkWindows`); each round it hands the newest marks to `risk.breaker_service.observe_marks`,
which asks `decide` and records a trip. The reference of a move is the mark in the window
farthest from the current one, so a shock is seen whichever way it goes and however it is
spread over the window. A mark exactly `window_seconds` old is still in the window. A move
trips only when it is strictly more than `move_pct` percent of the reference (the issue's
"more than a set percentage").

A trip lasts until an operator resets it, or, when the breaker has a cool-down, until the
cool-down has passed since the trip (`is_active`). A cool-down of zero means "until reset".
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class Mark:
    at: datetime
    price: Decimal


@dataclass(frozen=True, slots=True)
class Rule:
    """One breaker's settings: trip on a move of more than `move_pct` percent within
    `window_seconds`; a trip lifts by itself after `cooldown_seconds` (0: only by a reset)."""

    move_pct: Decimal
    window_seconds: int
    cooldown_seconds: int = 0

    def __post_init__(self) -> None:
        if self.move_pct <= 0:
            raise ValueError(f"move_pct must be greater than zero, not {self.move_pct}")
        if self.window_seconds <= 0:
            raise ValueError(f"window_seconds must be greater than zero, not {self.window_seconds}")
        if self.cooldown_seconds < 0:
            raise ValueError(f"cooldown_seconds must not be negative, not {self.cooldown_seconds}")


@dataclass(frozen=True, slots=True)
class Tripped:
    """Why the breaker tripped: the reference mark, the current one and the move between them in
    percent of the reference (signed: negative for a fall)."""

    reference: Mark
    current: Mark
    move_pct: Decimal


def move_pct(reference: Decimal, current: Decimal) -> Decimal:
    """The move from `reference` to `current`, in percent of `reference`."""
    if reference <= 0:
        raise ValueError(f"a reference mark must be positive, not {reference}")
    return (current - reference) / reference * HUNDRED


def in_window(marks: Iterable[Mark], now: datetime, window_seconds: int) -> list[Mark]:
    """The marks at most `window_seconds` old at `now` (and none from the future)."""
    start = now - timedelta(seconds=window_seconds)
    return [mark for mark in marks if start <= mark.at <= now]


def decide(history: Iterable[Mark], current: Mark, rule: Rule) -> Tripped | None:
    """Trip when `current` is more than `rule.move_pct` percent away from a mark of `history`
    within the window ending at `current.at`; the reference is the farthest such mark."""
    if current.price <= 0:
        return None
    candidates = [m for m in in_window(history, current.at, rule.window_seconds) if m.price > 0]
    if not candidates:
        return None
    reference = max(candidates, key=lambda m: (abs(current.price - m.price), -m.at.timestamp()))
    move = move_pct(reference.price, current.price)
    if abs(move) > rule.move_pct:
        return Tripped(reference=reference, current=current, move_pct=move)
    return None


def cooldown_until(tripped_at: datetime, cooldown_seconds: int) -> datetime | None:
    """When a trip lifts by itself; None when only a reset lifts it."""
    if cooldown_seconds <= 0:
        return None
    return tripped_at + timedelta(seconds=cooldown_seconds)


def is_active(*, until: datetime | None, reset_at: datetime | None, now: datetime) -> bool:
    """A trip halts orders until it is reset, or until its cool-down end (`until`) is reached."""
    if reset_at is not None and reset_at <= now:
        return False
    return until is None or now < until


class MarkWindows:
    """The recent marks of each instrument, kept for `keep_seconds` (the longest window of the
    breakers in force), in the order they were seen. Cheap enough for the connector process:
    one deque per instrument, trimmed from the left as marks age out."""

    def __init__(self) -> None:
        self._marks: dict[int, deque[Mark]] = {}

    def clear(self) -> None:
        self._marks.clear()

    def history(self, instrument_id: int) -> list[Mark]:
        return list(self._marks.get(instrument_id, ()))

    def add(self, marks: Mapping[int, Decimal | None], now: datetime, keep_seconds: int) -> None:
        """Record each instrument's mark at `now` (a missing or non-positive mark is skipped),
        and forget marks older than `keep_seconds`."""
        start = now - timedelta(seconds=keep_seconds)
        for instrument_id, price in marks.items():
            if price is not None and price > 0:
                self._marks.setdefault(instrument_id, deque()).append(Mark(now, price))
        for instrument_id in list(self._marks):
            window = self._marks[instrument_id]
            while window and window[0].at < start:
                window.popleft()
            if not window:
                del self._marks[instrument_id]
