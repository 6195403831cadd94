"""The order state machine: which status may follow which.

Statuses are `exchanges.venues.base.OrderStatus` (DESIGN.md "Normalized model"):

    pending_new -> new -> partially_filled -> filled
    plus pending_cancel, and the terminal canceled, rejected, expired (and filled);
    a conditional order: pending_new -> untriggered -> new (fired) -> ...

Transitions go forward, with these rules, written out in `TRANSITIONS`:

- `pending_new` (sent, not yet acknowledged) may become anything: the venue's first answer can
  already be a fill, a rejection, an IOC expiry or a cancellation.
- `new` and `partially_filled` may be filled, canceled, expired or enter `pending_cancel`;
  `new` is never rejected once accepted and never goes back to `pending_new`.
- `pending_cancel` (a cancel was sent) ends canceled, filled or expired; a fill may arrive while
  the cancel is in flight (`partially_filled`); it is `rejected` when the cancel was sent before
  the order's own acknowledgement and the venue then rejected the order. A **rejected cancel**
  returns the order to its open status: `new` if nothing is filled, else `partially_filled`
  (`status_after_cancel_rejected`). That is the one move back, and the reason `pending_cancel`
  may lead to `new`.
- `untriggered` (a conditional order waiting for its trigger price) may become anything but
  `pending_new`: when it fires it is `new`, or already filled; a venue can reject or cancel it
  when it fires (its margin, nothing left to reduce). Once fired it never goes back.
- An open status may repeat (`new -> new`, `partially_filled -> partially_filled`, ...): an
  amendment, one more fill or a duplicate venue message changes the order but not its status.
- `filled`, `canceled`, `rejected` and `expired` are terminal: nothing follows them, not even
  the same status again (a duplicate terminal message is not a transition; the caller ignores it).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from exchanges.venues.base import OrderStatus

PENDING_NEW = OrderStatus.PENDING_NEW
UNTRIGGERED = OrderStatus.UNTRIGGERED
NEW = OrderStatus.NEW
PARTIALLY_FILLED = OrderStatus.PARTIALLY_FILLED
FILLED = OrderStatus.FILLED
PENDING_CANCEL = OrderStatus.PENDING_CANCEL
CANCELED = OrderStatus.CANCELED
REJECTED = OrderStatus.REJECTED
EXPIRED = OrderStatus.EXPIRED

TERMINAL_STATUSES: frozenset[OrderStatus] = frozenset({FILLED, CANCELED, REJECTED, EXPIRED})
OPEN_STATUSES: frozenset[OrderStatus] = frozenset(OrderStatus) - TERMINAL_STATUSES

TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = {
    PENDING_NEW: frozenset(OrderStatus),
    UNTRIGGERED: frozenset(OrderStatus) - {PENDING_NEW},
    NEW: frozenset({NEW, PARTIALLY_FILLED, FILLED, PENDING_CANCEL, CANCELED, EXPIRED}),
    PARTIALLY_FILLED: frozenset({PARTIALLY_FILLED, FILLED, PENDING_CANCEL, CANCELED, EXPIRED}),
    PENDING_CANCEL: frozenset(
        {PENDING_CANCEL, UNTRIGGERED, NEW, PARTIALLY_FILLED, FILLED, CANCELED, REJECTED, EXPIRED}
    ),
    FILLED: frozenset(),
    CANCELED: frozenset(),
    REJECTED: frozenset(),
    EXPIRED: frozenset(),
}


class InvalidTransition(ValueError):
    """An order was asked to move between two statuses the state machine does not link."""

    def __init__(self, from_status: OrderStatus | str, to_status: OrderStatus | str):
        self.from_status = OrderStatus(from_status)
        self.to_status = OrderStatus(to_status)
        allowed = sorted(TRANSITIONS[self.from_status])
        if allowed:
            why = f"from {self.from_status} an order may only become {', '.join(allowed)}"
        else:
            why = f"{self.from_status} is terminal"
        super().__init__(
            f"order status cannot go from {self.from_status} to {self.to_status}: {why}"
        )


def can_transition(from_status: OrderStatus | str, to_status: OrderStatus | str) -> bool:
    """True when an order in `from_status` may be put in `to_status`."""
    return OrderStatus(to_status) in TRANSITIONS[OrderStatus(from_status)]


def transition(from_status: OrderStatus | str, to_status: OrderStatus | str) -> OrderStatus:
    """`to_status` if the move is allowed, else `InvalidTransition`."""
    if not can_transition(from_status, to_status):
        raise InvalidTransition(from_status, to_status)
    return OrderStatus(to_status)


def status_after_cancel_rejected(
    filled_quantity: Decimal, *, untriggered: bool = False
) -> OrderStatus:
    """The open status an order in `pending_cancel` returns to when the venue refuses the cancel
    and the order is still open on the venue (`untriggered`: a conditional order not fired)."""
    if filled_quantity > 0:
        return PARTIALLY_FILLED
    return UNTRIGGERED if untriggered else NEW


def is_terminal(status: OrderStatus | str) -> bool:
    return OrderStatus(status) in TERMINAL_STATUSES
