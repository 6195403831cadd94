"""How one stream is doing: the figures its `ConnectorStatus` row and the prometheus metrics
show (`marketdata/metrics.py`).

Lag is receive time minus exchange time of each book, trade and ticker event, kept as a
bounded window of the most recent samples (`LAG_WINDOW`), so p50/p99 describe now, not the
process's whole life; the window is a ring, never a growing list. Messages per second is the
count since the previous status write over the time since it.
"""

from __future__ import annotations

import collections
import math
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from exchanges.venues.base import StreamState

LAG_WINDOW = 2_000
MS_QUANTUM = Decimal("0.001")
MAX_LAG_MS = Decimal("999999999999999.999")  # what ConnectorStatus stores (a simulated clock
# can put exchange times months away)
RATE_QUANTUM = Decimal("0.01")
NS_PER_MS = 1_000_000
UP_STATES = frozenset({StreamState.CONNECTED, StreamState.SUBSCRIBED, StreamState.AUTHENTICATED})


def percentile(samples: Iterable[int], fraction: float) -> int | None:
    """The nearest-rank percentile (`fraction` 0.5 = median, 0.99 = p99) of `samples`, or
    None for no samples: the smallest sample with at least `fraction` of them at or below."""
    ordered = sorted(samples)
    if not ordered:
        return None
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


class LagWindow:
    """The last `size` lag samples (ns)."""

    __slots__ = ("samples",)

    def __init__(self, size: int = LAG_WINDOW) -> None:
        self.samples: collections.deque[int] = collections.deque(maxlen=size)

    def add(self, lag_ns: int) -> None:
        self.samples.append(lag_ns)

    def percentile_ms(self, fraction: float) -> Decimal | None:
        value = percentile(self.samples, fraction)
        if value is None:
            return None
        return min((Decimal(value) / NS_PER_MS).quantize(MS_QUANTUM), MAX_LAG_MS)


class StreamHealth:
    """The counters of one exchange's public stream, kept by its connector."""

    def __init__(self) -> None:
        self.state = StreamState.DISCONNECTED
        self.detail = ""
        self.started_at: datetime | None = None
        self.last_message_at: datetime | None = None
        self.messages = 0
        self.reconnects = 0
        self.rebuilds: collections.Counter[str] = collections.Counter()
        self.drift_skipped = 0
        self.lag = LagWindow()
        self._rate_messages = 0
        self._rate_at: float | None = None

    @property
    def up(self) -> bool:
        return self.state in UP_STATES

    @property
    def book_rebuilds(self) -> int:
        return sum(self.rebuilds.values())

    def messages_per_second(self, now: float) -> Decimal:
        """Messages since the previous call over the seconds since it (0 the first time)."""
        previous_at, previous = self._rate_at, self._rate_messages
        self._rate_at, self._rate_messages = now, self.messages
        if previous_at is None or now <= previous_at:
            return Decimal(0)
        rate = Decimal(self.messages - previous) / Decimal(str(round(now - previous_at, 6)))
        return rate.quantize(RATE_QUANTUM)
