"""The connectors' own copy of each subscribed book, and the pure decisions about it.

A book is published only while it is *valid*: from a `BookSnapshot` until something says it
may be wrong — a `StreamStatus(RESYNCING)` for its symbol (the adapter found a sequence gap, a
checksum mismatch or a dropped event), a disconnect, a crossed book after an event, no book
event for `BOOK_STALE_SECONDS` (the feed that silently stops), or a REST snapshot that
disagrees with it at the same sequence (drift). An invalid book is emptied and waits for its
next snapshot; the connector resubscribes it where the adapter will not by itself.

Drift. The REST snapshot carries the venue's sequence (OKX `seqId`, Deribit `change_id`); the
live book keeps its top `DRIFT_DEPTH` levels after each of its last `HISTORY` events by
sequence, so the two are compared at the same sequence, not at whatever moment each was
taken. A snapshot whose sequence the history does not hold (the book moved on, or skipped it
in an aggregated update), or whose venue puts REST and stream books on different chains
(`VenueAdapter.rest_book_shares_stream_sequence`: Bybit), cannot
be compared: the check is skipped and counted.
"""

from __future__ import annotations

import collections
import enum
from collections.abc import Sequence
from dataclasses import dataclass

from exchanges.venues.base import BookDelta, BookSnapshot, PriceLevel
from exchanges.venues.book import OrderBook

HISTORY = 200  # sequences of a book's recent tops kept for the drift check
DRIFT_DEPTH = 10  # levels per side compared with the REST snapshot

# why a book was dropped and rebuilt (the `reason` label of BOOK_REBUILDS)
GAP, CHECKSUM, BEHIND, DISCONNECT, CROSSED, STALE, DRIFT = (
    "gap",
    "checksum",
    "behind",
    "disconnect",
    "crossed",
    "stale",
    "drift",
)


def resync_reason(detail: str) -> str:
    """The rebuild reason of an adapter's RESYNCING status, from its detail text (the
    adapters say "checksum" or "fell behind"; anything else is a sequence gap)."""
    text = detail.lower()
    if "checksum" in text:
        return CHECKSUM
    if "behind" in text:
        return BEHIND
    return GAP


@dataclass(frozen=True, slots=True)
class Top:
    """A book's best levels at one sequence."""

    sequence: int | None
    bids: tuple[PriceLevel, ...]
    asks: tuple[PriceLevel, ...]


class LiveBook:
    """One subscribed book: the levels, whether they may be published, when it last heard
    from the venue, and its recent tops by sequence. Times are the loop's monotonic seconds."""

    __slots__ = (
        "book",
        "depth",
        "drift_depth",
        "exchange_ts",
        "history",
        "invalid_since",
        "last_event_at",
        "receive_ts",
        "valid",
    )

    def __init__(
        self,
        symbol: str,
        *,
        depth: int,
        now: float,
        history: int = HISTORY,
        drift_depth: int = DRIFT_DEPTH,
    ) -> None:
        self.book = OrderBook(symbol)
        self.depth = depth
        self.drift_depth = drift_depth
        self.valid = False
        self.last_event_at = now
        self.invalid_since: float | None = now  # waiting for the first snapshot
        self.exchange_ts = 0
        self.receive_ts = 0
        self.history: collections.deque[Top] = collections.deque(maxlen=history)

    @property
    def symbol(self) -> str:
        return self.book.symbol

    def apply(self, event: BookSnapshot | BookDelta, now: float) -> bool | None:
        """Apply a book event. True: the book is valid and changed (publish it); False: the
        event left it crossed, so it is now invalid (rebuild it); None: ignored (a delta to
        an invalid book, which waits for its snapshot)."""
        self.last_event_at = now
        if type(event) is BookSnapshot:
            self.book.apply_snapshot(event.bids, event.asks, event.sequence)
            self.valid = True
            self.invalid_since = None
            self.history.clear()
        elif not self.valid:
            return None
        else:
            self.book.apply_delta(event.bids, event.asks, event.sequence)
        if self.book.is_crossed():
            self.invalidate(now)
            return False
        self.exchange_ts = event.exchange_ts
        self.receive_ts = event.receive_ts
        bids, asks = self.book.top(self.drift_depth)
        self.history.append(Top(self.book.sequence, tuple(bids), tuple(asks)))
        return True

    def invalidate(self, now: float) -> bool:
        """Drop the levels until the next snapshot; True if the book was valid until now."""
        was_valid = self.valid
        self.valid = False
        self.book.clear()
        self.history.clear()
        if was_valid or self.invalid_since is None:
            self.invalid_since = now
        return was_valid

    def waiting(self, now: float) -> None:
        """A resubscribe was asked for: the wait for the snapshot starts again."""
        self.invalid_since = now

    def top(self, depth: int | None = None) -> tuple[list[PriceLevel], list[PriceLevel]]:
        return self.book.top(self.depth if depth is None else depth)

    def at_sequence(self, sequence: int) -> Top | None:
        for top in reversed(self.history):
            if top.sequence == sequence:
                return top
        return None


def is_stale(book: LiveBook, now: float, stale_seconds: float) -> bool:
    """Whether `book` should be rebuilt for silence: a valid book that had no book event for
    `stale_seconds`, or an invalid one whose snapshot has not come within `stale_seconds` of
    asking (the resubscribe is repeated until it does)."""
    if book.valid:
        return now - book.last_event_at >= stale_seconds
    return book.invalid_since is not None and now - book.invalid_since >= stale_seconds


class Drift(enum.StrEnum):
    MATCH = "match"
    MISMATCH = "mismatch"
    NO_SEQUENCE = "no_sequence"  # the history holds no top at the snapshot's sequence


def drift_verdict(
    live: Top | None,
    bids: Sequence[PriceLevel],
    asks: Sequence[PriceLevel],
    depth: int = DRIFT_DEPTH,
) -> Drift:
    """Compare the live book's top at the REST snapshot's sequence (`live`, None when the
    history has no such sequence) with the snapshot's levels, best `depth` of each side."""
    if live is None:
        return Drift.NO_SEQUENCE
    same = tuple(live.bids[:depth]) == tuple(bids[:depth]) and tuple(live.asks[:depth]) == tuple(
        asks[:depth]
    )
    return Drift.MATCH if same else Drift.MISMATCH
