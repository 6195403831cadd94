"""Fault injection switches of one simulated venue, deterministic under a seed.

Set at start-up (`Simulator(face_options=...)`/`Faults(**fields)`) or at run time through the
control endpoint (`POST /_sim/faults` with a JSON body of field changes). Counted faults fire
on the next N occasions and count down (`take`); probabilities draw from the venue's own
`random.Random(seed)`, so a run with the same seed and the same traffic fails the same way.

What each fault means for a face:

- `ack_delay_ms`: wait this long before answering an order placement (REST or WS).
- `lose_acks`: the next N placements are accepted by the engine, but their answer is never sent;
  the face waits `lost_ack_wait_ms` and then closes (WS) or aborts (HTTP) the connection.
- `duplicate_private`: the next N private pushes are sent twice.
- `reorder_private`: the next N pairs of private pushes are sent swapped.
- `skip_book_sequence`: the next N book messages skip one sequence number.
- `corrupt_checksum`: the next N OKX book messages carry a wrong checksum (checksum mode).
- `rate_limit_burst`: the next N requests are answered with the venue's rate-limit error.
- `refuse_connections`: new WebSocket upgrades and HTTP requests are refused while set.
- `freeze_books`: while set, the public WebSockets send no book message (no snapshot, no
  delta, no keep-alive) while the socket, its heartbeats, tickers and trades go on: the book
  feed that silently stops (seen on Deribit). When it is cleared the feed resumes: OKX and
  Bybit deltas and Deribit `100ms` changes carry every change since the last book message
  sent (a `100ms` snapshot withheld from a new subscriber follows then); Deribit `raw`
  changes resume with a `change_id` gap. A client that subscribed while frozen got no
  snapshot and resubscribes.
- `drop_ws_probability`: each outgoing WebSocket message closes its connection with this
  probability (`should_drop`).
- `drop_ws()`: one-shot: faces close every WebSocket now (they watch `drop_requested` or
  register a callback with `on_drop`).

`answer_survives` applies the answer faults and `push` the private-push faults the same way on
every face.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, Protocol

COUNTED = (
    "lose_acks",
    "duplicate_private",
    "reorder_private",
    "skip_book_sequence",
    "corrupt_checksum",
    "rate_limit_burst",
)


@dataclass
class Faults:
    """The fault switches of one venue (module doc)."""

    seed: int = 1
    ack_delay_ms: int = 0
    lose_acks: int = 0
    lost_ack_wait_ms: int = 200
    duplicate_private: int = 0
    reorder_private: int = 0
    skip_book_sequence: int = 0
    corrupt_checksum: int = 0
    rate_limit_burst: int = 0
    refuse_connections: bool = False
    freeze_books: bool = False
    drop_ws_probability: float = 0.0
    drop_requested: int = field(default=0, init=False)  # bumped by drop_ws()
    fired: dict[str, int] = field(default_factory=dict, init=False)  # how often each fault fired
    _rng: random.Random = field(init=False, repr=False)
    _drop_callbacks: list[Callable[[], None]] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._validate(self.as_dict())

    @staticmethod
    def settable() -> tuple[str, ...]:
        """Names of the fields `update` accepts."""
        return tuple(f.name for f in fields(Faults) if f.init and f.name != "seed")

    def take(self, name: str) -> bool:
        """Consume one of a counted fault; True when it fires this time."""
        if name not in COUNTED:
            raise KeyError(f"{name} is not a counted fault (one of {', '.join(COUNTED)})")
        left = getattr(self, name)
        if left <= 0:
            return False
        setattr(self, name, left - 1)
        self.fired[name] = self.fired.get(name, 0) + 1
        return True

    def should_drop(self) -> bool:
        """Draw whether the WebSocket message about to be sent drops its connection instead."""
        if self.drop_ws_probability <= 0:
            return False
        dropped = self._rng.random() < self.drop_ws_probability
        if dropped:
            self.fired["drop_ws_probability"] = self.fired.get("drop_ws_probability", 0) + 1
        return dropped

    def drop_ws(self) -> None:
        """Ask the face to close every WebSocket now."""
        self.drop_requested += 1
        self.fired["drop_ws"] = self.fired.get("drop_ws", 0) + 1
        for callback in list(self._drop_callbacks):
            callback()

    def on_drop(self, callback: Callable[[], None]) -> None:
        """Register a callable run (synchronously) by every `drop_ws()`."""
        self._drop_callbacks.append(callback)

    def update(self, **changes: Any) -> dict[str, Any]:
        """Change switches; unknown names or wrong types raise ValueError and change nothing."""
        allowed = set(self.settable())
        unknown = sorted(set(changes) - allowed)
        if unknown:
            raise ValueError(f"unknown fault(s): {', '.join(unknown)}")
        merged = {**self.as_dict(), **changes}
        self._validate(merged)
        for name in changes:
            setattr(self, name, merged[name])
        return self.as_dict()

    def as_dict(self) -> dict[str, Any]:
        """Every switch and its current value (plus `fired` counts), JSON-ready."""
        data: dict[str, Any] = {name: getattr(self, name) for name in self.settable()}
        data["fired"] = dict(self.fired)
        return data

    @staticmethod
    def _validate(values: dict[str, Any]) -> None:
        for name in (*COUNTED, "ack_delay_ms", "lost_ack_wait_ms"):
            value = values.get(name, 0)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
        for name in ("refuse_connections", "freeze_books"):
            if not isinstance(values.get(name, False), bool):
                raise ValueError(f"{name} must be true or false")
        probability = values.get("drop_ws_probability", 0.0)
        if (
            isinstance(probability, bool)
            or not isinstance(probability, int | float)
            or not 0.0 <= probability <= 1.0
        ):
            raise ValueError(f"drop_ws_probability must be within [0, 1], got {probability!r}")


# --------------------------------------------------------------------------- applying them


async def answer_survives(faults: Faults) -> bool:
    """Apply the answer faults to an order the engine has already accepted: wait `ack_delay_ms`,
    then, when `lose_acks` fires, wait `lost_ack_wait_ms` and return False; the face then cuts the
    connection instead of answering, so the client cannot tell whether the order exists."""
    if faults.ack_delay_ms:
        await asyncio.sleep(faults.ack_delay_ms / 1000)
    if faults.take("lose_acks"):
        await asyncio.sleep(faults.lost_ack_wait_ms / 1000)
        return False
    return True


class HoldsPush(Protocol):
    """A connection that can hold back one private push (the `reorder_private` fault)."""

    held: bytes | None


def push(
    faults: Faults,
    conn: HoldsPush,
    send: Callable[[bytes], None],
    message: bytes,
    *,
    loop: asyncio.AbstractEventLoop | None,
    hold_s: float,
) -> None:
    """Send one private push with the faults: `reorder_private` holds it back until the next push
    to the connection has gone (or `hold_s` has passed), `duplicate_private` sends it twice."""
    if conn.held is None and faults.take("reorder_private"):
        conn.held = message
        if loop is not None:
            loop.call_later(hold_s, release_held, conn, send)
        return
    send(message)
    if faults.take("duplicate_private"):
        send(message)
    release_held(conn, send)


def release_held(conn: HoldsPush, send: Callable[[bytes], None]) -> None:
    """Send the push `push` held back, if it still is."""
    if conn.held is not None:
        held, conn.held = conn.held, None
        send(held)
